from __future__ import annotations

from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crmapi.kit.base import Base, Tenant, Timestamps, Versioned


class CustomFieldDefinition(Tenant, Timestamps, Versioned, Base):
    """One custom field of contacts or accounts; values live in the record's `custom` JSON."""

    __tablename__ = "custom_field_definitions"
    __extra_table_args__ = (UniqueConstraint("org_id", "kind", "key"),)

    kind: Mapped[str]  # contact | account
    key: Mapped[str]
    label: Mapped[str]
    type: Mapped[str]  # text | number | date | bool | select
    options: Mapped[list[str]] = mapped_column(default=list)
    required: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
