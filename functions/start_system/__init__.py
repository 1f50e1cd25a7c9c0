"""start-system: start the container when a player's DNS query for its name is logged."""
