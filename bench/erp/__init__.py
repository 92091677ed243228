"""`make bench-erp`: the ERP feed's records per second next to the same writes in SQL alone (issue 5).

For 10,000-debtor batches, each case three times (medians): all new, all changed (every record
differs), all unchanged (the changed batch again). The API side posts the batch to the real
server (`crmapi serve`) with an API key; the SQL side runs, as `crmapi_app` with the
organisation bound, COPY into a temporary table and one `INSERT ... ON CONFLICT DO UPDATE ...
WHERE (...) IS DISTINCT FROM (...)` statement writing the same account, sales-rep link, history
and outbox rows (`baseline.py`). The relay has queued every event before each timed step, so it
does not run during the next; no worker delivers them (delivery is not what is measured).
Results go to stdout and `bench/results/erp.json`.
"""
