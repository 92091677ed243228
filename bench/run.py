"""The whole benchmark: database, data, server, the scenarios, cleanup. Returns the report."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx

from bench import configure, cpu, database, dataset, jobs, load, report, scenarios, server


@dataclass(frozen=True)
class Options:
    contacts: int
    staff: int
    concurrency: int
    seconds: float
    runs: int
    max_requests: int
    warmup: float
    deep_page: int
    seed: int


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def bench(opts: Options) -> dict[str, Any]:
    server_url, source = await asyncio.to_thread(database.server_url)
    progress(f"bench: PostgreSQL {source}; creating and migrating {database.NAME}")
    try:
        url = await database.create(server_url)
        facts = await _database_facts(url, source)
        result = await _with_database(opts, url)
        return {"database": facts, **result}
    finally:
        await database.drop(server_url)
        progress(f"bench: dropped {database.NAME}")


async def _database_facts(url: str, source: str) -> dict[str, Any]:
    conn = await database.connect(url)
    try:
        return {
            "version": await conn.fetchval("SHOW server_version"),
            "shared_buffers": await conn.fetchval("SHOW shared_buffers"),
            "source": source,
        }
    finally:
        await conn.close()


async def _with_database(opts: Options, url: str) -> dict[str, Any]:
    org = await dataset.create_org(url, opts.staff)
    progress(
        f"bench: organisation {org.id} with {len(org.member_ids)} members; "
        f"generating {opts.contacts:,} contacts"
    )
    loaded = await dataset.load_contacts(url, org, opts.contacts, opts.seed)
    s = loaded.seconds
    print(
        f"loaded {loaded.contacts:,} contacts in {s['total']:.2f} s "
        f"(generate {s['generate']:.2f} s, COPY {s['copy']:.2f} s, "
        f"VACUUM ANALYZE {s['vacuum_analyze']:.2f} s)",
        flush=True,
    )
    data = {**await _data_facts(url), "members": len(org.member_ids), "load_seconds": s}
    redis_url = os.environ.get("TEST_REDIS_URL")
    state = database.STATE
    proc = await server.start(url, redis_url, state / "serve", state / "server.log")
    progress(f"bench: server starting on {proc.base_url} (log in {proc.log_path})")
    try:
        scenario_results, usage = await _drive(opts, proc, org, loaded.ids)
    finally:
        await server.stop(proc)
        progress("bench: server stopped")
        if redis_url:
            try:
                forgotten = await jobs.forget(redis_url, url)
                progress(f"bench: removed {forgotten} queued jobs from {redis_url}")
            except Exception as exc:
                progress(f"bench: could not remove the queued jobs from {redis_url}: {exc}")
    return {"data": data, "cpu_during_load": usage, "scenarios": scenario_results}


async def _data_facts(url: str) -> dict[str, Any]:
    conn = await database.connect(url)
    try:
        row = await conn.fetchrow(
            "SELECT count(*) AS contacts, count(*) FILTER (WHERE deleted_at IS NULL) AS live, "
            "count(*) FILTER (WHERE kind = 'organisation') AS organisation_contacts, "
            "pg_size_pretty(pg_total_relation_size('contacts')) AS contacts_table FROM contacts"
        )
        return dict(row) if row else {}
    finally:
        await conn.close()


async def _drive(
    opts: Options, proc: server.Server, org: dataset.Org, ids: list[UUID]
) -> tuple[list[dict[str, Any]], dict[str, float | None]]:
    limits = httpx.Limits(max_connections=opts.concurrency, max_keepalive_connections=opts.concurrency)
    async with httpx.AsyncClient(base_url=proc.base_url, limits=limits, timeout=30) as client:
        await server.wait_healthy(proc, client)
        admin = scenarios.bearer(await server.token(client, dataset.ADMIN_EMAIL, dataset.PASSWORD))
        staff = scenarios.bearer(await server.token(client, org.staff[0][1], dataset.PASSWORD))
        made = await configure.configure(client, admin)
        progress(f"bench: defined {made['custom_fields']} custom fields and {made['tags']} catalogue tags")
        deep = await scenarios.cursor_of_page(client, admin, opts.deep_page)
        ctx = scenarios.Context(admin=admin, staff=staff, ids=ids, deep_cursor=deep, deep_page=opts.deep_page)
        results = []
        start = cpu.snapshot(proc.process.pid)
        for sc in scenarios.build(ctx, opts.seed):
            results.append(await _measure(opts, client, proc, sc))
            r = results[-1]
            progress(
                f"bench: {sc.name:<15} {r['req_per_s']:7.1f} req/s  p95 {r['p95_ms']:7.1f} ms  "
                f"errors {r['errors']}"
            )
        return results, cpu.usage(start, cpu.snapshot(proc.process.pid))


async def _measure(
    opts: Options, client: httpx.AsyncClient, proc: server.Server, sc: scenarios.Scenario
) -> dict[str, Any]:
    """A warm-up, then `opts.runs` runs, each with the server's CPU time per request."""
    bounds = {"concurrency": opts.concurrency, "max_requests": opts.max_requests}
    await load.run(client, sc.make, seconds=opts.warmup, **bounds)
    runs, cpu_ms = [], []
    for _ in range(opts.runs):
        before = cpu.process_seconds(proc.process.pid)
        run = await load.run(client, sc.make, seconds=opts.seconds, **bounds)
        after = cpu.process_seconds(proc.process.pid)
        runs.append(run)
        if before is not None and after is not None and run.requests:
            cpu_ms.append((after - before) * 1000 / run.requests)
    return report.scenario(sc.name, sc.request, runs, cpu_ms)


def collect(opts: Options) -> dict[str, Any]:
    machine = report.machine()
    result = asyncio.run(bench(opts))
    machine["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "command": " ".join(["python -m bench", *sys.argv[1:]]),
        "machine": machine,
        "load": {
            "concurrency": opts.concurrency,
            "seconds": opts.seconds,
            "runs": opts.runs,
            "max_requests": opts.max_requests,
            "warmup_seconds": opts.warmup,
            "deep_page": opts.deep_page,
            "seed": opts.seed,
        },
        **result,
    }
