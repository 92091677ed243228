"""The lists through the real server: an administrator's and a sales rep's, under wrk.

The four scenarios take turns run by run (admin accounts, rep accounts, admin contacts, rep
contacts, then again), so a burst of other work on the machine lands on both sides of a ratio
rather than on one of them.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import database, server, wrk
from bench.access.load import PASSWORD, Loaded
from bench.scenarios import bearer

PATHS = {"accounts": "/v1/accounts?limit=50", "contacts": "/v1/contacts?limit=50"}
STATE = database.STATE / "access"


@dataclass(frozen=True)
class ListOptions:
    connections: int
    seconds: int
    warmup: int
    runs: int
    redis_url: str | None


async def _total(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> int:
    """How many the list holds for this caller (counted by the API, capped as it caps)."""
    answer = await client.get(path, params={"limit": 1, "count": "true"}, headers=headers)
    answer.raise_for_status()
    return int(answer.json().get("count") or 0)


async def measure(
    url: str, loaded: Loaded, opts: ListOptions, progress: Callable[[str], None]
) -> dict[str, Any]:
    proc = await server.start(url, opts.redis_url, STATE / "serve", STATE / "server.log", 1)
    progress(f"bench.access: server starting on {proc.base_url}")
    try:
        async with httpx.AsyncClient(base_url=proc.base_url, timeout=60) as client:
            await server.wait_healthy(proc, client)
            callers = {
                "admin": bearer(await server.token(client, loaded.admin.email, PASSWORD)),
                "rep": bearer(await server.token(client, loaded.rep.email, PASSWORD)),
            }
            seen = {
                f"{who} {kind}": await _total(client, path.split("?")[0], headers)
                for who, headers in callers.items()
                for kind, path in PATHS.items()
            }
        progress(f"bench.access: visible (as counted by the API): {seen}")
        loads = {
            f"{who} {kind}": wrk.Load("GET", [path], headers)
            for kind, path in PATHS.items()
            for who, headers in callers.items()
        }
        for name, load in loads.items():
            await _checked(
                name, await wrk.run(proc.base_url, load, connections=opts.connections, seconds=opts.warmup)
            )
        runs: dict[str, list[wrk.Run]] = {name: [] for name in loads}
        for n in range(opts.runs):
            for name, load in loads.items():
                run = await wrk.run(proc.base_url, load, connections=opts.connections, seconds=opts.seconds)
                runs[name].append(await _checked(name, run))
                progress(
                    f"bench.access: run {n + 1} {name:<14} {run.rate:7.1f} req/s  p50 {run.p50_ms:6.1f}  "
                    f"p99 {run.p99_ms:6.1f} ms"
                )
    finally:
        await server.stop(proc)
        progress("bench.access: server stopped")
    return {
        "visible": seen,
        "scenarios": [
            {
                "name": name,
                "request": f"GET {loads[name].paths[0]}",
                "req_per_s": statistics.median(r.rate for r in rs),
                "p50_ms": statistics.median(r.p50_ms for r in rs),
                "p99_ms": statistics.median(r.p99_ms for r in rs),
                "requests": sum(r.requests for r in rs),
                "runs": [{"req_per_s": r.rate, "p50_ms": r.p50_ms, "p99_ms": r.p99_ms} for r in rs],
            }
            for name, rs in runs.items()
        ],
    }


async def _checked(name: str, run: wrk.Run) -> wrk.Run:
    if run.non_2xx or run.socket_errors:
        raise RuntimeError(
            f"{name}: {run.non_2xx} answers outside 2xx and {run.socket_errors} socket errors; "
            f"see {Path(STATE / 'server.log')}"
        )
    return run
