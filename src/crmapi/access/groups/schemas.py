from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from crmapi.access.capabilities import CATALOGUE
from crmapi.kit.pagination import PageParams
from crmapi.kit.scalars import Input, Name, Omittable, trimmed

# Repeats are dropped after validation; the bound only keeps a body from being absurd.
MAX_GRANTS = 4 * len(CATALOGUE)


def _once_each(capabilities: list[str]) -> list[str]:
    return sorted(set(capabilities))


def _in_catalogue(capability: str) -> str:
    if capability not in CATALOGUE:
        raise ValueError("not in the capability catalogue (GET /v1/capabilities)")
    return capability


Capability = Annotated[
    str,
    StringConstraints(max_length=64),
    Field(json_schema_extra={"enum": sorted(CATALOGUE)}),
    AfterValidator(_in_catalogue),
]
Grants = Annotated[
    list[Capability],
    Field(
        max_length=MAX_GRANTS,
        description="What the group's members may do: capabilities from the catalogue, stored once each.",
        examples=[["accounts.view_any", "contacts.view_any"]],
    ),
    AfterValidator(_once_each),
]
Description = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2000),
    Field(description="What the group is for."),
]


class GroupCreate(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Kierownicy sprzedaży",
                    "description": "Sales managers: see every account and contact.",
                    "capabilities": ["accounts.view_any", "contacts.view_any"],
                }
            ]
        },
    )
    name: Name = Field(description="Unique in the organisation, ignoring case.")
    description: Description | None = None
    capabilities: Grants = []


class GroupUpdate(Input):
    """Merge semantics. Grants change through `/v1/groups/{id}/grants/{capability}`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "Sales managers"}]})
    name: Omittable[Name] = None
    description: Description | None = Field(None, description="null clears it.")


class GroupRead(BaseModel):
    """Every field but id is optional: `fields` may leave any of them out."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c01",
                    "name": "Administrators",
                    "description": "Administer the organisation.",
                    "capabilities": ["org.admin"],
                    "member_count": 1,
                    "created_at": "2026-11-24T08:00:00Z",
                    "updated_at": "2026-11-24T08:00:00Z",
                    "version": 1,
                }
            ]
        },
    )
    id: UUID
    name: str | None = None
    description: str | None = None
    capabilities: list[str] | None = Field(None, description="What the group grants, sorted.")
    member_count: int | None = Field(None, description="How many members the group has.")
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None


class GroupListQuery(PageParams):
    model_config = ConfigDict(extra="forbid")
    q: Annotated[str, trimmed(200)] | None = Field(
        None, description="Part of the group's name, in any case.", examples=["sprzeda"]
    )
    member_id: UUID | None = Field(None, description="Only the groups this member is in.")
    capability: Capability | None = Field(None, description="Only the groups granting this capability.")


class CapabilityRead(BaseModel):
    name: str = Field(examples=["accounts.view_any"])
    description: str
    implies: list[str] = Field(description="What holding it grants besides itself.")
    held: bool = Field(description="Whether the caller holds it, granted or implied.")


class CapabilityList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "name": "accounts.manage",
                            "description": "Change, delete, restore and assign any account; "
                            "implies accounts.view_any.",
                            "implies": ["accounts.view_any"],
                            "held": False,
                        }
                    ]
                }
            ]
        }
    )
    items: list[CapabilityRead]
