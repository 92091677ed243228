"""`python -m bench.erp`: see bench/erp/__init__.py."""

from __future__ import annotations

import argparse

from bench.erp import run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.erp", description="ERP feed records/s (issue 5).")
    parser.add_argument("--records", type=int, default=10_000, help="records per batch (default 10000)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each case; medians (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the records")
    args = parser.parse_args(argv)
    if not 1 <= args.records <= 10_000 or args.runs < 1:
        parser.error("--records must be 1 to 10000 and --runs at least 1")
    result = run.collect(run.Options(records=args.records, runs=args.runs, seed=args.seed))
    print(run.table(result), flush=True)
    print(f"\nwritten to {run.write(result)}", flush=True)


if __name__ == "__main__":
    main()
