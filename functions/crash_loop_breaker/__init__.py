"""crash-loop-breaker: stop the server's instance when its ECS task fails to start or crashes."""
