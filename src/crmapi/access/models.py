"""Who holds what: groups and their grants, business units, sales-rep records.

Every change to these rows bumps `organisations.policy_version` in its transaction, so every
process rebuilds the organisation's cached policy on its next request.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from crmapi.kit.base import Base, Tenant, Timestamps, Versioned, tenant_fk


class Group(Tenant, Timestamps, Versioned, Base):
    __tablename__ = "groups"
    __extra_table_args__ = (Index("uq_groups_name", "org_id", text("lower(name)"), unique=True),)

    name: Mapped[str]
    description: Mapped[str | None]


class GroupMember(Tenant, Base):
    __tablename__ = "group_members"
    __extra_table_args__ = (
        tenant_fk(["group_id"], "groups", ondelete="CASCADE"),
        tenant_fk(["member_id"], "members", ondelete="CASCADE"),
        UniqueConstraint("org_id", "group_id", "member_id"),
        Index("ix_group_members_member", "org_id", "member_id"),
    )

    group_id: Mapped[UUID]
    member_id: Mapped[UUID]


class GroupGrant(Tenant, Base):
    __tablename__ = "group_grants"
    __extra_table_args__ = (
        tenant_fk(["group_id"], "groups", ondelete="CASCADE"),
        UniqueConstraint("org_id", "group_id", "capability"),
    )

    group_id: Mapped[UUID]
    capability: Mapped[str]


class BusinessUnit(Tenant, Timestamps, Versioned, Base):
    """A node of the organisation's unit tree (a department, a branch, a region)."""

    __tablename__ = "business_units"
    __extra_table_args__ = (
        tenant_fk(["parent_id"], "business_units"),
        Index("uq_business_units_name", "org_id", text("lower(name)"), unique=True),
        Index("ix_business_units_parent", "org_id", "parent_id"),
    )

    name: Mapped[str]
    parent_id: Mapped[UUID | None]


class MemberUnit(Tenant, Base):
    __tablename__ = "member_business_units"
    __extra_table_args__ = (
        tenant_fk(["member_id"], "members", ondelete="CASCADE"),
        tenant_fk(["business_unit_id"], "business_units", ondelete="CASCADE"),
        UniqueConstraint("org_id", "member_id", "business_unit_id"),
        Index("ix_member_business_units_unit", "org_id", "business_unit_id"),
    )

    member_id: Mapped[UUID]
    business_unit_id: Mapped[UUID]


class SalesRep(Tenant, Timestamps, Versioned, Base):
    """A sales representative as the ERP knows it: accounts name it by its code."""

    __tablename__ = "sales_reps"
    __extra_table_args__ = (UniqueConstraint("org_id", "code"),)

    code: Mapped[str]
    name: Mapped[str]
    email: Mapped[str | None]
    active: Mapped[bool] = mapped_column(default=True)


class SalesRepMember(Tenant, Base):
    """A staff member who works as (sees the accounts of) a sales-rep record."""

    __tablename__ = "sales_rep_members"
    __extra_table_args__ = (
        tenant_fk(["sales_rep_id"], "sales_reps", ondelete="CASCADE"),
        tenant_fk(["member_id"], "members", ondelete="CASCADE"),
        UniqueConstraint("org_id", "sales_rep_id", "member_id"),
        Index("ix_sales_rep_members_member", "org_id", "member_id"),
    )

    sales_rep_id: Mapped[UUID]
    member_id: Mapped[UUID]
