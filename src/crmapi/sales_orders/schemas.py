"""Sales orders: what a rep, staff member or customer places, and what the ERP answers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from crmapi.accounts.schemas import Code
from crmapi.documents.schemas import Number
from crmapi.integrations.schemas import DocumentedAs
from crmapi.kit.errors import FieldError
from crmapi.kit.pagination import PageParams
from crmapi.kit.scalars import AmountSum, Day, Input, NonNegativeAmount, Omittable, ShortText, trimmed

Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=7, decimal_places=4)]
LongText = Annotated[str, trimmed(2000)]
State = Literal["draft", "submitted", "acknowledged", "fulfilled", "cancelled"]

LINE_EXAMPLE: dict[str, Any] = {
    "product_code": "BOLT-M8",
    "description": "Bolt M8 x 40, box of 100",
    "quantity": "3",
    "unit_price": "12.50",
    "discount_percent": "10",
    "tax_rate": "23",
}


class LineInput(Input):
    """A line: net is quantity times unit price less the discount, rounded to the cent; tax is
    the net times the rate, rounded to the cent."""

    product_code: Code
    description: Annotated[str, trimmed(500)] | None = None
    quantity: NonNegativeAmount = Field(gt=0, description="More than 0.")
    unit_price: NonNegativeAmount
    discount_percent: Percent = Field(Decimal(0), description="0 to 100.")
    tax_rate: Percent = Field(Decimal(0), description="Percent, 0 to 100.")


Lines = Annotated[list[LineInput], Field(min_length=1, max_length=500)]


class SalesOrderCreate(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "account_id": "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c02",
                    "reference": "PO-2026-118",
                    "delivery_address": "ul. Prosta 1, 00-001 Warszawa",
                    "instructions": "Deliver before noon.",
                    "requested_on": "2026-12-15",
                    "lines": [LINE_EXAMPLE],
                }
            ]
        },
    )
    account_id: UUID
    type_id: UUID | None = Field(None, description="A sales order type; the default one when left out.")
    reference: ShortText | None = Field(None, description="The customer's purchase order number.")
    delivery_address: LongText | None = None
    instructions: LongText | None = None
    requested_on: Day | None = Field(None, description="The delivery day asked for.")
    lines: Lines


class SalesOrderUpdate(Input):
    """Fields sent replace the draft's; `lines` replaces every line."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"instructions": "Ring twice."}]}
    )
    reference: ShortText | None = None
    delivery_address: LongText | None = None
    instructions: LongText | None = None
    requested_on: Day | None = None
    lines: Omittable[Lines] = None


class LineRead(BaseModel):
    position: int
    product_code: str
    description: str | None = None
    quantity: AmountSum
    unit_price: AmountSum
    discount_percent: AmountSum
    tax_rate: AmountSum
    net: AmountSum
    tax: AmountSum


class SalesOrderRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c09",
                    "number": 118,
                    "account_id": "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c02",
                    "type_id": "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c03",
                    "status_id": "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c04",
                    "state": "submitted",
                    "currency": "PLN",
                    "net": "33.7500",
                    "tax": "7.7600",
                    "gross": "41.5100",
                    "reference": "PO-2026-118",
                    "delivery_address": "ul. Prosta 1, 00-001 Warszawa",
                    "instructions": None,
                    "requested_on": "2026-12-15",
                    "erp_number": None,
                    "erp_status": None,
                    "submitted_at": "2026-12-07T10:00:00Z",
                    "acknowledged_at": None,
                    "closed_at": None,
                    "owner_member_id": "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c05",
                    "lines": [{**LINE_EXAMPLE, "position": 1, "net": "33.7500", "tax": "7.7600"}],
                    "created_at": "2026-12-07T09:00:00Z",
                    "updated_at": "2026-12-07T10:00:00Z",
                    "version": 2,
                }
            ]
        }
    )
    id: UUID
    number: int
    account_id: UUID
    type_id: UUID
    status_id: UUID
    state: State
    currency: str = Field(description="The account's: its credit limit's currency, else the organisation's.")
    net: AmountSum
    tax: AmountSum
    gross: AmountSum
    reference: str | None = None
    delivery_address: str | None = None
    instructions: str | None = None
    requested_on: date | None = None
    erp_number: str | None = Field(
        None, description="The ERP's number for the order, once it acknowledged it."
    )
    erp_status: str | None = Field(None, description="The ERP's own status, as it last said.")
    submitted_at: datetime | None = None
    acknowledged_at: datetime | None = None
    closed_at: datetime | None = Field(None, description="When it was fulfilled or cancelled.")
    owner_member_id: UUID | None = Field(None, description="Who placed it (null: placed by an API key).")
    lines: list[LineRead]
    created_at: datetime
    updated_at: datetime
    version: int


class SalesOrderListQuery(PageParams):
    account_id: UUID | None = None
    state: State | None = None
    status_id: UUID | None = None
    owner_member_id: UUID | None = None


# --- the ERP's acknowledgements ---------------------------------------------------------------

ACK_EXAMPLE: dict[str, Any] = {
    "number": 118,
    "erp_number": "ZS/2026/0981",
    "state": "acknowledged",
    "erp_status": "accepted",
}


class Acknowledgement(Input):
    """What the ERP says of a submitted order: its own number, and how far the order got."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [ACK_EXAMPLE]})
    number: int = Field(
        ge=1, le=2_147_483_647, strict=True, description="The CRM's order number (`number` in the event)."
    )
    erp_number: Number = Field(description="The ERP's number for the order; an invoice names it later.")
    state: Literal["acknowledged", "fulfilled", "cancelled"] = "acknowledged"
    erp_status: ShortText | None = Field(None, description="The ERP's own status, kept as said.")


# Each acknowledgement moves its order through the engine in a savepoint of its own: 1,000
# orders acknowledged as fulfilled (two moves each) took 7 s on the bench machine, so a call
# carries at most that many (the document pushes, written set-based, take 10,000).
MAX_ACKNOWLEDGEMENTS = 1000


class AcknowledgementBatch(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"records": [ACK_EXAMPLE]}]})
    records: list[Annotated[Any, DocumentedAs(Acknowledgement)]] = Field(
        min_length=1, max_length=MAX_ACKNOWLEDGEMENTS, description="Up to 1,000 acknowledgements a call."
    )


class AcknowledgementOutcome(BaseModel):
    index: int
    number: int | None = None
    outcome: Literal["updated", "unchanged", "error"]
    id: UUID | None = None
    reason: Literal["invalid", "duplicate-number", "unknown-order", "not-allowed", "conflict"] | None = Field(
        None,
        description="With `error`: `invalid`, `duplicate-number` (an earlier record of this call has it), "
        "`unknown-order` (no order has the number), `not-allowed` (the order cannot go to that state from "
        "where it is, e.g. a draft, or a fulfilled order cancelled) or `conflict` (another order has the "
        "ERP number).",
    )
    errors: list[FieldError] | None = None


class AcknowledgementResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "created": 0,
                    "updated": 1,
                    "unchanged": 0,
                    "failed": 0,
                    "results": [
                        {
                            "index": 0,
                            "number": 118,
                            "outcome": "updated",
                            "id": "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c09",
                        }
                    ],
                }
            ]
        }
    )
    created: int = Field(description="Always 0: acknowledgements never create orders.")
    updated: int
    unchanged: int
    failed: int
    results: list[AcknowledgementOutcome]
