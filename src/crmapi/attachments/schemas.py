"""An attachment as the API answers it."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class AttachmentRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c21",
                    "filename": "delivery-note.pdf",
                    "content_type": "application/pdf",
                    "size": 48213,
                    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    "owner_kind": "message",
                    "owner_id": "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c09",
                    "created_at": "2026-12-07T10:00:00Z",
                }
            ]
        },
    )
    id: UUID
    filename: str
    content_type: str
    size: int = Field(description="Bytes.")
    sha256: str = Field(description="The content's SHA-256, hex: check a download against it.")
    owner_kind: str | None = Field(
        None, description="message, feed_post or feed_comment; null until attached."
    )
    owner_id: UUID | None = None
    created_at: datetime
