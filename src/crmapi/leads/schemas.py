from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from crmapi.kit.errors import Problem
from crmapi.kit.pagination import PageParams
from crmapi.kit.scalars import Day, Email, Input, Omittable, ShortText, Timestamp, TimeZone, trimmed

LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
Description = Annotated[str, trimmed(10_000)]
Code = Annotated[str, trimmed(64)]
Reference = Annotated[str, trimmed(200)]
Priority = Annotated[int, Field(ge=1, le=10, strict=True, description="1 is the highest.")]
SearchText = Annotated[str, trimmed(200)]


class _LeadFields(Input):
    category_id: UUID | None = Field(None, description="A lead category the type allows.")
    source: Code | None = Field(None, description="A lead source code.", examples=["WEBSITE"])
    priority: Priority | None = Field(
        None, description="1 (highest) to 10; the type's default when left out."
    )
    importance_id: UUID | None = None
    first_name: ShortText | None = Field(None, examples=["Anna"])
    last_name: ShortText | None = Field(None, examples=["Nowak"])
    company: ShortText | None = Field(None, examples=["Nowak Trading"])
    title: ShortText | None = Field(None, examples=["Purchasing manager"])
    phone: ShortText | None = Field(None, examples=["+48 600 100 200"])
    email: Email | None = None
    website: ShortText | None = None
    time_zone: TimeZone | None = None
    notes: LongText | None = None
    objection: LongText | None = Field(None, description="Why they do not want to buy (yet).")
    call_tries: Omittable[int] = Field(
        None, ge=0, le=10_000, strict=True, description="How often the lead was called."
    )
    call_date: Day | None = None
    call_code: Code | None = Field(
        None, description="A value of the CALL_CODE lookup list.", examples=["CALL_BACK"]
    )
    call_status: Code | None = Field(None, description="A value of the CALL_STATUS lookup list.")
    reminder_at: Timestamp | None = Field(None, description="When to remind the assignee.")
    product_refs: Omittable[list[Reference]] = Field(
        None, max_length=100, description="Products of interest, as free references for now."
    )
    competitor_ids: Omittable[list[UUID]] = Field(None, max_length=50)
    contact_id: UUID | None = Field(None, description="The contact it concerns; set once.")
    account_id: UUID | None = Field(None, description="The account it concerns; set once.")
    business_unit_id: UUID | None = Field(None, description="The unit whose members may accept it.")
    assigned_member_id: UUID | None = Field(None, description="The staff member working on it.")
    start_at: Timestamp | None = Field(None, description="When work starts; now when left out.")


class LeadCreate(_LeadFields):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "description": "Wants 40 seats of the web shop module",
                    "first_name": "Anna",
                    "last_name": "Nowak",
                    "company": "Nowak Trading",
                    "email": "anna@nowak.example",
                    "source": "WEBSITE",
                }
            ]
        },
    )
    type_id: UUID | None = Field(None, description="The lead type; the organisation's default when left out.")
    description: Description


class LeadUpdate(_LeadFields):
    """Merge semantics; null clears a field. The type never changes (409), the contact and the
    account only while empty (409 otherwise); statuses change through the moves."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"call_tries": 2, "call_code": "BUSY"}]}
    )
    type_id: Omittable[UUID] = None
    description: Omittable[Description] = None
    start_at: Omittable[Timestamp] = Field(None, description="When work starts.")


class LeadRead(BaseModel):
    """Every field but id is optional: `fields` may leave any of them out."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0192f0a8-0000-7000-8000-000000000011",
                    "number": 17,
                    "type_id": "0192f0a8-0000-7000-8000-000000000021",
                    "status_id": "0192f0a8-0000-7000-8000-000000000022",
                    "state": "in_progress",
                    "priority": 3,
                    "description": "Wants 40 seats of the web shop module",
                    "first_name": "Anna",
                    "last_name": "Nowak",
                    "company": "Nowak Trading",
                    "email": "anna@nowak.example",
                    "call_tries": 2,
                    "product_refs": ["WEB-SHOP"],
                    "competitor_ids": [],
                    "owner_member_id": "0192f0a8-0000-7000-8000-000000000041",
                    "assigned_member_id": "0192f0a8-0000-7000-8000-000000000041",
                    "start_at": "2026-11-30T09:00:00Z",
                    "expected_completion_at": "2026-12-14T09:00:00Z",
                    "overdue": False,
                    "tags": [],
                    "created_at": "2026-11-30T09:00:00Z",
                    "updated_at": "2026-12-02T10:15:00Z",
                    "version": 4,
                }
            ]
        },
    )
    id: UUID
    number: int | None = None
    type_id: UUID | None = None
    status_id: UUID | None = None
    state: str | None = Field(None, examples=["in_progress"])
    category_id: UUID | None = None
    source: str | None = None
    priority: int | None = None
    importance_id: UUID | None = None
    description: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    title: str | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    time_zone: str | None = None
    notes: str | None = None
    objection: str | None = None
    call_tries: int | None = None
    call_date: date | None = None
    call_code: str | None = None
    call_status: str | None = None
    reminder_at: datetime | None = None
    reminder_closed_at: datetime | None = None
    product_refs: list[str] | None = None
    competitor_ids: list[UUID] | None = None
    contact_id: UUID | None = None
    account_id: UUID | None = None
    business_unit_id: UUID | None = None
    assigned_member_id: UUID | None = None
    owner_member_id: UUID | None = None
    accepted_at: datetime | None = None
    lost_reason_id: UUID | None = None
    cancellation_reason_id: UUID | None = None
    start_at: datetime | None = None
    expected_completion_at: datetime | None = None
    completed_at: datetime | None = None
    overdue: bool | None = Field(None, description="Open and past its expected completion.")
    tags: list[str] | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None


class LeadFilter(Input):
    type_id: UUID | None = None
    status_id: UUID | None = None
    state: Annotated[str, StringConstraints(max_length=64)] | None = None
    category_id: UUID | None = None
    source: Code | None = None
    assigned_member_id: UUID | None = None
    business_unit_id: UUID | None = None
    owner_member_id: UUID | None = None
    contact_id: UUID | None = None
    account_id: UUID | None = None
    overdue: bool | None = Field(
        None, description="Only open leads past (true) or not past (false) their expected completion."
    )
    created_from: Timestamp | None = None
    created_to: Timestamp | None = None
    tag: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    q: SearchText | None = Field(None, description="Names, company, email, phone or description.")


class LeadListQuery(PageParams, LeadFilter):
    model_config = ConfigDict(extra="forbid")
    deleted: Literal["only"] | None = Field(None, description="`only`: the removed leads (leads.manage).")


class LeadBoardQuery(LeadFilter):
    """The list's filters; with `type_id`, the columns are that type's statuses."""

    model_config = ConfigDict(extra="forbid")


class LeadCard(BaseModel):
    id: UUID
    number: int
    description: str
    first_name: str | None
    last_name: str | None
    company: str | None
    priority: int | None
    assigned_member_id: UUID | None
    business_unit_id: UUID | None
    expected_completion_at: datetime | None
    overdue: bool
    created_at: datetime
    tags: list[str]


def _status_choice() -> Any:
    return Field(
        None, description="One of the type's statuses in the target state; its default when left out."
    )


class StartMove(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}]})
    status_id: UUID | None = _status_choice()


class WinMove(StartMove):
    pass


class LoseMove(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"lost_reason_id": "0192f0a8-0000-7000-8000-000000000004"}]},
    )
    lost_reason_id: UUID | None = Field(None, description="Required: why it was lost.")
    status_id: UUID | None = _status_choice()


class CancelMove(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}]})
    cancellation_reason_id: UUID | None = None
    status_id: UUID | None = _status_choice()


class Transition(Input):
    """Any move the type allows, to a status in the same or the next state."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"status_id": "0192f0a8-0000-7000-8000-000000000002"}]},
    )
    status_id: UUID
    lost_reason_id: UUID | None = Field(None, description="Required when the status is a lost one.")
    cancellation_reason_id: UUID | None = None


class Conversion(BaseModel):
    """What a lead became: its contact and account (made when it named none) and its opportunity."""

    lead_id: UUID
    contact_id: UUID
    account_id: UUID
    opportunity_id: UUID


class ConversionProblem(Problem):
    """A refused conversion; a lead converted before says what it became."""

    conversion: Conversion | None = Field(
        None,
        description="With `already-converted`: the contact, account and opportunity the lead became.",
    )
