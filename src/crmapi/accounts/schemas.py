from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from crmapi.custom_fields.schemas import CustomBody, CustomQuery
from crmapi.kit.pagination import PageBody, PageParams
from crmapi.kit.scalars import (
    Input,
    Money,
    MoneyInput,
    Name,
    NonNegativeAmount,
    Omittable,
    ShortText,
    Timestamp,
    trimmed,
)

AccountStatus = Literal["active", "on_hold", "closed"]
Code = Annotated[str, trimmed(64)]
Label = Annotated[str, trimmed(64)]
Tag = Annotated[str, trimmed(64)]
SearchText = Annotated[str, trimmed(200)]


class _AccountFields(Input):
    code: Code | None = Field(None, description="The ERP's debtor number; unique in the organisation.")
    primary_contact_id: UUID | None = None
    classification: ShortText | None = Field(None, examples=["wholesale"])
    credit_rating: ShortText | None = Field(None, examples=["A"])
    credit_limit: MoneyInput | None = None
    payment_terms: ShortText | None = Field(None, examples=["30 days net"])
    payment_methods: Omittable[list[Label]] = Field(None, max_length=20, examples=[["transfer", "card"]])
    price_level: ShortText | None = Field(None, examples=["B"])
    status: Omittable[AccountStatus] = None
    is_retail_default: Omittable[bool] = Field(
        None,
        strict=True,
        description="The one account for customers without their own; setting it moves it here.",
    )
    owner_member_id: UUID | None = None
    business_unit_id: UUID | None = None
    tags: Omittable[list[Tag]] = Field(None, max_length=50)
    custom: Omittable[dict[str, Any]] = Field(None, max_length=100)
    sales_rep_codes: Omittable[list[Code]] = Field(
        None, max_length=50, description="The ERP sales-rep codes serving it (replace the set; [] clears it)."
    )


class AccountCreate(_AccountFields):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Hurtownia Nowak Sp. z o.o.",
                    "code": "D-10042",
                    "classification": "wholesale",
                    "credit_limit": {"amount": "25000.00", "currency": "PLN"},
                    "payment_terms": "30 days net",
                    "tags": ["key-account"],
                }
            ]
        },
    )
    name: Name
    contact_ids: list[UUID] = Field(
        default_factory=list, max_length=100, description="Other contacts to link besides the primary one."
    )


class AccountUpdate(_AccountFields):
    """Merge semantics: only the fields sent change; null clears an optional field."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"status": "on_hold"}]})
    name: Omittable[Name] = None


class AccountRead(BaseModel):
    """Every field but id is optional: `fields` may leave any of them out."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0192f0a8-0000-7000-8000-000000000007",
                    "number": 1042,
                    "code": "D-10042",
                    "name": "Hurtownia Nowak Sp. z o.o.",
                    "primary_contact_id": "0192f0a8-0000-7000-8000-000000000005",
                    "classification": "wholesale",
                    "credit_limit": {"amount": "25000.0000", "currency": "PLN"},
                    "payment_terms": "30 days net",
                    "payment_methods": ["transfer"],
                    "status": "active",
                    "is_retail_default": False,
                    "owner_member_id": "0192f0a8-0000-7000-8000-000000000041",
                    "tags": ["key-account"],
                    "custom": {},
                    "sales_rep_codes": ["PH01"],
                    "created_at": "2026-11-30T09:00:00Z",
                    "updated_at": "2026-12-02T10:15:00Z",
                    "version": 2,
                }
            ]
        },
    )
    id: UUID
    number: int | None = None
    code: str | None = None
    name: str | None = None
    primary_contact_id: UUID | None = None
    classification: str | None = None
    credit_rating: str | None = None
    credit_limit: Money | None = None
    payment_terms: str | None = None
    payment_methods: list[str] | None = None
    price_level: str | None = None
    status: AccountStatus | None = None
    is_retail_default: bool | None = None
    owner_member_id: UUID | None = None
    business_unit_id: UUID | None = None
    tags: list[str] | None = None
    custom: dict[str, Any] | None = None
    sales_rep_codes: list[str] | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None
    version: int | None = None


class AccountFilter(Input):
    status: AccountStatus | None = None
    classification: ShortText | None = None
    tag: list[Tag] = Field(
        default_factory=list, max_length=20, description="Every tag given must be present."
    )
    owner_member_id: UUID | None = None
    contact_id: UUID | None = Field(None, description="Accounts this contact is linked to.")
    code: Code | None = None
    created_from: Timestamp | None = None
    created_to: Timestamp | None = None
    q: SearchText | None = Field(
        None,
        description="Name, number, code, tax id, email, phone or address of the account or its contacts.",
    )
    deleted: Literal["only"] | None = Field(
        None, description="`only`: the deleted accounts (accounts.manage)."
    )
    overdue_days_gt: int | None = Field(
        None,
        ge=0,
        le=36_500,
        description="Accounts with an invoice still owing more than this many days past its due date.",
    )
    outstanding_gt: NonNegativeAmount | None = Field(
        None, description="Accounts owing more than this on their invoices, in any one currency."
    )


class AccountListQuery(PageParams, AccountFilter, CustomQuery):
    model_config = ConfigDict(extra="forbid")


class AccountSearch(PageBody, AccountFilter, CustomBody):
    """The list's filters, sort and paging as a JSON body."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"status": "active", "tag": ["key-account"], "limit": 50}]},
    )


class AccountContactLink(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"contact_id": "01a209e0-debb-7440-ae31-c8fd501a9992", "role": "buyer"}]
        },
    )
    contact_id: UUID
    role: ShortText | None = None


class AccountContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    contact_id: UUID
    display_name: str | None = None
    role: str | None = None
    is_primary: bool = False


class AssignmentCreate(Input):
    model_config = ConfigDict(extra="forbid")
    member_id: UUID


class AssignmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    member_id: UUID
    kind: str | None = None
    display_name: str | None = None
