"""`python -m bench.trading`: see bench/trading/__init__.py."""

from __future__ import annotations

import argparse

from bench.trading import run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.trading", description="ERP trading record: pushes' records/s, balance reads."
    )
    parser.add_argument("--invoices", type=int, default=10_000, help="invoices a push (default 10000)")
    parser.add_argument("--lines", type=int, default=3, help="lines an invoice (default 3)")
    parser.add_argument(
        "--accounts",
        type=int,
        default=2_000,
        help="accounts of the pushes, and again of the bulk (default 2000)",
    )
    parser.add_argument("--payments", type=int, default=2_000, help="payments a push (default 2000)")
    parser.add_argument(
        "--bulk", type=int, default=200_000, help="invoices written in SQL for the reads (default 200000)"
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--seconds", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each case; medians (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the records")
    args = parser.parse_args(argv)
    if not (1 <= args.invoices <= 10_000 and 1 <= args.payments <= 10_000):
        parser.error("--invoices and --payments must be 1 to 10000 (a push's limit)")
    if not 1 <= args.lines <= 1000:
        parser.error("--lines must be 1 to 1000")
    if min(args.accounts, args.bulk, args.connections, args.seconds, args.runs) < 1:
        parser.error("--accounts, --bulk, --connections, --seconds and --runs must be positive")
    opts = run.Options(
        invoices=args.invoices,
        lines=args.lines,
        accounts=args.accounts,
        payments=args.payments,
        bulk=args.bulk,
        connections=args.connections,
        seconds=args.seconds,
        runs=args.runs,
        seed=args.seed,
    )
    result = run.collect(opts)
    print(run.table(result), flush=True)
    print(f"\nwritten to {run.write(result)}", flush=True)


if __name__ == "__main__":
    main()
