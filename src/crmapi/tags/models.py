from __future__ import annotations

from sqlalchemy import Index, text
from sqlalchemy.orm import Mapped

from crmapi.kit.base import Base, Tenant, Timestamps, Versioned


class Tag(Tenant, Timestamps, Versioned, Base):
    """The organisation's tag catalogue; records carry the tag names they are labelled with."""

    __tablename__ = "tags"
    __extra_table_args__ = (Index("uq_tags_name", "org_id", text("lower(name)"), unique=True),)

    name: Mapped[str]
    colour: Mapped[str | None]
