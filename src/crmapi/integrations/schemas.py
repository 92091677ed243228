"""What an ERP pushes (debtors, sales-rep records) and the per-record answer it gets.

A batch is checked as a whole only for its shape (an object with 1 to 10,000 `records`); each
record is then validated on its own (`feed.parse`), so one bad record never costs the others.
The records are therefore typed `Any` for FastAPI and documented as their models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from crmapi.access.sales_reps.schemas import Code as SalesRepCode
from crmapi.accounts.schemas import AccountStatus, Code, Label
from crmapi.kit.errors import FieldError
from crmapi.kit.limits import MAX_BULK
from crmapi.kit.scalars import Email, Input, MoneyInput, Name, Omittable, ShortText, distinct

DEBTOR_EXAMPLE: dict[str, Any] = {
    "code": "D-10042",
    "name": "Hurtownia Nowak Sp. z o.o.",
    "classification": "wholesale",
    "credit_limit": {"amount": "25000.00", "currency": "PLN"},
    "payment_terms": "30 days net",
    "sales_rep_codes": ["PH01"],
}
SALES_REP_EXAMPLE: dict[str, Any] = {
    "code": "PH01",
    "name": "Anna Kowalska",
    "email": "anna.kowalska@example.com",
}


# The account API drops a repeated code as it does a repeated tag; a record the ERP sends
# mirrors the ERP's data, and a repeat there means its export is wrong: that record's error.
SalesRepCodes = Annotated[
    list[Code], Field(max_length=50, json_schema_extra={"uniqueItems": True}), AfterValidator(distinct)
]


class DebtorRecord(Input):
    """A customer account as the ERP knows it, keyed by its debtor `code`.

    Fields left out keep their current value (a new account gets the defaults); null clears an
    optional field. `sales_rep_codes` replaces the account's set of sales-rep codes; every code
    must name a sales-rep record. Owner, unit, contacts, tags and personal assignments are the
    CRM's and are never touched by the feed.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [DEBTOR_EXAMPLE]},
    )
    code: Code = Field(description="The ERP's debtor number: the key of the upsert.")
    name: Name
    classification: ShortText | None = None
    credit_rating: ShortText | None = None
    credit_limit: MoneyInput | None = None
    payment_terms: ShortText | None = None
    payment_methods: Omittable[list[Label]] = Field(None, max_length=20)
    price_level: ShortText | None = None
    status: Omittable[AccountStatus] = None
    custom: Omittable[dict[str, Any]] = Field(
        None, max_length=100, description="Merged key by key; a null value removes its key."
    )
    sales_rep_codes: Omittable[SalesRepCodes] = Field(
        None, description="Replaces the account's sales-rep codes; [] clears them; each code once."
    )


class SalesRepRecord(Input):
    """A sales representative as the ERP knows it, keyed by `code`. Fields left out keep their
    current value; a new record is active unless it says otherwise."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [SALES_REP_EXAMPLE]},
    )
    code: SalesRepCode
    name: Name
    email: Email | None = Field(None, description="null clears it.")
    active: Omittable[bool] = Field(
        None, strict=True, description="false keeps the record but its members stop seeing its accounts."
    )


@dataclass(frozen=True)
class DocumentedAs:
    """Accepts any JSON value, documented in OpenAPI as `model`: the record is validated later,
    on its own, so its errors are that record's outcome rather than a 422 for the batch."""

    model: type[BaseModel]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.any_schema()

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(self.model.__pydantic_core_schema__)


class DebtorBatch(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"records": [DEBTOR_EXAMPLE]}]},
    )
    records: list[Annotated[Any, DocumentedAs(DebtorRecord)]] = Field(min_length=1, max_length=MAX_BULK)


class SalesRepBatch(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"records": [SALES_REP_EXAMPLE]}]},
    )
    records: list[Annotated[Any, DocumentedAs(SalesRepRecord)]] = Field(min_length=1, max_length=MAX_BULK)


Outcome = Literal["created", "updated", "unchanged", "error"]
Reason = Literal["invalid", "duplicate-code", "unknown-sales-rep", "conflict"]


class RecordOutcome(BaseModel):
    index: int = Field(description="The record's position in `records`, from 0.")
    code: str | None = Field(None, description="The record's code, when it has a readable one.")
    outcome: Outcome
    id: UUID | None = Field(None, description="The CRM's id of the record (not for errors).")
    reason: Reason | None = Field(
        None,
        description="With `error`: `invalid` (see `errors`), `duplicate-code` (an earlier record of "
        "this call has the code), `unknown-sales-rep` (a code no sales-rep record has) or "
        "`conflict` (another request created the code meanwhile; send the record again).",
    )
    errors: list[FieldError] | None = Field(None, description="With `error`: what is wrong, by field.")


class PushResult(BaseModel):
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
                            "code": "D-10042",
                            "outcome": "created",
                            "id": "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c01",
                        },
                        {
                            "index": 1,
                            "code": "D-10043",
                            "outcome": "error",
                            "reason": "unknown-sales-rep",
                            "errors": [
                                {
                                    "field": "body.records.1.sales_rep_codes.0",
                                    "message": "No sales-rep record has the code 'PH99'.",
                                }
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
    results: list[RecordOutcome] = Field(description="One per record sent, in the order sent.")
