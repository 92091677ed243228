"""Declarative base and the columns every tenant table shares."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import DateTime, ForeignKeyConstraint, Integer, MetaData, PrimaryKeyConstraint, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from crmapi.kit.ids import new_id

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSONB,
        list[dict[str, Any]]: JSONB,
        list[str]: ARRAY(Text),
        str: Text,
    }


class Tenant:
    """A row of one organisation: primary key (org_id, id), forced row-level security."""

    org_id: Mapped[UUID] = mapped_column(nullable=False)
    id: Mapped[UUID] = mapped_column(default=new_id)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (
            PrimaryKeyConstraint("org_id", "id"),
            ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),
            *getattr(cls, "__extra_table_args__", ()),
        )


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Versioned:
    """Optimistic concurrency: the ETag is the version; a stale write fails."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.version}


def tenant_fk(columns: list[str], target: str, **kw: Any) -> ForeignKeyConstraint:
    """A composite (org_id, x_id) foreign key: FK checks bypass RLS, so the org must be part of it."""
    table = target
    return ForeignKeyConstraint(["org_id", *columns], [f"{table}.org_id", f"{table}.id"], **kw)


CODE = String(64)
