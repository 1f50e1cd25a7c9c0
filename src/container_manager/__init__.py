"""Container Manager: run a container on AWS only while someone uses it."""
