"""Who calls and what they may do: owner and visitor tokens, the per-request context
(the caller, and database access as them), visitor sessions, rate limits."""
