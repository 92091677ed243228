"""What one configurable list is: its table, its schemas, where it is served, what it checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.kit.pagination import PageParams
from crmapi.kit.scalars import Input, Name, Omittable, ShortText

OptionCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$"),
    Field(description="Unique in the list; made from the name when left out.", examples=["PRICE"]),
]
Position = Annotated[int, Field(ge=0, le=1_000_000, strict=True, description="Sort order in the list.")]
Active = Annotated[bool, Field(strict=True, description="Inactive values are not offered for new records.")]
# What a list checks (and completes) beyond the shared rules, given the option as it would be
# saved and the fields that changed (all of them on create). Raises a ProblemError to refuse.
Prepare = Callable[[AsyncSession, Actor, Any, set[str]], Awaitable[None]]


class OptionCreate(Input):
    name: Name
    code: OptionCode | None = None
    description: ShortText | None = None
    position: Position | None = Field(None, description="Sort order; after the last value when left out.")
    active: Active = True


class OptionUpdate(Input):
    """Merge semantics; null clears `description` only."""

    name: Omittable[Name] = None
    code: Omittable[OptionCode] = None
    description: ShortText | None = Field(None, description="null clears it.")
    position: Omittable[Position] = None
    active: Omittable[Active] = None


class FixedUpdate(Input):
    """A fixed list's values keep their codes; the organisation labels, orders and retires them."""

    name: Omittable[Name] = None
    description: ShortText | None = Field(None, description="null clears it.")
    position: Omittable[Position] = None
    active: Omittable[Active] = None


class OptionRead(BaseModel):
    """Every field but id is optional: `fields` may leave any of them out."""

    model_config = ConfigDict(from_attributes=True)
    id: UUID
    code: str | None = None
    name: str | None = None
    description: str | None = None
    position: int | None = None
    active: bool | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None


class OptionQuery(PageParams):
    """Filters are equality tests on the list's columns of the same name."""

    active: bool | None = None


@dataclass(frozen=True)
class OptionList:
    entity: str  # history entity and path parameter stem: lost_reason -> {lost_reason_id}
    path: str  # under /v1/config: lost-reasons
    noun: str  # "lost reason", in summaries and messages
    plural: str
    model: type[Any]  # an Option
    read: type[OptionRead]
    update: type[Input]
    query: type[OptionQuery]
    create: type[Input] | None = None  # None: a fixed list, seeded, never added to
    about: str = ""  # what the list is for, in the list route's description
    # Columns (beyond the organisation) a code is unique within: a status's kind.
    within: tuple[str, ...] = ()
    # The list this one hangs under (lookup values under their list) and the column naming it.
    parent: OptionList | None = None
    parent_column: str | None = None
    prepare: Prepare | None = None
    id_name: str | None = None  # the path parameter, when not <entity>_id
    op: str | None = None  # the stem of operation ids (create_<op>), when not the entity

    @property
    def param(self) -> str:
        return self.id_name or f"{self.entity}_id"

    @property
    def operations(self) -> str:
        return self.plural.replace(" ", "_")

    def prefix(self) -> str:
        if self.parent is None:
            return f"/v1/config/{self.path}"
        return f"{self.parent.prefix()}/{{{self.parent.param}}}/{self.path}"
