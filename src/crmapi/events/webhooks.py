"""Webhook endpoints: made, changed, removed and their secret rotated by `webhooks.manage`; their
deliveries listed, one redelivered, a time range of events replayed. Deliveries made here are
sent by the worker within a relay tick or two (the relay sweeps them up: events.fanout)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.accounts.models import Account
from crmapi.events import fanout, signing
from crmapi.events.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from crmapi.events.targets import check_url, private_allowed
from crmapi.events.webhook_schemas import EndpointCreate, EndpointUpdate, Replay
from crmapi.kit.concurrency import check_version
from crmapi.kit.errors import NotFound, Unprocessable
from crmapi.kit.ids import new_id
from crmapi.kit.pagination import Sorting
from crmapi.records import history
from crmapi.records.changes import announce
from crmapi.records.outbox import OutboxEvent
from crmapi.settings import Settings

ENTITY = "webhook_endpoint"
MAX_REPLAY = 10_000
SORTING = Sorting(
    columns={"created_at": WebhookEndpoint.created_at}, id_column=WebhookEndpoint.id, default="created_at"
)
DELIVERY_SORTING = Sorting(
    columns={"created_at": WebhookDelivery.created_at}, id_column=WebhookDelivery.id, default="-created_at"
)
_SHOWN = ("url", "description", "event_types", "kinds", "account_id", "enabled")  # never the secret


def _snapshot(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {key: getattr(endpoint, key) for key in _SHOWN}


async def _check_target(session: AsyncSession, actor: Actor, url: str, settings: Settings) -> None:
    check_url(
        url,
        allow_http=settings.webhooks_allow_http,
        allow_private=await private_allowed(session, actor.org_id),
    )


async def _check_account(session: AsyncSession, account_id: UUID | None) -> None:
    if (
        account_id is not None
        and await session.scalar(select(Account.id).where(Account.id == account_id)) is None
    ):
        raise Unprocessable.on("body.account_id", "No account with this id.")


async def create(
    session: AsyncSession, actor: Actor, data: EndpointCreate, settings: Settings
) -> WebhookEndpoint:
    await _check_target(session, actor, data.url, settings)
    await _check_account(session, data.account_id)
    now = datetime.now(UTC)
    endpoint = WebhookEndpoint(
        org_id=actor.org_id,
        id=new_id(),
        **data.model_dump(),
        secret=signing.new_secret(),
        failures_in_a_row=0,
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    await session.flush()
    announce(
        session,
        actor,
        endpoint,
        entity=ENTITY,
        action="created",
        changes=history.diff({}, _snapshot(endpoint)),
    )
    return endpoint


def endpoints() -> Select[WebhookEndpoint]:
    """The organisation's endpoints (row-level security binds it)."""
    return select(WebhookEndpoint)


async def get(session: AsyncSession, endpoint_id: UUID, *, lock: bool = False) -> WebhookEndpoint:
    stmt = endpoints().where(WebhookEndpoint.id == endpoint_id)
    found = (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()
    if found is None:
        raise NotFound("No webhook endpoint with this id.")
    return found


async def update(
    session: AsyncSession,
    actor: Actor,
    endpoint_id: UUID,
    data: EndpointUpdate,
    expected: int | None,
    settings: Settings,
) -> WebhookEndpoint:
    endpoint = await get(session, endpoint_id, lock=True)
    check_version(endpoint.version, expected)
    sent = data.model_dump(include=data.model_fields_set)
    if "url" in sent:
        await _check_target(session, actor, sent["url"], settings)
    if "account_id" in sent:
        await _check_account(session, sent["account_id"])
    before = _snapshot(endpoint)
    for key, value in sent.items():
        setattr(endpoint, key, value)
    changed = history.diff(before, _snapshot(endpoint))
    if not changed:
        return endpoint
    if "enabled" in changed and endpoint.enabled:
        endpoint.failures_in_a_row, endpoint.disabled_reason = 0, None
    endpoint.updated_at = datetime.now(UTC)
    await session.flush()
    announce(session, actor, endpoint, entity=ENTITY, action="updated", changes=changed)
    return endpoint


async def delete(session: AsyncSession, actor: Actor, endpoint_id: UUID, expected: int | None) -> None:
    """Gone with its deliveries and their attempts."""
    endpoint = await get(session, endpoint_id, lock=True)
    check_version(endpoint.version, expected)
    await session.delete(endpoint)
    await session.flush()
    announce(session, actor, endpoint, entity=ENTITY, action="deleted")


async def rotate(
    session: AsyncSession, actor: Actor, endpoint_id: UUID, overlap: int, expected: int | None
) -> WebhookEndpoint:
    """A new secret; the old one still signs (a second `v1`) for `overlap` seconds."""
    endpoint = await get(session, endpoint_id, lock=True)
    check_version(endpoint.version, expected)
    now = datetime.now(UTC)
    endpoint.previous_secret = endpoint.secret if overlap else None
    endpoint.previous_secret_until = now + timedelta(seconds=overlap) if overlap else None
    endpoint.secret = signing.new_secret()
    endpoint.updated_at = now
    await session.flush()
    until = history.jsonable(endpoint.previous_secret_until)
    announce(
        session,
        actor,
        endpoint,
        entity=ENTITY,
        action="updated",
        changes={"secret": {"old": None, "new": until}},
    )
    return endpoint


def deliveries(endpoint_id: UUID, status: str | None) -> Select[WebhookDelivery]:
    stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    return stmt if status is None else stmt.where(WebhookDelivery.status == status)


async def _one_delivery(session: AsyncSession, endpoint_id: UUID, delivery_id: UUID) -> WebhookDelivery:
    """A delivery of an endpoint the caller has already found (`get`)."""
    found = (
        await session.execute(deliveries(endpoint_id, None).where(WebhookDelivery.id == delivery_id))
    ).scalar()
    if found is None:
        raise NotFound("No delivery with this id for this endpoint.")
    return found


async def delivery(
    session: AsyncSession, endpoint_id: UUID, delivery_id: UUID
) -> tuple[WebhookDelivery, list[WebhookAttempt]]:
    await get(session, endpoint_id)
    found = await _one_delivery(session, endpoint_id, delivery_id)
    attempts = await session.execute(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == delivery_id)
        .order_by(WebhookAttempt.number)
    )
    return found, list(attempts.scalars())


async def redeliver(
    session: AsyncSession, endpoint_id: UUID, delivery_id: UUID, grace: timedelta
) -> WebhookDelivery:
    """The delivery's event sent again as a new delivery with the same body, whatever became of
    the first (a receiver that lost it, a fixed bug)."""
    endpoint = await get(session, endpoint_id)
    first = await _one_delivery(session, endpoint_id, delivery_id)
    now = datetime.now(UTC)
    again = WebhookDelivery(
        org_id=first.org_id,
        id=new_id(),
        endpoint_id=endpoint.id,
        event_id=first.event_id,
        seq=first.seq,
        type=first.type,
        body=first.body,
        status="pending",
        attempts=0,
        next_attempt_at=now - grace,  # due at once: the relay's next sweep enqueues it
        replay=True,
        created_at=now,
    )
    session.add(again)
    await session.flush()
    return again


async def replay(
    session: AsyncSession, actor: Actor, endpoint_id: UUID, window: Replay, grace: timedelta
) -> dict[str, Any]:
    """Every event of the time range that the endpoint subscribes to, as new deliveries in seq
    order; the records rendered as they are now."""
    endpoint = await get(session, endpoint_id)
    in_range = select(OutboxEvent).where(
        OutboxEvent.org_id == actor.org_id,
        OutboxEvent.seq.is_not(None),
        OutboxEvent.created_at >= window.from_,
        OutboxEvent.created_at < window.to,
    )
    events = (await session.execute(in_range.order_by(OutboxEvent.seq).limit(MAX_REPLAY + 1))).scalars().all()
    if len(events) > MAX_REPLAY:
        raise Unprocessable.on(
            "body.to", f"More than {MAX_REPLAY:,} events in the range: replay a shorter one."
        )
    now = datetime.now(UTC)
    made = await fanout.deliveries(
        session, actor.org_id, events, [endpoint], now=now, replay=True, due=now - grace
    )
    seqs = [seq for _, seq in made]
    return {
        "deliveries": len(made),
        "first_seq": seqs[0] if seqs else None,
        "last_seq": seqs[-1] if seqs else None,
    }
