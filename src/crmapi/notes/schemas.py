"""Request and response models for notes on contacts and accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from crmapi.kit.pagination import PageParams
from crmapi.kit.scalars import Input, Omittable, trimmed
from crmapi.notes.models import NoteSubject

NoteBody = Annotated[str, trimmed(20_000)]


class NoteCreate(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"body": "Called about the overdue invoice; pays on Friday."}]},
    )
    body: NoteBody = Field(description="The note's text, 1 to 20,000 characters after trimming.")


class NoteUpdate(Input):
    """Merge semantics: only the fields sent change."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"body": "Called about the overdue invoice; paid on Friday."}]},
    )
    body: Omittable[NoteBody] = Field(None, description="The new text.")


class NoteRead(BaseModel):
    """Every field but id is optional: `fields` may leave any of them out."""

    model_config = ConfigDict(from_attributes=True)
    id: UUID
    subject: NoteSubject | None = Field(None, description="What the note is about.")
    subject_id: UUID | None = None
    author_member_id: UUID | None = Field(None, description="The member who wrote it; only they may edit it.")
    body: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None


class NoteListQuery(PageParams):
    model_config = ConfigDict(extra="forbid")

    fields: str | None = Field(
        None,
        max_length=2048,
        description="Comma-separated fields to return (`id` always is).",
        examples=["id,body,author_member_id,created_at"],
    )
