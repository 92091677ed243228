"""Customer feedback: one rating (1-5) and comment per completed service request, by its contact."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, Index, SmallInteger, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crmapi.kit.base import Base, Tenant, tenant_fk, utcnow


class Feedback(Tenant, Base):
    """Never changed once given (a trigger refuses updates)."""

    __tablename__ = "feedback"
    __extra_table_args__ = (
        UniqueConstraint("org_id", "service_request_id"),
        tenant_fk(["service_request_id"], "service_requests", ondelete="CASCADE"),
        tenant_fk(["member_id"], "members"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_1_to_5"),
        Index("ix_feedback_created", "org_id", "created_at", "id"),
    )

    service_request_id: Mapped[UUID]
    rating: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None]
    member_id: Mapped[UUID | None]  # the signed-in customer; none through a link
    via: Mapped[str]  # customer | link
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
