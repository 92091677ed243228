"""`python -m bench.events`: see bench/events/__init__.py."""

from __future__ import annotations

import argparse

from bench.events import run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.events", description="Events out (issue 20).")
    parser.add_argument(
        "--events", type=int, default=50_000, help="outbox events for the relay (default 50000)"
    )
    parser.add_argument("--records", type=int, default=10_000, help="debtors pushed (default 10000)")
    parser.add_argument("--runs", type=int, default=3, help="relay runs; medians (default 3)")
    args = parser.parse_args(argv)
    if args.events < 1 or not 1 <= args.records <= 10_000 or args.runs < 1:
        parser.error("--events and --runs must be at least 1, --records 1 to 10000")
    result = run.collect(run.Options(events=args.events, records=args.records, runs=args.runs))
    print(run.table(result), flush=True)
    print(f"\nwritten to {run.write(result)}", flush=True)


if __name__ == "__main__":
    main()
