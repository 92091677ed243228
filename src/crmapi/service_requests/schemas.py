from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from crmapi.kit.pagination import PageParams
from crmapi.kit.scalars import Input, Omittable, Timestamp, trimmed

Subject = Annotated[str, trimmed(200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
SearchText = Annotated[str, trimmed(200)]
Level = Annotated[int, Field(ge=1, le=5, strict=True, description="1 (highest) to 5.")]
STAGES = ("responded", "temporarily_resolved", "finally_resolved")
Stage = Literal["responded", "temporarily_resolved", "finally_resolved"]


class _RequestFields(Input):
    description: LongText | None = None
    category_id: UUID | None = Field(None, description="A service request category the type allows.")
    contact_id: UUID | None = Field(None, description="The contact who asked; set once.")
    business_unit_id: UUID | None = Field(None, description="The unit whose members may accept it.")
    assigned_member_id: UUID | None = Field(None, description="The staff member handling it.")
    start_at: Timestamp | None = Field(None, description="When work starts; now when left out.")


class ServiceRequestCreate(_RequestFields):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subject": "Router drops the connection every hour",
                    "account_id": "0192f0a8-0000-7000-8000-000000000001",
                    "urgency": 2,
                    "impact": 3,
                }
            ]
        },
    )
    type_id: UUID | None = Field(
        None, description="The request's type; the organisation's default when left out."
    )
    subject: Subject
    account_id: UUID = Field(description="The customer account it is for (one the caller can see).")
    urgency: Level
    impact: Level


class ServiceRequestUpdate(_RequestFields):
    """Merge semantics; null clears. Type and account never change (409), the contact only while
    empty (409); urgency or impact give a new priority; completed and cancelled requests are
    read-only."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"urgency": 1}]})
    type_id: Omittable[UUID] = None
    account_id: Omittable[UUID] = None
    subject: Omittable[Subject] = None
    urgency: Omittable[Level] = None
    impact: Omittable[Level] = None
    start_at: Omittable[Timestamp] = Field(None, description="When work starts.")


class ServiceRequestRead(BaseModel):
    """Every field but id is optional: `fields` may leave any of them out."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0192f0a8-0000-7000-8000-000000000014",
                    "number": 5,
                    "type_id": "0192f0a8-0000-7000-8000-000000000027",
                    "status_id": "0192f0a8-0000-7000-8000-000000000028",
                    "state": "responded",
                    "subject": "Router drops the connection every hour",
                    "urgency": 2,
                    "impact": 3,
                    "priority": 4,
                    "account_id": "0192f0a8-0000-7000-8000-000000000007",
                    "contact_id": "0192f0a8-0000-7000-8000-000000000005",
                    "owner_member_id": "0192f0a8-0000-7000-8000-000000000041",
                    "start_at": "2026-11-30T09:00:00Z",
                    "expected_completion_at": "2026-12-14T09:00:00Z",
                    "overdue": False,
                    "response": "We replace the router on Tuesday.",
                    "responded_at": "2026-12-02T10:15:00Z",
                    "created_at": "2026-11-30T09:00:00Z",
                    "updated_at": "2026-12-02T10:15:00Z",
                    "version": 3,
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
    cancellation_reason_id: UUID | None = None
    subject: str | None = None
    description: str | None = None
    urgency: int | None = None
    impact: int | None = None
    priority: int | None = Field(None, description="1 (highest) to 10, from urgency and impact.")
    contact_id: UUID | None = None
    account_id: UUID | None = None
    business_unit_id: UUID | None = None
    assigned_member_id: UUID | None = None
    owner_member_id: UUID | None = None
    submitted_by_member_id: UUID | None = Field(
        None, description="The customer member who submitted it on its own account; staff own nothing of it."
    )
    accepted_at: datetime | None = Field(None, description="When a member took it.")
    start_at: datetime | None = None
    expected_completion_at: datetime | None = None
    completed_at: datetime | None = None
    overdue: bool | None = Field(None, description="Open and past its expected completion.")
    response_category_id: UUID | None = None
    response: str | None = None
    responded_at: datetime | None = None
    response_accepted_at: datetime | None = None
    temporary_resolution_category_id: UUID | None = None
    temporary_resolution: str | None = None
    temporarily_resolved_at: datetime | None = None
    temporary_resolution_accepted_at: datetime | None = None
    final_resolution_category_id: UUID | None = None
    final_resolution: str | None = None
    finally_resolved_at: datetime | None = None
    final_resolution_accepted_at: datetime | None = None
    awaiting_acceptance_of: str | None = Field(
        None,
        description="The state whose answer waits for the contact's acceptance; the request "
        "moves on once it is accepted.",
        examples=["responded"],
    )
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None
    feedback_link: str | None = Field(
        None,
        description="Only in the answer of the move that completed it, to a caller with "
        "`service_requests.manage`: the path of the contact's feedback link (the outbox event "
        "carries it for notifications).",
        examples=["/v1/feedback-links/lt_YmFy..."],
    )
    acceptance_link: str | None = Field(
        None,
        description="Only in the answer of the move that asked the contact to accept, to a caller "
        "with `service_requests.manage`: the path of the contact's link (the outbox event carries "
        "it for notifications).",
        examples=["/v1/acceptances/lt_Zm9v..."],
    )


class ServiceRequestListQuery(PageParams):
    model_config = ConfigDict(extra="forbid")
    type_id: UUID | None = None
    status_id: UUID | None = None
    state: Annotated[str, StringConstraints(max_length=64)] | None = None
    category_id: UUID | None = None
    contact_id: UUID | None = None
    account_id: UUID | None = None
    assigned_member_id: UUID | None = None
    owner_member_id: UUID | None = None
    business_unit_id: UUID | None = None
    priority: Annotated[int, Field(ge=1, le=10)] | None = None
    open: bool | None = Field(None, description="Only those not (or only those) completed or cancelled.")
    unassigned: bool | None = Field(None, description="Only those with no (or with an) assigned member.")
    awaiting_acceptance: bool | None = Field(None, description="Only those waiting for (or not) the contact.")
    submitted_by_customer: bool | None = Field(
        None, description="Only those a customer submitted (or only those staff opened)."
    )
    overdue: bool | None = Field(
        None, description="Only open requests past (or not past) their expected completion."
    )
    created_from: Timestamp | None = None
    created_to: Timestamp | None = None
    q: SearchText | None = Field(None, description="Subject or number.")
    deleted: Literal["only"] | None = Field(
        None, description="`only`: the removed ones (service_requests.manage)."
    )


def _status_choice() -> object:
    return Field(
        None, description="One of the type's statuses in the target state; its default when left out."
    )


class RequestMove(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}]})
    status_id: UUID | None = _status_choice()  # type: ignore[assignment]


class RequestCancel(RequestMove):
    cancellation_reason_id: UUID | None = None


class RequestAnswer(RequestMove):
    """A response or a resolution: its category (of the matching tree) and what was said."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "category_id": "0192f0a8-0000-7000-8000-000000000003",
                    "text": "We replaced the router's power supply.",
                }
            ]
        },
    )
    category_id: UUID = Field(description="A category of the response / temporary / final resolution tree.")
    text: LongText | None = Field(None, description="What the customer is told.")


class RequestTransition(Input):
    """Any move the type allows; entering a response or resolution state needs its category."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"status_id": "0192f0a8-0000-7000-8000-000000000002"}]},
    )
    status_id: UUID
    category_id: UUID | None = None
    text: LongText | None = None
    cancellation_reason_id: UUID | None = None


class AssigneeLoad(BaseModel):
    member_id: UUID
    open: int


class PriorityLoad(BaseModel):
    priority: int
    open: int


class Dashboard(BaseModel):
    """Each number is what the list answers with the matching filters (and `count=true`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "total": 42,
                    "open": 17,
                    "overdue": 3,
                    "unassigned": 4,
                    "from_customers": 2,
                    "by_state": {"pending": 6, "in_progress": 8, "responded": 3, "completed": 25},
                    "by_assignee": [{"member_id": "0192f0a8-0000-7000-8000-000000000001", "open": 9}],
                    "by_priority": [{"priority": 2, "open": 5}, {"priority": 5, "open": 12}],
                }
            ]
        }
    )
    total: int = Field(description="Live requests (`GET /v1/service-requests`).")
    open: int = Field(description="Not completed or cancelled (`open=true`).")
    overdue: int = Field(description="Open past their expected completion (`overdue=true`).")
    unassigned: int = Field(description="Open with nobody assigned (`open=true&unassigned=true`).")
    from_customers: int = Field(
        description="Open ones customers submitted (`open=true&submitted_by_customer=true`)."
    )
    by_state: dict[str, int] = Field(description="Requests per state (`state=`).")
    by_assignee: list[AssigneeLoad] = Field(description="Open requests per assignee, busiest first.")
    by_priority: list[PriorityLoad] = Field(description="Open requests per priority.")


class AcceptanceRead(BaseModel):
    """What a contact accepts: the request and the answer waiting for it."""

    service_request_id: UUID
    number: int
    subject: str
    stage: str = Field(examples=["responded"])
    category: str = Field(description="The answer's category name.", examples=["Remote fix"])
    text: str | None = None
    expires_at: datetime | None = Field(None, description="Until when the link can be used.")
    accepted_at: datetime | None = None


class IssuedLink(BaseModel):
    """A contact's link issued again; the links issued before it for the same purpose no longer
    work (410 `link-expired`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "service_request_id": "0190f2a8-7c3e-7000-8000-000000000001",
                    "purpose": "acceptance",
                    "expires_at": "2026-12-08T09:00:00Z",
                    "link": "/v1/acceptances/lt_Zm9v...",
                }
            ]
        }
    )

    service_request_id: UUID
    purpose: Literal["acceptance", "feedback"]
    expires_at: datetime = Field(description="Until when the new link can be used.")
    link: str | None = Field(
        None,
        description="The path of the new link, to a caller with `service_requests.manage` only "
        "(who may accept or rate for the contact anyway); the outbox event carries it for "
        "notifications to send.",
        examples=["/v1/acceptances/lt_Zm9v..."],
    )
