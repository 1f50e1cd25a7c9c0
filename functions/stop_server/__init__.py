"""stop-server: the watchdog's stop, invoked by CloudWatch alarms as a Lambda alarm action."""
