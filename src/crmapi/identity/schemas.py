from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from crmapi.kit.pagination import PageParams
from crmapi.kit.scalars import Currency, Email, Input, Name, Omittable, Password, TimeZone

MemberKind = Literal["staff", "customer"]
MemberStatus = Literal["active", "suspended"]


class TokenRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.", examples=[3600])
    refresh_token: str


class RefreshRequest(Input):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=1, max_length=512)


class PasswordChange(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"current_password": "s3cret-pass", "new_password": "my-own-pass-2026"}]
        },
    )
    current_password: str = Field(min_length=1, max_length=512)
    new_password: Password


class PasswordReset(Input):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"new_password": "s3cret-pass"}]}
    )
    new_password: Password


class MemberCreate(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"email": "ola@example.com", "password": "s3cret-pass", "kind": "staff"}]
        },
    )
    email: Email
    password: Password | None = Field(None, description="Used only when the email has no user yet.")
    kind: MemberKind = "staff"
    display_name: Name | None = None
    time_zone: TimeZone = "UTC"


class MemberUpdate(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"status": "suspended"}]})
    status: Omittable[MemberStatus] = None
    time_zone: Omittable[TimeZone] = None
    display_name: Omittable[Name] = None


class MemberRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    user_id: UUID | None = None
    email: str | None = None
    kind: MemberKind | None = None
    status: MemberStatus | None = None
    display_name: str | None = None
    time_zone: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None


class OrganisationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    name: str | None = None
    default_currency: str | None = None
    time_zone: str | None = None
    settings: dict[str, Any] | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None


class OrganisationUpdate(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Acme sp. z o.o.", "default_currency": "PLN"}]},
    )
    name: Omittable[Name] = None
    default_currency: Omittable[Currency] = None
    time_zone: Omittable[TimeZone] = None
    unit_visibility: Omittable[bool] = Field(
        None,
        strict=True,
        description="Staff also see the records of their business units and the units below them "
        "(kept in `settings.unit_visibility`; off until turned on).",
    )
    link_token_seconds: Omittable[int] = Field(
        None,
        strict=True,
        ge=60,
        le=90 * 86_400,
        description="How long a link sent to a customer (accepting a response, giving feedback) "
        "stays valid, in seconds: 60 to 90 days (kept in `settings.link_token_seconds`; 7 days "
        "until set).",
    )
    webhooks_private_addresses: Omittable[bool] = Field(
        None,
        strict=True,
        description="Webhook endpoints may be private or loopback addresses (an ERP on the "
        "organisation's own premises); off until turned on (kept in "
        "`settings.webhooks_private_addresses`).",
    )


class MeRead(BaseModel):
    organisation_id: UUID
    member_id: UUID | None
    api_key_id: UUID | None
    kind: str
    time_zone: str
    capabilities: list[str]


class MemberListQuery(PageParams):
    kind: MemberKind | None = None
    status: MemberStatus | None = None
