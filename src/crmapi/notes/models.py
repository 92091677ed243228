from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Index
from sqlalchemy.orm import Mapped

from crmapi.kit.base import Base, Tenant, Timestamps, Versioned, tenant_fk


class Note(Tenant, Timestamps, Versioned, Base):
    """A note on a contact, an account or a lead; its author may edit and delete it."""

    __tablename__ = "notes"
    __extra_table_args__ = (
        tenant_fk(["author_member_id"], "members"),
        Index("ix_notes_subject", "org_id", "subject", "subject_id", "created_at", "id"),
    )

    subject: Mapped[str]  # contact | account | lead
    subject_id: Mapped[UUID]
    author_member_id: Mapped[UUID | None]
    body: Mapped[str]
    deleted_at: Mapped[datetime | None]
