"""Code shared by the three Container Manager functions: config, AWS adapter, outcomes."""
