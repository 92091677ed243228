from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from crmapi.kit.pagination import PageParams
from crmapi.kit.scalars import Input, Omittable, Timestamp, trimmed

Subject = Annotated[str, trimmed(200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
Priority = Annotated[int, Field(ge=1, le=10, strict=True, description="1 is the highest.")]
SearchText = Annotated[str, trimmed(200)]


class _WorkFields(Input):
    category_id: UUID | None = Field(None, description="An activity category the type allows.")
    notes: LongText | None = None
    priority: Priority | None = Field(
        None, description="1 (highest) to 10; the type's default when left out."
    )
    business_unit_id: UUID | None = Field(None, description="The unit whose members may accept it.")
    assigned_member_id: UUID | None = Field(None, description="The staff member carrying it out.")
    start_at: Timestamp | None = Field(None, description="When it starts; now when left out.")
    reminder_at: Timestamp | None = Field(None, description="When to remind the assignee (or owner).")


class _ActivityFields(_WorkFields):
    contact_id: UUID | None = Field(None, description="The contact it is for; set once.")
    account_id: UUID | None = Field(None, description="The account it is for; set once.")
    lead_id: UUID | None = Field(None, description="The lead it belongs to; set once.")
    opportunity_id: UUID | None = Field(None, description="The opportunity it belongs to; set once.")
    service_request_id: UUID | None = Field(None, description="The service request it belongs to; set once.")


class ActivitySchedule(_WorkFields):
    """An activity planned from a lead or a service request: it takes the record's contact,
    account and reference; its type must be one the record's type allows."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"subject": "Replace the router", "start_at": "2026-12-02T08:00:00Z"}]
        },
    )
    type_id: UUID | None = Field(
        None,
        description="The activity type; left out: the default activity type, or the first the record's "
        "type allows when it does not allow the default.",
    )
    subject: Subject


class ActivityCreate(_ActivityFields):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"subject": "Call about the offer", "reminder_at": "2026-12-01T09:00:00Z", "priority": 3}
            ]
        },
    )
    type_id: UUID | None = Field(
        None, description="The activity type; the organisation's default when left out."
    )
    subject: Subject


class ActivityUpdate(_ActivityFields):
    """Merge semantics; null clears. The type never changes (409), what it belongs to only while
    empty (409); a completed or cancelled activity is read-only."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"notes": "Asked for a callback"}]}
    )
    type_id: Omittable[UUID] = None
    subject: Omittable[Subject] = None
    start_at: Omittable[Timestamp] = Field(None, description="When it starts.")


class ActivityRead(BaseModel):
    """Every field but id is optional: `fields` may leave any of them out."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0192f0a8-0000-7000-8000-000000000013",
                    "number": 31,
                    "type_id": "0192f0a8-0000-7000-8000-000000000025",
                    "status_id": "0192f0a8-0000-7000-8000-000000000026",
                    "state": "pending",
                    "subject": "Call about the offer",
                    "priority": 3,
                    "account_id": "0192f0a8-0000-7000-8000-000000000007",
                    "opportunity_id": "0192f0a8-0000-7000-8000-000000000012",
                    "owner_member_id": "0192f0a8-0000-7000-8000-000000000041",
                    "start_at": "2026-11-30T09:00:00Z",
                    "expected_completion_at": "2026-12-14T09:00:00Z",
                    "overdue": False,
                    "reminder_at": "2026-12-01T09:00:00Z",
                    "created_at": "2026-11-30T09:00:00Z",
                    "updated_at": "2026-11-30T09:00:00Z",
                    "version": 1,
                }
            ]
        },
    )
    id: UUID
    number: int | None = None
    type_id: UUID | None = None
    status_id: UUID | None = None
    state: str | None = Field(None, examples=["pending"])
    category_id: UUID | None = None
    cancellation_reason_id: UUID | None = None
    subject: str | None = None
    notes: str | None = None
    priority: int | None = None
    contact_id: UUID | None = None
    account_id: UUID | None = None
    lead_id: UUID | None = None
    opportunity_id: UUID | None = None
    service_request_id: UUID | None = None
    business_unit_id: UUID | None = None
    assigned_member_id: UUID | None = None
    owner_member_id: UUID | None = None
    accepted_at: datetime | None = None
    start_at: datetime | None = None
    expected_completion_at: datetime | None = None
    completed_at: datetime | None = None
    overdue: bool | None = Field(None, description="Open and past its expected completion.")
    reminder_at: datetime | None = None
    reminder_closed_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None


class ActivityListQuery(PageParams):
    model_config = ConfigDict(extra="forbid")
    type_id: UUID | None = None
    status_id: UUID | None = None
    state: Annotated[str, StringConstraints(max_length=64)] | None = None
    contact_id: UUID | None = None
    account_id: UUID | None = None
    lead_id: UUID | None = None
    opportunity_id: UUID | None = None
    service_request_id: UUID | None = None
    assigned_member_id: UUID | None = None
    owner_member_id: UUID | None = None
    business_unit_id: UUID | None = None
    created_from: Timestamp | None = None
    created_to: Timestamp | None = None
    q: SearchText | None = Field(None, description="Subject or number.")
    deleted: Literal["only"] | None = Field(None, description="`only`: the removed ones (activities.manage).")


def _status_choice() -> Any:
    return Field(
        None, description="One of the type's statuses in the target state; its default when left out."
    )


class ActivityMove(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}]})
    status_id: UUID | None = _status_choice()


class ActivityCancel(ActivityMove):
    cancellation_reason_id: UUID | None = None


class ActivityTransition(Input):
    """Any move the type allows."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"status_id": "0192f0a8-0000-7000-8000-000000000002"}]},
    )
    status_id: UUID
    cancellation_reason_id: UUID | None = None


# The services an activity provides and the time spent on each.

_LINE = "0192f0a8-0000-7000-8000-000000000031"
_SERVICE = "0192f0a8-0000-7000-8000-000000000021"
Minutes = Annotated[
    int,
    Field(
        ge=0,
        le=100_000,
        strict=True,
        description="Time spent, in minutes: at least the service's `minimum_minutes`.",
    ),
]


class ActivityServiceCreate(Input):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"service_id": _SERVICE, "minutes": 45}]}
    )
    service_id: UUID = Field(
        description="An active service the activity's type allows (any, when it lists none)."
    )
    minutes: Minutes


class ActivityServiceUpdate(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"minutes": 60}]})
    minutes: Minutes


class ActivityServiceRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": _LINE,
                    "activity_id": "0192f0a8-0000-7000-8000-000000000011",
                    "service_id": _SERVICE,
                    "minutes": 45,
                    "automatic": False,
                    "created_at": "2026-11-30T09:00:00Z",
                    "updated_at": "2026-11-30T09:30:00Z",
                }
            ]
        },
    )
    id: UUID
    activity_id: UUID
    service_id: UUID
    minutes: int
    automatic: bool = Field(description="Added because the activity's type starts with the service.")
    created_at: datetime
    updated_at: datetime
