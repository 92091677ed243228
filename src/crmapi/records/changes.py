"""The one write path for what a change leaves behind: a history row and an outbox event in the
same transaction (DESIGN, "Data"), and the soft delete and restore most records share.

Services call these, never `history.record` or `outbox.emit` (a test holds every module outside
`crmapi.records` to it), so a new kind cannot write one without the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.kit.ids import new_id
from crmapi.kit.logs import request_id_var
from crmapi.records import history, outbox
from crmapi.records.history import HistoryEntry
from crmapi.records.outbox import OutboxEvent


def write(
    session: AsyncSession,
    actor: Actor,
    *,
    entity: str,
    entity_id: UUID,
    action: str,
    changes: Mapping[str, Any] | None = None,
    event: dict[str, Any] | None = None,
    topic: str | None = None,
) -> None:
    """History (`entity`, `action`, the field changes) and the event `topic` (by default
    `<entity>.<action>`) carrying `event`, for writes that are not a versioned record's own."""
    history.record(session, actor, entity=entity, entity_id=entity_id, action=action, changes=changes)
    outbox.emit(
        session, actor, topic=topic or f"{entity}.{action}", entity=entity, entity_id=entity_id, payload=event
    )


def announce(
    session: AsyncSession,
    actor: Actor,
    record: Any,
    *,
    entity: str,
    action: str,
    changes: Mapping[str, Any] | None = None,
    about: Mapping[str, Any] | None = None,
    topic: str | None = None,
) -> None:
    """History and the event of a versioned record: the event carries the record's version, the
    names of the fields that changed and `about` (what consumers need besides, e.g. the record a
    note hangs off)."""
    write(
        session,
        actor,
        entity=entity,
        entity_id=record.id,
        action=action,
        changes=changes,
        event=versioned(record.version, changes) | dict(about or {}),
        topic=topic,
    )


def announce_step(
    session: AsyncSession,
    actor: Actor,
    record: Any,
    *,
    entity: str,
    action: str,
    changes: Mapping[str, Any] | None = None,
    about: Mapping[str, Any] | None = None,
) -> None:
    """A step in the life of a record that holds others (a business unit's member added, a
    group's capabilities set): history names the step, the event is `<entity>.updated` naming it
    in `action` (`created` and `deleted` keep their own topic)."""
    topic = action if action in ("created", "deleted") else "updated"
    write(
        session,
        actor,
        entity=entity,
        entity_id=record.id,
        action=action,
        changes=changes,
        event={"version": record.version, "action": action} | dict(about or {}),
        topic=f"{entity}.{topic}",
    )


def versioned(version: int, changes: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A versioned record's event: its version and, for a change, the names of the changed fields."""
    event: dict[str, Any] = {"version": version}
    if changes:
        event["fields"] = sorted(changes)
    return event


def tell(
    session: AsyncSession, actor: Actor, *, topic: str, entity: str, entity_id: UUID, event: dict[str, Any]
) -> None:
    """An event about a change whose history row is already written (a service request's answer,
    announced again for the notifications that tell the contact)."""
    outbox.emit(session, actor, topic=topic, entity=entity, entity_id=entity_id, payload=event)


@dataclass(frozen=True)
class Changed:
    """One record of a set-based write: its id, its new version, its field changes and, as
    `announce`'s `about`, what its event carries besides (a move's statuses)."""

    id: UUID
    version: int
    changes: dict[str, Any] = field(default_factory=dict)
    about: dict[str, Any] = field(default_factory=dict)


async def announce_many(
    session: AsyncSession, actor: Actor, changed: Sequence[Changed], *, entity: str, action: str
) -> None:
    """`announce` for many records at once: two statements, not a query per record (the unit of
    work would spend seconds on 10,000 ORM objects of each)."""
    now, request_id = datetime.now(UTC), request_id_var.get()
    await session.execute(
        insert(HistoryEntry),
        [
            {
                "org_id": actor.org_id,
                "id": new_id(),
                "entity": entity,
                "entity_id": c.id,
                "at": now,
                "actor_member_id": actor.member_id,
                "actor_api_key_id": actor.api_key_id,
                "request_id": request_id,
                "action": action,
                "changes": c.changes,
            }
            for c in changed
        ],
    )
    await session.execute(
        insert(OutboxEvent),
        [
            {
                "org_id": actor.org_id,
                "id": new_id(),
                "topic": f"{entity}.{action}",
                "entity": entity,
                "entity_id": c.id,
                "payload": versioned(c.version, c.changes) | c.about,
                "created_at": now,
                "actor_member_id": actor.member_id,
            }
            for c in changed
        ],
    )


async def soft_delete(
    session: AsyncSession, actor: Actor, record: Any, *, entity: str, about: Mapping[str, Any] | None = None
) -> None:
    """A locked record leaves every read until restored."""
    record.deleted_at = record.updated_at = datetime.now(UTC)
    await session.flush()
    announce(session, actor, record, entity=entity, action="deleted", about=about)


async def bring_back(session: AsyncSession, actor: Actor, record: Any, *, entity: str) -> None:
    record.deleted_at = None
    record.updated_at = datetime.now(UTC)
    await session.flush()
    announce(session, actor, record, entity=entity, action="restored")
