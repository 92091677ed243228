"""Opportunities: a sale in the making with an account, moved through stages until won, lost or
cancelled."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from sqlalchemy import CHAR, Index, Numeric, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crmapi.kit.base import Base, Tenant, Timestamps, Versioned, tenant_fk


class Opportunity(Tenant, Timestamps, Versioned, Base):
    __tablename__ = "opportunities"
    __extra_table_args__ = (
        UniqueConstraint("org_id", "number"),
        tenant_fk(["type_id"], "lifecycle_types"),
        tenant_fk(["status_id"], "lifecycle_statuses"),
        tenant_fk(["account_id"], "accounts"),
        tenant_fk(["contact_id"], "contacts"),
        tenant_fk(["lead_id"], "leads"),
        tenant_fk(["lost_reason_id"], "lost_reasons"),
        tenant_fk(["business_unit_id"], "business_units"),
        tenant_fk(["assigned_member_id"], "members"),
        tenant_fk(["owner_member_id"], "members"),
        Index("ix_opportunities_account", "org_id", "account_id"),
        # The owner's and the assignee's paths of the scope.
        Index("ix_opportunities_owner", "org_id", "owner_member_id"),
        Index("ix_opportunities_assignee", "org_id", "assigned_member_id"),
        Index("ix_opportunities_lead", "org_id", "lead_id"),
        # A board column, a pipeline stage: one status's cards in the order they came.
        Index("ix_opportunities_status_created", "org_id", "status_id", "created_at", "id"),
        Index("ix_opportunities_created", "org_id", "created_at", "id"),
        Index("ix_opportunities_updated", "org_id", "updated_at", "id"),
        Index("ix_opportunities_tags", "tags", postgresql_using="gin"),
        Index(
            "ix_opportunities_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    number: Mapped[int]
    type_id: Mapped[UUID]
    status_id: Mapped[UUID]  # the stage
    state: Mapped[str]
    stage_entered_at: Mapped[datetime]
    account_id: Mapped[UUID]
    contact_id: Mapped[UUID | None]
    lead_id: Mapped[UUID | None]  # the originating lead
    name: Mapped[str]
    description: Mapped[str | None]
    source: Mapped[str | None]  # a lead source code
    partner: Mapped[str | None]
    amount_amount: Mapped[Decimal | None] = mapped_column(Numeric(19, 4))
    amount_currency: Mapped[str | None] = mapped_column(CHAR(3))
    budget_amount: Mapped[Decimal | None] = mapped_column(Numeric(19, 4))
    budget_currency: Mapped[str | None] = mapped_column(CHAR(3))
    cost_conscious: Mapped[bool] = mapped_column(default=False)
    expected_close_date: Mapped[date | None]
    alternative_close_date: Mapped[date | None]
    closed_at: Mapped[datetime | None]
    interest_level: Mapped[str | None]
    probability: Mapped[int | None]  # percent
    objection: Mapped[str | None]
    lost_reason_id: Mapped[UUID | None]
    won_reason: Mapped[str | None]
    decision_maker: Mapped[str | None]
    next_step: Mapped[str | None]
    # The activities issue keeps it; null until then.
    last_activity_at: Mapped[datetime | None]
    owner_member_id: Mapped[UUID | None]
    assigned_member_id: Mapped[UUID | None]
    business_unit_id: Mapped[UUID | None]
    tags: Mapped[list[str]] = mapped_column(default=list)
    search_text: Mapped[str] = mapped_column(default="", deferred=True, deferred_raiseload=True)
    deleted_at: Mapped[datetime | None]
