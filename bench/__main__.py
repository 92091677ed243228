"""`python -m bench`: see bench/__init__.py."""

from __future__ import annotations

import argparse

from bench import report
from bench.run import Options, collect


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Latency of the contact endpoints.")
    parser.add_argument("--contacts", type=int, default=20_000, help="contacts to load (default 20000)")
    parser.add_argument("--staff", type=int, default=10, help="staff members besides the admin (default 10)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--seconds", type=float, default=10, help="length of one run (default 10)")
    parser.add_argument(
        "--runs", type=int, default=3, help="runs per scenario; medians are reported (default 3)"
    )
    parser.add_argument("--max-requests", type=int, default=50_000, help="hard cap per run (default 50000)")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per scenario (default 1)")
    parser.add_argument(
        "--deep-page", type=int, default=20, help="the page the cursor run asks for (default 20)"
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed of the data set (default 7)")
    args = parser.parse_args(argv)
    if args.contacts < 1_000 or args.staff < 1 or args.concurrency < 1 or args.runs < 1 or args.deep_page < 2:
        parser.error(
            "need --contacts >= 1000, --staff >= 1, --concurrency >= 1, --runs >= 1, --deep-page >= 2"
        )
    return Options(**vars(args))


def main(argv: list[str] | None = None) -> None:
    result = collect(parse(argv))
    print(report.table(result), flush=True)
    print(f"\nwritten to {report.write(result)}", flush=True)


if __name__ == "__main__":
    main()
