"""The board benchmark from start to end: database, organisation, 10,000 leads (or service
requests, for the dashboard) in SQL, the server, wrk runs taking turns, medians and the verdict."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from bench import database, server, wrk
from bench.report import RESULTS, machine
from bench.scenarios import bearer

ADMIN = ("board-admin@bench.test", "bench-password-1")
REP = ("board-rep@bench.test", "bench-password-1")
TARGET_P95_MS = 50.0
WARMUP_SECONDS = 2
# Of every ten leads: four pending, three in progress, one won, one lost, one cancelled.
STATES = ("PENDING",) * 4 + ("IN_PROGRESS",) * 3 + ("WON", "LOST", "CANCELLED")
# Of every ten service requests: three pending, three in progress, one each further on.
REQUEST_STATES = (
    ("PENDING",) * 3
    + ("IN_PROGRESS",) * 3
    + (
        "RESPONDED",
        "FINALLY_RESOLVED",
        "COMPLETED",
        "CANCELLED",
    )
)
REP_SHARE = 50  # one lead in 50 is the rep's


@dataclass(frozen=True)
class Options:
    leads: int  # records: leads for the board, service requests for the dashboard
    connections: int
    seconds: int
    runs: int
    workers: int = 1
    subject: str = "board"


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def _load_leads(url: str, org_id: UUID, rep_id: UUID, leads: int) -> None:
    """The leads, written in one statement as the owner (RLS does not apply to it)."""
    conn = await database.connect(url)
    try:
        statuses = dict(
            await conn.fetch(
                "SELECT code, id FROM lifecycle_statuses WHERE org_id = $1 AND kind = 'lead'", org_id
            )
        )
        type_id = await conn.fetchval(
            "SELECT id FROM lifecycle_types WHERE org_id = $1 AND kind = 'lead' AND is_default", org_id
        )
        admin_id = await conn.fetchval(
            "SELECT id FROM members WHERE org_id = $1 AND id <> $2", org_id, rep_id
        )
        await conn.execute(
            """
            INSERT INTO leads (org_id, id, number, type_id, status_id, state, description, first_name,
                last_name, company, priority, call_tries, product_refs, competitor_ids, tags, start_at,
                created_at, updated_at, version, search_text, owner_member_id, assigned_member_id)
            SELECT $1, crmapi_uuid7(), b.base + n, $2, ($3::uuid[])[1 + n % 10], s.state,
                'Wants a quote ' || n, 'Anna', 'Nowak ' || n, 'Company ' || n, 1 + n % 10, 0,
                '{}', '{}', '{}', t, t, t, 1,
                'anna nowak ' || n || ' company ' || n, $4,
                CASE WHEN n % $6 = 0 THEN $5::uuid END
            FROM generate_series(1, $7) AS n
            CROSS JOIN LATERAL (SELECT now() - make_interval(mins => $7 - n) AS t) AS at_(t)
            -- Numbered after the organisation's leads (demo data may have some).
            CROSS JOIN (SELECT coalesce(max(number), 0) AS base FROM leads WHERE org_id = $1) AS b
            JOIN lifecycle_statuses s ON s.org_id = $1 AND s.id = ($3::uuid[])[1 + n % 10]
            """,
            org_id,
            type_id,
            [statuses[code] for code in STATES],
            admin_id,
            rep_id,
            REP_SHARE,
            leads,
        )
        await conn.execute("ANALYZE leads")
    finally:
        await conn.close()


async def _load_requests(url: str, org_id: UUID, rep_id: UUID, requests: int) -> None:
    """Service requests on one account the rep cannot see, one in 50 assigned to the rep, some
    pending ones unassigned, a tenth of the open ones overdue; one statement as the owner."""
    conn = await database.connect(url)
    try:
        statuses = dict(
            await conn.fetch(
                "SELECT code, id FROM lifecycle_statuses WHERE org_id = $1 AND kind = 'service_request'",
                org_id,
            )
        )
        type_id = await conn.fetchval(
            "SELECT id FROM lifecycle_types WHERE org_id = $1 AND kind = 'service_request' AND is_default",
            org_id,
        )
        admin_id = await conn.fetchval(
            "SELECT id FROM members WHERE org_id = $1 AND id <> $2", org_id, rep_id
        )
        account_id = await conn.fetchval("SELECT id FROM accounts WHERE org_id = $1", org_id)
        await conn.execute(
            """
            INSERT INTO service_requests (org_id, id, number, type_id, status_id, state, subject, urgency,
                impact, priority, account_id, start_at, expected_completion_at, completed_at, created_at,
                updated_at, version, search_text, owner_member_id, assigned_member_id)
            SELECT $1, crmapi_uuid7(), n, $2, ($3::uuid[])[1 + n % 10], s.state, 'Request ' || n,
                1 + n % 5, 1 + n % 3, 1 + n % 5 + n % 3, $8, t, t + interval '2 days' * (n % 10 - 1),
                CASE WHEN s.state IN ('completed', 'cancelled') THEN t + interval '1 hour' END, t, t, 1,
                'request ' || n, $4,
                CASE WHEN n % $6 = 0 THEN $5::uuid WHEN s.state <> 'pending' OR n % 7 <> 0 THEN $4 END
            FROM generate_series(1, $7) AS n
            CROSS JOIN LATERAL (SELECT now() - make_interval(mins => $7 - n) AS t) AS at_(t)
            JOIN lifecycle_statuses s ON s.org_id = $1 AND s.id = ($3::uuid[])[1 + n % 10]
            """,
            org_id,
            type_id,
            [statuses[code] for code in REQUEST_STATES],
            admin_id,
            rep_id,
            REP_SHARE,
            requests,
            account_id,
        )
        await conn.execute("ANALYZE service_requests")
    finally:
        await conn.close()


@dataclass(frozen=True)
class Subject:
    noun: str  # in the table's title
    path: str
    load: Callable[[str, UUID, UUID, int], Awaitable[None]]
    shown: Callable[[dict[str, Any]], int]  # what one answer holds: cards, requests counted
    target_p95_ms: float | None  # the target, when it sets one


SUBJECTS = {
    "board": Subject(
        "Lead board over {n:,} leads",
        "/v1/leads/board",
        _load_leads,
        lambda body: sum(len(c["cards"]) for c in body["columns"]),
        TARGET_P95_MS,
    ),
    "dashboard": Subject(
        "Service request dashboard over {n:,} requests",
        "/v1/service-requests/dashboard",
        _load_requests,
        lambda body: int(body["total"]),
        None,  # issue 9 asks for "cheap enough to poll" and the figure, not a number
    ),
}


async def _measure(opts: Options, base_url: str, callers: dict[str, dict[str, str]]) -> dict[str, Any]:
    path = SUBJECTS[opts.subject].path
    loads = {name: wrk.Load("GET", [path], headers) for name, headers in callers.items()}
    for load in loads.values():
        await wrk.run(base_url, load, connections=opts.connections, seconds=WARMUP_SECONDS)
    runs: dict[str, list[wrk.Run]] = {name: [] for name in loads}
    for n in range(opts.runs):
        for name, load in loads.items():  # taking turns, so a burst elsewhere lands on both
            done = await wrk.run(base_url, load, connections=opts.connections, seconds=opts.seconds)
            if done.non_2xx or done.socket_errors:
                raise RuntimeError(
                    f"{name}: {done.non_2xx} answers outside 2xx, {done.socket_errors} socket errors"
                )
            runs[name].append(done)
            progress(f"bench-board: run {n + 1} {name:<6} {done.rate:7.1f} req/s  p95 {done.p95_ms:6.1f} ms")
    return {
        name: {
            "req_per_s": round(statistics.median(r.rate for r in rs), 1),
            "p50_ms": round(statistics.median(r.p50_ms for r in rs), 1),
            "p95_ms": round(statistics.median(r.p95_ms for r in rs), 1),
            "p99_ms": round(statistics.median(r.p99_ms for r in rs), 1),
            "runs": [asdict(r) for r in rs],
        }
        for name, rs in runs.items()
    }


async def _collect(opts: Options) -> dict[str, Any]:
    wrk.binary()
    subject, name = SUBJECTS[opts.subject], f"crmapi_bench_{opts.subject}"
    server_url, where = database.server_url()
    url = await database.create(server_url, name)
    progress(f"bench-board: database {name} on {where}")
    proc = None
    try:
        org_id = await server.create_org(url, "Board bench", *ADMIN)
        state = database.STATE
        proc = await server.start(
            url, os.environ.get("TEST_REDIS_URL"), state / "board", state / "board.log", workers=opts.workers
        )
        async with httpx.AsyncClient(base_url=proc.base_url, timeout=60) as client:
            await server.wait_healthy(proc, client)
            admin = bearer(await server.token(client, *ADMIN))
            made = await client.post(
                "/v1/members", json={"email": REP[0], "password": REP[1], "kind": "staff"}, headers=admin
            )
            made.raise_for_status()
            (
                await client.post("/v1/accounts", json={"name": "Bench account"}, headers=admin)
            ).raise_for_status()
            await subject.load(url, org_id, UUID(made.json()["id"]), opts.leads)
            rep = bearer(await server.token(client, *REP))
            shown = {}
            for caller, headers in (("admin", admin), ("rep", rep)):
                answer = await client.get(subject.path, headers=headers)
                answer.raise_for_status()
                shown[caller] = {"cards": subject.shown(answer.json()), "bytes": len(answer.content)}
            progress(f"bench-board: {opts.leads} records; one answer holds {shown}")
            scenarios = await _measure(opts, proc.base_url, {"admin": admin, "rep": rep})
        return {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "options": asdict(opts),
            "machine": machine(),
            "postgres": await database.version(url),
            "board": shown,
            "scenarios": scenarios,
        }
    finally:
        if proc is not None:
            await server.stop(proc)
        await database.drop(server_url, name)


def collect(opts: Options) -> dict[str, Any]:
    return asyncio.run(_collect(opts))


def table(result: dict[str, Any]) -> str:
    o = result["options"]
    subject = SUBJECTS[o.get("subject", "board")]
    target = subject.target_p95_ms
    lines = [
        f"{subject.noun.format(n=o['leads'])}, {o['connections']} connections, {o['workers']} server "
        f"process(es), medians of {o['runs']} x "
        f"{o['seconds']} s (PostgreSQL {result['postgres']}, {result['machine']['cores']} cores)",
        f"{'caller':8} {'shown':>6} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        + (f"  p95 target <= {target:.0f} ms" if target is not None else "  (no target)"),
    ]
    for name, s in result["scenarios"].items():
        verdict = ""
        if target is not None:
            verdict = "met" if s["p95_ms"] <= target else f"MISSED by {s['p95_ms'] - target:.1f} ms"
        shown = result["board"][name]["cards"]
        figures = f"{s['req_per_s']:>8} {s['p50_ms']:>8} {s['p95_ms']:>8} {s['p99_ms']:>8}"
        lines.append(f"{name:8} {shown:>6} {figures}  {verdict}".rstrip())
    return "\n".join(lines)


def write(result: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{result['options'].get('subject', 'board')}.json"
    path.write_text(json.dumps(result, indent=2))
    return path
