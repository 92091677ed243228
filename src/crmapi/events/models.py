"""Webhook endpoints, the deliveries of events to them, and each delivery's attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Index, Integer, SmallInteger, text
from sqlalchemy.orm import Mapped, mapped_column

from crmapi.kit.base import Base, Tenant, Timestamps, Versioned, tenant_fk, utcnow


class WebhookEndpoint(Tenant, Timestamps, Versioned, Base):
    """Where an organisation's events are sent, which of them, and the secret they are signed with."""

    __tablename__ = "webhook_endpoints"
    __extra_table_args__ = (
        Index("ix_webhook_endpoints_enabled", "org_id", postgresql_where=text("enabled")),
    )

    url: Mapped[str]
    description: Mapped[str | None]
    event_types: Mapped[list[str]]  # from the catalogue; "*" for every type
    kinds: Mapped[list[str] | None]  # only events about these kinds of record
    account_id: Mapped[UUID | None]  # only events about this account and the records on it
    secret: Mapped[str]
    # After a rotation the old secret still signs (a second signature) until this time.
    previous_secret: Mapped[str | None]
    previous_secret_until: Mapped[datetime | None]
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None]
    failures_in_a_row: Mapped[int] = mapped_column(Integer, default=0)


class WebhookDelivery(Tenant, Base):
    """One event for one endpoint, retried until delivered or given up; the body is fixed when
    the delivery is made, so every attempt and a redelivery send the same bytes."""

    __tablename__ = "webhook_deliveries"
    __extra_table_args__ = (
        tenant_fk(["endpoint_id"], "webhook_endpoints", ondelete="CASCADE"),
        Index("ix_webhook_deliveries_endpoint", "org_id", "endpoint_id", "created_at", "id"),
        Index("ix_webhook_deliveries_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    )

    endpoint_id: Mapped[UUID]
    event_id: Mapped[UUID]
    seq: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str]
    body: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(default="pending")  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(SmallInteger)
    last_error: Mapped[str | None]
    last_latency_ms: Mapped[int | None] = mapped_column(Integer)
    replay: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class WebhookAttempt(Tenant, Base):
    """One try of a delivery: when, what the receiver answered, how long it took."""

    __tablename__ = "webhook_attempts"
    __extra_table_args__ = (
        tenant_fk(["delivery_id"], "webhook_deliveries", ondelete="CASCADE"),
        Index("ix_webhook_attempts_delivery", "org_id", "delivery_id", "number"),
    )

    delivery_id: Mapped[UUID]
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    error: Mapped[str | None]
    latency_ms: Mapped[int] = mapped_column(Integer)
