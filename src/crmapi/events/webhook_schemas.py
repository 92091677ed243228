"""Webhook endpoints, their deliveries and replays as the API takes and answers them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from crmapi.events.catalogue import KIND_NAMES, unknown
from crmapi.kit.pagination import PageParams
from crmapi.kit.scalars import Input, Omittable, distinct

URL = Annotated[str, Field(min_length=8, max_length=2048, examples=["https://erp.example.com/crm-events"])]


def _known_types(values: list[str]) -> list[str]:
    distinct(values)
    if wrong := unknown(values):
        raise ValueError(f"not an event type of GET /v1/event-types, `<kind>.*` or `*`: {', '.join(wrong)}")
    return values


def _known_kinds(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    distinct(values)
    if wrong := sorted(set(values) - set(KIND_NAMES)):
        raise ValueError(f"unknown kinds: {', '.join(wrong)}")
    return values


EventTypes = Annotated[
    list[str],
    Field(min_length=1, max_length=200, examples=[["account.*", "service_request.completed"]]),
    AfterValidator(_known_types),
]
Kinds = Annotated[
    list[str] | None, Field(max_length=100, examples=[["account"]]), AfterValidator(_known_kinds)
]


class EndpointCreate(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"url": "https://erp.example.com/crm-events", "event_types": ["account.*"]}]
        },
    )
    url: URL
    event_types: EventTypes
    description: str | None = Field(None, max_length=500)
    kinds: Kinds = Field(None, description="Only events about these kinds of record.")
    account_id: UUID | None = Field(
        None,
        description="Only events about this account and the records on it (its contacts' links, "
        "opportunities, service requests, ...).",
    )
    enabled: bool = True


class EndpointUpdate(Input):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"enabled": True}, {"event_types": ["*"]}]}
    )
    url: Omittable[URL] = None
    event_types: Omittable[EventTypes] = None
    description: str | None = Field(None, max_length=500)
    kinds: Kinds = None
    account_id: UUID | None = None
    enabled: Omittable[bool] = Field(
        None, description="Turning an endpoint on again clears its failure count."
    )


class EndpointRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    url: str | None = None
    description: str | None = None
    event_types: list[str] | None = None
    kinds: list[str] | None = None
    account_id: UUID | None = None
    enabled: bool | None = None
    disabled_reason: str | None = Field(None, examples=["Deliveries given up in a row: 5."])
    failures_in_a_row: int | None = Field(
        None, description="Deliveries given up in a row since the last success."
    )
    previous_secret_until: datetime | None = Field(
        None,
        description="Until then, events also carry a signature made with the secret before the last "
        "rotation.",
    )
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None


class EndpointWithSecret(EndpointRead):
    secret: str = Field(
        description="The signing secret, shown only in this answer: keep it to verify `Crmapi-Signature`.",
        examples=["whsec_3q2-7kO1m0l9n4h6f5t8r7e2w1q0a9s8d7f6g5h4j3k"],
    )


class SecretRotation(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"overlap_seconds": 86400}]})
    overlap_seconds: int = Field(
        86_400,
        ge=0,
        le=7 * 86_400,
        description="How long events still carry a second signature made with the old secret (default "
        "a day).",
    )


class AttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    number: int
    at: datetime
    status_code: int | None = Field(None, description="The receiver's answer; none when it gave none.")
    error: str | None = Field(None, examples=["Timed out after 10 s."])
    latency_ms: int


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    event_id: UUID | None = None
    seq: int | None = None
    type: str | None = None
    status: Literal["pending", "delivered", "failed"] | None = None
    attempts: int | None = None
    next_attempt_at: datetime | None = Field(None, description="When a pending delivery is tried next.")
    last_status_code: int | None = None
    last_error: str | None = None
    last_latency_ms: int | None = None
    replay: bool | None = Field(None, description="Made by a replay rather than by the event itself.")
    created_at: datetime | None = None
    delivered_at: datetime | None = None


class DeliveryWithAttempts(DeliveryRead):
    attempts_made: list[AttemptRead] = Field(description="Every attempt, first first.")


class DeliveryListQuery(PageParams):
    status: Literal["pending", "delivered", "failed"] | None = Field(
        None, description="Only deliveries in this state.", examples=["failed"]
    )


class Replay(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"from": "2026-12-01T00:00:00Z", "to": "2026-12-02T00:00:00Z"}]},
        populate_by_name=True,
    )
    from_: datetime = Field(alias="from", description="Events that occurred at or after this time...")
    to: datetime = Field(description="...and before this one.")

    @model_validator(mode="after")
    def _ordered(self) -> Replay:
        if self.to <= self.from_:
            raise ValueError("`to` must be after `from`")
        return self


class ReplayResult(BaseModel):
    deliveries: int = Field(description="Deliveries made: the range's events the endpoint subscribes to.")
    first_seq: int | None = None
    last_seq: int | None = None


class EventType(BaseModel):
    type: str = Field(examples=["account.updated"])
    kind: str = Field(examples=["account"])
    description: str
    data_schema: str | None = Field(
        None,
        description="The schema of the event's `data` in this document's components (the record as "
        "`GET` answers it); none for kinds that carry no record.",
        examples=["#/components/schemas/AccountRead"],
    )


class EventTypeList(BaseModel):
    items: list[EventType]


class WebhookEvent(BaseModel):
    """The body of every webhook request: the event, and the record as the API answers it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c11",
                    "type": "account.updated",
                    "occurred_at": "2026-12-07T10:15:00.123456Z",
                    "organisation_id": "0192f0a8-0000-7000-8000-000000000001",
                    "seq": 1521,
                    "kind": "account",
                    "record_id": "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c01",
                    "operation": "updated",
                    "version": 4,
                    "fields": ["credit_limit"],
                    "data": {"id": "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c01", "name": "Nowak Trading"},
                }
            ]
        }
    )
    id: UUID = Field(
        description="The event's id: the same on every retry and redelivery (the idempotency key)."
    )
    type: str
    occurred_at: datetime
    organisation_id: UUID
    seq: int
    kind: str
    record_id: UUID
    operation: str
    version: int | None = None
    fields: list[str] | None = None
    data: dict[str, Any] | None = Field(
        None,
        description="The record as `GET` answers it when the delivery was made; none for kinds without one.",
    )
