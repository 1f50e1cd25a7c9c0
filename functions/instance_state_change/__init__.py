"""instance-state-change: point the container's A record at its instance, and back at the placeholder on stop."""
