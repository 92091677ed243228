"""`python -m bench.board`: see bench/board/__init__.py."""

from __future__ import annotations

import argparse

from bench.board import run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.board",
        description="Lead board (issue 7) or service request dashboard (issue 9) p95.",
    )
    parser.add_argument("--subject", choices=sorted(run.SUBJECTS), default="board", help="what to poll")
    parser.add_argument(
        "--leads", type=int, default=10_000, help="leads (board) or service requests (dashboard); 10000"
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--seconds", type=int, default=10, help="seconds per run (default 10)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each scenario; medians (default 3)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    args = parser.parse_args(argv)
    if min(args.leads, args.runs, args.connections, args.seconds, args.workers) < 1:
        parser.error("--leads, --connections, --seconds, --runs and --workers must be positive")
    opts = run.Options(
        leads=args.leads,
        connections=args.connections,
        seconds=args.seconds,
        runs=args.runs,
        workers=args.workers,
        subject=args.subject,
    )
    result = run.collect(opts)
    print(run.table(result), flush=True)
    print(f"\nwritten to {run.write(result)}", flush=True)


if __name__ == "__main__":
    main()
