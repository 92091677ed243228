from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from crmapi.pagination import PageParams
from crmapi.types import Input, Name, ShortText

KindName = Literal["lead", "opportunity", "activity", "service_request"]
StatusCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$"),
    Field(
        description="Unique among the kind's statuses; made from the name when left out.",
        examples=["QUALIFYING"],
    ),
]
Position = Annotated[int, Field(ge=0, le=1_000_000, strict=True, description="Board order within the kind.")]


class StatusCreate(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"kind": "lead", "state": "in_progress", "name": "Qualifying"}]},
    )
    kind: KindName
    state: str = Field(description="One of the kind's fixed states.", examples=["in_progress"])
    name: Name
    code: StatusCode | None = None
    description: ShortText | None = None
    position: Position | None = Field(
        None, description="Board order; after the kind's last status when left out."
    )
    active: bool = Field(True, strict=True, description="Inactive statuses are not offered for new moves.")


class StatusUpdate(Input):
    """Merge semantics. A status's kind and state never change: records rely on them."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "Qualified", "position": 15}]}
    )
    name: Name | None = None
    code: StatusCode | None = None
    description: ShortText | None = Field(None, description="null clears it.")
    position: Position | None = None
    active: bool | None = Field(None, strict=True)


class StatusRead(BaseModel):
    """Every field but id is optional: `fields` may leave any of them out."""

    model_config = ConfigDict(from_attributes=True)
    id: UUID
    kind: KindName | None = None
    state: str | None = None
    code: str | None = None
    name: str | None = None
    description: str | None = None
    position: int | None = None
    active: bool | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None


class StatusListQuery(PageParams):
    model_config = ConfigDict(extra="forbid")
    kind: KindName | None = None
    state: Annotated[str, StringConstraints(max_length=64)] | None = None
    active: bool | None = None
