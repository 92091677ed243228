"""Sales orders placed in the CRM by a rep, staff or the account's customer, sent to the ERP once
submitted, and acknowledged by it with its own number."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from sqlalchemy import CHAR, ForeignKeyConstraint, Index, Numeric, PrimaryKeyConstraint, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crmapi.kit.base import Base, Tenant, Timestamps, Versioned, tenant_fk

MONEY = Numeric(19, 4)


class SalesOrder(Tenant, Timestamps, Versioned, Base):
    __tablename__ = "sales_orders"
    __extra_table_args__ = (
        UniqueConstraint("org_id", "number"),
        tenant_fk(["account_id"], "accounts"),
        tenant_fk(["type_id"], "lifecycle_types"),
        tenant_fk(["status_id"], "lifecycle_statuses"),
        tenant_fk(["owner_member_id"], "members"),
        Index("ix_sales_orders_account", "org_id", "account_id", "created_at", "id"),
        Index("ix_sales_orders_created", "org_id", "created_at", "id"),
        Index("ix_sales_orders_owner", "org_id", "owner_member_id"),
        # An invoice pushed later names the order by the ERP's number.
        Index("ix_sales_orders_erp_number", "org_id", "erp_number", unique=True),
    )

    number: Mapped[int]
    account_id: Mapped[UUID]
    type_id: Mapped[UUID]
    status_id: Mapped[UUID]
    state: Mapped[str]
    currency: Mapped[str] = mapped_column(CHAR(3))
    net: Mapped[Decimal] = mapped_column(MONEY)
    tax: Mapped[Decimal] = mapped_column(MONEY)
    gross: Mapped[Decimal] = mapped_column(MONEY)
    reference: Mapped[str | None]  # the customer's purchase order number
    delivery_address: Mapped[str | None]
    instructions: Mapped[str | None]
    requested_on: Mapped[date | None]
    erp_number: Mapped[str | None]
    erp_status: Mapped[str | None]
    submitted_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]  # fulfilled or cancelled
    owner_member_id: Mapped[UUID | None]  # who placed it


class SalesOrderLine(Base):
    __tablename__ = "sales_order_lines"
    __table_args__ = (
        PrimaryKeyConstraint("org_id", "order_id", "position"),
        ForeignKeyConstraint(
            ["org_id", "order_id"], ["sales_orders.org_id", "sales_orders.id"], ondelete="CASCADE"
        ),
    )

    org_id: Mapped[UUID]
    order_id: Mapped[UUID]
    position: Mapped[int]
    product_code: Mapped[str]
    description: Mapped[str | None]
    quantity: Mapped[Decimal] = mapped_column(Numeric(19, 4))
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(7, 4))
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(7, 4))
    net: Mapped[Decimal] = mapped_column(MONEY)
    tax: Mapped[Decimal] = mapped_column(MONEY)
