"""The work-item figures of issue 19: the lead board over 10,000 more leads at 16 connections
(p95), and 1,000 leads moved in one bulk call (its duration, median of three).

The leads are written in SQL into the demo organisation as `make bench-board` writes them (four
in ten pending, one in 50 assigned to the rep), so the bulk calls cancel pending leads: a move
every lead type allows.
"""

from __future__ import annotations

import statistics
import time
from typing import Any
from uuid import UUID

import httpx

from bench import database
from bench.board.run import _load_leads
from bench.scenarios import Context, Scenario
from bench.targets import at_most
from bench.wrk import Load

LEADS = 10_000
BOARD_CONNECTIONS = 16
MOVED = 1_000
RUNS = 3


async def load(url: str, demo: dict[str, Any]) -> None:
    org = UUID(demo["organisation_id"])
    conn = await database.connect(url)
    try:
        rep = await conn.fetchval(
            "SELECT m.id FROM members m JOIN users u ON u.id = m.user_id "
            "WHERE m.org_id = $1 AND u.email = $2",
            org,
            demo["staff"]["email"],
        )
    finally:
        await conn.close()
    await _load_leads(url, org, rep, LEADS)


def board(ctx: Context) -> Scenario:
    return Scenario(
        "lead board",
        f"GET /v1/leads/board over {LEADS:,} more leads, {BOARD_CONNECTIONS} connections",
        Load("GET", ["/v1/leads/board"], ctx.admin),
        (at_most("p95_ms", 50),),
        connections=BOARD_CONNECTIONS,
    )


async def bulk_move(
    url: str, demo: dict[str, Any], client: httpx.AsyncClient, admin: dict[str, str]
) -> dict[str, Any]:
    """One warm-up call and `RUNS` timed ones, each cancelling `MOVED` pending leads; the figures
    are in milliseconds, the rate in leads a second."""
    org = UUID(demo["organisation_id"])
    conn = await database.connect(url)
    try:
        cancelled = await conn.fetchval(
            "SELECT id FROM lifecycle_statuses WHERE org_id = $1 AND kind = 'lead' AND code = 'CANCELLED'",
            org,
        )
        pending = [
            str(i)
            for i in await conn.fetchval(
                "SELECT array_agg(id ORDER BY id) FROM leads WHERE org_id = $1 AND state = 'pending' "
                "AND description LIKE 'Wants a quote %'",
                org,
            )
        ]
    finally:
        await conn.close()
    if len(pending) < MOVED * (RUNS + 1):
        raise RuntimeError(f"bulk move: {len(pending)} pending leads, {MOVED * (RUNS + 1)} needed")
    durations = []
    for run in range(RUNS + 1):
        body = {"ids": pending[run * MOVED : (run + 1) * MOVED], "status_id": str(cancelled)}
        started = time.perf_counter()
        answer = await client.post("/v1/leads/bulk/moves", json=body, headers=admin, timeout=300)
        took = (time.perf_counter() - started) * 1000
        if answer.status_code != 200 or answer.json()["updated"] != MOVED:
            raise RuntimeError(f"bulk move: {answer.status_code} {answer.text[:300]}")
        if run:
            durations.append(took)
    median = statistics.median(durations)
    return {
        "name": f"bulk move {MOVED:,}",
        "request": f"POST /v1/leads/bulk/moves: {MOVED:,} pending leads cancelled in one call (ms: its time)",
        "connections": 1,
        "req_per_s": MOVED / (median / 1000),
        "p50_ms": median,
        "p95_ms": max(durations),
        "p99_ms": max(durations),
        "requests": RUNS,
        "non_2xx": 0,
        "runs": [{"ms": d} for d in durations],
        "criteria": (at_most("p50_ms", 1000),),
        "versus": None,
    }
