"""Files uploaded by members and attached to a message, a feed post or a comment."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Index
from sqlalchemy.orm import Mapped, mapped_column

from crmapi.kit.base import Base, Tenant, tenant_fk, utcnow


class Attachment(Tenant, Base):
    __tablename__ = "attachments"
    __extra_table_args__ = (
        tenant_fk(["uploaded_by_member_id"], "members", ondelete="CASCADE"),
        Index("ix_attachments_owner", "org_id", "owner_kind", "owner_id"),
    )

    uploaded_by_member_id: Mapped[UUID]
    filename: Mapped[str]
    content_type: Mapped[str]
    size: Mapped[int]
    sha256: Mapped[str]  # hex; the stored object's key within the organisation
    owner_kind: Mapped[str | None]  # message | feed_post | feed_comment | issue; None until attached
    owner_id: Mapped[UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
