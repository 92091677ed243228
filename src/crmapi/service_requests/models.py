"""Service requests: a customer's question or problem, worked from pending through a response and
a temporary and/or final resolution to completion, with the contact accepting answers whose
category asks for it."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from crmapi.kit.base import Base, Tenant, Timestamps, Versioned, tenant_fk, utcnow


class ServiceRequest(Tenant, Timestamps, Versioned, Base):
    __tablename__ = "service_requests"
    __extra_table_args__ = (
        UniqueConstraint("org_id", "number"),
        tenant_fk(["type_id"], "lifecycle_types"),
        tenant_fk(["status_id"], "lifecycle_statuses"),
        tenant_fk(["category_id"], "categories"),
        tenant_fk(["response_category_id"], "categories"),
        tenant_fk(["temporary_resolution_category_id"], "categories"),
        tenant_fk(["final_resolution_category_id"], "categories"),
        tenant_fk(["cancellation_reason_id"], "cancellation_reasons"),
        tenant_fk(["contact_id"], "contacts"),
        tenant_fk(["account_id"], "accounts"),
        tenant_fk(["business_unit_id"], "business_units"),
        tenant_fk(["assigned_member_id"], "members"),
        tenant_fk(["owner_member_id"], "members"),
        tenant_fk(["submitted_by_member_id"], "members"),
        Index("ix_service_requests_owner", "org_id", "owner_member_id"),
        Index("ix_service_requests_assignee", "org_id", "assigned_member_id"),
        Index("ix_service_requests_unit", "org_id", "business_unit_id"),
        Index("ix_service_requests_contact", "org_id", "contact_id"),
        Index("ix_service_requests_account", "org_id", "account_id"),
        Index("ix_service_requests_status_created", "org_id", "status_id", "created_at", "id"),
        Index("ix_service_requests_created", "org_id", "created_at", "id"),
        Index("ix_service_requests_updated", "org_id", "updated_at", "id"),
        Index(
            "ix_service_requests_expected_open",
            "org_id",
            "expected_completion_at",
            postgresql_where=text("completed_at IS NULL AND deleted_at IS NULL"),
        ),
        Index(
            "ix_service_requests_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    number: Mapped[int]
    type_id: Mapped[UUID]
    status_id: Mapped[UUID]
    state: Mapped[str]
    category_id: Mapped[UUID | None]
    cancellation_reason_id: Mapped[UUID | None]
    subject: Mapped[str]
    description: Mapped[str | None]
    # 1 (highest) to 5 each; the priority (1-10) follows from them through the matrix.
    urgency: Mapped[int]
    impact: Mapped[int]
    priority: Mapped[int]
    contact_id: Mapped[UUID | None]
    account_id: Mapped[UUID]
    business_unit_id: Mapped[UUID | None]
    assigned_member_id: Mapped[UUID | None]
    owner_member_id: Mapped[UUID | None]
    # The customer member who submitted it on its own account (it owns nothing: staff work it).
    submitted_by_member_id: Mapped[UUID | None]
    accepted_at: Mapped[datetime | None]  # when a member took it (work.accept)
    start_at: Mapped[datetime]
    expected_completion_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    # Each answer: its category, its text, when it was given and when the contact accepted it.
    response_category_id: Mapped[UUID | None]
    response: Mapped[str | None]
    responded_at: Mapped[datetime | None]
    response_accepted_at: Mapped[datetime | None]
    temporary_resolution_category_id: Mapped[UUID | None]
    temporary_resolution: Mapped[str | None]
    temporarily_resolved_at: Mapped[datetime | None]
    temporary_resolution_accepted_at: Mapped[datetime | None]
    final_resolution_category_id: Mapped[UUID | None]
    final_resolution: Mapped[str | None]
    finally_resolved_at: Mapped[datetime | None]
    final_resolution_accepted_at: Mapped[datetime | None]
    # The state whose answer waits for the contact: the request moves on once it is accepted.
    awaiting_acceptance_of: Mapped[str | None]
    search_text: Mapped[str] = mapped_column(default="", deferred=True, deferred_raiseload=True)
    deleted_at: Mapped[datetime | None]


class RelatedServiceRequest(Tenant, Base):
    """Two requests about the same matter; kept in both directions so either finds the other."""

    __tablename__ = "related_service_requests"
    __extra_table_args__ = (
        tenant_fk(["service_request_id"], "service_requests", ondelete="CASCADE"),
        tenant_fk(["related_id"], "service_requests", ondelete="CASCADE"),
        UniqueConstraint("org_id", "service_request_id", "related_id"),
    )

    service_request_id: Mapped[UUID]
    related_id: Mapped[UUID]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
