"""Every kind writes through `records.changes`: each create, change, delete and restore leaves a
history row and an event `<kind>.<action>` carrying the version (and the changed fields), the same
for contacts and accounts as for the work items."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from httpx import AsyncClient

from crmapi.kit.db import Database
from crmapi.records.history import HistoryEntry
from crmapi.records.outbox import OutboxEvent
from tests.support import Tenant, ok, rows_of

KINDS = {
    "contact": ("/v1/contacts", {"kind": "person", "first_name": "Anna", "last_name": "Nowak"}, "last_name"),
    "account": ("/v1/accounts", {"name": "Globex"}, "name"),
    "lead": ("/v1/leads", {"description": "Wants 40 seats"}, "description"),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_a_records_life_leaves_one_history_row_and_one_event_per_step(
    client: AsyncClient, db: Database, acme: Tenant, kind: str
) -> None:
    path, body, field = KINDS[kind]
    h = acme.admin.headers
    made = ok(await client.post(path, json=body, headers=h), 201)
    ok(await client.patch(f"{path}/{made['id']}", json={field: "Changed"}, headers=h))
    ok(await client.delete(f"{path}/{made['id']}", headers=h), 204)
    ok(await client.post(f"{path}/{made['id']}/restore", headers=h))

    record_id = UUID(made["id"])
    events = await rows_of(db, acme, OutboxEvent, entity=kind, entity_id=record_id)
    steps: list[tuple[str, dict[str, Any]]] = [(e.topic, e.payload) for e in events]
    assert [topic for topic, _ in steps] == [
        f"{kind}.{a}" for a in ("created", "updated", "deleted", "restored")
    ]
    assert [payload["version"] for _, payload in steps] == [1, 2, 3, 4]
    assert steps[1][1]["fields"] == [field]
    entries = await rows_of(db, acme, HistoryEntry, entity=kind, entity_id=record_id)
    assert sorted(e.action for e in entries) == ["created", "deleted", "restored", "updated"]


async def test_a_notes_events_carry_its_version_and_the_record_it_hangs_off(
    client: AsyncClient, db: Database, acme: Tenant
) -> None:
    h = acme.admin.headers
    contact = ok(await client.post("/v1/contacts", json=KINDS["contact"][1], headers=h), 201)
    note = ok(
        await client.post(f"/v1/contacts/{contact['id']}/notes", json={"body": "Call back"}, headers=h), 201
    )
    ok(await client.patch(f"/v1/notes/{note['id']}", json={"body": "Call back on Monday"}, headers=h))
    ok(await client.delete(f"/v1/notes/{note['id']}", headers=h), 204)

    events = await rows_of(db, acme, OutboxEvent, entity="note", entity_id=UUID(note["id"]))
    about = {"subject": "contact", "subject_id": contact["id"]}
    assert [(e.topic, e.payload["version"]) for e in events] == [
        ("note.created", 1),
        ("note.updated", 2),
        ("note.deleted", 3),
    ]
    assert all(e.payload | about == e.payload for e in events)
    assert events[1].payload["fields"] == ["body"]


async def test_relating_two_service_requests_is_in_both_histories_and_announced_for_each(
    client: AsyncClient, db: Database, acme: Tenant
) -> None:
    h = acme.admin.headers
    account = ok(await client.post("/v1/accounts", json={"name": "Globex"}, headers=h), 201)
    body = {"subject": "Router drops", "account_id": account["id"], "urgency": 3, "impact": 3}
    one, other = [ok(await client.post("/v1/service-requests", json=body, headers=h), 201) for _ in range(2)]
    ok(await client.put(f"/v1/service-requests/{one['id']}/related/{other['id']}", headers=h), 204)

    for subject, related in ((one, other), (other, one)):
        events = await rows_of(
            db, acme, OutboxEvent, topic="service_request.related", entity_id=UUID(subject["id"])
        )
        assert [e.payload for e in events] == [{"related_id": related["id"]}]
        entries = await rows_of(db, acme, HistoryEntry, action="related", entity_id=UUID(subject["id"]))
        assert [e.changes for e in entries] == [{"related_id": {"old": None, "new": related["id"]}}]
