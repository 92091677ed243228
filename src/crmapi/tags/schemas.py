from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from crmapi.kit.limits import MAX_BULK
from crmapi.kit.pagination import PageParams
from crmapi.kit.scalars import Input, Omittable, trimmed

# The same rule as a tag in a record's `tags` list: 1 to 64 characters once trimmed.
TagName = Annotated[str, trimmed(64)]
Colour = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^#[0-9A-Fa-f]{6}$"),
    AfterValidator(str.upper),
    Field(description="`#RRGGBB`; stored in upper case.", examples=["#FF8800"]),
]
MAX_TAGS = 50


class TagCreate(Input):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "targi-2026-Kraków", "colour": "#1E88E5"}]}
    )
    name: TagName = Field(description="Unique in the organisation, ignoring case.")
    colour: Colour | None = None


class TagUpdate(Input):
    """Merge semantics: a new name is written on every contact and account carrying the old one."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "super-klient"}]})
    name: Omittable[TagName] = None
    colour: Colour | None = Field(None, description="`#RRGGBB`; null clears it.", examples=["#FF8800"])


class TagRead(BaseModel):
    """Every field but id is optional: `fields` may leave any of them out."""

    model_config = ConfigDict(from_attributes=True)
    id: UUID
    name: str | None = None
    colour: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None


class TagListQuery(PageParams):
    model_config = ConfigDict(extra="forbid")
    q: Annotated[str, trimmed(64)] | None = Field(
        None, description="The start of a tag's name, in any case.", examples=["targi"]
    )


class TagAssign(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "vip"}]})
    name: TagName = Field(description="Added to the catalogue first when it is not there yet.")


class RecordTags(BaseModel):
    tags: list[str] = Field(examples=[["vip", "branża-IT"]])


class BulkTags(Input):
    """Tag or untag up to 10,000 records in one call; each record is answered on its own."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "ids": ["0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c01", "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c02"],
                    "add": ["vip"],
                    "remove": ["prospekt-2025"],
                }
            ],
            # At least one tag to add or remove (`_something_to_do`).
            "anyOf": [
                {"required": ["add"], "properties": {"add": {"minItems": 1}}},
                {"required": ["remove"], "properties": {"remove": {"minItems": 1}}},
            ],
        },
    )
    ids: list[UUID] = Field(min_length=1, max_length=MAX_BULK)
    add: list[TagName] = Field(
        default_factory=list, max_length=MAX_TAGS, description="Tags from the catalogue to add."
    )
    remove: list[TagName] = Field(default_factory=list, max_length=MAX_TAGS, description="Tags to remove.")

    @model_validator(mode="after")
    def _something_to_do(self) -> BulkTags:
        if not self.add and not self.remove:
            raise ValueError("give at least one tag to add or remove")
        both = {t.lower() for t in self.add} & {t.lower() for t in self.remove}
        if both:
            raise ValueError(f"a tag cannot be both added and removed: {', '.join(sorted(both))}")
        return self


Outcome = Literal["updated", "unchanged", "error"]
Reason = Literal["not-found", "forbidden", "duplicate"]


class BulkOutcome(BaseModel):
    id: UUID
    outcome: Outcome
    reason: Reason | None = Field(
        None,
        description="With `error`: `not-found` (missing or outside your scope), `forbidden` (visible "
        "but you may not change it, or read-only, like a cancelled lead) or `duplicate` (the id came "
        "earlier in this call). A record that already carries what was sent is `unchanged`, even a "
        "read-only one, so a replayed call reports no errors for it.",
    )


class BulkResult(BaseModel):
    results: list[BulkOutcome] = Field(description="One per id sent, in the order sent.")
