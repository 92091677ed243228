"""Events out: the change feed over the outbox (and, built on it, webhooks)."""
