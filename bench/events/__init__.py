"""`make bench-events` (issue 20): events out at load.

1. The relay alone: 50,000 events written to the outbox in SQL, handed to the queue by the
   relay's ticks as `crmapi serve` runs them; events a second (target >= 5,000), medians of 3.
2. From commit to receiver: `crmapi serve` with its in-process worker, a webhook endpoint on
   this machine subscribed to `account.*`, and 10,000 debtors pushed in one call; the delay
   from the push's answer (its commit) to each event's arrival (p50, p99, last).
"""
