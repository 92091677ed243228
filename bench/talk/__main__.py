"""`python -m bench.talk`: see bench/talk/__init__.py."""

from __future__ import annotations

import argparse

from bench.talk import run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.talk",
        description="Conversations: message posts, the inbox and conversation reads under wrk.",
    )
    parser.add_argument("--conversations", type=int, default=1_000, help="conversations (default 1000)")
    parser.add_argument("--messages", type=int, default=50, help="messages a conversation (default 50)")
    parser.add_argument("--accounts", type=int, default=100, help="accounts they are on (default 100)")
    parser.add_argument(
        "--notifications", type=int, default=5_000, help="notifications in the rep's inbox (default 5000)"
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--seconds", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each case; medians (default 3)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards (for EXPLAIN)")
    args = parser.parse_args(argv)
    if min(args.conversations, args.accounts, args.connections, args.seconds, args.runs, args.workers) < 1:
        parser.error(
            "--conversations, --accounts, --connections, --seconds, --runs and --workers must be positive"
        )
    if args.messages < 50 or args.notifications < 50:
        parser.error("--messages and --notifications must be at least 50 (a page)")
    opts = run.Options(
        conversations=args.conversations,
        messages=args.messages,
        accounts=args.accounts,
        notifications=args.notifications,
        connections=args.connections,
        seconds=args.seconds,
        runs=args.runs,
        workers=args.workers,
        keep=args.keep,
    )
    result = run.collect(opts)
    print(run.table(result), flush=True)
    print(f"\nwritten to {run.write(result)}", flush=True)
    if run.failed(result):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
