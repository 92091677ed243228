"""Domain-free mechanics every package builds on: the database, base models, ids, scalar types,
problems, pagination, search folding, the route class, idempotency, limits, logs, health, the
embedded servers and migrations. Nothing here imports a domain (tests/app/test_layers.py)."""
