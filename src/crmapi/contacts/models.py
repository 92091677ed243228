from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Computed, Index, text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from crmapi.kit.base import Base, Tenant, Timestamps, Versioned, tenant_fk


class Contact(Tenant, Timestamps, Versioned, Base):
    """A person or an organisation the company deals with."""

    __tablename__ = "contacts"
    __extra_table_args__ = (
        tenant_fk(["owner_member_id"], "members"),
        tenant_fk(["business_unit_id"], "business_units"),
        tenant_fk(["parent_payer_id"], "contacts"),
        Index("ix_contacts_owner", "org_id", "owner_member_id"),
        Index("ix_contacts_unit", "org_id", "business_unit_id"),
        Index("ix_contacts_parent_payer", "org_id", "parent_payer_id"),
        Index("ix_contacts_created", "org_id", "created_at", "id"),
        Index("ix_contacts_updated", "org_id", "updated_at", "id"),
        Index("ix_contacts_display_name", "org_id", "display_name", "id"),
        # A scoped list's page: every visible id's sort keys without reading the rows.
        Index(
            "ix_contacts_live",
            "org_id",
            "id",
            postgresql_include=["created_at", "updated_at", "display_name"],
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_contacts_tags", "tags", postgresql_using="gin"),
        Index(
            "ix_contacts_custom",
            "custom",
            postgresql_using="gin",
            postgresql_ops={"custom": "jsonb_path_ops"},
        ),
        Index(
            "ix_contacts_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        Index("ix_contacts_search_vector", "search_vector", postgresql_using="gin"),
    )

    kind: Mapped[str]  # person | organisation
    first_name: Mapped[str | None]
    last_name: Mapped[str | None]
    name: Mapped[str | None]
    # Derived from the names on every write: the sort key and what lists show.
    display_name: Mapped[str]
    job_title: Mapped[str | None]
    emails: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    phones: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    addresses: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    website: Mapped[str | None]
    web_domain: Mapped[str | None]
    tax_id: Mapped[str | None]
    time_zone: Mapped[str | None]
    tags: Mapped[list[str]] = mapped_column(default=list)
    custom: Mapped[dict[str, Any]] = mapped_column(default=dict)
    owner_member_id: Mapped[UUID | None]
    # Business units arrive with the access model; the column and its index are ready.
    business_unit_id: Mapped[UUID | None]
    lifecycle_state: Mapped[str] = mapped_column(default="prospect")  # prospect | financial
    parent_payer_id: Mapped[UUID | None]
    # Folded (lower case, no accents) names, emails, phones, addresses, tax id and domain, for `q`.
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
