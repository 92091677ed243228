"""Feeds, their members, posts and comments as the API takes and answers them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from crmapi.attachments.schemas import AttachmentRead
from crmapi.conversations.schemas import MESSAGE_MAX, MessageText
from crmapi.kit.pagination import PageParams
from crmapi.kit.scalars import Input, Omittable, trimmed

Name = Annotated[str, trimmed(200)]
Description = Annotated[str, trimmed(2000)]
Role = Literal["manager", "member"]
_ID = "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c21"
_MEMBER = "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c09"


class FeedCreate(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "North region sales", "description": "Targets and news", "member_ids": [_MEMBER]}
            ]
        },
    )
    name: Name
    description: Description | None = None
    member_ids: list[UUID] = Field(
        default_factory=list,
        max_length=1000,
        description="Staff members invited; the creator manages the feed.",
    )


class FeedUpdate(Input):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "North and East sales"}]}
    )
    name: Omittable[Name] = None
    description: Description | None = None


class FeedRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": _ID,
                    "name": "North region sales",
                    "description": "Targets and news",
                    "created_by_member_id": _MEMBER,
                    "my_role": "manager",
                    "member_count": 12,
                    "created_at": "2026-12-07T09:00:00Z",
                    "updated_at": "2026-12-07T09:00:00Z",
                    "version": 1,
                }
            ]
        },
    )
    id: UUID
    name: str | None = None
    description: str | None = None
    created_by_member_id: UUID | None = None
    my_role: Role | None = Field(None, description="The caller's role in the feed.")
    member_count: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None


class FeedMemberSet(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"role": "member"}]})
    role: Role = Field("member", description="`manager`s announce, pin and decide who is in.")


class FeedMemberRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [{"member_id": _MEMBER, "role": "member", "added_at": "2026-12-07T09:00:00Z"}]
        },
    )
    member_id: UUID
    role: Role
    added_at: datetime


class PostCreate(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"body": "Q1 targets are out.", "announcement": True, "pinned": True, "attachment_ids": []}
            ]
        },
    )
    body: MessageText = Field(description=f"1 to {MESSAGE_MAX:,} characters after trimming.")
    announcement: bool = Field(False, description="Managers only: every member is told of it.")
    pinned: bool = Field(False, description="Managers only, announcements only: `pinned=true` lists them.")
    attachment_ids: list[UUID] = Field(default_factory=list, max_length=10)


class PostUpdate(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"pinned": False}]})
    body: Omittable[MessageText] = Field(None, description="Its author only.")
    pinned: Omittable[bool] = Field(None, description="Managers only, announcements only.")


class PostRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": _ID,
                    "feed_id": _ID,
                    "author_member_id": _MEMBER,
                    "announcement": True,
                    "pinned": True,
                    "body": "Q1 targets are out.",
                    "attachments": [],
                    "comment_count": 2,
                    "created_at": "2026-12-07T09:00:00Z",
                    "edited_at": None,
                    "deleted_at": None,
                    "version": 1,
                }
            ]
        },
    )
    id: UUID
    feed_id: UUID | None = None
    author_member_id: UUID | None = None
    announcement: bool | None = None
    pinned: bool | None = None
    body: str | None = Field(None, description="Null once deleted.")
    attachments: list[AttachmentRead] | None = None
    comment_count: int | None = None
    created_at: datetime | None = None
    edited_at: datetime | None = None
    deleted_at: datetime | None = None
    version: int | None = None


class PostQuery(PageParams):
    model_config = ConfigDict(extra="forbid")
    announcement: bool | None = Field(None, description="true: announcements only; false: posts only.")
    pinned: bool | None = Field(None, description="true: pinned ones only.")


class CommentCreate(Input):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"body": "Great news!", "attachment_ids": []}]}
    )
    body: MessageText
    attachment_ids: list[UUID] = Field(default_factory=list, max_length=10)


class CommentRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": _ID,
                    "post_id": _ID,
                    "author_member_id": _MEMBER,
                    "body": "Great news!",
                    "attachments": [],
                    "created_at": "2026-12-07T09:05:00Z",
                    "deleted_at": None,
                    "version": 1,
                }
            ]
        },
    )
    id: UUID
    post_id: UUID | None = None
    author_member_id: UUID | None = None
    body: str | None = None
    attachments: list[AttachmentRead] | None = None
    created_at: datetime | None = None
    deleted_at: datetime | None = None
    version: int | None = None


class FeedQuery(PageParams):
    model_config = ConfigDict(extra="forbid")
