"""What an ERP pushes of an account's trading record, and how the documents read.

Amounts travel as strings (NUMERIC(19,4)); a document's totals must add up from its lines
(`documents.totals`), or the record is that push's error.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crmapi.accounts.schemas import Code
from crmapi.integrations.schemas import DocumentedAs
from crmapi.kit.errors import FieldError
from crmapi.kit.limits import MAX_BULK
from crmapi.kit.pagination import PageParams
from crmapi.kit.scalars import (
    AmountSum,
    Currency,
    Day,
    Input,
    NonNegativeAmount,
    ShortText,
    storable,
    trimmed,
)

Kind = Literal["invoice", "credit", "back_order", "payment"]
Number = Annotated[str, trimmed(64)]
Description = Annotated[str, trimmed(500)]
Quantity = NonNegativeAmount

_LINE = {
    "product_code": "BOLT-M8",
    "description": "Bolt M8 x 40, box of 100",
    "quantity": "3",
    "unit_price": "12.50",
    "tax": "8.63",
}
INVOICE_EXAMPLE: dict[str, Any] = {
    "number": "FV/2026/12/0042",
    "account_code": "D-10042",
    "issued_on": "2026-11-02",
    "due_on": "2026-12-02",
    "currency": "PLN",
    "net": "37.50",
    "tax": "8.63",
    "gross": "46.13",
    "outstanding": "46.13",
    "status": "open",
    "lines": [_LINE],
}
CREDIT_EXAMPLE: dict[str, Any] = {
    "number": "KOR/2026/12/0003",
    "account_code": "D-10042",
    "issued_on": "2026-11-20",
    "currency": "PLN",
    "net": "12.50",
    "tax": "2.88",
    "gross": "15.38",
    "lines": [{**_LINE, "quantity": "1", "tax": "2.88"}],
    "allocations": [{"invoice_number": "FV/2026/12/0042", "amount": "15.38"}],
}
BACK_ORDER_EXAMPLE: dict[str, Any] = {
    "number": "ZAL/2026/12/0007",
    "account_code": "D-10042",
    "ordered_on": "2026-11-02",
    "expected_on": "2026-12-15",
    "currency": "PLN",
    "sales_order_number": "ZS/2026/0981",
    "lines": [{**_LINE, "quantity_outstanding": "2"}],
}
PAYMENT_EXAMPLE: dict[str, Any] = {
    "number": "KP/2026/12/0101",
    "account_code": "D-10042",
    "paid_on": "2026-12-01",
    "amount": "30.75",
    "currency": "PLN",
    "method": "transfer",
    "allocations": [{"invoice_number": "FV/2026/12/0042", "amount": "30.75"}],
}


class Line(Input):
    """A document line. `net` is quantity times unit price rounded to the cent unless sent (then it
    must be that, to the cent)."""

    # Only its text needs `Input`'s storable check (this replaces the one on every field):
    # checking every amount of 30,000 lines was a tenth of a push's parsing.
    _text_is_storable = field_validator("product_code", "description")(storable)

    product_code: Code | None = None
    description: Description | None = None
    quantity: Quantity
    unit_price: NonNegativeAmount
    net: NonNegativeAmount | None = None
    tax: NonNegativeAmount = Decimal(0)


class BackOrderLine(Line):
    quantity_outstanding: Quantity = Field(description="Still to deliver; at most `quantity`.")


class AllocationInput(Input):
    _text_is_storable = field_validator("invoice_number")(storable)
    invoice_number: Number = Field(description="An invoice of the same account, pushed before.")
    amount: NonNegativeAmount


class _Document(Input):
    # Only text needs the storable check (this replaces `Input`'s on every field).
    _text_is_storable = field_validator(
        "number", "account_code", "status", "reference", "method", "sales_order_number", check_fields=False
    )(storable)
    number: Number = Field(description="The ERP's document number: the key of the upsert within its kind.")
    account_code: Code = Field(description="The debtor code of the account the document belongs to.")
    currency: Currency
    status: ShortText | None = Field(None, description="The ERP's status, as it names it.")
    reference: ShortText | None = Field(None, description="The customer's order reference, a bank reference.")


class InvoiceRecord(_Document):
    """An invoice as the ERP keeps it. `net` must be its lines' net summed, `tax` their tax,
    `gross` net + tax; `outstanding` (what is still owed) at most `gross`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [INVOICE_EXAMPLE]})
    issued_on: Day
    due_on: Day
    net: NonNegativeAmount
    tax: NonNegativeAmount
    gross: NonNegativeAmount
    outstanding: NonNegativeAmount
    sales_order_number: Number | None = Field(
        None, description="The ERP's number of the order invoiced: links a CRM sales order it acknowledged."
    )
    lines: list[Line] = Field(min_length=1, max_length=1000)


class CreditRecord(_Document):
    """A credit note: totals as an invoice's, and what it settles of the account's invoices
    (at most its gross in all)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [CREDIT_EXAMPLE]})
    issued_on: Day
    net: NonNegativeAmount
    tax: NonNegativeAmount
    gross: NonNegativeAmount
    lines: list[Line] = Field(min_length=1, max_length=1000)
    allocations: list[AllocationInput] = Field(default_factory=list, max_length=1000)


class BackOrderRecord(_Document):
    """Lines ordered and not yet delivered; its value is what is still to deliver."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [BACK_ORDER_EXAMPLE]})
    ordered_on: Day
    expected_on: Day | None = None
    sales_order_number: Number | None = None
    lines: list[BackOrderLine] = Field(min_length=1, max_length=1000)


class PaymentRecord(_Document):
    """A payment received, and what it settles (at most its amount in all)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [PAYMENT_EXAMPLE]})
    paid_on: Day
    amount: NonNegativeAmount
    method: ShortText | None = None
    allocations: list[AllocationInput] = Field(default_factory=list, max_length=1000)


RECORDS: dict[str, type[_Document]] = {
    "invoice": InvoiceRecord,
    "credit": CreditRecord,
    "back_order": BackOrderRecord,
    "payment": PaymentRecord,
}


def _records(model: type[_Document]) -> Any:
    return Field(
        min_length=1, max_length=MAX_BULK, description=f"Up to 10,000 records, each a {model.__name__}."
    )


def _examples(example: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [{"records": [example]}]})


class InvoiceBatch(BaseModel):
    model_config = _examples(INVOICE_EXAMPLE)
    records: list[Annotated[Any, DocumentedAs(InvoiceRecord)]] = _records(InvoiceRecord)


class CreditBatch(BaseModel):
    model_config = _examples(CREDIT_EXAMPLE)
    records: list[Annotated[Any, DocumentedAs(CreditRecord)]] = _records(CreditRecord)


class BackOrderBatch(BaseModel):
    model_config = _examples(BACK_ORDER_EXAMPLE)
    records: list[Annotated[Any, DocumentedAs(BackOrderRecord)]] = _records(BackOrderRecord)


class PaymentBatch(BaseModel):
    model_config = _examples(PAYMENT_EXAMPLE)
    records: list[Annotated[Any, DocumentedAs(PaymentRecord)]] = _records(PaymentRecord)


DocumentReason = Literal[
    "invalid", "duplicate-number", "unknown-account", "unknown-invoice", "totals-mismatch", "conflict"
]


class DocumentOutcome(BaseModel):
    index: int = Field(description="The record's position in `records`, from 0.")
    number: str | None = Field(None, description="The document's number, when it has a readable one.")
    outcome: Literal["created", "updated", "unchanged", "error"]
    id: UUID | None = Field(None, description="The CRM's id of the document (not for errors).")
    reason: DocumentReason | None = Field(
        None,
        description="With `error`: `invalid` (see `errors`), `duplicate-number` (an earlier record of this "
        "call has the number), `unknown-account` (no account has the debtor code), `unknown-invoice` (an "
        "allocation names no invoice of the account), `totals-mismatch` (the totals do not add up from "
        "the lines or allocations; `errors` says what they should be) or `conflict` (another request "
        "created the number meanwhile; send it again).",
    )
    errors: list[FieldError] | None = None


class DocumentPushResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "created": 1,
                    "updated": 0,
                    "unchanged": 0,
                    "failed": 1,
                    "results": [
                        {
                            "index": 0,
                            "number": "FV/2026/12/0042",
                            "outcome": "created",
                            "id": "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c01",
                        },
                        {
                            "index": 1,
                            "number": "FV/2026/12/0043",
                            "outcome": "error",
                            "reason": "totals-mismatch",
                            "errors": [
                                {"field": "body.records.1.net", "message": "The lines' net adds up to 37.50."}
                            ],
                        },
                    ],
                }
            ]
        }
    )
    created: int
    updated: int
    unchanged: int
    failed: int
    results: list[DocumentOutcome] = Field(description="One per record sent, in the order sent.")


# --- reading ----------------------------------------------------------------------------------


class LineRead(BaseModel):
    position: int
    product_code: str | None = None
    description: str | None = None
    quantity: AmountSum
    quantity_outstanding: AmountSum | None = Field(None, description="A back order's line: still to deliver.")
    unit_price: AmountSum
    net: AmountSum
    tax: AmountSum


class AllocationRead(BaseModel):
    invoice_id: UUID
    invoice_number: str
    amount: AmountSum


class DocumentRead(BaseModel):
    """An ERP document. Invoices and credit notes carry `net`, `tax`, `gross` and lines; a back
    order's `gross` and `outstanding` are the value still to deliver; a payment's `gross` is its
    amount. `outstanding` is what an invoice still owes, or what a credit note or payment has not
    yet settled."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c01",
                    "kind": "invoice",
                    "number": "FV/2026/12/0042",
                    "account_id": "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c02",
                    "status": "open",
                    "issued_on": "2026-11-02",
                    "due_on": "2026-12-02",
                    "days_overdue": 5,
                    "currency": "PLN",
                    "net": "37.5000",
                    "tax": "8.6300",
                    "gross": "46.1300",
                    "outstanding": "46.1300",
                    "method": None,
                    "reference": None,
                    "sales_order_number": None,
                    "sales_order_id": None,
                    "lines": [{**_LINE, "position": 1, "quantity_outstanding": None, "net": "37.5000"}],
                    "allocations": [],
                    "created_at": "2026-11-02T08:00:00Z",
                    "updated_at": "2026-11-02T08:00:00Z",
                    "version": 1,
                }
            ]
        }
    )
    id: UUID
    kind: Kind
    number: str
    account_id: UUID
    status: str
    issued_on: date = Field(description="Issued; a back order's order date; a payment's date.")
    due_on: date | None = Field(None, description="An invoice's due date; a back order's expected date.")
    days_overdue: int | None = Field(
        description="An invoice with something outstanding, past its due date: days since (in the "
        "organisation's time zone); otherwise null."
    )
    currency: str
    net: AmountSum | None = None
    tax: AmountSum | None = None
    gross: AmountSum
    outstanding: AmountSum
    method: str | None = None
    reference: str | None = None
    sales_order_number: str | None = None
    sales_order_id: UUID | None = None
    lines: list[LineRead]
    allocations: list[AllocationRead] = Field(description="What a payment or credit note settles.")
    created_at: datetime
    updated_at: datetime
    version: int


class DocumentListQuery(PageParams):
    status: ShortText | None = Field(None, description="The ERP's status, exactly.")
    issued_from: Day | None = Field(None, description="Issued on or after this day.")
    issued_to: Day | None = Field(None, description="Issued on or before this day.")
    due_from: Day | None = Field(None, description="Due on or after this day.")
    due_to: Day | None = Field(None, description="Due on or before this day.")
    outstanding: bool | None = Field(None, description="true: only those with something outstanding.")
    overdue_days_gt: int | None = Field(
        None, ge=0, le=36_500, description="Only invoices overdue by more than this many days."
    )


class DocumentSource(Input):
    source: Literal["stored", "live"] = Field(
        "stored",
        description="`live`: ask the organisation's ERP connector for the account's documents of the kind "
        "first, merge what it answers into the stored copy, then list (answered within the connector's "
        "timeout, or 504; a repeat within its cache time is not asked again).",
    )
    fallback: Literal["none", "stored"] = Field(
        "none",
        description="With `source=live`: list the stored copy when the ERP does not answer (no 504/502).",
    )


class DocumentPageQuery(DocumentListQuery, DocumentSource):
    model_config = ConfigDict(extra="forbid")


CONNECTOR_EXAMPLE: dict[str, Any] = {
    "base_url": "https://erp.example.com/crm-api",
    "header_name": "Authorization",
    "header_value": "Bearer erp-secret",
    "timeout_seconds": 3,
    "cache_seconds": 30,
}


class ConnectorInput(Input):
    """Where live lookups go: `GET {base_url}/debtors/{account code}/{invoices|credits|back-orders|
    payments}` with the header, answered `{"records": [...]}` in the push's format."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [CONNECTOR_EXAMPLE]})
    base_url: Annotated[str, Field(min_length=8, max_length=2000, pattern=r"^https?://\S+$")]
    header_name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9-]+$")] | None = None
    header_value: Annotated[str, Field(min_length=1, max_length=4000)] | None = Field(
        None, description="Sent with every lookup; never read back."
    )
    timeout_seconds: float = Field(5, gt=0, le=30, description="The whole lookup, connection included.")
    cache_seconds: int = Field(
        30, ge=0, le=3600, description="A lookup repeated within this time is not sent."
    )


class ConnectorRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **{k: v for k, v in CONNECTOR_EXAMPLE.items() if k != "header_value"},
                    "has_header_value": True,
                    "updated_at": "2026-12-07T10:00:00Z",
                }
            ]
        }
    )
    base_url: str
    header_name: str | None = None
    has_header_value: bool
    timeout_seconds: float
    cache_seconds: int
    updated_at: datetime


class Bucket(BaseModel):
    not_due: AmountSum = Field(description="Outstanding on invoices not yet due.")
    days_1_30: AmountSum
    days_31_60: AmountSum
    days_61_90: AmountSum
    days_over_90: AmountSum


class CurrencyBalance(BaseModel):
    currency: str
    outstanding: AmountSum = Field(description="Outstanding on the account's invoices.")
    overdue: AmountSum = Field(description="Of it, past due.")
    buckets: Bucket = Field(description="The outstanding amount by days past due.")
    unallocated_credits: AmountSum = Field(description="Credit notes not yet set against invoices.")
    unallocated_payments: AmountSum = Field(description="Payments not yet set against invoices.")
    open_invoices: int


class LastPayment(BaseModel):
    id: UUID
    number: str
    paid_on: date
    amount: AmountSum
    currency: str


class Balance(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "as_of": "2026-12-07",
                    "currencies": [
                        {
                            "currency": "PLN",
                            "outstanding": "46.1300",
                            "overdue": "46.1300",
                            "buckets": {
                                "not_due": "0",
                                "days_1_30": "46.1300",
                                "days_31_60": "0",
                                "days_61_90": "0",
                                "days_over_90": "0",
                            },
                            "unallocated_credits": "0",
                            "unallocated_payments": "0",
                            "open_invoices": 1,
                        }
                    ],
                    "last_payment": None,
                }
            ]
        }
    )
    as_of: date = Field(description="Today in the organisation's time zone: what days past due count from.")
    currencies: list[CurrencyBalance] = Field(
        description="One per currency the account trades in; never added up."
    )
    last_payment: LastPayment | None = None
