from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from sqlalchemy import Index
from sqlalchemy.orm import Mapped

from crmapi.kit.base import Base, Tenant, Timestamps, Versioned, tenant_fk

# The records notes hang off.
NoteSubject = Literal["contact", "account", "lead"]


class Note(Tenant, Timestamps, Versioned, Base):
    """A note on a contact, an account or a lead; its author may edit and delete it."""

    __tablename__ = "notes"
    __extra_table_args__ = (
        tenant_fk(["author_member_id"], "members"),
        Index("ix_notes_subject", "org_id", "subject", "subject_id", "created_at", "id"),
    )

    subject: Mapped[str]  # a NoteSubject
    subject_id: Mapped[UUID]
    author_member_id: Mapped[UUID | None]
    body: Mapped[str]
    deleted_at: Mapped[datetime | None]
