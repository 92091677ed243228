"""An organisation's configuration of the life cycles: statuses mapped to the fixed states, types,
and the transition rules of a type."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Index, Text, UniqueConstraint, Uuid, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from crmapi.config.models import Option
from crmapi.kit.base import Base, tenant_fk


class LifecycleStatus(Option, Base):
    """A status records of one kind can have (a lead's "Qualifying", an opportunity's stage),
    mapped to one of the kind's states; `position` orders a board's columns."""

    __tablename__ = "lifecycle_statuses"
    __extra_table_args__ = (
        UniqueConstraint("org_id", "kind", "code"),
        Index("ix_lifecycle_statuses_order", "org_id", "kind", "position"),
    )

    kind: Mapped[str]
    state: Mapped[str]


class LifecycleType(Option, Base):
    """What decides how records of one kind behave (DESIGN "Lifecycle engine"): the statuses they
    may have with a default per state, the categories with a default, who may create them, how
    long they should take, the priority and importance they start with, and (leads) whether
    winning one converts it."""

    __tablename__ = "lifecycle_types"
    __extra_table_args__ = (
        UniqueConstraint("org_id", "kind", "code"),
        # One default type per kind: what a record gets when it names none.
        Index(
            "uq_lifecycle_types_default", "org_id", "kind", unique=True, postgresql_where=text("is_default")
        ),
    )

    kind: Mapped[str]
    is_default: Mapped[bool] = mapped_column(default=False)
    status_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid), default=list)
    default_status_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid), default=list)
    category_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid), default=list)  # none listed: any
    default_category_id: Mapped[UUID | None]
    creating_unit_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid), default=list)  # none: anyone
    # {"amount": 3, "unit": "days"}: expected completion = start + this.
    complete_within: Mapped[dict[str, Any] | None]
    default_priority: Mapped[int | None]
    default_importance_id: Mapped[UUID | None]
    auto_convert: Mapped[bool] = mapped_column(default=False)
    # Lead and service request types: the activity types one may schedule from them (none: any).
    activity_type_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid), default=list)
    # Activity types: the services one may provide through them (none: any), and those every
    # new activity of the type starts with, at their minimum time.
    service_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid), default=list)
    automatic_service_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid), default=list)
    # Service request types: key dates are computed again when the request is responded to.
    recalculate_on_responding: Mapped[bool] = mapped_column(default=False)
    conversion_classification: Mapped[str | None]
    conversion_credit_rating: Mapped[str | None]
    # Issue and service request types: whether customers may file them on their own accounts, and
    # whom a new one goes to when its filer names nobody.
    customer_submittable: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    default_assignee_id: Mapped[UUID | None]
    default_business_unit_id: Mapped[UUID | None]
    # Issue types: what makes a member follow an issue by itself (filing it, commenting on it),
    # and the version of the type's form new issues are filed with (issues.forms).
    follow_on: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default=text("'{}'"))
    form_version: Mapped[int | None]


class TransitionRule(Option, Base):
    """A move a type permits, from one status to another, for the members and business units it
    names (nobody named: everyone). Once a type has active rules, only the pairs they list move."""

    __tablename__ = "transition_rules"
    __extra_table_args__ = (
        UniqueConstraint("org_id", "type_id", "code"),
        tenant_fk(["type_id"], "lifecycle_types", ondelete="CASCADE"),
    )

    type_id: Mapped[UUID]
    from_status_id: Mapped[UUID]
    to_status_id: Mapped[UUID]
    member_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid), default=list)
    unit_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid), default=list)
