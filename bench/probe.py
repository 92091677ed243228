"""The round trips each scenario's request makes to PostgreSQL, counted on the wire (bench/wire.py).

The app runs in this process for the count, with no background tasks (the outbox relay would add
its own statements), on the bench database through the counting proxy; each scenario's request
is sent once to warm the statement caches, then `TIMES` times counted.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from bench import server
from bench.scenarios import Scenario
from bench.wire import RoundTrips
from crmapi.app import create_app
from crmapi.settings import Settings

TIMES = 5


async def round_trips(
    owner_url: str, redis_url: str | None, data_dir: Path, scenarios: list[Scenario]
) -> dict[str, float]:
    """Per crmapi scenario, the mean round trips of one request."""
    where = make_url(owner_url)
    async with RoundTrips(where.host or "127.0.0.1", where.port or 5432) as wire:
        proxied = where.set(host="127.0.0.1", port=wire.port).render_as_string(hide_password=False)
        settings = Settings(
            database_url=proxied, redis_url=redis_url, secret_key=server.SECRET_KEY, data_dir=data_dir
        )
        app = create_app(settings, background=False)
        counts: dict[str, float] = {}
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for sc in scenarios:
                    if sc.server != "crmapi":
                        continue
                    await _send(client, sc)
                    before = wire.count
                    for _ in range(TIMES):
                        await _send(client, sc)
                    counts[sc.name] = (wire.count - before) / TIMES
        return counts


async def _send(client: httpx.AsyncClient, sc: Scenario) -> None:
    load = sc.load
    headers = dict(load.headers)
    if load.idempotency_keys:
        headers["Idempotency-Key"] = secrets.token_hex(8)
    answer = await client.request(load.method, load.paths[0], headers=headers, content=load.body)
    if not 200 <= answer.status_code < 300:
        raise RuntimeError(f"{sc.name}: {answer.status_code} while counting round trips: {answer.text[:200]}")
