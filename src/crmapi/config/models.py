"""The lists of named values an organisation configures and its records pick from.

Every list shares one shape (`Option`): a code unique within the list, a name, a description,
a position to order it by, and `active` (retired values stay for the records that have them).
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import Index, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from crmapi.kit.base import Base, Tenant, Timestamps, Versioned, tenant_fk


class Option(Tenant, Timestamps, Versioned):
    code: Mapped[str]
    name: Mapped[str]
    description: Mapped[str | None]
    position: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True)


def _unique_codes() -> tuple[UniqueConstraint]:
    """Codes unique in the organisation (a new constraint object for each table)."""
    return (UniqueConstraint("org_id", "code"),)


class LostReason(Option, Base):
    """Why a lead or an opportunity was lost."""

    __tablename__ = "lost_reasons"
    __extra_table_args__ = _unique_codes()


class CancellationReason(Option, Base):
    """Why a record was cancelled."""

    __tablename__ = "cancellation_reasons"
    __extra_table_args__ = _unique_codes()


class Competitor(Option, Base):
    __tablename__ = "competitors"
    __extra_table_args__ = _unique_codes()

    website: Mapped[str | None]


class PriorityLevel(Option, Base):
    """The organisation's label for each of the fixed priority levels 1 (highest) to 10."""

    __tablename__ = "priority_levels"
    __extra_table_args__ = _unique_codes()

    level: Mapped[int]


class ImportanceLevel(Option, Base):
    """How much winning a lead would bring (e.g. low, medium, high)."""

    __tablename__ = "importance_levels"
    __extra_table_args__ = _unique_codes()


class LeadSource(Option, Base):
    """The organisation's label for one of the fixed lead sources."""

    __tablename__ = "lead_sources"
    __extra_table_args__ = _unique_codes()


class LookupList(Option, Base):
    """A named list of values for a field (the seed's CustomLookup), e.g. CALL_CODE."""

    __tablename__ = "lookup_lists"
    __extra_table_args__ = _unique_codes()


class LookupValue(Option, Base):
    """A value of a lookup list: `code` is what records store, `name` what a picker shows."""

    __tablename__ = "lookup_values"
    __extra_table_args__ = (
        UniqueConstraint("org_id", "list_id", "code"),
        tenant_fk(["list_id"], "lookup_lists", ondelete="CASCADE"),
    )

    list_id: Mapped[UUID]


class Service(Option, Base):
    """A service activities provide (the seed's one-time services), with the least time it takes."""

    __tablename__ = "services"
    __extra_table_args__ = _unique_codes()

    minimum_minutes: Mapped[int] = mapped_column(default=0)


class PriorityCell(Tenant, Base):
    """One cell of the prioritisation matrix: a service request's urgency and impact (1 the
    highest, 5 the lowest) give its priority (1 the highest, 10 the lowest)."""

    __tablename__ = "priority_matrix"
    __extra_table_args__ = (UniqueConstraint("org_id", "urgency", "impact"),)

    urgency: Mapped[int]
    impact: Mapped[int]
    priority: Mapped[int]


class Category(Option, Base):
    """A node of one category tree (`parent_id` null at the top): a kind's, or a service
    request's response, temporary or final resolution categories."""

    __tablename__ = "categories"
    __extra_table_args__ = (
        UniqueConstraint("org_id", "kind", "code"),
        tenant_fk(["parent_id"], "categories"),
        Index("ix_categories_parent", "org_id", "kind", "parent_id"),
    )

    kind: Mapped[str]
    parent_id: Mapped[UUID | None]
    # Responses and resolutions in such a category wait for the contact to accept them.
    requires_acceptance: Mapped[bool] = mapped_column(default=False)


class NotificationCategory(Option, Base):
    """What members' inboxes are told about, by subject (conversations, announcements, service
    requests, ...): a fixed list, each value with the members and groups subscribed to it."""

    __tablename__ = "notification_categories"
    __extra_table_args__ = _unique_codes()

    member_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid), default=list)
    group_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid), default=list)
