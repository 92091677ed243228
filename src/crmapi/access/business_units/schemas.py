from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from crmapi.kit.pagination import PageParams
from crmapi.kit.scalars import Input, Name, Omittable, trimmed


class BusinessUnitCreate(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "Północ", "parent_id": "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c01"}]
        },
    )
    name: Name = Field(description="Unique in the organisation, ignoring case.")
    parent_id: UUID | None = Field(None, description="The unit above this one; none for a top-level unit.")


class BusinessUnitUpdate(Input):
    """Merge semantics. Moving a unit (a new `parent_id`) moves everything below it too."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "Północ i Pomorze"}]})
    name: Omittable[Name] = None
    parent_id: UUID | None = Field(None, description="null makes it a top-level unit.")


class BusinessUnitRead(BaseModel):
    """Every field but id is optional: `fields` may leave any of them out."""

    model_config = ConfigDict(from_attributes=True)
    id: UUID
    name: str | None = None
    parent_id: UUID | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None


class BusinessUnitListQuery(PageParams):
    model_config = ConfigDict(extra="forbid")
    q: Annotated[str, trimmed(200)] | None = Field(
        None, description="The start of a unit's name, in any case.", examples=["Pół"]
    )
    parent_id: UUID | None = Field(None, description="Only the units directly below this one.")
