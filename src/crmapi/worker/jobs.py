"""Jobs the worker runs; each takes ids, opens its own session and is safe to run twice."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from sqlalchemy import text

from crmapi.kit.db import bind_org

log = logging.getLogger("crmapi.jobs")
EVENT_COUNTS = "crmapi:event-counts"


async def deliver_outbox(ctx: dict[str, Any], org_id: str, event_id: str) -> bool:
    """Mark one outbox event done and run its consumers; a second delivery is a no-op."""
    async with ctx["sessions"]() as session, session.begin():
        await bind_org(session, UUID(org_id))
        event = (
            await session.execute(
                text(
                    "UPDATE outbox SET done_at = now(), attempts = attempts + 1 "
                    "WHERE org_id = :org AND id = :id AND done_at IS NULL "
                    "RETURNING seq, topic, entity, entity_id"
                ),
                {"org": UUID(org_id), "id": UUID(event_id)},
            )
        ).one_or_none()
        if event is None:
            return False
        await count_record_change(ctx, event.topic)
        log.info(
            "delivered %s",
            event.topic,
            extra={"fields": {"seq": event.seq, "entity": event.entity, "entity_id": str(event.entity_id)}},
        )
    return True


async def count_record_change(ctx: dict[str, Any], topic: str) -> None:
    """The first consumer: a per-topic counter of delivered record changes."""
    await ctx["redis"].hincrby(EVENT_COUNTS, topic, 1)
