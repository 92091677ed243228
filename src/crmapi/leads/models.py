"""Leads: prospects a member or a business unit works on until they are won, lost or cancelled."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import Index, UniqueConstraint, Uuid, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from crmapi.kit.base import Base, Tenant, Timestamps, Versioned, tenant_fk


class Lead(Tenant, Timestamps, Versioned, Base):
    __tablename__ = "leads"
    __extra_table_args__ = (
        UniqueConstraint("org_id", "number"),
        tenant_fk(["type_id"], "lifecycle_types"),
        tenant_fk(["status_id"], "lifecycle_statuses"),
        tenant_fk(["category_id"], "categories"),
        tenant_fk(["importance_id"], "importance_levels"),
        tenant_fk(["lost_reason_id"], "lost_reasons"),
        tenant_fk(["cancellation_reason_id"], "cancellation_reasons"),
        tenant_fk(["contact_id"], "contacts"),
        tenant_fk(["account_id"], "accounts"),
        tenant_fk(["business_unit_id"], "business_units"),
        tenant_fk(["assigned_member_id"], "members"),
        tenant_fk(["owner_member_id"], "members"),
        # The scope's three paths (owner, assignee, unit) and the list's sort keys.
        Index("ix_leads_owner", "org_id", "owner_member_id"),
        Index("ix_leads_assignee", "org_id", "assigned_member_id"),
        Index("ix_leads_unit", "org_id", "business_unit_id"),
        # A board column: one status's cards in the order they came.
        Index("ix_leads_status_created", "org_id", "status_id", "created_at", "id"),
        Index("ix_leads_tags", "tags", postgresql_using="gin"),
        Index("ix_leads_created", "org_id", "created_at", "id"),
        Index("ix_leads_updated", "org_id", "updated_at", "id"),
        Index("ix_leads_contact", "org_id", "contact_id"),
        Index("ix_leads_account", "org_id", "account_id"),
        # Open leads past their expected completion: the `overdue` filter.
        Index(
            "ix_leads_expected_open",
            "org_id",
            "expected_completion_at",
            postgresql_where=text("completed_at IS NULL AND deleted_at IS NULL"),
        ),
        # Open records' reminders not yet announced, across organisations: `crmapi_reminders_due`.
        Index(
            "ix_leads_reminders_unannounced",
            "reminder_at",
            postgresql_where=text(
                "reminder_at IS NOT NULL AND reminder_notified_at IS NULL AND reminder_closed_at IS NULL "
                "AND deleted_at IS NULL AND state IN ('pending', 'in_progress')"
            ),
        ),
        Index(
            "ix_leads_reminders",
            "org_id",
            "reminder_at",
            postgresql_where=text(
                "reminder_at IS NOT NULL AND reminder_closed_at IS NULL AND deleted_at IS NULL"
            ),
        ),
        Index(
            "ix_leads_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    number: Mapped[int]
    type_id: Mapped[UUID]
    status_id: Mapped[UUID]
    state: Mapped[str]  # the status's state, kept with the record for filters and read-only checks
    category_id: Mapped[UUID | None]
    source: Mapped[str | None]  # a lead source code
    priority: Mapped[int | None]  # 1 (highest) to 10
    importance_id: Mapped[UUID | None]
    description: Mapped[str]
    first_name: Mapped[str | None]
    last_name: Mapped[str | None]
    company: Mapped[str | None]
    title: Mapped[str | None]
    phone: Mapped[str | None]
    email: Mapped[str | None]
    website: Mapped[str | None]
    time_zone: Mapped[str | None]
    notes: Mapped[str | None]
    objection: Mapped[str | None]
    call_tries: Mapped[int] = mapped_column(default=0)
    call_date: Mapped[date | None]
    call_code: Mapped[str | None]  # a value of the CALL_CODE lookup list
    call_status: Mapped[str | None]  # a value of the CALL_STATUS lookup list
    reminder_at: Mapped[datetime | None]
    reminder_closed_at: Mapped[datetime | None]
    reminder_notified_at: Mapped[datetime | None]  # the worker announced it falling due
    product_refs: Mapped[list[str]] = mapped_column(default=list)
    competitor_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid), default=list)
    tags: Mapped[list[str]] = mapped_column(default=list)
    contact_id: Mapped[UUID | None]
    account_id: Mapped[UUID | None]
    business_unit_id: Mapped[UUID | None]
    assigned_member_id: Mapped[UUID | None]
    owner_member_id: Mapped[UUID | None]
    accepted_at: Mapped[datetime | None]
    lost_reason_id: Mapped[UUID | None]
    cancellation_reason_id: Mapped[UUID | None]
    # Key dates: work starts, should end (start + the type's "to be completed within"), ended.
    start_at: Mapped[datetime]
    expected_completion_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    search_text: Mapped[str] = mapped_column(default="", deferred=True, deferred_raiseload=True)
    deleted_at: Mapped[datetime | None]
