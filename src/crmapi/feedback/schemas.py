from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from crmapi.kit.pagination import PageParams
from crmapi.kit.scalars import Input, Timestamp

Rating = Annotated[int, Field(ge=1, le=5, strict=True, description="1 (poor) to 5 (excellent).")]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]


class FeedbackCreate(Input):
    """An empty comment is no comment."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"rating": 5, "comment": "Fixed the same day, thank you."}]},
    )
    rating: Rating
    comment: Comment | None = None

    @field_validator("comment")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None


class FeedbackRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    service_request_id: UUID
    rating: int = Field(examples=[5])
    comment: str | None = None
    via: str = Field(description="`customer` (signed in) or `link`.", examples=["link"])
    member_id: UUID | None = Field(None, description="The signed-in customer who gave it.")
    created_at: datetime


class FeedbackLinkRead(BaseModel):
    """What a feedback link is about."""

    service_request_id: UUID
    number: int
    subject: str
    completed_at: datetime | None = None
    expires_at: datetime
    rated: bool = Field(description="Feedback was already given (another way).")


class FeedbackListQuery(PageParams):
    model_config = ConfigDict(extra="forbid")
    service_request_id: UUID | None = None
    rating: Annotated[int, Field(ge=1, le=5)] | None = None
    created_from: Timestamp | None = None
    created_to: Timestamp | None = None


class SummaryQuery(Input):
    model_config = ConfigDict(extra="forbid")
    created_from: Timestamp | None = Field(None, description="Feedback given at or after this time.")
    created_to: Timestamp | None = Field(None, description="Feedback given before this time.")


class Stats(BaseModel):
    count: int
    average: float | None = Field(None, description="Mean rating, two decimals; null without feedback.")
    distribution: dict[str, int] = Field(
        description="How many of each rating, keys '1' to '5'.",
        examples=[{"1": 0, "2": 0, "3": 1, "4": 2, "5": 7}],
    )


class TypeStats(Stats):
    type_id: UUID
    name: str


class CategoryStats(Stats):
    category_id: UUID | None = Field(None, description="Null: requests without a category.")
    name: str | None = None


class AssigneeStats(Stats):
    member_id: UUID | None = Field(None, description="Null: requests nobody was assigned.")


class MonthStats(Stats):
    month: str = Field(description="YYYY-MM in the caller's time zone.", examples=["2026-11"])


class FeedbackSummary(BaseModel):
    time_zone: str = Field(description="The caller's time zone the months are counted in.")
    overall: Stats
    by_type: list[TypeStats]
    by_category: list[CategoryStats]
    by_assignee: list[AssigneeStats]
    by_month: list[MonthStats]
