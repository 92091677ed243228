"""Exclusive feeds of a sales team: its members (managers among them), announcements and posts,
and the comments under them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import ForeignKeyConstraint, Index, PrimaryKeyConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crmapi.kit.base import Base, Tenant, Timestamps, Versioned, tenant_fk, utcnow


class Feed(Tenant, Timestamps, Versioned, Base):
    __tablename__ = "feeds"
    __extra_table_args__ = (tenant_fk(["created_by_member_id"], "members"),)

    name: Mapped[str]
    description: Mapped[str | None]
    created_by_member_id: Mapped[UUID | None]


class FeedMember(Base):
    __tablename__ = "feed_members"
    __table_args__ = (
        PrimaryKeyConstraint("org_id", "feed_id", "member_id"),
        ForeignKeyConstraint(["org_id", "feed_id"], ["feeds.org_id", "feeds.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["org_id", "member_id"], ["members.org_id", "members.id"], ondelete="CASCADE"),
        # A member's feeds: every feed read starts from them.
        Index("ix_feed_members_member", "org_id", "member_id", "feed_id"),
    )

    org_id: Mapped[UUID]
    feed_id: Mapped[UUID]
    member_id: Mapped[UUID]
    role: Mapped[str]  # manager | member
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedPost(Tenant, Versioned, Base):
    __tablename__ = "feed_posts"
    __extra_table_args__ = (
        tenant_fk(["feed_id"], "feeds", ondelete="CASCADE"),
        tenant_fk(["author_member_id"], "members"),
        Index("ix_feed_posts_feed", "org_id", "feed_id", "created_at", "id"),
    )

    feed_id: Mapped[UUID]
    author_member_id: Mapped[UUID]
    announcement: Mapped[bool]  # by a manager; told to every member
    pinned: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str | None]  # None once deleted
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]


class FeedComment(Tenant, Versioned, Base):
    __tablename__ = "feed_comments"
    __extra_table_args__ = (
        tenant_fk(["post_id"], "feed_posts", ondelete="CASCADE"),
        tenant_fk(["feed_id"], "feeds", ondelete="CASCADE"),
        tenant_fk(["author_member_id"], "members"),
        Index("ix_feed_comments_post", "org_id", "post_id", "created_at", "id"),
        Index("ix_feed_comments_feed", "org_id", "feed_id"),  # the change feed's visibility
    )

    feed_id: Mapped[UUID]
    post_id: Mapped[UUID]
    author_member_id: Mapped[UUID]
    body: Mapped[str | None]  # None once deleted
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
