"""The access benchmark from start to end: database, load, Actor timing, EXPLAIN, lists, verdicts."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from bench import database, wrk
from bench import report as bench_report
from bench.access import actor, explain, lists, load, report
from crmapi.kit.db import make_engine, make_sessions

NAME = "crmapi_bench_access"


@dataclass(frozen=True)
class Options:
    orgs: int
    accounts: int
    contacts: int
    samples: int
    runs: int
    seconds: int
    warmup: int
    connections: int
    seed: int
    keep: bool


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def bench(opts: Options) -> dict[str, Any]:
    wrk.binary()
    server_url, source = await asyncio.to_thread(database.server_url)
    progress(f"bench.access: PostgreSQL {source}; creating and migrating {NAME}")
    try:
        url = await database.create(server_url, NAME)
        loaded = await load.load(
            url,
            orgs=opts.orgs,
            accounts=opts.accounts,
            contacts=opts.contacts,
            seed=opts.seed,
            progress=progress,
        )
        counts = {**loaded.counts}
        engine = make_engine(database.app_url(url), pool_size=2, max_overflow=2)
        sessions = make_sessions(engine)
        try:
            timed = await actor.measure(
                sessions, loaded, samples=opts.samples, runs=opts.runs, seed=opts.seed, progress=progress
            )
            progress("bench.access: EXPLAIN of the lists")
            plans = await explain.explain(engine, sessions, loaded.rep, ("accounts", "contacts"))
            admin_plans = await explain.explain(engine, sessions, loaded.admin, ("accounts", "contacts"))
        finally:
            await engine.dispose()
        list_opts = lists.ListOptions(
            connections=opts.connections,
            seconds=opts.seconds,
            warmup=opts.warmup,
            runs=opts.runs,
            redis_url=os.environ.get("TEST_REDIS_URL"),
        )
        listed = await lists.measure(url, loaded, list_opts, progress)
        return {
            "database": {"source": source, "name": NAME, "version": await database.version(url)},
            "data": {"counts": counts, "seconds": loaded.seconds, "rep_code": loaded.rep_code},
            "actor": timed,
            "explain": plans,
            # Only the timing and the verdict of the administrator's plans: the rep's are the subject.
            "explain_admin": {
                k: {"execution_ms": v["execution_ms"], "scans": v["scans"], "plan_text": v["plan_text"]}
                for k, v in admin_plans.items()
            },
            "lists": listed,
        }
    finally:
        if opts.keep:
            progress(f"bench.access: kept {NAME} (--keep)")
        else:
            await database.drop(server_url, NAME)
            progress(f"bench.access: dropped {NAME}")


def collect(opts: Options) -> dict[str, Any]:
    machine = bench_report.machine()
    started = time.monotonic()
    result = asyncio.run(bench(opts))
    result = {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "command": " ".join(["python -m bench.access", *sys.argv[1:]]),
        "seconds": round(time.monotonic() - started, 1),
        "machine": {**machine, "load_average_after": [round(x, 2) for x in os.getloadavg()]},
        "options": asdict(opts),
        **result,
    }
    result["targets"] = report.targets(result)
    return result
