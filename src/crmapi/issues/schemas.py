from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, model_validator

from crmapi.issues.forms import FormFieldRead
from crmapi.kit.pagination import PageParams
from crmapi.kit.scalars import Input, Omittable, Timestamp, trimmed

Subject = Annotated[str, trimmed(200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]
CommentText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
Priority = Annotated[int, Field(ge=1, le=10, strict=True, description="1 (highest) to 10.")]
Answers = Annotated[
    dict[str, Any],
    Field(
        max_length=100,
        description="Answers to the type's form by field key: text, numbers, `{amount, currency}` for "
        "money, ISO dates, option codes (a list for multi-select), ids of contacts, documents of the "
        "account and uploads (`POST /v1/attachments`) for reference fields.",
        examples=[{"requested_limit": {"amount": "25000.00", "currency": "PLN"}, "terms": "NET30"}],
    ),
]
ANSWER_PREFIX = "answer."
CODE_PREFIX = "ISS-"


class _IssueFields(Input):
    description: LongText | None = None
    contact_id: UUID | None = Field(None, description="The contact it is about, one the caller can see.")
    priority: Priority | None = Field(
        None, description="Staff only; the type's default (or 5) when left out."
    )
    business_unit_id: UUID | None = Field(None, description="Staff only; the unit whose members may take it.")
    assigned_member_id: UUID | None = Field(None, description="Staff only; the staff member working on it.")


class IssueCreate(_IssueFields):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type_id": "0192f0a8-0000-7000-8000-000000000041",
                    "subject": "Credit limit for the spring season",
                    "answers": {
                        "requested_limit": {"amount": "25000.00", "currency": "PLN"},
                        "has_references": False,
                    },
                }
            ]
        },
    )
    type_id: UUID | None = Field(
        None, description="The issue type; the organisation's default when left out."
    )
    subject: Subject | None = Field(None, description="The type's name when left out.")
    answers: Answers = Field(default_factory=dict)


class IssueUpdate(_IssueFields):
    """Merge semantics; null clears. `answers` merges by key (null removes an answer) and the
    result is checked again against the form version the issue was filed with. Staff only."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"priority": 2}]})
    subject: Omittable[Subject] = None
    priority: Omittable[Priority] = None
    answers: Omittable[Answers] = None


class IssueRead(BaseModel):
    """Every field but id is optional: `fields` may leave any of them out."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0192f0a8-0000-7000-8000-000000000051",
                    "code": "ISS-42",
                    "number": 42,
                    "type_id": "0192f0a8-0000-7000-8000-000000000041",
                    "form_version": 1,
                    "state": "open",
                    "subject": "Credit limit for the spring season",
                    "answers": {"requested_limit": {"amount": "25000.00", "currency": "PLN"}},
                    "logged_minutes": 45,
                }
            ]
        },
    )
    id: UUID
    code: str | None = Field(None, description="ISS-<number>, sequential in the organisation.")
    number: int | None = None
    type_id: UUID | None = None
    form_version: int | None = Field(None, description="The version of the type's form it answers.")
    status_id: UUID | None = None
    state: str | None = None
    cancellation_reason_id: UUID | None = None
    account_id: UUID | None = None
    contact_id: UUID | None = None
    subject: str | None = None
    description: str | None = None
    priority: int | None = None
    answers: dict[str, Any] | None = None
    form: list[FormFieldRead] | None = Field(
        None, description="One issue's read only: the fields of its form version, labels as filed."
    )
    business_unit_id: UUID | None = None
    assigned_member_id: UUID | None = None
    owner_member_id: UUID | None = Field(None, description="Who filed it: a staff member or a customer.")
    filed_by_customer: bool | None = None
    logged_minutes: int | None = Field(None, description="The work logged on it, in minutes.")
    start_at: datetime | None = None
    expected_completion_at: datetime | None = None
    completed_at: datetime | None = None
    overdue: bool | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None


class IssueListQuery(PageParams):
    """`answer.<key>=<value>` narrows to issues answering a field so (a select's option code, one
    of a multi-select's, a number, a date, true or false), found through the answers' index;
    `answer.<key>.from` / `.to` bound a number or date. Answer filters need `type_id`."""

    model_config = ConfigDict(extra="forbid")
    type_id: UUID | None = None
    status_id: UUID | None = None
    state: Annotated[str, StringConstraints(max_length=64)] | None = None
    account_id: UUID | None = None
    contact_id: UUID | None = None
    assigned_member_id: UUID | None = None
    owner_member_id: UUID | None = None
    business_unit_id: UUID | None = None
    follower_member_id: UUID | None = Field(None, description="Only the issues this member follows.")
    priority: Annotated[int, Field(ge=1, le=10)] | None = None
    open: bool | None = Field(None, description="Only those not (or only those) closed or cancelled.")
    created_from: Timestamp | None = None
    created_to: Timestamp | None = None
    q: Annotated[str, trimmed(200)] | None = Field(None, description="Subject or number.")
    deleted: Literal["only"] | None = Field(None, description="`only`: the removed ones (issues.manage).")
    _answers: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _take_answer_parameters(cls, data: Any, handler: Any) -> Any:
        taken: dict[str, str] = {}
        if isinstance(data, dict):
            taken = {k[len(ANSWER_PREFIX) :]: v for k, v in data.items() if k.startswith(ANSWER_PREFIX)}
            data = {k: v for k, v in data.items() if not k.startswith(ANSWER_PREFIX)}
        model = handler(data)
        model._answers = taken
        return model

    @property
    def answer_filters(self) -> dict[str, str]:
        """The `answer.<key>[.from|.to]` parameters, by name without the prefix."""
        return self._answers


class IssueMove(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}]})
    status_id: UUID | None = Field(
        None, description="One of the type's statuses in the target state; its default when left out."
    )


class IssueCancel(IssueMove):
    cancellation_reason_id: UUID | None = None


class IssueTransition(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"status_id": "0192f0a8-0000-7000-8000-000000000028"}]},
    )
    status_id: UUID
    cancellation_reason_id: UUID | None = None


class CommentCreate(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"body": "Called the customer; references check out."}]},
    )
    body: CommentText
    internal: bool = Field(False, strict=True, description="Staff only: hidden from customers.")


class CommentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    issue_id: UUID
    author_member_id: UUID
    body: str
    internal: bool
    created_at: datetime


class WorkLogCreate(Input):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"minutes": 45, "note": "Checked the references"}]}
    )
    minutes: int = Field(ge=1, le=24 * 60, strict=True, description="Time spent, at most a day an entry.")
    worked_at: Timestamp | None = Field(None, description="When the work was done; now when left out.")
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2_000)] | None = None


class WorkLogRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    issue_id: UUID
    member_id: UUID
    minutes: int
    worked_at: datetime
    note: str | None = None
    created_at: datetime


class WorkLogPage(BaseModel):
    """The entries, newest first, with the issue's totals."""

    items: list[WorkLogRead]
    total_minutes: int
    by_member: dict[str, int] = Field(description="Minutes by member id.")


class FollowerAdd(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}]})
    member_id: UUID | None = Field(
        None, description="Staff may add another member who can see the issue; the caller when left out."
    )


class FollowerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    member_id: UUID
    created_at: datetime
