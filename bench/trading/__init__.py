"""`make bench-trading`: the ERP trading record's pushes next to the same writes in SQL alone, and
the balance reads over a large record.

Pushes (each case `--runs` times, medians): 10,000 invoices of three lines for 2,000 accounts all
new, the same 10,000 again unchanged, then 2,000 payments each settling up to three of its
account's invoices. The API side posts each batch (pre-encoded JSON) with an API key to the real
server (`crmapi serve`); the SQL side (`baseline.py`), on its own numbers and accounts with the
same figures, connects as `crmapi_app` with the organisation bound, COPYs documents, lines and
allocations into temporary tables and writes the same documents, lines, allocations, history,
outbox and account balances in one statement and the balances' two. After each run the two sides'
rows are compared (counts and sums); they must be equal. The issue's target: the API's records/s
at least 50 % of SQL alone's. The relay has queued every event before each timed step; no worker
delivers them.

Reads: the bulk of invoices (200,000, one line each, one account in five paying late) written in
SQL as the owner over 2,000 more accounts, `account_balances` summed again for the organisation,
then under wrk at 16 connections, taking turns: `GET /v1/accounts?overdue_days_gt=60` and
`GET /v1/accounts/{id}/balance` over ten accounts, as the administrator. Results go to stdout and
`bench/results/trading.json`.
"""
