"""`make bench`: a realistic data set loaded with COPY into a fresh database, then latency figures.

`python -m bench --help` lists the options; results go to stdout and `bench/results/latest.json`.
"""
