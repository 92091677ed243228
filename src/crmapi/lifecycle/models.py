"""An organisation's configuration of the life cycles: its statuses, each mapped to a fixed state."""

from __future__ import annotations

from sqlalchemy import Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crmapi.base import Base, Tenant, Timestamps, Versioned


class LifecycleStatus(Tenant, Timestamps, Versioned, Base):
    """A status records of one kind can have (a lead's "Qualifying", an opportunity's stage),
    mapped to one of the kind's states; `position` orders a board's columns."""

    __tablename__ = "lifecycle_statuses"
    __extra_table_args__ = (
        UniqueConstraint("org_id", "kind", "code"),
        Index("ix_lifecycle_statuses_order", "org_id", "kind", "position"),
    )

    kind: Mapped[str]
    code: Mapped[str]
    name: Mapped[str]
    description: Mapped[str | None]
    state: Mapped[str]
    position: Mapped[int]
    # An inactive status is not offered for new moves; records already in it keep it.
    active: Mapped[bool] = mapped_column(default=True)
