"""Activities: tasks a member or a unit carries out (a call, a visit, a box replacement), on their
own or for a contact, account, lead, opportunity or service request; the services they provide."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from crmapi.kit.base import Base, Tenant, Timestamps, Versioned, tenant_fk


class Activity(Tenant, Timestamps, Versioned, Base):
    __tablename__ = "activities"
    __extra_table_args__ = (
        UniqueConstraint("org_id", "number"),
        tenant_fk(["type_id"], "lifecycle_types"),
        tenant_fk(["status_id"], "lifecycle_statuses"),
        tenant_fk(["category_id"], "categories"),
        tenant_fk(["cancellation_reason_id"], "cancellation_reasons"),
        tenant_fk(["contact_id"], "contacts"),
        tenant_fk(["account_id"], "accounts"),
        tenant_fk(["lead_id"], "leads"),
        tenant_fk(["opportunity_id"], "opportunities"),
        tenant_fk(["service_request_id"], "service_requests"),
        tenant_fk(["business_unit_id"], "business_units"),
        tenant_fk(["assigned_member_id"], "members"),
        tenant_fk(["owner_member_id"], "members"),
        Index("ix_activities_owner", "org_id", "owner_member_id"),
        Index("ix_activities_assignee", "org_id", "assigned_member_id"),
        Index("ix_activities_unit", "org_id", "business_unit_id"),
        Index("ix_activities_contact", "org_id", "contact_id"),
        Index("ix_activities_account", "org_id", "account_id"),
        Index("ix_activities_lead", "org_id", "lead_id"),
        Index("ix_activities_opportunity", "org_id", "opportunity_id"),
        Index("ix_activities_service_request", "org_id", "service_request_id"),
        Index("ix_activities_status_created", "org_id", "status_id", "created_at", "id"),
        Index("ix_activities_created", "org_id", "created_at", "id"),
        Index("ix_activities_updated", "org_id", "updated_at", "id"),
        # Reminders not yet closed, by when they fall due: `GET /v1/me/reminders`.
        # Open records' reminders not yet announced, across organisations: `crmapi_reminders_due`.
        Index(
            "ix_activities_reminders_unannounced",
            "reminder_at",
            postgresql_where=text(
                "reminder_at IS NOT NULL AND reminder_notified_at IS NULL AND reminder_closed_at IS NULL "
                "AND deleted_at IS NULL AND state IN ('pending', 'in_progress')"
            ),
        ),
        Index(
            "ix_activities_reminders",
            "org_id",
            "reminder_at",
            postgresql_where=text(
                "reminder_at IS NOT NULL AND reminder_closed_at IS NULL AND deleted_at IS NULL"
            ),
        ),
    )

    number: Mapped[int]
    type_id: Mapped[UUID]
    status_id: Mapped[UUID]
    state: Mapped[str]
    category_id: Mapped[UUID | None]
    cancellation_reason_id: Mapped[UUID | None]
    subject: Mapped[str]
    notes: Mapped[str | None]
    priority: Mapped[int | None]  # 1 (highest) to 10
    contact_id: Mapped[UUID | None]
    account_id: Mapped[UUID | None]
    lead_id: Mapped[UUID | None]
    opportunity_id: Mapped[UUID | None]
    service_request_id: Mapped[UUID | None]
    business_unit_id: Mapped[UUID | None]
    assigned_member_id: Mapped[UUID | None]
    owner_member_id: Mapped[UUID | None]
    accepted_at: Mapped[datetime | None]
    start_at: Mapped[datetime]
    expected_completion_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    reminder_at: Mapped[datetime | None]
    reminder_closed_at: Mapped[datetime | None]
    # When the worker announced the reminder falling due (once per reminder time).
    reminder_notified_at: Mapped[datetime | None]
    search_text: Mapped[str] = mapped_column(default="", deferred=True, deferred_raiseload=True)
    deleted_at: Mapped[datetime | None]


class ActivityService(Tenant, Timestamps, Base):
    """A service provided through an activity, with the time spent on it (at least the service's
    minimum); one line per service."""

    __tablename__ = "activity_services"
    __extra_table_args__ = (
        UniqueConstraint("org_id", "activity_id", "service_id"),
        tenant_fk(["activity_id"], "activities", ondelete="CASCADE"),
        tenant_fk(["service_id"], "services"),
    )

    activity_id: Mapped[UUID]
    service_id: Mapped[UUID]
    minutes: Mapped[int]
    automatic: Mapped[bool] = mapped_column(default=False)  # added from the type on creation
