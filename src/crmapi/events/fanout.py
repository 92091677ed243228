"""Outbox events become webhook deliveries: each event for every enabled endpoint of its
organisation that subscribes to its type and passes its filters, with the body fixed now (the
event and the record as the API answers it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.events import render
from crmapi.events.catalogue import matches
from crmapi.events.feed import change
from crmapi.events.models import WebhookDelivery, WebhookEndpoint
from crmapi.events.webhook_schemas import WebhookEvent
from crmapi.kit.ids import new_id


def body(org_id: UUID, event: Any, data: dict[str, Any] | None) -> dict[str, Any]:
    """The webhook request's body (events.webhook_schemas.WebhookEvent) as JSON values."""
    described = change(event)
    return WebhookEvent(
        id=described.pop("event_id"), organisation_id=org_id, data=data, **described
    ).model_dump(mode="json")


def wanted(endpoint: WebhookEndpoint, event: Any) -> bool:
    """Subscribed to the type and of a kind it asked for; the account filter needs the record."""
    return matches(endpoint.event_types, event.topic) and (
        endpoint.kinds is None or event.entity in endpoint.kinds
    )


def on_account(endpoint: WebhookEndpoint, event: Any, data: dict[str, Any] | None) -> bool:
    if endpoint.account_id is None:
        return True
    if event.entity == "account":
        return bool(event.entity_id == endpoint.account_id)
    return data is not None and data.get("account_id") == str(endpoint.account_id)


async def endpoints(session: AsyncSession) -> Sequence[WebhookEndpoint]:
    """The bound organisation's enabled endpoints."""
    return (await session.execute(select(WebhookEndpoint).where(WebhookEndpoint.enabled))).scalars().all()


async def deliveries(
    session: AsyncSession,
    org_id: UUID,
    events: Sequence[Any],
    targets: Sequence[WebhookEndpoint],
    *,
    now: datetime,
    replay: bool = False,
    due: datetime | None = None,
) -> list[tuple[UUID, int]]:
    """Write the deliveries of `events` (outbox rows: id, seq, topic, entity, entity_id, payload,
    created_at) to the `targets` that want them; their ids and events' seqs, in event order."""
    chosen = [(event, [e for e in targets if wanted(e, event)]) for event in events]
    chosen = [(event, picked) for event, picked in chosen if picked]
    if not chosen:
        return []
    data = await render.records(session, [(event.entity, event.entity_id) for event, _ in chosen])
    rows = []
    for event, picked in chosen:
        record = data.get((event.entity, event.entity_id))
        made = body(org_id, event, record)
        for endpoint in picked:
            if on_account(endpoint, event, record):
                rows.append(
                    {
                        "org_id": org_id,
                        "id": new_id(),
                        "endpoint_id": endpoint.id,
                        "event_id": event.id,
                        "seq": event.seq,
                        "type": event.topic,
                        "body": made,
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": due or now,
                        "replay": replay,
                        "created_at": now,
                    }
                )
    if rows:
        await session.execute(insert(WebhookDelivery), rows)
    return [(row["id"], row["seq"]) for row in rows]
