"""Issues, forms and enquiries filed against customer accounts: each of an issue type, answering
the version of the type's form it was filed with, worked through the `issue` life cycle, with its
followers, comments and the time logged on it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ForeignKeyConstraint, Index, PrimaryKeyConstraint, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crmapi.kit.base import Base, Tenant, Timestamps, Versioned, tenant_fk, utcnow


def _on_issue() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["org_id", "issue_id"], ["issues.org_id", "issues.id"], ondelete="CASCADE")


class IssueForm(Tenant, Base):
    """One version of an issue type's form, never changed once written: an issue answers the
    version it was filed with, so editing the type never breaks an older issue."""

    __tablename__ = "issue_forms"
    __extra_table_args__ = (
        tenant_fk(["type_id"], "lifecycle_types", ondelete="CASCADE"),
        UniqueConstraint("org_id", "type_id", "version"),
    )

    type_id: Mapped[UUID]
    version: Mapped[int]
    # The ordered fields (issues.forms.FormField, as JSON), select options copied in with their
    # labels as they were when the version was written.
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_member_id: Mapped[UUID | None]


class Issue(Tenant, Timestamps, Versioned, Base):
    __tablename__ = "issues"
    __extra_table_args__ = (
        UniqueConstraint("org_id", "number"),
        tenant_fk(["type_id"], "lifecycle_types"),
        tenant_fk(["status_id"], "lifecycle_statuses"),
        tenant_fk(["account_id"], "accounts"),
        tenant_fk(["contact_id"], "contacts"),
        tenant_fk(["business_unit_id"], "business_units"),
        tenant_fk(["assigned_member_id"], "members"),
        tenant_fk(["owner_member_id"], "members"),
        tenant_fk(["cancellation_reason_id"], "cancellation_reasons"),
        Index("ix_issues_account", "org_id", "account_id", "created_at", "id"),
        Index("ix_issues_type", "org_id", "type_id", "created_at", "id"),
        Index("ix_issues_status", "org_id", "status_id", "created_at", "id"),
        Index("ix_issues_created", "org_id", "created_at", "id"),
        Index("ix_issues_updated", "org_id", "updated_at", "id"),
        Index("ix_issues_owner", "org_id", "owner_member_id"),
        Index("ix_issues_assignee", "org_id", "assigned_member_id"),
        Index("ix_issues_unit", "org_id", "business_unit_id"),
        # Answers filtered by containment (`answers @> {"key": value}`): select, number and date.
        Index(
            "ix_issues_answers",
            "answers",
            postgresql_using="gin",
            postgresql_ops={"answers": "jsonb_path_ops"},
        ),
        Index(
            "ix_issues_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    number: Mapped[int]  # its code is ISS-<number>, sequential in the organisation
    type_id: Mapped[UUID]
    form_version: Mapped[int]
    status_id: Mapped[UUID]
    state: Mapped[str]
    cancellation_reason_id: Mapped[UUID | None]
    account_id: Mapped[UUID]
    contact_id: Mapped[UUID | None]
    subject: Mapped[str]
    description: Mapped[str | None]
    priority: Mapped[int]  # 1 (highest) to 10
    answers: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    business_unit_id: Mapped[UUID | None]
    assigned_member_id: Mapped[UUID | None]
    owner_member_id: Mapped[UUID | None]  # who filed it: a staff member or a customer
    filed_by_customer: Mapped[bool] = mapped_column(default=False)
    logged_minutes: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    start_at: Mapped[datetime]
    expected_completion_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    search_text: Mapped[str] = mapped_column(default="", deferred=True, deferred_raiseload=True)
    deleted_at: Mapped[datetime | None]


class IssueFollower(Base):
    """A member told of an issue's comments, changes and logged work."""

    __tablename__ = "issue_followers"
    __table_args__ = (
        PrimaryKeyConstraint("org_id", "issue_id", "member_id"),
        _on_issue(),
        ForeignKeyConstraint(["org_id", "member_id"], ["members.org_id", "members.id"], ondelete="CASCADE"),
        Index("ix_issue_followers_member", "org_id", "member_id", "issue_id"),
    )

    org_id: Mapped[UUID]
    issue_id: Mapped[UUID]
    member_id: Mapped[UUID]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IssueComment(Tenant, Base):
    __tablename__ = "issue_comments"
    __extra_table_args__ = (
        _on_issue(),
        tenant_fk(["author_member_id"], "members"),
        Index("ix_issue_comments_issue", "org_id", "issue_id", "created_at", "id"),
    )

    issue_id: Mapped[UUID]
    author_member_id: Mapped[UUID]
    body: Mapped[str]
    internal: Mapped[bool] = mapped_column(default=False)  # staff only: customers never see it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkLog(Tenant, Base):
    """Time a member spent on an issue; the issue keeps the total (`logged_minutes`)."""

    __tablename__ = "issue_work_logs"
    __extra_table_args__ = (
        _on_issue(),
        tenant_fk(["member_id"], "members"),
        Index("ix_issue_work_logs_issue", "org_id", "issue_id", "worked_at", "id"),
    )

    issue_id: Mapped[UUID]
    member_id: Mapped[UUID]
    minutes: Mapped[int]
    worked_at: Mapped[datetime]
    note: Mapped[str | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
