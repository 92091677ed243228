"""One attempt of a webhook delivery, as an arq job: read the delivery, send it with no
transaction open, then record the attempt and decide what follows (delivered, the next try
after a growing delay, or given up), all under the delivery's lock."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.events import signing
from crmapi.events.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from crmapi.events.targets import Refused, private_allowed, resolve_and_check
from crmapi.kit.db import bind_org
from crmapi.kit.ids import new_id
from crmapi.records.changes import announce
from crmapi.settings import Settings

log = logging.getLogger("crmapi.webhooks")
SEND_JOB = "send_webhook"
MAX_DELAY = timedelta(hours=6)


def job_id(delivery_id: UUID | str, attempt: int) -> str:
    """One job per attempt: a second enqueue of the same attempt is skipped while it waits."""
    return f"webhook:{delivery_id}:{attempt}"


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    latency_ms: int

    @property
    def delivered(self) -> bool:
        return self.error is None


async def send_webhook(ctx: dict[str, Any], org_id: str, delivery_id: str, attempt: int) -> str:
    """Attempt `attempt` (0 first) of a delivery; another attempt number finds it moved on and
    does nothing. Returns what happened, for the log."""
    settings: Settings = ctx["settings"]
    org, delivery_uuid = UUID(org_id), UUID(delivery_id)
    async with ctx["sessions"]() as session, session.begin():
        await bind_org(session, org)
        found = await _pending(session, delivery_uuid, attempt)
        if found is None:
            return "skipped"
        delivery, endpoint = found
        # In flight: the relay's sweep leaves it alone for as long as an attempt may take.
        in_flight = timedelta(seconds=settings.webhook_timeout_seconds) + settings.sweep_grace
        delivery.next_attempt_at = datetime.now(UTC) + in_flight
        private = await private_allowed(session, org)
        url, body = endpoint.url, json.dumps(delivery.body, separators=(",", ":")).encode()
        headers = _headers(endpoint, delivery, body)
        enabled = endpoint.enabled
    outcome = (
        await _post(ctx["http"], url, body, headers, settings, allow_private=private)
        if enabled
        else Outcome(None, "The endpoint is disabled.", 0)
    )
    async with ctx["sessions"]() as session, session.begin():
        await bind_org(session, org)
        found = await _pending(session, delivery_uuid, attempt)
        if found is None:
            return "skipped"
        delivery, endpoint = found
        retry_at = await _record(session, org, delivery, endpoint, outcome, settings, give_up=not enabled)
        following = await _next_of_replay(session, delivery, settings) if delivery.replay else None
    if following is not None:
        await ctx["redis"].enqueue_job(SEND_JOB, org_id, str(following), 0, _job_id=job_id(following, 0))
    if retry_at is not None:
        await ctx["redis"].enqueue_job(
            SEND_JOB,
            org_id,
            delivery_id,
            attempt + 1,
            _job_id=job_id(delivery_id, attempt + 1),
            _defer_until=retry_at,
        )
    return "delivered" if outcome.delivered else ("retrying" if retry_at else "given up")


async def _pending(
    session: AsyncSession, delivery_id: UUID, attempt: int
) -> tuple[WebhookDelivery, WebhookEndpoint] | None:
    """The delivery, locked, and its endpoint, if the delivery still waits for this attempt."""
    stmt = (
        select(WebhookDelivery, WebhookEndpoint)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.id == delivery_id)
        # Not the endpoint: its deliveries run side by side.
        .with_for_update(of=WebhookDelivery)
    )
    row = (await session.execute(stmt)).one_or_none()
    if row is None or row[0].status != "pending" or row[0].attempts != attempt:
        return None
    return row[0], row[1]


async def _next_of_replay(
    session: AsyncSession, delivery: WebhookDelivery, settings: Settings
) -> UUID | None:
    """A replay goes out in seq order: once one of its deliveries was tried, the next not yet
    tried is enqueued (and left alone by the relay's sweep for its grace)."""
    following = (
        await session.execute(
            select(WebhookDelivery)
            .where(
                WebhookDelivery.endpoint_id == delivery.endpoint_id,
                WebhookDelivery.replay,
                WebhookDelivery.status == "pending",
                WebhookDelivery.attempts == 0,
                WebhookDelivery.seq >= delivery.seq,
                WebhookDelivery.id != delivery.id,
            )
            .order_by(WebhookDelivery.seq, WebhookDelivery.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
    ).scalar()
    if following is None:
        return None
    following.next_attempt_at = datetime.now(UTC) + settings.sweep_grace
    return following.id


def _headers(endpoint: WebhookEndpoint, delivery: WebhookDelivery, body: bytes) -> dict[str, str]:
    secrets = [endpoint.secret]
    now = datetime.now(UTC)
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        secrets.append(endpoint.previous_secret)
    return {
        "Content-Type": "application/json",
        "User-Agent": "crmapi-webhooks/1",
        signing.HEADER: signing.header(secrets, int(now.timestamp()), body),
        "Crmapi-Event-Id": str(delivery.event_id),
        "Crmapi-Event-Type": delivery.type,
        "Crmapi-Delivery-Id": str(delivery.id),
    }


async def _post(
    http: httpx.AsyncClient,
    url: str,
    body: bytes,
    headers: dict[str, str],
    settings: Settings,
    *,
    allow_private: bool,
) -> Outcome:
    """Send once: a 2xx whose answer fits the limit within the timeout is delivered; anything
    else is the attempt's error. Redirects are not followed (the new address was never checked)."""
    started = time.monotonic()
    status: int | None = None
    try:
        async with asyncio.timeout(settings.webhook_timeout_seconds):
            await resolve_and_check(url, allow_http=settings.webhooks_allow_http, allow_private=allow_private)
            async with http.stream("POST", url, content=body, headers=headers) as answer:
                status = answer.status_code
                read = 0
                async for chunk in answer.aiter_raw():
                    read += len(chunk)
                    if read > settings.webhook_answer_bytes:
                        return _ended(
                            started,
                            status,
                            f"The answer is longer than {settings.webhook_answer_bytes:,} bytes; "
                            "not read further.",
                        )
        if 300 <= status < 400:
            return _ended(
                started,
                status,
                f"Redirected to {answer.headers.get('location', '?')}; redirects are not followed.",
            )
        if not 200 <= status < 300:
            return _ended(started, status, f"Answered {status}.")
        return _ended(started, status, None)
    except TimeoutError:
        return _ended(started, status, f"No answer within {settings.webhook_timeout_seconds:g} s.")
    except Refused as refused:
        return _ended(started, None, str(refused))
    except httpx.HTTPError as failed:
        return _ended(started, status, f"{type(failed).__name__}: {failed}"[:500])


def _ended(started: float, status: int | None, error: str | None) -> Outcome:
    return Outcome(status, error, round((time.monotonic() - started) * 1000))


async def _record(
    session: AsyncSession,
    org: UUID,
    delivery: WebhookDelivery,
    endpoint: WebhookEndpoint,
    outcome: Outcome,
    settings: Settings,
    *,
    give_up: bool,
) -> datetime | None:
    """The attempt written and the delivery moved on; the next attempt's time, if any."""
    now = datetime.now(UTC)
    delivery.attempts += 1
    session.add(
        WebhookAttempt(
            org_id=org,
            id=new_id(),
            delivery_id=delivery.id,
            number=delivery.attempts,
            at=now,
            status_code=outcome.status_code,
            error=outcome.error,
            latency_ms=outcome.latency_ms,
        )
    )
    delivery.last_status_code, delivery.last_error = outcome.status_code, outcome.error
    delivery.last_latency_ms = outcome.latency_ms
    if outcome.delivered:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
        if endpoint.failures_in_a_row:
            await session.refresh(endpoint, with_for_update=True)
            endpoint.failures_in_a_row = 0
        return None
    retry_at = None if give_up else next_attempt(delivery, now, settings)
    delivery.next_attempt_at = retry_at
    if retry_at is None:
        delivery.status = "failed"
        # Locked only now, for the count: its deliveries otherwise run side by side.
        await session.refresh(endpoint, with_for_update=True)
        endpoint.failures_in_a_row += 1
        if endpoint.enabled and endpoint.failures_in_a_row >= settings.webhook_disable_after:
            await _disable(session, org, endpoint, now)
    return retry_at


def next_attempt(delivery: WebhookDelivery, now: datetime, settings: Settings) -> datetime | None:
    """Exponential backoff with jitter from the base delay, capped at MAX_DELAY; None once the
    next try would fall past the retry window."""
    delay = min(
        timedelta(seconds=settings.webhook_retry_base_seconds * 2 ** (delivery.attempts - 1)), MAX_DELAY
    ) * random.uniform(0.8, 1.2)
    at = now + delay
    return (
        at if at <= delivery.created_at + timedelta(seconds=settings.webhook_retry_window_seconds) else None
    )


async def _disable(session: AsyncSession, org: UUID, endpoint: WebhookEndpoint, now: datetime) -> None:
    endpoint.enabled = False
    endpoint.disabled_reason = f"Deliveries given up in a row: {endpoint.failures_in_a_row}."
    endpoint.updated_at = now
    log.warning("webhook endpoint %s disabled: %s", endpoint.id, endpoint.disabled_reason)
    await session.flush()
    # The worker's own change: no member or key made it.
    announce(
        session,
        Actor(org_id=org, kind="system"),
        endpoint,
        entity="webhook_endpoint",
        action="disabled",
        changes={
            "enabled": {"old": True, "new": False},
            "disabled_reason": {"old": None, "new": endpoint.disabled_reason},
        },
    )
