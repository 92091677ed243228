"""The change feed's parameters and answer."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crmapi.events.kinds import KINDS
from crmapi.kit.scalars import Input

MAX_CHANGES = 1000


class ChangesQuery(Input):
    after: int = Field(
        0,
        ge=0,
        description="`next_after` of the previous page: the changes after it. 0 (the default) starts "
        "from the first change the feed keeps.",
        examples=[1520],
    )
    kinds: str | None = Field(
        None,
        max_length=1024,
        description="Comma-separated record kinds to hear of (default: every kind the caller may see).",
        examples=["contact,account"],
    )
    limit: int = Field(100, ge=1, le=MAX_CHANGES, description=f"Changes per page (at most {MAX_CHANGES:,}).")

    @field_validator("kinds")
    @classmethod
    def _known_kinds(cls, value: str | None) -> str | None:
        if value is None:
            return None
        unknown = sorted({k.strip() for k in value.split(",")} - KINDS.keys())
        if unknown:
            raise ValueError(f"unknown kinds {', '.join(unknown)}; known: {', '.join(sorted(KINDS))}")
        return value

    def kind_list(self) -> list[str] | None:
        return None if self.kinds is None else sorted({k.strip() for k in self.kinds.split(",")})


class Change(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "seq": 1521,
                    "event_id": "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c11",
                    "type": "contact.updated",
                    "kind": "contact",
                    "record_id": "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c01",
                    "operation": "updated",
                    "version": 4,
                    "fields": ["job_title"],
                    "occurred_at": "2026-12-07T10:15:00.123456Z",
                }
            ]
        }
    )

    seq: int = Field(description="The change's place in the organisation's commit order.")
    event_id: UUID = Field(description="The event's id: the idempotency key webhooks carry too.")
    type: str = Field(description="The event type, `<kind>.<operation>`.")
    kind: str
    record_id: UUID
    operation: str = Field(
        description="`created`, `updated`, `deleted` (removed from reads), `restored`, `transition` "
        "(moved to another status) or the kind's own (`converted`, `reminder_due`, ...)."
    )
    version: int | None = Field(None, description="The record's version after the change, when it has one.")
    fields: list[str] | None = Field(None, description="The fields the change wrote, when it names them.")
    occurred_at: datetime = Field(description="When the change was written.")


class ChangePage(BaseModel):
    items: list[Change]
    next_after: int = Field(
        description="Pass as `after` for the next page; the same `after` when nothing is new."
    )
    has_more: bool = Field(description="More changes wait: ask again at once rather than after a pause.")
