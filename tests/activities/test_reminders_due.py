"""The worker notices reminders falling due: one event per activity or lead and reminder time,
naming whom to remind; a new reminder time is announced again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from crmapi.kit.db import Database
from crmapi.records.outbox import OutboxEvent
from crmapi.worker.queue import Queue
from crmapi.worker.relay import Relay
from tests.support import Member, Tenant, Tenants, rows_of


@pytest.fixture
async def relay(db: Database, redis_url: str) -> AsyncIterator[Relay]:
    queue = Queue(redis_url, "crmapi:test-reminders")
    yield Relay(db.sessions, queue)
    await queue.close()


def at(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def create(client: AsyncClient, who: Member, path: str, **body: Any) -> dict[str, Any]:
    r = await client.post(path, json=body, headers=who.headers)
    assert r.status_code == 201, r.text
    made: dict[str, Any] = r.json()
    return made


async def announced(db: Database, tenant: Tenant, record: dict[str, Any]) -> list[dict[str, Any]]:
    """The payloads of the reminder events about a record."""
    events = await rows_of(db, tenant, OutboxEvent, entity_id=record["id"])
    return [e.payload for e in events if e.topic.endswith(".reminder_due")]


async def test_a_reminder_falling_due_is_announced_once(
    client: AsyncClient, db: Database, tenants: Tenants, acme: Tenant, relay: Relay
) -> None:
    seller = await tenants.member(acme)
    call = await create(
        client,
        acme.admin,
        "/v1/activities",
        subject="Call Anna",
        reminder_at=at(-1),
        assigned_member_id=str(seller.id),
    )
    lead = await create(client, acme.admin, "/v1/leads", description="Call back Anna", reminder_at=at(-2))
    later = await create(client, acme.admin, "/v1/activities", subject="Visit", reminder_at=at(24))

    await relay.announce_reminders()
    await relay.announce_reminders()

    [about_call] = await announced(db, acme, call)
    assert (about_call["member_id"], about_call["link"]) == (str(seller.id), f"/v1/activities/{call['id']}")
    [about_lead] = await announced(db, acme, lead)
    assert (about_lead["member_id"], about_lead["link"]) == (str(acme.admin.id), f"/v1/leads/{lead['id']}")
    assert await announced(db, acme, later) == []


async def test_a_new_reminder_time_is_announced_again(
    client: AsyncClient, db: Database, acme: Tenant, relay: Relay
) -> None:
    h = acme.admin.headers
    call = await create(client, acme.admin, "/v1/activities", subject="Call Anna", reminder_at=at(-2))
    lead = await create(client, acme.admin, "/v1/leads", description="Call back Anna", reminder_at=at(-2))
    await relay.announce_reminders()

    for path in (f"/v1/activities/{call['id']}", f"/v1/leads/{lead['id']}"):
        r = await client.patch(path, json={"reminder_at": at(-1)}, headers=h)
        assert r.status_code == 200, r.text
    await relay.announce_reminders()
    await relay.announce_reminders()

    for record in (call, lead):
        assert len(await announced(db, acme, record)) == 2


async def test_a_closed_reminder_is_not_announced(
    client: AsyncClient, db: Database, acme: Tenant, relay: Relay
) -> None:
    call = await create(client, acme.admin, "/v1/activities", subject="Call Anna", reminder_at=at(-1))
    r = await client.post(f"/v1/activities/{call['id']}/reminder/close", headers=acme.admin.headers)
    assert r.status_code == 200, r.text

    await relay.announce_reminders()

    assert await announced(db, acme, call) == []


@pytest.mark.committed
async def test_the_relay_hands_a_reminder_falling_due_over_in_its_next_tick(
    committed_client: AsyncClient, committed_tenants: Tenants, committed_db: Database, redis_url: str
) -> None:
    acme = await committed_tenants.create()
    call = await create(
        committed_client, acme.admin, "/v1/activities", subject="Call Anna", reminder_at=at(-1)
    )
    queue = Queue(redis_url, "crmapi:test-reminders-tick")
    try:
        await Relay(committed_db.sessions, queue).tick()
    finally:
        await queue.close()

    events = await rows_of(
        committed_db, acme, OutboxEvent, entity_id=call["id"], topic="activity.reminder_due"
    )
    assert [e.enqueued_at is not None for e in events] == [True]


async def test_closed_records_reminders_are_not_announced(
    client: AsyncClient, db: Database, acme: Tenant, relay: Relay
) -> None:
    h = acme.admin.headers
    reasons = (await client.get("/v1/config/lost-reasons", headers=h)).json()["items"]
    lead = await create(
        client,
        acme.admin,
        "/v1/leads",
        description="Lost cause",
        reminder_at=at(-1),
        assigned_member_id=str(acme.admin.id),
    )
    for action, body in (("start", {}), ("lose", {"lost_reason_id": reasons[0]["id"]})):
        r = await client.post(f"/v1/leads/{lead['id']}/{action}", json=body, headers=h)
        assert r.status_code == 200, r.text
    await relay.announce_reminders()
    assert await announced(db, acme, lead) == []
