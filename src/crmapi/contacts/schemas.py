from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from crmapi.custom_fields.schemas import CustomBody, CustomQuery
from crmapi.kit.pagination import PageBody, PageParams
from crmapi.kit.scalars import Email, Input, Name, Omittable, ShortText, Timestamp, TimeZone, trimmed

ContactKind = Literal["person", "organisation"]
LifecycleState = Literal["prospect", "financial"]
Tag = Annotated[str, trimmed(64)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ()./-]{3,32}$")]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500, pattern=r"^https?://\S+$")]
Domain = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=253, pattern=r"^[a-z0-9.-]+\.[a-z]{2,}$"
    ),
]
TaxId = Annotated[str, trimmed(64)]


class ContactEmail(Input):
    model_config = ConfigDict(extra="forbid")
    address: Email
    label: ShortText | None = Field(None, examples=["work"])
    primary: bool = Field(False, strict=True)


class ContactEmailRead(BaseModel):
    """An address as stored: one kept before today's checks still reads."""

    address: str
    label: str | None = None
    primary: bool = False


class ContactPhone(Input):
    model_config = ConfigDict(extra="forbid")
    number: Phone = Field(examples=["+48 600 100 200"])
    label: ShortText | None = Field(None, examples=["mobile"])
    primary: bool = Field(False, strict=True)


class ContactAddress(Input):
    model_config = ConfigDict(extra="forbid")
    label: ShortText | None = Field(None, examples=["billing"])
    street: ShortText | None = Field(None, examples=["ul. Marszałkowska 1"])
    city: ShortText | None = Field(None, examples=["Warszawa"])
    postal_code: Annotated[str, StringConstraints(max_length=16)] | None = Field(None, examples=["00-001"])
    region: ShortText | None = None
    country: Country | None = Field(None, description="ISO 3166-1 alpha-2", examples=["PL"])
    primary: bool = Field(False, strict=True)


class _ContactFields(Input):
    model_config = ConfigDict(extra="forbid")
    first_name: Name | None = None
    last_name: Name | None = None
    name: Name | None = Field(None, description="An organisation's name.")
    job_title: ShortText | None = None
    emails: list[ContactEmail] | None = Field(None, max_length=20)
    phones: list[ContactPhone] | None = Field(None, max_length=20)
    addresses: list[ContactAddress] | None = Field(None, max_length=10)
    website: Url | None = None
    web_domain: Domain | None = None
    tax_id: TaxId | None = Field(None, description="e.g. a Polish NIP", examples=["5260250274"])
    time_zone: TimeZone | None = None
    tags: list[Tag] | None = Field(None, max_length=50)
    custom: dict[str, Any] | None = Field(None, max_length=100)
    owner_member_id: UUID | None = None
    business_unit_id: UUID | None = None
    lifecycle_state: Omittable[LifecycleState] = None
    parent_payer_id: UUID | None = Field(None, description="The contact who pays for this one.")


class ContactCreate(_ContactFields):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "person",
                    "first_name": "Anna",
                    "last_name": "Nowak",
                    "emails": [{"address": "anna@example.com", "primary": True}],
                    "tags": ["vip"],
                }
            ]
        },
    )
    kind: ContactKind

    @model_validator(mode="after")
    def _names(self) -> ContactCreate:
        try:
            check_names(self.kind, self.first_name, self.last_name, self.name)
        except MissingName as exc:
            # Located on the fields to fill, so a form can show the error next to them.
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    InitErrorDetails(
                        type=PydanticCustomError("missing_name", str(exc)), loc=(field,), input=None
                    )
                    for field in exc.fields
                ],
            ) from None
        return self


class MissingName(ValueError):
    """A required name is missing; `fields` are the ones that could supply it."""

    def __init__(self, message: str, fields: tuple[str, ...]) -> None:
        super().__init__(message)
        self.fields = fields


def check_names(kind: str, first_name: str | None, last_name: str | None, name: str | None) -> None:
    if kind == "person" and not (first_name or last_name):
        raise MissingName("a person needs first_name or last_name", ("first_name", "last_name"))
    if kind == "organisation" and not name:
        raise MissingName("an organisation needs name", ("name",))


class ContactUpdate(_ContactFields):
    """Merge semantics: only the fields sent change; null clears an optional field."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"job_title": "CFO"}]})
    kind: Omittable[ContactKind] = None


class ContactRead(BaseModel):
    """Every field but id is optional: `fields` may leave any of them out."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0192f0a8-0000-7000-8000-000000000005",
                    "kind": "person",
                    "display_name": "Anna Nowak",
                    "first_name": "Anna",
                    "last_name": "Nowak",
                    "job_title": "CFO",
                    "emails": [{"address": "anna@example.com", "label": "work", "primary": True}],
                    "phones": [{"number": "+48 600 100 200", "label": "mobile", "primary": True}],
                    "addresses": [],
                    "tags": ["vip"],
                    "custom": {"region": "north"},
                    "owner_member_id": "0192f0a8-0000-7000-8000-000000000041",
                    "lifecycle_state": "financial",
                    "created_at": "2026-11-30T09:00:00Z",
                    "updated_at": "2026-12-02T10:15:00Z",
                    "version": 3,
                }
            ]
        },
    )
    id: UUID
    kind: ContactKind | None = None
    display_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    job_title: str | None = None
    emails: list[ContactEmailRead] | None = None
    phones: list[ContactPhone] | None = None
    addresses: list[ContactAddress] | None = None
    website: str | None = None
    web_domain: str | None = None
    tax_id: str | None = None
    time_zone: str | None = None
    tags: list[str] | None = None
    custom: dict[str, Any] | None = None
    owner_member_id: UUID | None = None
    business_unit_id: UUID | None = None
    lifecycle_state: Omittable[LifecycleState] = None
    parent_payer_id: UUID | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None
    version: int | None = None


class ContactFilter(Input):
    kind: ContactKind | None = None
    tag: list[Tag] = Field(
        default_factory=list, max_length=20, description="Every tag given must be present."
    )
    owner_member_id: UUID | None = None
    lifecycle_state: Omittable[LifecycleState] = None
    parent_payer_id: UUID | None = None
    created_from: Timestamp | None = Field(None, description="Created at or after (RFC 3339).")
    created_to: Timestamp | None = Field(None, description="Created before (RFC 3339).")
    q: Annotated[str, trimmed(200)] | None = Field(None, description="Part of a name or an email address.")
    deleted: Literal["only"] | None = Field(
        None, description="`only`: the deleted contacts (contacts.manage)."
    )


class ContactListQuery(PageParams, ContactFilter, CustomQuery):
    model_config = ConfigDict(extra="forbid")


class ContactSearch(PageBody, ContactFilter, CustomBody):
    """The same filters, sort and paging as the list, sent as a JSON body."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"tag": ["vip"], "lifecycle_state": "prospect", "sort": "-created_at"}]
        },
    )
