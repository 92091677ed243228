"""A member's inbox: one notification per event it is told of, and the categories it muted."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ForeignKeyConstraint, Index, PrimaryKeyConstraint, UniqueConstraint
from sqlalchemy.orm import Mapped

from crmapi.kit.base import Base, Tenant, tenant_fk


class Notification(Tenant, Base):
    __tablename__ = "notifications"
    __extra_table_args__ = (
        tenant_fk(["member_id"], "members", ondelete="CASCADE"),
        # One per member and event: a batch the worker runs twice tells nobody twice.
        UniqueConstraint("org_id", "member_id", "event_id"),
        Index("ix_notifications_inbox", "org_id", "member_id", "created_at", "id"),
        Index(
            "ix_notifications_unread", "org_id", "member_id", "category", postgresql_where="read_at IS NULL"
        ),
    )

    member_id: Mapped[UUID]
    category: Mapped[str]  # a notification category's code
    event_id: Mapped[UUID]
    type: Mapped[str]  # the event type, <kind>.<operation>
    kind: Mapped[str]
    record_id: Mapped[UUID]
    details: Mapped[dict[str, Any]]  # the event's payload
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class Mute(Base):
    """A member who muted a category hears nothing of it, subscribed or not."""

    __tablename__ = "notification_mutes"
    __table_args__ = (
        PrimaryKeyConstraint("org_id", "member_id", "category"),
        ForeignKeyConstraint(["org_id", "member_id"], ["members.org_id", "members.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),
    )

    org_id: Mapped[UUID]
    member_id: Mapped[UUID]
    category: Mapped[str]
