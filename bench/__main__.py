"""`python -m bench`: see bench/__init__.py."""

from __future__ import annotations

import argparse

from bench import report
from bench.run import Options, collect


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Throughput and latency of the API.")
    parser.add_argument("--contacts", type=int, default=20_000, help="demo contacts (default 20000)")
    parser.add_argument("--accounts", type=int, default=5_000, help="demo accounts (default 5000)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--seconds", type=int, default=10, help="whole seconds per run (default 10)")
    parser.add_argument(
        "--runs", type=int, default=3, help="runs per scenario; medians are reported (default 3)"
    )
    parser.add_argument("--warmup", type=int, default=2, help="warm-up seconds per scenario (default 2)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (WORKERS; default 1)")
    args = parser.parse_args(argv)
    if min(args.connections, args.seconds, args.warmup, args.runs, args.workers) < 1:
        parser.error("--connections, --seconds, --warmup, --runs and --workers must be at least 1")
    if args.contacts < 100 or args.accounts < 10:
        parser.error("need --contacts >= 100 and --accounts >= 10")
    return Options(**vars(args))


def main(argv: list[str] | None = None) -> None:
    result = collect(parse(argv))
    print(report.table(result), flush=True)
    print(f"\nwritten to {report.write(result)}", flush=True)


if __name__ == "__main__":
    main()
