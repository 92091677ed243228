"""Users and organisations are global; a person's place in an organisation is a member."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import CHAR, ForeignKey, Index, Integer, LargeBinary, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from crmapi.kit.base import Base, Tenant, Timestamps, Versioned, tenant_fk, utcnow
from crmapi.kit.ids import new_id


class User(Timestamps, Base):
    """Global: an email and its credentials, nothing about any organisation."""

    __tablename__ = "users"
    __table_args__ = (Index("uq_users_email", text("lower(email)"), unique=True),)

    id: Mapped[UUID] = mapped_column(primary_key=True, default=new_id)
    email: Mapped[str]
    password_hash: Mapped[str]
    # The organisation whose administrator chose the password (null once the user chose it):
    # it opens only that organisation.
    password_org_id: Mapped[UUID | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))


class Organisation(Timestamps, Versioned, Base):
    __tablename__ = "organisations"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str]
    default_currency: Mapped[str] = mapped_column(CHAR(3), default="EUR")
    time_zone: Mapped[str] = mapped_column(default="UTC")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Bumped in the transaction of every grant change; capability caches key on it.
    policy_version: Mapped[int] = mapped_column(Integer, default=1)


class ApiKey(Base):
    """Global so a key can be resolved before its organisation is known; verified by HMAC."""

    __tablename__ = "api_keys"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str]
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary)
    capabilities: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class LinkToken(Base):
    """A single-purpose token (e.g. a feedback link) that needs no other credential."""

    __tablename__ = "link_tokens"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str]
    subject: Mapped[UUID]
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Member(Tenant, Timestamps, Versioned, Base):
    __tablename__ = "members"
    __extra_table_args__ = (UniqueConstraint("org_id", "user_id"),)

    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str]  # staff | customer
    status: Mapped[str] = mapped_column(default="active")  # active | suspended
    display_name: Mapped[str | None]
    time_zone: Mapped[str] = mapped_column(default="UTC")


class AuthSession(Tenant, Base):
    """A signed-in session: access tokens name it (sid), the refresh token renews it."""

    __tablename__ = "auth_sessions"
    __extra_table_args__ = (tenant_fk(["member_id"], "members", ondelete="CASCADE"),)

    member_id: Mapped[UUID]
    refresh_hash: Mapped[bytes] = mapped_column(LargeBinary)
    # The refresh token this one replaced: seen again, it was copied, and the session ends.
    previous_refresh_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    # When `previous_refresh_hash` was replaced: within the grace interval after it, the previous
    # token answers the same new pair (two tabs refreshing at once), later it ends the session.
    rotated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
