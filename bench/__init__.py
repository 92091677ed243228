"""`make bench`: `crmapi demo-data` into a fresh database, the real server, wrk against it.

`python -m bench --help` lists the options; results go to stdout and `bench/results/latest.json`;
bench/README.md explains the scenarios and keeps the latest figures.
"""
