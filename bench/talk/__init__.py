"""`make bench-talk`: posting a message and reading the inbox over a large set of conversations.

A fresh `crmapi_bench_talk` database, an organisation made by `crmapi create-org`, a staff member
(the rep) and a customer member made through the API, accounts owned by the rep with the customer
assigned to each, then in SQL as the owner (`data.py`): 1,000 conversations of 50 messages each
(the rep and the customer taking part, the customer writing four messages in five), both members'
read markers near each conversation's end, and ~5,000 notifications in the rep's inbox (the
newest of the customer's messages, unread after the rep's marker); ANALYZE after.

Then `crmapi serve` (no job worker, as `bench-trading`) under wrk at 16 connections, a 2 s warm-up
each and `--runs` x `--seconds` taking turns, reads first and posts last (posts add messages):
- `GET /v1/me/notifications` and `GET /v1/me/notifications/unread` as the rep;
- `GET /v1/conversations?mine=true` (with unread counts) as the rep;
- `GET /v1/conversations/{id}/messages` (the newest 50) as the customer, over every conversation;
- `POST /v1/conversations/{id}/messages` as the rep, a new Idempotency-Key each, over every
  conversation but one, and then all connections into that one (its row lock serialises them).
Answers outside 2xx and socket errors are counted per case; a case with any is not a result.
Results go to stdout and `bench/results/talk.json`.
"""
