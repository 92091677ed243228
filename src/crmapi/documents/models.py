"""An account's trading record as its ERP keeps it: invoices, credit notes, back orders and
payments (one table, by `kind`), their lines, what payments and credits settle, and each
account's balance kept for the list filters."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from sqlalchemy import (
    CHAR,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    Numeric,
    PrimaryKeyConstraint,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from crmapi.kit.base import Base, Tenant, Timestamps, Versioned, tenant_fk

MONEY = Numeric(19, 4)
QUANTITY = Numeric(19, 4)


class Document(Tenant, Timestamps, Versioned, Base):
    """One ERP document of an account, keyed by its number within its kind. Totals are the ERP's,
    checked against the lines when pushed; `outstanding` is what the ERP says is still owed on an
    invoice (or unspent of a credit note or payment)."""

    __tablename__ = "documents"
    __extra_table_args__ = (
        UniqueConstraint("org_id", "kind", "number"),
        tenant_fk(["account_id"], "accounts"),
        tenant_fk(["sales_order_id"], "sales_orders"),
        # An account's documents of a kind, newest first (the lists' default order).
        Index("ix_documents_account", "org_id", "account_id", "kind", "issued_on", "id"),
        # Open invoices by due date: the balance's buckets and the overdue filter's recompute.
        Index(
            "ix_documents_open",
            "org_id",
            "account_id",
            "due_on",
            postgresql_where="kind = 'invoice' AND outstanding > 0",
        ),
        Index(
            "ix_documents_sales_order",
            "org_id",
            "sales_order_id",
            postgresql_where="sales_order_id IS NOT NULL",
        ),
    )

    kind: Mapped[str]  # invoice, credit, back_order, payment
    number: Mapped[str]
    account_id: Mapped[UUID]
    status: Mapped[str]
    issued_on: Mapped[date]
    due_on: Mapped[date | None]
    currency: Mapped[str] = mapped_column(CHAR(3))
    net: Mapped[Decimal | None] = mapped_column(MONEY)
    tax: Mapped[Decimal | None] = mapped_column(MONEY)
    gross: Mapped[Decimal] = mapped_column(MONEY)
    outstanding: Mapped[Decimal] = mapped_column(MONEY)
    method: Mapped[str | None]  # a payment's
    reference: Mapped[str | None]  # the customer's order reference, a payment's bank reference
    sales_order_number: Mapped[str | None]  # the ERP's number of the order it came from
    sales_order_id: Mapped[UUID | None]
    line_count: Mapped[int]
    # What the record pushed hashes to (sha-256 of its canonical JSON): equal means unchanged.
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary)
    # sha-256 of the record exactly as last written from (its JSON as received): a replay equal
    # to it byte for byte is answered unchanged without being validated again.
    raw_digest: Mapped[bytes | None] = mapped_column(LargeBinary)


class DocumentLine(Base):
    __tablename__ = "document_lines"
    __table_args__ = (
        PrimaryKeyConstraint("org_id", "document_id", "position"),
        ForeignKeyConstraint(
            ["org_id", "document_id"], ["documents.org_id", "documents.id"], ondelete="CASCADE"
        ),
    )

    org_id: Mapped[UUID]
    document_id: Mapped[UUID]
    position: Mapped[int]
    product_code: Mapped[str | None]
    description: Mapped[str | None]
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    quantity_outstanding: Mapped[Decimal | None] = mapped_column(QUANTITY)  # a back order's
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    net: Mapped[Decimal] = mapped_column(MONEY)
    tax: Mapped[Decimal] = mapped_column(MONEY)


class Allocation(Base):
    """What a payment or credit note settles of an invoice."""

    __tablename__ = "document_allocations"
    __table_args__ = (
        PrimaryKeyConstraint("org_id", "document_id", "invoice_id"),
        ForeignKeyConstraint(
            ["org_id", "document_id"], ["documents.org_id", "documents.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["org_id", "invoice_id"], ["documents.org_id", "documents.id"]),
        Index("ix_document_allocations_invoice", "org_id", "invoice_id"),
    )

    org_id: Mapped[UUID]
    document_id: Mapped[UUID]
    invoice_id: Mapped[UUID]
    amount: Mapped[Decimal] = mapped_column(MONEY)


class AccountBalance(Base):
    """An account's open invoices summed per currency, rewritten by every push that touches the
    account: the `outstanding_gt` and `overdue_days_gt` account filters read it by index."""

    __tablename__ = "account_balances"
    __table_args__ = (
        PrimaryKeyConstraint("org_id", "account_id", "currency"),
        ForeignKeyConstraint(
            ["org_id", "account_id"], ["accounts.org_id", "accounts.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),
        Index("ix_account_balances_outstanding", "org_id", "outstanding"),
        Index("ix_account_balances_oldest_due", "org_id", "oldest_due_on"),
    )

    org_id: Mapped[UUID]
    account_id: Mapped[UUID]
    currency: Mapped[str] = mapped_column(CHAR(3))
    outstanding: Mapped[Decimal] = mapped_column(MONEY)
    # The due date of the oldest invoice with something outstanding (null: none).
    oldest_due_on: Mapped[date | None]
    updated_at: Mapped[datetime]


class ErpConnector(Base):
    """Where an organisation's ERP answers live document lookups (one per organisation). The
    header value is a credential: written, never read back."""

    __tablename__ = "erp_connectors"
    __table_args__ = (
        PrimaryKeyConstraint("org_id"),
        ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),
    )

    org_id: Mapped[UUID]
    base_url: Mapped[str]
    header_name: Mapped[str | None]
    header_value: Mapped[str | None]
    timeout_seconds: Mapped[float]
    cache_seconds: Mapped[int]
    updated_at: Mapped[datetime]
