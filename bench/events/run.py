"""The events benchmark from start to end: database, organisation, relay runs, server, push,
receiver, table."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from redis.asyncio import Redis

from bench import database, server
from bench.receiver import receiving
from bench.report import RESULTS, machine
from crmapi.kit import embedded
from crmapi.kit.db import make_engine, make_sessions
from crmapi.settings import Settings
from crmapi.worker.queue import Queue
from crmapi.worker.relay import Relay

NAME = "crmapi_bench_events"
ADMIN = ("events-admin@bench.test", "bench-password-1")
RELAY_TARGET = 5_000  # events a second, outbox to queue


@dataclass(frozen=True)
class Options:
    events: int
    records: int
    runs: int


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _relay_run(url: str, org_id: UUID, redis_url: str, events: int, run: int) -> float:
    """Events a second for one relay handing `events` fresh outbox events to the queue."""
    owner = await database.connect(url)
    engine = make_engine(database.app_url(url), Settings(), pool_size=2)
    queue_name = f"crmapi:bench-events:{run}"
    queue = Queue(redis_url, queue_name)
    try:
        await owner.execute(
            "INSERT INTO outbox (org_id, id, topic, entity, entity_id, payload, created_at, attempts) "
            "SELECT $1, gen_random_uuid(), 'contact.updated', 'contact', gen_random_uuid(), "
            '\'{"version": 2, "fields": ["job_title"]}\', clock_timestamp(), 0 '
            "FROM generate_series(1, $2)",
            org_id,
            events,
        )
        relay = Relay(make_sessions(engine), queue)
        handed, started = 0, time.perf_counter()
        while handed < events:
            got = await relay.tick()
            if not got:
                raise RuntimeError(f"the relay stopped at {handed} of {events} events")
            handed += got
        return events / (time.perf_counter() - started)
    finally:
        await owner.execute("DELETE FROM outbox")
        redis = Redis.from_url(redis_url)
        await redis.delete(queue_name)
        await redis.aclose()
        await queue.close()
        await engine.dispose()
        await owner.close()


async def _to_receiver(url: str, redis_url: str, records: int) -> dict[str, Any]:
    """The delays from a push's commit to its events' arrival at a webhook receiver."""
    state = database.STATE
    proc = await server.start(
        url,
        redis_url,
        state / "events",
        state / "events.log",
        extra_env={"IN_PROCESS_WORKER": "true", "WEBHOOKS_ALLOW_HTTP": "true"},
    )
    try:
        with receiving() as receiver:
            async with httpx.AsyncClient(base_url=proc.base_url, timeout=600) as client:
                await server.wait_healthy(proc, client)
                admin = {"Authorization": f"Bearer {await server.token(client, *ADMIN)}"}
                await _ok(
                    client.patch("/v1/organisation", json={"webhooks_private_addresses": True}, headers=admin)
                )
                key = await _ok(
                    client.post(
                        "/v1/api-keys",
                        json={"name": "ERP", "capabilities": ["integrations.push"]},
                        headers=admin,
                    )
                )
                subscription = {"url": receiver.url, "event_types": ["account.*"]}
                await _ok(client.post("/v1/webhook-endpoints", json=subscription, headers=admin))
                body = {"records": [{"code": f"EV-{i:05d}", "name": f"Debtor {i}"} for i in range(records)]}
                started = time.time()
                await _ok(
                    client.post(
                        "/v1/integrations/erp/debtors",
                        json=body,
                        headers={"Authorization": f"Bearer {key['token']}"},
                    )
                )
                committed = time.time()
                got = await asyncio.to_thread(receiver.wait_for, records, 600)
        delays = [r.at - committed for r in got]
        return {
            "records": records,
            "push_seconds": round(committed - started, 2),
            "p50_ms": round(percentile(delays, 0.5) * 1000),
            "p99_ms": round(percentile(delays, 0.99) * 1000),
            "last_ms": round(max(delays) * 1000),
            "events_per_s": round(records / max(delays)),
        }
    finally:
        await server.stop(proc)


async def _ok(call: Any) -> dict[str, Any]:
    answer: httpx.Response = await call
    if answer.status_code not in (200, 201):
        raise RuntimeError(
            f"{answer.request.method} {answer.request.url}: {answer.status_code} {answer.text[:300]}"
        )
    found: dict[str, Any] = answer.json()
    return found


async def _collect(opts: Options) -> dict[str, Any]:
    server_url, where = database.server_url()
    url = await database.create(server_url, NAME)
    redis_url = os.environ.get("TEST_REDIS_URL") or embedded.start_redis(database.STATE / "events-queue")
    progress(f"bench-events: database {NAME} on {where}, queue {redis_url}")
    try:
        org_id = await server.create_org(url, "Events bench", *ADMIN)
        rates = []
        for run in range(opts.runs):
            rates.append(await _relay_run(url, org_id, redis_url, opts.events, run))
            progress(f"bench-events: relay run {run + 1}: {rates[-1]:,.0f} events/s")
        delivery = await _to_receiver(url, redis_url, opts.records)
        progress(
            f"bench-events: {opts.records:,} events at the receiver, last after {delivery['last_ms']} ms"
        )
        return {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "options": asdict(opts),
            "machine": machine(),
            "postgres": await database.version(url),
            "relay": {"runs": [round(r) for r in rates], "events_per_s": round(statistics.median(rates))},
            "delivery": delivery,
        }
    finally:
        await database.drop(server_url, NAME)


def collect(opts: Options) -> dict[str, Any]:
    return asyncio.run(_collect(opts))


def table(result: dict[str, Any]) -> str:
    relay, delivery = result["relay"], result["delivery"]
    verdict = "met" if relay["events_per_s"] >= RELAY_TARGET else "MISSED"
    return "\n".join(
        [
            f"Events out (PostgreSQL {result['postgres']}, {result['machine']['cores']} cores)",
            f"relay, outbox to queue: {relay['events_per_s']:,} events/s (runs {relay['runs']}), "
            f"target >= {RELAY_TARGET:,}: {verdict}",
            f"{delivery['records']:,} debtors pushed in {delivery['push_seconds']} s; their events at the "
            f"receiver after the commit: p50 {delivery['p50_ms']} ms, p99 {delivery['p99_ms']} ms, "
            f"last {delivery['last_ms']} ms ({delivery['events_per_s']:,} events/s end to end)",
        ]
    )


def write(result: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "events.json"
    path.write_text(json.dumps(result, indent=2))
    return path
