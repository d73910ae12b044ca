"""What a running process builds once and shares: services, typed state, the HTTP
lifespan, and the count of answers in progress for shutdown."""
