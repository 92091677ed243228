"""`python -m bench.access`: see bench/access/__init__.py."""

from __future__ import annotations

import argparse

from bench.access import report
from bench.access.run import Options, collect


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.access",
        description="Actor build time, scoped list latency and plans (issue 4).",
    )
    parser.add_argument("--orgs", type=int, default=1000, help="organisations (default 1000)")
    parser.add_argument("--accounts", type=int, default=200_000, help="the big organisation's accounts")
    parser.add_argument("--contacts", type=int, default=1_000_000, help="the big organisation's contacts")
    parser.add_argument("--samples", type=int, default=5000, help="Actor builds per run (default 5000)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement; medians (default 3)")
    parser.add_argument("--seconds", type=int, default=10, help="whole seconds per wrk run (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="wrk warm-up seconds per list (default 2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the data and the picks")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards (to dig)")
    args = parser.parse_args(argv)
    if min(args.orgs, args.samples, args.runs, args.seconds, args.warmup, args.connections) < 1:
        parser.error("--orgs, --samples, --runs, --seconds, --warmup and --connections must be at least 1")
    if args.accounts < 1000 or args.contacts < args.accounts:
        parser.error("need --accounts >= 1000 and --contacts >= --accounts")
    return Options(**vars(args))


def main(argv: list[str] | None = None) -> None:
    result = collect(parse(argv))
    print(report.table(result), flush=True)
    print(f"\nwritten to {report.write(result)}", flush=True)


if __name__ == "__main__":
    main()
