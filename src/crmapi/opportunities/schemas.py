from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from crmapi.kit.pagination import PageParams
from crmapi.kit.scalars import (
    AmountSum,
    Day,
    Input,
    Money,
    MoneyInput,
    Name,
    Omittable,
    ShortText,
    Timestamp,
    trimmed,
)

LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
Code = Annotated[str, trimmed(64)]
Tag = Annotated[str, trimmed(64)]
Percent = Annotated[int, Field(ge=0, le=100, strict=True)]
SearchText = Annotated[str, trimmed(200)]


class _OpportunityFields(Input):
    contact_id: UUID | None = Field(None, description="The contact it concerns; set once.")
    description: LongText | None = None
    source: Code | None = Field(None, description="A lead source code.", examples=["WEBSITE"])
    partner: ShortText | None = None
    amount: MoneyInput | None = Field(None, description="What they are willing to pay.")
    budget: MoneyInput | None = Field(None, description="Their budget for the implementation.")
    cost_conscious: Omittable[bool] = Field(None, strict=True)
    expected_close_date: Day | None = None
    alternative_close_date: Day | None = None
    interest_level: ShortText | None = Field(None, examples=["high"])
    probability: Percent | None = Field(None, description="Chance of winning, in percent.")
    objection: LongText | None = None
    decision_maker: ShortText | None = None
    next_step: ShortText | None = Field(None, examples=["Send the offer"])
    owner_member_id: Omittable[UUID] = Field(None, description="The creator when left out.")
    assigned_member_id: UUID | None = None
    business_unit_id: UUID | None = None
    tags: Omittable[list[Tag]] = Field(None, max_length=50)


class OpportunityCreate(_OpportunityFields):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "account_id": "0192f0a8-0000-7000-8000-000000000007",
                    "name": "Web shop, 40 seats",
                    "amount": {"amount": "48000.00", "currency": "PLN"},
                    "probability": 40,
                    "expected_close_date": "2027-02-15",
                }
            ]
        },
    )
    account_id: UUID
    type_id: UUID | None = Field(
        None, description="The organisation's default opportunity type when left out."
    )
    name: Name


class OpportunityUpdate(_OpportunityFields):
    """Merge semantics; null clears a field. Type and account never change (409); the contact
    only while empty; stages change through the moves."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"probability": 60}]})
    type_id: Omittable[UUID] = None
    account_id: Omittable[UUID] = None
    name: Omittable[Name] = None


class OpportunityRead(BaseModel):
    """Every field but id is optional: `fields` may leave any of them out."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0192f0a8-0000-7000-8000-000000000012",
                    "number": 8,
                    "type_id": "0192f0a8-0000-7000-8000-000000000023",
                    "status_id": "0192f0a8-0000-7000-8000-000000000024",
                    "state": "open",
                    "stage_entered_at": "2026-11-30T09:00:00Z",
                    "days_in_stage": 3,
                    "account_id": "0192f0a8-0000-7000-8000-000000000007",
                    "name": "Web shop, 40 seats",
                    "amount": {"amount": "48000.0000", "currency": "PLN"},
                    "probability": 40,
                    "expected_close_date": "2027-02-15",
                    "age_days": 12,
                    "owner_member_id": "0192f0a8-0000-7000-8000-000000000041",
                    "tags": [],
                    "created_at": "2026-11-30T09:00:00Z",
                    "updated_at": "2026-12-02T10:15:00Z",
                    "version": 2,
                }
            ]
        },
    )
    id: UUID
    number: int | None = None
    type_id: UUID | None = None
    status_id: UUID | None = Field(None, description="The stage.")
    state: str | None = Field(None, examples=["open"])
    stage_entered_at: datetime | None = None
    days_in_stage: int | None = Field(None, description="Whole days since the current stage began.")
    account_id: UUID | None = None
    contact_id: UUID | None = None
    lead_id: UUID | None = Field(None, description="The lead it was converted from.")
    name: str | None = None
    description: str | None = None
    source: str | None = None
    partner: str | None = None
    amount: Money | None = None
    budget: Money | None = None
    cost_conscious: bool | None = None
    expected_close_date: date | None = None
    alternative_close_date: date | None = None
    closed_at: datetime | None = None
    interest_level: str | None = None
    probability: int | None = None
    objection: str | None = None
    lost_reason_id: UUID | None = None
    won_reason: str | None = None
    decision_maker: str | None = None
    next_step: str | None = None
    age_days: int | None = Field(None, description="Whole days since it was created.")
    last_activity_at: datetime | None = None
    owner_member_id: UUID | None = None
    assigned_member_id: UUID | None = None
    business_unit_id: UUID | None = None
    tags: list[str] | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None


class OpportunityFilter(Input):
    type_id: UUID | None = None
    status_id: UUID | None = None
    state: Annotated[str, StringConstraints(max_length=64)] | None = None
    account_id: UUID | None = None
    lead_id: UUID | None = None
    owner_member_id: UUID | None = None
    assigned_member_id: UUID | None = None
    business_unit_id: UUID | None = None
    tag: Tag | None = None
    created_from: Timestamp | None = None
    created_to: Timestamp | None = None
    q: SearchText | None = Field(None, description="Name, number, decision maker or next step.")


class OpportunityListQuery(PageParams, OpportunityFilter):
    model_config = ConfigDict(extra="forbid")
    deleted: Literal["only"] | None = Field(
        None, description="`only`: the removed ones (opportunities.manage)."
    )


def _status_choice() -> Any:
    return Field(
        None, description="One of the type's statuses in the target state; its default when left out."
    )


class WinOpportunity(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"won_reason": "Best price"}]})
    status_id: UUID | None = _status_choice()
    won_reason: ShortText | None = None


class LoseOpportunity(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"lost_reason_id": "0192f0a8-0000-7000-8000-000000000004"}]},
    )
    status_id: UUID | None = _status_choice()
    lost_reason_id: UUID | None = Field(None, description="Required: why it was lost.")


class CancelOpportunity(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}]})
    status_id: UUID | None = _status_choice()


class OpportunityTransition(Input):
    """Any move the type allows: to another open stage, or to won, lost or cancelled."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"status_id": "0192f0a8-0000-7000-8000-000000000002"}]},
    )
    status_id: UUID
    lost_reason_id: UUID | None = Field(None, description="Required when the status is a lost one.")
    won_reason: ShortText | None = None


class OpportunityBoardQuery(OpportunityFilter):
    """The list's filters; with `type_id`, the columns are that type's statuses."""

    model_config = ConfigDict(extra="forbid")


class OpportunityCard(BaseModel):
    id: UUID
    number: int
    name: str
    account_id: UUID
    amount: Money | None
    probability: int | None
    expected_close_date: date | None
    assigned_member_id: UUID | None
    created_at: datetime
    tags: list[str]


class StageAmount(BaseModel):
    currency: str = Field(examples=["PLN"])
    amount: AmountSum = Field(description="The sum of the stage's amounts in this currency.")
    weighted: AmountSum = Field(description="Each amount times its probability, summed.")


class PipelineStage(BaseModel):
    status_id: UUID
    code: str
    name: str
    state: str
    position: int
    count: int = Field(description="Opportunities in the stage (with or without an amount).")
    amounts: list[StageAmount] = Field(description="Per currency, in currency order.")


class Pipeline(BaseModel):
    stages: list[PipelineStage] = Field(description="One per active status, in `position` order.")
