"""The ERP benchmark from start to end: database, organisation, server, pushes, medians, table."""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from bench import database, server
from bench.erp import baseline
from bench.report import RESULTS, machine

NAME = "crmapi_bench_erp"
ADMIN = ("erp-admin@bench.test", "bench-password-1")
CASES = ("new", "changed", "unchanged")
REPS = [f"PH{n:03d}" for n in range(100)]
TARGET = 0.5  # the API's rate as a share of SQL alone's, per case


@dataclass(frozen=True)
class Options:
    records: int
    runs: int
    seed: int


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def debtors(rng: random.Random, prefix: str, count: int, variant: int) -> list[dict[str, Any]]:
    """`count` debtors; `variant` 1 differs from 0 in every record (classification, limit, reps)."""
    records = []
    for i in range(count):
        records.append(
            {
                "code": f"{prefix}-{i:05d}",
                "name": f"Hurtownia {prefix} {i} Sp. z o.o.",
                "classification": rng.choice(["wholesale", "retail", "pharmacy"]) + ("-v" if variant else ""),
                "credit_rating": rng.choice("ABC"),
                "credit_limit": {"amount": str(rng.randrange(1, 500) * 100 + variant), "currency": "PLN"},
                "payment_terms": rng.choice(["14 days net", "30 days net"]),
                "payment_methods": rng.sample(["transfer", "card", "cash"], 2),
                "price_level": rng.choice("ABCD"),
                "status": "active",
                "custom": {},
                "sales_rep_codes": sorted(rng.sample(REPS, 1 + (i + variant) % 2)),
            }
        )
    return records


def as_rows(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The same records as the SQL side's staging rows."""
    return [
        (
            r["code"],
            r["name"],
            r["classification"],
            r["credit_rating"],
            Decimal(r["credit_limit"]["amount"]),
            r["credit_limit"]["currency"],
            r["payment_terms"],
            r["payment_methods"],
            r["price_level"],
            r["status"],
            json.dumps(r["custom"]),
            r["sales_rep_codes"],
        )
        for r in records
    ]


async def drained(owner: asyncpg.Connection, limit_seconds: float = 300) -> None:
    """Wait until the relay has queued every event (it would compete for the cores)."""
    deadline = time.monotonic() + limit_seconds
    while await owner.fetchval("SELECT count(*) FROM outbox WHERE enqueued_at IS NULL"):
        if time.monotonic() > deadline:
            raise RuntimeError("the outbox did not drain")
        await asyncio.sleep(0.5)
    await owner.execute("CHECKPOINT")


async def _api_push(
    client: httpx.AsyncClient, key: dict[str, str], body: bytes
) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    answer = await client.post("/v1/integrations/erp/debtors", content=body, headers=key)
    elapsed = time.perf_counter() - start
    if answer.status_code != 200:
        raise RuntimeError(f"push failed: {answer.status_code} {answer.text[:500]}")
    return elapsed, answer.json()


async def _run(opts: Options, url: str, client: httpx.AsyncClient, org_id: UUID) -> dict[str, Any]:
    admin = {"Authorization": f"Bearer {await server.token(client, *ADMIN)}"}
    made = await client.post(
        "/v1/api-keys", json={"name": "ERP bench", "capabilities": ["integrations.push"]}, headers=admin
    )
    made.raise_for_status()
    key = {"Authorization": f"Bearer {made.json()['token']}", "Content-Type": "application/json"}
    key_id = UUID(made.json()["id"])
    reps = [{"code": c, "name": f"Rep {c}"} for c in REPS]
    (
        await client.post("/v1/integrations/erp/sales-reps", json={"records": reps}, headers=key)
    ).raise_for_status()
    owner = await database.connect(url)
    app = await database.connect(database.app_url(url))
    rng = random.Random(opts.seed)
    timings: dict[str, dict[str, list[float]]] = {side: {c: [] for c in CASES} for side in ("api", "sql")}
    try:
        for run in range(1, opts.runs + 1):
            for side in ("api", "sql"):
                prefix = f"{side.upper()}{run}"
                first = debtors(rng, prefix, opts.records, 0)
                second = debtors(rng, prefix, opts.records, 1)
                for case, records in zip(CASES, (first, second, second), strict=True):
                    await drained(owner)
                    if side == "api":
                        body = json.dumps({"records": records}).encode()
                        elapsed, answer = await _api_push(client, key, body)
                        expected = (
                            "unchanged"
                            if case == "unchanged"
                            else ("created" if case == "new" else "updated")
                        )
                        if answer[expected] != opts.records:
                            raise RuntimeError(f"{case}: expected {opts.records} {expected}, got {answer}")
                    else:
                        rows = as_rows(records)
                        start = time.perf_counter()
                        created, updated = await baseline.push(app, org_id, key_id, rows)
                        elapsed = time.perf_counter() - start
                        wanted = {
                            "new": (opts.records, 0),
                            "changed": (0, opts.records),
                            "unchanged": (0, 0),
                        }[case]
                        if (created, updated) != wanted:
                            raise RuntimeError(f"sql {case}: wrote {created} new, {updated} changed")
                    timings[side][case].append(elapsed)
                    progress(
                        f"bench-erp: run {run} {side:3} {case:9} {opts.records / elapsed:8.0f} records/s"
                    )
    finally:
        await owner.close()
        await app.close()
    return timings


def _summary(opts: Options, timings: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for case in CASES:
        api = statistics.median(timings["api"][case])
        sql = statistics.median(timings["sql"][case])
        ratio = sql / api
        rows.append(
            {
                "case": case,
                "api_seconds": [round(t, 3) for t in timings["api"][case]],
                "sql_seconds": [round(t, 3) for t in timings["sql"][case]],
                "api_records_per_s": round(opts.records / api),
                "sql_records_per_s": round(opts.records / sql),
                "ratio": round(ratio, 2),
                "target_met": ratio >= TARGET,
            }
        )
    return rows


async def _collect(opts: Options) -> dict[str, Any]:
    server_url, where = database.server_url()
    url = await database.create(server_url, NAME)
    progress(f"bench-erp: database {NAME} on {where}")
    state = database.STATE
    proc = None
    try:
        org_id = await server.create_org(url, "ERP bench", *ADMIN)
        # An embedded queue without a worker: the relay hands every event to the queue between
        # steps, and nothing delivers them (at ~100 events/s that would take minutes per step).
        proc = await server.start(
            url, None, state / "erp", state / "erp.log", extra_env={"IN_PROCESS_WORKER": "false"}
        )
        async with httpx.AsyncClient(base_url=proc.base_url, timeout=600) as client:
            await server.wait_healthy(proc, client)
            timings = await _run(opts, url, client, org_id)
        return {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "options": asdict(opts),
            "machine": machine(),
            "postgres": await database.version(url),
            "cases": _summary(opts, timings),
        }
    finally:
        if proc is not None:
            await server.stop(proc)
        await database.drop(server_url, NAME)


def collect(opts: Options) -> dict[str, Any]:
    return asyncio.run(_collect(opts))


def table(result: dict[str, Any]) -> str:
    lines = [
        f"ERP feed, {result['options']['records']} records a batch, medians of {result['options']['runs']} "
        f"(PostgreSQL {result['postgres']}, {result['machine']['cores']} cores)",
        f"{'case':10} {'API rec/s':>10} {'SQL rec/s':>10} {'API/SQL':>8}  target >= {TARGET:.0%}",
    ]
    for c in result["cases"]:
        verdict = "met" if c["target_met"] else "MISSED"
        rates = f"{c['api_records_per_s']:>10} {c['sql_records_per_s']:>10}"
        lines.append(f"{c['case']:10} {rates} {c['ratio']:>8.2f}  {verdict}")
    return "\n".join(lines)


def write(result: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "erp.json"
    path.write_text(json.dumps(result, indent=2))
    return path
