"""Jobs the worker runs; each takes ids, opens its own session and is safe to run twice."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.events import fanout
from crmapi.events.sending import SEND_JOB, job_id
from crmapi.kit.db import bind_org
from crmapi.notifications import fanout as notifications

log = logging.getLogger("crmapi.jobs")
EVENT_COUNTS = "crmapi:event-counts"


async def deliver_outbox(ctx: dict[str, Any], events: list[list[str]]) -> int:
    """Mark a batch of outbox events (organisation and event ids, in seq order) done and run
    their consumers, an organisation at a time: the event counters, members' notifications (in
    the same transaction: an event is marked done with them or not at all), and the webhook deliveries
    of the organisation's endpoints, whose first attempts are enqueued once they are committed.
    An event delivered before is skipped. Returns how many were delivered now."""
    by_org: dict[str, list[UUID]] = defaultdict(list)
    for org_id, event_id in events:
        by_org[org_id].append(UUID(event_id))
    delivered = 0
    for org_id, ids in by_org.items():
        org = UUID(org_id)
        async with ctx["sessions"]() as session, session.begin():
            await bind_org(session, org)
            rows = (
                await session.execute(
                    text(
                        "UPDATE outbox SET done_at = now(), attempts = attempts + 1 "
                        "WHERE org_id = :org AND id = ANY(:ids) AND done_at IS NULL "
                        "RETURNING id, seq, topic, entity, entity_id, payload, created_at, actor_member_id"
                    ),
                    {"org": org, "ids": ids},
                )
            ).all()
            await count_record_changes(ctx, Counter(row.topic for row in rows))
            in_order = sorted(rows, key=lambda row: row.seq)
            await notifications.notify(session, org, in_order, datetime.now(UTC))
            made = await _webhook_deliveries(session, org, in_order, ctx["settings"].sweep_grace)
        await _enqueue_first_attempts(ctx, org_id, made)
        delivered += len(rows)
    log.info("delivered %d of %d events", delivered, len(events))
    return delivered


async def _webhook_deliveries(
    session: AsyncSession, org: UUID, rows: Sequence[Any], grace: timedelta
) -> list[tuple[UUID, int]]:
    """The deliveries of the events; due at once, but their jobs are enqueued at once too, so the
    relay's sweep leaves them alone for `grace`."""
    if not rows:
        return []
    targets = await fanout.endpoints(session)
    if not targets:
        return []
    now = datetime.now(UTC)
    return await fanout.deliveries(session, org, rows, targets, now=now, due=now + grace)


async def _enqueue_first_attempts(ctx: dict[str, Any], org_id: str, made: list[tuple[UUID, int]]) -> None:
    """Failing here loses nothing: the relay's sweep enqueues them once their grace is over."""
    try:
        for delivery_id, _ in made:
            await ctx["redis"].enqueue_job(
                SEND_JOB, org_id, str(delivery_id), 0, _job_id=job_id(delivery_id, 0)
            )
    except Exception as exc:
        log.warning("webhook deliveries left to the sweep: %s", exc)


async def count_record_changes(ctx: dict[str, Any], topics: Counter[str]) -> None:
    """The first consumer: a per-topic counter of delivered record changes."""
    if topics:
        async with ctx["redis"].pipeline(transaction=False) as pipe:
            for topic, count in topics.items():
                pipe.hincrby(EVENT_COUNTS, topic, count)
            await pipe.execute()
