"""Customer accounts (debtors) and who is linked to them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import CHAR, BigInteger, Computed, Index, Numeric, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from crmapi.kit.base import Base, Tenant, Timestamps, Versioned, tenant_fk


class Account(Tenant, Timestamps, Versioned, Base):
    __tablename__ = "accounts"
    __extra_table_args__ = (
        tenant_fk(["owner_member_id"], "members"),
        tenant_fk(["primary_contact_id"], "contacts"),
        tenant_fk(["business_unit_id"], "business_units"),
        UniqueConstraint("org_id", "number"),
        # Codes stay reserved while an account is deleted: the index ignores deleted_at.
        Index("uq_accounts_code", "org_id", "code", unique=True, postgresql_where=text("code IS NOT NULL")),
        Index(
            "uq_accounts_retail_default", "org_id", unique=True, postgresql_where=text("is_retail_default")
        ),
        Index("ix_accounts_owner", "org_id", "owner_member_id"),
        Index("ix_accounts_unit", "org_id", "business_unit_id"),
        Index("ix_accounts_primary_contact", "org_id", "primary_contact_id"),
        Index("ix_accounts_created", "org_id", "created_at", "id"),
        Index("ix_accounts_updated", "org_id", "updated_at", "id"),
        Index("ix_accounts_name", "org_id", "name", "id"),
        Index("ix_accounts_number", "org_id", "number", "id"),
        Index("ix_accounts_status", "org_id", "status"),
        Index("ix_accounts_classification", "org_id", "classification"),
        # A scoped list's page, and the scope's "is it live" check, without reading the rows.
        Index(
            "ix_accounts_live",
            "org_id",
            "id",
            postgresql_include=["created_at", "updated_at", "name", "number"],
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_accounts_tags", "tags", postgresql_using="gin"),
        Index(
            "ix_accounts_custom",
            "custom",
            postgresql_using="gin",
            postgresql_ops={"custom": "jsonb_path_ops"},
        ),
        Index(
            "ix_accounts_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        Index("ix_accounts_search_vector", "search_vector", postgresql_using="gin"),
    )

    # CRM-assigned from the organisation's counter.
    number: Mapped[int] = mapped_column(BigInteger)
    # The ERP's debtor number, when the account came from (or goes to) one.
    code: Mapped[str | None]
    name: Mapped[str]
    primary_contact_id: Mapped[UUID | None]
    classification: Mapped[str | None]
    credit_rating: Mapped[str | None]
    credit_limit_amount: Mapped[Decimal | None] = mapped_column(Numeric(19, 4))
    credit_limit_currency: Mapped[str | None] = mapped_column(CHAR(3))
    payment_terms: Mapped[str | None]
    payment_methods: Mapped[list[str]] = mapped_column(default=list)
    price_level: Mapped[str | None]
    status: Mapped[str] = mapped_column(default="active")  # active | on_hold | closed
    is_retail_default: Mapped[bool] = mapped_column(default=False)
    owner_member_id: Mapped[UUID | None]
    business_unit_id: Mapped[UUID | None]
    tags: Mapped[list[str]] = mapped_column(default=list)
    custom: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Only SQL reads these two (search and ranking), so loading a record leaves them out;
    # reading them in Python raises instead of querying.
    search_text: Mapped[str] = mapped_column(default="", deferred=True, deferred_raiseload=True)
    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR,
        Computed("to_tsvector('simple', search_text)", persisted=True),
        deferred=True,
        deferred_raiseload=True,
    )
    deleted_at: Mapped[datetime | None]


class AccountContact(Tenant, Base):
    """A contact linked to an account (the primary contact is one of them)."""

    __tablename__ = "account_contacts"
    __extra_table_args__ = (
        tenant_fk(["account_id"], "accounts", ondelete="CASCADE"),
        tenant_fk(["contact_id"], "contacts", ondelete="CASCADE"),
        UniqueConstraint("org_id", "account_id", "contact_id"),
        Index("ix_account_contacts_contact", "org_id", "contact_id"),
    )

    account_id: Mapped[UUID]
    contact_id: Mapped[UUID]
    role: Mapped[str | None]


class AccountAssignment(Tenant, Base):
    """A member (staff or customer) personally assigned to an account: they see it."""

    __tablename__ = "account_assignments"
    __extra_table_args__ = (
        tenant_fk(["account_id"], "accounts", ondelete="CASCADE"),
        tenant_fk(["member_id"], "members", ondelete="CASCADE"),
        UniqueConstraint("org_id", "account_id", "member_id"),
        Index("ix_account_assignments_member", "org_id", "member_id"),
    )

    account_id: Mapped[UUID]
    member_id: Mapped[UUID]


class AccountSalesRep(Tenant, Base):
    """An ERP sales-rep code on an account; the members linked to an active sales-rep record with
    that code see the account."""

    __tablename__ = "account_sales_reps"
    __extra_table_args__ = (
        tenant_fk(["account_id"], "accounts", ondelete="CASCADE"),
        UniqueConstraint("org_id", "account_id", "sales_rep_code"),
        # Covering: a rep's scope reads its accounts' ids from the index alone.
        Index("ix_account_sales_reps_code", "org_id", "sales_rep_code", postgresql_include=["account_id"]),
    )

    account_id: Mapped[UUID]
    sales_rep_code: Mapped[str]


class Counter(Tenant, Base):
    """Per-organisation number series (account numbers, later lead and opportunity numbers)."""

    __tablename__ = "counters"
    __extra_table_args__ = (UniqueConstraint("org_id", "name"),)

    name: Mapped[str]
    value: Mapped[int] = mapped_column(BigInteger, default=0)
