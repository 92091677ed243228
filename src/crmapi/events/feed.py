"""The change feed: the outbox read in seq order, which the relay stamps in commit order, so a
change committed late still comes after every change the reader has already seen."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.events.kinds import visible
from crmapi.events.schemas import ChangesQuery
from crmapi.records.outbox import OutboxEvent


async def page(session: AsyncSession, actor: Actor, query: ChangesQuery) -> dict[str, Any]:
    stmt = (
        select(
            OutboxEvent.seq,
            OutboxEvent.id,
            OutboxEvent.topic,
            OutboxEvent.entity,
            OutboxEvent.entity_id,
            OutboxEvent.payload,
            OutboxEvent.created_at,
        )
        .where(OutboxEvent.seq > query.after, visible(actor, query.kind_list()))
        .order_by(OutboxEvent.seq)
        .limit(query.limit + 1)
    )
    rows = (await session.execute(stmt)).all()
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return {
        "items": [change(row) for row in rows],
        "next_after": rows[-1].seq if rows else query.after,
        "has_more": more,
    }


def change(row: Any) -> dict[str, Any]:
    """An outbox row (seq, id, topic, entity, entity_id, payload, created_at) as a Change."""
    payload = row.payload or {}
    version = payload.get("version")
    fields = payload.get("fields")
    return {
        "seq": row.seq,
        "event_id": row.id,
        "type": row.topic,
        "kind": row.entity,
        "record_id": row.entity_id,
        "operation": row.topic.removeprefix(f"{row.entity}."),
        "version": version if isinstance(version, int) else None,
        "fields": fields if isinstance(fields, list) else None,
        "occurred_at": row.created_at,
    }
