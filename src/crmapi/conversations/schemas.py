"""Conversations and their messages as the API takes and answers them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from crmapi.attachments.schemas import AttachmentRead
from crmapi.kit.pagination import PageParams
from crmapi.kit.scalars import Input, Omittable, trimmed

# A message is a chat line, not a document: 10,000 characters is several pages of text.
MESSAGE_MAX = 10_000
MessageText = Annotated[str, trimmed(MESSAGE_MAX)]
Subject = Annotated[str, trimmed(200)]
_ID = "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c21"
_MEMBER = "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c09"
_ACCOUNT = "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c33"


class MessageCreate(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"body": "@Ann the pallets ship on Monday.", "mentions": [_MEMBER], "attachment_ids": []}
            ]
        },
    )
    body: MessageText = Field(description=f"The text, 1 to {MESSAGE_MAX:,} characters after trimming.")
    mentions: list[UUID] = Field(
        default_factory=list,
        max_length=50,
        description="Participants (member ids) the message mentions: each is told of it.",
    )
    attachment_ids: list[UUID] = Field(
        default_factory=list,
        max_length=10,
        description="Files the caller uploaded (`POST /v1/attachments`) and not yet attached.",
    )


class MessageUpdate(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"body": "Ships on Tuesday."}]})
    body: MessageText = Field(description="The new text; the earlier one is kept in the revisions.")


class MessageRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": _ID,
                    "conversation_id": _ID,
                    "seq": 3,
                    "author_member_id": _MEMBER,
                    "body": "The pallets ship on Monday.",
                    "mentions": [],
                    "attachments": [],
                    "created_at": "2026-12-07T10:00:00Z",
                    "edited_at": None,
                    "deleted_at": None,
                    "deleted_by_member_id": None,
                    "version": 1,
                }
            ]
        },
    )
    id: UUID
    conversation_id: UUID | None = None
    seq: int | None = Field(None, description="Its number in the conversation: 1, 2, ... in order.")
    author_member_id: UUID | None = None
    body: str | None = Field(None, description="Null once deleted.")
    mentions: list[UUID] | None = None
    attachments: list[AttachmentRead] | None = None
    created_at: datetime | None = None
    edited_at: datetime | None = Field(None, description="When its text last changed.")
    deleted_at: datetime | None = None
    deleted_by_member_id: UUID | None = None
    version: int | None = None


class RevisionRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "revision": 1,
                    "body": "The pallets ship on Monday.",
                    "replaced_at": "2026-12-07T10:05:00Z",
                    "replaced_by_member_id": _MEMBER,
                    "change": "edited",
                }
            ]
        },
    )
    revision: int = Field(description="1 is the text first posted.")
    body: str
    replaced_at: datetime
    replaced_by_member_id: UUID | None = None
    change: Literal["edited", "deleted"]


class ConversationCreate(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subject": "Delivery of order 118",
                    "participant_ids": [_MEMBER],
                    "message": {"body": "When can we expect the pallets?"},
                }
            ]
        },
    )
    subject: Subject = Field(description="What the conversation is about, 1 to 200 characters.")
    participant_ids: list[UUID] = Field(
        default_factory=list,
        max_length=100,
        description="Staff members, and customer members of the account; the caller takes part too.",
    )
    message: MessageCreate | None = Field(None, description="The first message.")


class ConversationUpdate(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"subject": "Order 118"}]})
    subject: Omittable[Subject] = Field(None, description="The new subject.")


class ConversationRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": _ID,
                    "account_id": _ACCOUNT,
                    "subject": "Delivery of order 118",
                    "status": "open",
                    "participant_ids": [_MEMBER],
                    "created_by_member_id": _MEMBER,
                    "last_seq": 3,
                    "last_message_at": "2026-12-07T10:00:00Z",
                    "read_seq": 2,
                    "unread_count": 1,
                    "created_at": "2026-12-07T09:00:00Z",
                    "updated_at": "2026-12-07T09:00:00Z",
                    "closed_at": None,
                    "version": 1,
                }
            ]
        },
    )
    id: UUID
    account_id: UUID | None = None
    subject: str | None = None
    status: Literal["open", "closed"] | None = None
    participant_ids: list[UUID] | None = Field(None, description="The members taking part.")
    created_by_member_id: UUID | None = None
    last_seq: int | None = Field(None, description="The last message's number (0: none yet).")
    last_message_at: datetime | None = None
    read_seq: int | None = Field(None, description="The last message the caller read (0: none).")
    unread_count: int | None = Field(None, description="Messages of others after the caller's read marker.")
    created_at: datetime | None = None
    updated_at: datetime | None = None
    closed_at: datetime | None = None
    version: int | None = None


class ConversationQuery(PageParams):
    model_config = ConfigDict(extra="forbid")
    status: Literal["open", "closed"] | None = Field(None, description="Only open or only closed ones.")
    mine: bool = Field(False, description="Only those the caller takes part in.")
    unread: bool | None = Field(None, description="true: only those with messages the caller has not read.")


class MessageQuery(PageParams):
    model_config = ConfigDict(extra="forbid")
    unread: bool = Field(
        False,
        description="Only messages after the caller's read marker, oldest first unless `sort` says.",
    )


class ParticipantAdd(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"member_id": _MEMBER}]})
    member_id: UUID


class MarkRead(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"seq": 3}]})
    seq: int | None = Field(
        None, ge=0, description="The last message read; the last one when left out. Markers never go back."
    )


class ReadState(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"read_seq": 3, "unread_count": 0}]})
    read_seq: int
    unread_count: int
