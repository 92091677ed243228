"""The whole benchmark: a fresh database with demo data, the real server, wrk, the medians."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from bench import database, probe, report, scenarios, server, work, wrk


@dataclass(frozen=True)
class Options:
    contacts: int
    accounts: int
    connections: int
    seconds: int  # wrk takes whole seconds
    runs: int
    warmup: int
    workers: int


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def bench(opts: Options) -> dict[str, Any]:
    wrk.binary()
    server_url, source = await asyncio.to_thread(database.server_url)
    progress(f"bench: PostgreSQL {source}; creating and migrating {database.NAME}")
    try:
        url = await database.create(server_url)
        demo = await demo_data(url, opts.contacts, opts.accounts)
        progress(f"bench: {work.LEADS:,} more leads for the board and the bulk moves")
        await work.load(url, demo)
        result = await _serve_and_load(opts, url, demo)
        return {
            "database": {"source": source, "version": await database.version(url)},
            "demo": demo,
            **result,
        }
    finally:
        await database.drop(server_url)
        progress(f"bench: dropped {database.NAME}")


async def demo_data(url: str, contacts: int, accounts: int) -> dict[str, Any]:
    """`crmapi demo-data`, exactly as a user runs it."""
    progress(f"bench: crmapi demo-data --contacts {contacts} --accounts {accounts}")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crmapi.cli",
        "demo-data",
        "--contacts",
        str(contacts),
        "--accounts",
        str(accounts),
        env={**server.environment(), "DATABASE_URL": url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"demo-data failed: {err.decode()}")
    demo: dict[str, Any] = json.loads(out)
    progress(f"bench: demo data loaded in {demo['seconds']} s: {demo['counts']}")
    return demo


async def _serve_and_load(opts: Options, url: str, demo: dict[str, Any]) -> dict[str, Any]:
    redis_url = os.environ.get("TEST_REDIS_URL")
    state = database.STATE
    proc = await server.start(url, redis_url, state / "serve", state / "server.log", opts.workers)
    progress(f"bench: server ({opts.workers} process(es)) starting on {proc.base_url}")
    try:
        async with httpx.AsyncClient(base_url=proc.base_url, timeout=30) as client:
            await server.wait_healthy(proc, client)
            admin = scenarios.bearer(
                await server.token(client, demo["admin"]["email"], demo["admin"]["password"])
            )
            rep = scenarios.bearer(
                await server.token(client, demo["staff"]["email"], demo["staff"]["password"])
            )
            ctx = await scenarios.context(client, admin, rep)
            reference = await server.start_reference(database.app_url(url), state / "reference.log")
            try:
                async with httpx.AsyncClient(base_url=reference.base_url, timeout=30) as ref_client:
                    await server.wait_healthy(reference, ref_client, path="/livez")
                    await scenarios.check_reference(client, ref_client, ctx)
                progress(f"bench: the lean reference answers on {reference.base_url}, as crmapi does")
                bases = {"crmapi": proc.base_url, "reference": reference.base_url}
                built = scenarios.build(ctx)
                built.insert(len(built) - 1, work.board(ctx))  # before create contact, which adds rows
                results = [await _measure(opts, bases[sc.server], sc) for sc in built]
                results.append(await work.bulk_move(url, demo, client, admin))
            finally:
                await server.stop(reference)
    finally:
        await server.stop(proc)
        progress("bench: servers stopped")
    progress("bench: counting each request's round trips to PostgreSQL")
    trips = await probe.round_trips(url, redis_url, state / "probe", built)
    for r in results:
        r["round_trips"] = trips.get(r["name"])
    return {"scenarios": report.with_targets(results)}


async def _measure(opts: Options, base_url: str, sc: scenarios.Scenario) -> dict[str, Any]:
    connections = sc.connections or opts.connections
    warmup = await wrk.run(base_url, sc.load, connections=connections, seconds=opts.warmup)
    runs = [
        await wrk.run(base_url, sc.load, connections=connections, seconds=opts.seconds)
        for _ in range(opts.runs)
    ]
    non_2xx = sum(r.non_2xx for r in [warmup, *runs])
    socket_errors = sum(r.socket_errors for r in [warmup, *runs])
    if non_2xx or socket_errors:
        raise RuntimeError(
            f"{sc.name}: {non_2xx} answers outside 2xx and {socket_errors} socket errors or timeouts; "
            f"see {database.STATE / 'server.log'}"
        )
    figures = {
        "name": sc.name,
        "request": sc.request,
        "connections": connections,
        "req_per_s": statistics.median(r.rate for r in runs),
        "p50_ms": statistics.median(r.p50_ms for r in runs),
        "p95_ms": statistics.median(r.p95_ms for r in runs),
        "p99_ms": statistics.median(r.p99_ms for r in runs),
        "requests": sum(r.requests for r in runs),
        "non_2xx": non_2xx,
        "runs": [
            {"req_per_s": r.rate, "p50_ms": r.p50_ms, "p95_ms": r.p95_ms, "p99_ms": r.p99_ms} for r in runs
        ],
        "criteria": sc.targets,
        "versus": sc.versus,
    }
    progress(
        f"bench: {sc.name:<16} {figures['req_per_s']:8.1f} req/s  p50 {figures['p50_ms']:6.1f}  "
        f"p95 {figures['p95_ms']:6.1f}  p99 {figures['p99_ms']:6.1f} ms"
    )
    return figures


def collect(opts: Options) -> dict[str, Any]:
    machine = report.machine()
    started = time.monotonic()
    result = asyncio.run(bench(opts))
    return {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "command": " ".join(["python -m bench", *sys.argv[1:]]),
        "seconds": round(time.monotonic() - started, 1),
        "machine": {
            **machine,
            "server_processes": opts.workers,
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "load": {
            "generator": "wrk, 1 thread",
            "connections": opts.connections,
            "seconds": opts.seconds,
            "warmup_seconds": opts.warmup,
            "runs": opts.runs,
        },
        **result,
    }
