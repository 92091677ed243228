"""`make bench-access`: the access issue's benchmark (issue 4, "Done when").

A fresh `crmapi_bench_access` database, loaded with COPY as the owner: 1,000 organisations' worth
of groups, grants, members, business units and sales-rep records, one of them with 200,000
accounts and 1,000,000 contacts. Then, each the median of 3 runs:

- the in-process Actor build (warm policy cache, the real `PolicyCache`, `capabilities_of`,
  `Actor` and the accounts' and contacts' `scope`), apart from the Actor row's own query;
- `EXPLAIN (ANALYZE, BUFFERS)` of a sales rep's account and contact list as the app issues it;
- wrk against the real server: an administrator's and that rep's lists.

`python -m bench.access --help` lists the options; results go to stdout and
`bench/results/access.json`.
"""
