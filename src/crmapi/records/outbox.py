"""Events written in the request's transaction; the relay hands them to the worker after commit."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import BigInteger, Index, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from crmapi.kit.base import Base, Tenant, utcnow
from crmapi.records.history import jsonable

if TYPE_CHECKING:
    from crmapi.access.actor import Actor


class OutboxEvent(Tenant, Base):
    __tablename__ = "outbox"
    __extra_table_args__ = (
        Index("ix_outbox_pending", "created_at", postgresql_where=text("done_at IS NULL")),
        Index("ix_outbox_seq", "seq", unique=False),
        Index("ix_outbox_undone", "seq", postgresql_where=text("done_at IS NULL")),
        Index("ix_outbox_org_seq", "org_id", "seq", postgresql_where=text("seq IS NOT NULL")),
    )

    # Stamped by the relay in the order rows became visible, i.e. commit order.
    seq: Mapped[int | None] = mapped_column(BigInteger)
    topic: Mapped[str]
    entity: Mapped[str]
    entity_id: Mapped[UUID]
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    enqueued_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    # Who made the change (none: an API key or the service itself), so the people told of it
    # are not told of what they did themselves.
    actor_member_id: Mapped[UUID | None]


def emit(
    session: AsyncSession,
    actor: Actor,
    *,
    topic: str,
    entity: str,
    entity_id: UUID,
    payload: dict[str, Any] | None = None,
) -> OutboxEvent:
    """Add an event that commits (or rolls back) with the data it describes."""
    event = OutboxEvent(
        org_id=actor.org_id,
        topic=topic,
        entity=entity,
        entity_id=entity_id,
        payload=jsonable(payload or {}),
        actor_member_id=actor.member_id,
    )
    session.add(event)
    return event
