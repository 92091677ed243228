from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from crmapi.kit.pagination import PageParams
from crmapi.kit.scalars import Email, Input, Name, Omittable, trimmed

# The same rule as a code in an account's `sales_rep_codes`; compared exactly, case included.
Code = Annotated[
    str,
    trimmed(64),
    Field(description="The ERP's code for the rep; unique in the organisation.", examples=["PH01"]),
]


class SalesRepCreate(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"code": "PH01", "name": "Anna Kowalska", "email": "anna.kowalska@example.com"}]
        },
    )
    code: Code
    name: Name
    email: Email | None = None
    active: bool = Field(True, strict=True, description="Only active records give their members access.")


class SalesRepUpdate(Input):
    """Merge semantics. A new `code` is written on every account carrying the old one."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"active": False}]})
    code: Omittable[Code] = None
    name: Omittable[Name] = None
    email: Email | None = Field(None, description="null clears it.")
    active: Omittable[bool] = Field(
        None, strict=True, description="false keeps the record but its members stop seeing its accounts."
    )


class SalesRepRead(BaseModel):
    """Every field but id is optional: `fields` may leave any of them out."""

    model_config = ConfigDict(from_attributes=True)
    id: UUID
    code: str | None = None
    name: str | None = None
    email: str | None = None
    active: bool | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None


class SalesRepListQuery(PageParams):
    model_config = ConfigDict(extra="forbid")
    active: bool | None = Field(None, description="Only active (true) or inactive (false) records.")
    q: Annotated[str, trimmed(200)] | None = Field(
        None, description="Part of the code or the name, in any case.", examples=["kowal"]
    )
