"""What every write of a versioned record leaves behind: a history row and an outbox event in the
same transaction (DESIGN, "Data"), and the soft delete and restore most records share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.records import history, outbox


def announce(
    session: AsyncSession,
    actor: Actor,
    record: Any,
    *,
    entity: str,
    action: str,
    changes: dict[str, Any] | None = None,
) -> None:
    """History (`entity`, `action`, the field changes) and the event `<entity>.<action>` carrying
    the record's version and the names of the fields that changed."""
    history.record(session, actor, entity=entity, entity_id=record.id, action=action, changes=changes)
    payload: dict[str, Any] = {"version": record.version}
    if changes:
        payload["fields"] = sorted(changes)
    outbox.emit(
        session, actor, topic=f"{entity}.{action}", entity=entity, entity_id=record.id, payload=payload
    )


async def soft_delete(session: AsyncSession, actor: Actor, record: Any, *, entity: str) -> None:
    """A locked record leaves every read until restored."""
    record.deleted_at = record.updated_at = datetime.now(UTC)
    await session.flush()
    announce(session, actor, record, entity=entity, action="deleted")


async def bring_back(session: AsyncSession, actor: Actor, record: Any, *, entity: str) -> None:
    record.deleted_at = None
    record.updated_at = datetime.now(UTC)
    await session.flush()
    announce(session, actor, record, entity=entity, action="restored")
