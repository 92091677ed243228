"""Conversations on customer accounts: participants, messages numbered in order within their
conversation, each message's earlier texts, and how far each member has read."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import ForeignKeyConstraint, Index, PrimaryKeyConstraint, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.orm import Mapped, mapped_column

from crmapi.kit.base import Base, Tenant, Timestamps, Versioned, tenant_fk, utcnow


def _in_conversation() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["org_id", "conversation_id"], ["conversations.org_id", "conversations.id"], ondelete="CASCADE"
    )


class Conversation(Tenant, Timestamps, Versioned, Base):
    __tablename__ = "conversations"
    __extra_table_args__ = (
        tenant_fk(["account_id"], "accounts", ondelete="CASCADE"),
        tenant_fk(["created_by_member_id"], "members"),
        Index("ix_conversations_account", "org_id", "account_id", "created_at", "id"),
        Index("ix_conversations_created", "org_id", "created_at", "id"),
    )

    account_id: Mapped[UUID]
    subject: Mapped[str]
    status: Mapped[str] = mapped_column(default="open")  # open | closed
    created_by_member_id: Mapped[UUID | None]
    # The last message's number: posting takes the row's lock to count on, so numbers are
    # gapless and in commit order within a conversation (messages are not versioned changes
    # of the conversation: its version moves only with subject, status and participants).
    last_seq: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    last_message_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class Participant(Base):
    __tablename__ = "conversation_participants"
    __table_args__ = (
        PrimaryKeyConstraint("org_id", "conversation_id", "member_id"),
        _in_conversation(),
        ForeignKeyConstraint(["org_id", "member_id"], ["members.org_id", "members.id"], ondelete="CASCADE"),
        # A member's conversations (the customer's scope, "mine" lists).
        Index("ix_conversation_participants_member", "org_id", "member_id", "conversation_id"),
    )

    org_id: Mapped[UUID]
    conversation_id: Mapped[UUID]
    member_id: Mapped[UUID]
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(Tenant, Versioned, Base):
    __tablename__ = "conversation_messages"
    __extra_table_args__ = (
        _in_conversation(),
        tenant_fk(["author_member_id"], "members"),
        UniqueConstraint("org_id", "conversation_id", "seq"),
    )

    conversation_id: Mapped[UUID]
    seq: Mapped[int]  # 1, 2, ... within the conversation
    author_member_id: Mapped[UUID]
    body: Mapped[str | None]  # None once deleted (the text stays in its revisions)
    mentions: Mapped[list[UUID]] = mapped_column(ARRAY(PgUUID(as_uuid=True)), default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    deleted_by_member_id: Mapped[UUID | None]


class Revision(Base):
    """A message's text before an edit or a deletion: the trace the change leaves."""

    __tablename__ = "conversation_message_revisions"
    __table_args__ = (
        PrimaryKeyConstraint("org_id", "message_id", "revision"),
        ForeignKeyConstraint(
            ["org_id", "message_id"],
            ["conversation_messages.org_id", "conversation_messages.id"],
            ondelete="CASCADE",
        ),
    )

    org_id: Mapped[UUID]
    message_id: Mapped[UUID]
    revision: Mapped[int]  # 1 is the text first posted
    body: Mapped[str]
    replaced_at: Mapped[datetime]
    replaced_by_member_id: Mapped[UUID | None]
    change: Mapped[str]  # edited | deleted


class ReadMarker(Base):
    """The last message a member read in a conversation: its unread count is the messages of
    others after it, counted when asked, so it cannot drift from the messages."""

    __tablename__ = "conversation_reads"
    __table_args__ = (
        PrimaryKeyConstraint("org_id", "conversation_id", "member_id"),
        _in_conversation(),
        ForeignKeyConstraint(["org_id", "member_id"], ["members.org_id", "members.id"], ondelete="CASCADE"),
    )

    org_id: Mapped[UUID]
    conversation_id: Mapped[UUID]
    member_id: Mapped[UUID]
    seq: Mapped[int]
    read_at: Mapped[datetime]
