"""Validated scalar types shared by schemas."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import iso4217
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)

_ZONES = available_timezones() | {"UTC"}
_NUMBER = re.compile(r"^\s*[-+]?[0-9.eE+-]+\s*$")


def _time_zone(value: str) -> str:
    if value not in _ZONES:
        raise ValueError("not an IANA time zone, e.g. 'Europe/Warsaw'")
    try:
        ZoneInfo(value)
    except ZoneInfoNotFoundError as exc:
        raise ValueError("not an IANA time zone") from exc
    return value


def _timestamp(value: object) -> object:
    # Pydantic would read a number as seconds since the epoch; the contract says RFC 3339 text.
    if isinstance(value, (int, float)) or (isinstance(value, str) and _NUMBER.match(value)):
        raise ValueError("expected an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z")
    return value


def email_address(value: str) -> str:
    """The address in the form it is kept: checked by its syntax alone (the API never asks DNS),
    then lower-cased whole, so it compares, deduplicates and signs in whatever its case."""
    try:
        # test_environment: the `.test` names RFC 6761 reserves for testing pass (demo, bench and
        # test data use them); other special-use names (localhost, .local, .invalid) do not.
        checked = validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ValueError(f"not an email address: {exc}") from exc
    return checked.normalized.lower()


# ISO 4217 as published by its maintenance agency (the iso4217 package ships SIX's table) less
# XTS (reserved for testing) and XXX (no currency): neither is money a record can hold.
CURRENCIES = frozenset(c.code for c in iso4217.Currency) - {"XTS", "XXX"}


def currency_code(value: str) -> str:
    """An active ISO 4217 code, in capitals as the standard writes it."""
    if value not in CURRENCIES:
        raise ValueError("not an ISO 4217 currency code, e.g. 'PLN'")
    return value


def distinct(values: list[str]) -> list[str]:
    """A list that stands for a set: a value given twice is a mistake of the sender's, named."""
    seen: dict[str, int] = {}
    for index, value in enumerate(values):
        if (first := seen.setdefault(value, index)) != index:
            raise ValueError(f"'{value}' is given twice (items {first} and {index})")
    return values


def storable(value: Any) -> Any:
    """Reject text PostgreSQL cannot store (NUL, lone surrogates), wherever it is nested."""
    # Runs for every field of every Input model, Read schemas' nested ones included: the
    # common cases (None, plain text) come first and ASCII text skips the encoding test.
    if value is None:
        return value
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        if not value.isascii():
            try:
                value.encode()
            except UnicodeEncodeError as exc:
                raise ValueError("must be valid Unicode text") from exc
    elif isinstance(value, Input):
        pass  # its own fields were checked when it was made
    elif isinstance(value, BaseModel):
        storable(value.model_dump())
    elif isinstance(value, dict):
        for k, v in value.items():
            storable(k)
            storable(v)
    elif isinstance(value, list):
        for v in value:
            storable(v)
    return value


T = TypeVar("T")


def _refuse_null(value: object) -> object:
    # Runs only on a value sent: pydantic does not validate a field's default.
    if value is None:
        raise ValueError("May be left out, but not null.")
    return value


def _not_nullable(schema: dict[str, Any]) -> None:
    """The field's JSON schema without its null branch and its null default."""
    schema.pop("default", None)
    branches = [b for b in schema.pop("anyOf", []) if b != {"type": "null"}]
    if len(branches) == 1:
        schema.update(branches[0])
    elif branches:
        schema["anyOf"] = branches


# A field of a merge (PATCH) body whose column cannot be empty: left out it keeps its value,
# null is 422 naming it, and the contract does not call it nullable. `x: Omittable[Name] = None`.
Omittable = Annotated[T | None, BeforeValidator(_refuse_null), Field(json_schema_extra=_not_nullable)]


class Input(BaseModel):
    """Base of every request body and query model: unknown keys and unstorable text are 422."""

    model_config = ConfigDict(extra="forbid")

    _text_is_storable = field_validator("*")(storable)


TimeZone = Annotated[str, Field(max_length=64, examples=["Europe/Warsaw"]), AfterValidator(_time_zone)]
# 254: the longest address SMTP can carry (RFC 5321's 256-octet path less its angle brackets).
Email = Annotated[
    str,
    Field(max_length=254, examples=["anna@example.com"], json_schema_extra={"format": "email"}),
    AfterValidator(email_address),
]
Currency = Annotated[
    str,
    Field(description="ISO 4217 code", examples=["PLN"], json_schema_extra={"enum": sorted(CURRENCIES)}),
    AfterValidator(currency_code),
]
# What a stored amount reads with: rows written before ISO 4217 was checked keep reading.
StoredCurrency = Annotated[str, Field(description="ISO 4217 code", examples=["PLN"])]


def trimmed(max_length: int) -> StringConstraints:
    """Text that is trimmed and must not be blank; the contract says so with the pattern `\\S`
    (a blank value is refused, whatever its length)."""
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length, pattern=r"\S")


Name = Annotated[str, trimmed(200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Password = Annotated[str, Field(min_length=8, max_length=200)]


def _in_range(value: datetime) -> datetime:
    """A time without an offset is UTC; years far enough from 1 and 9999 that PostgreSQL can
    store the value and dates computed from it (a deadline, a window) stay in range."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"the year must be between {FIRST_YEAR} and {LAST_YEAR}")
    return value


FIRST_YEAR, LAST_YEAR = 1000, 8999


_DECIMAL = re.compile(r"^\s*[-+]?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?\s*$")


def _day(value: object) -> object:
    # Pydantic would read a number as seconds since the epoch; the contract says ISO 8601 text.
    if isinstance(value, (int, float)) or (isinstance(value, str) and _DECIMAL.match(value)):
        raise ValueError("expected an ISO 8601 date, e.g. 2026-01-31")
    return value


Day = Annotated[date, BeforeValidator(_day)]
Timestamp = Annotated[
    datetime,
    BeforeValidator(_timestamp),
    AfterValidator(_in_range),
    Field(json_schema_extra={"pattern": r"^[1-8][0-9]{3}-"}),  # the years FIRST_YEAR to LAST_YEAR
]
# A custom field's stable key: what records' `custom` JSON, `custom.<key>` filters and `fields` use.
CUSTOM_KEY_PATTERN = r"^[a-z][a-z0-9_]{0,49}$"


AMOUNT_PATTERN = r"^-?[0-9]{1,15}(\.[0-9]{1,4})?$"  # NUMERIC(19,4)
_AMOUNT = re.compile(AMOUNT_PATTERN)


def _amount_text(value: object) -> object:
    # A JSON number would pass through a float on many clients and lose digits on the way.
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str) or not _AMOUNT.fullmatch(value):
        raise ValueError('expected a decimal number as a string, e.g. "1234.50"')
    return value


# An amount of money: a decimal number as a string, up to 15 digits and 4 decimals. The
# constraints come before the text check so pydantic-core applies them itself: after it, they
# ran as Python validators, a third of a 10,000-invoice push's parsing.
Amount = Annotated[
    Decimal,
    Field(max_digits=19, decimal_places=4),
    BeforeValidator(_amount_text),
    WithJsonSchema({"type": "string", "pattern": AMOUNT_PATTERN, "examples": ["1234.50"]}),
]
# An amount that cannot be negative (prices, limits, budgets): what every money input takes.
NonNegativeAmount = Annotated[
    Decimal,
    Field(max_digits=19, decimal_places=4, ge=0),
    BeforeValidator(_amount_text),
    WithJsonSchema({"type": "string", "pattern": AMOUNT_PATTERN.replace("-?", ""), "examples": ["1234.50"]}),
]
# A sum of amounts, as a string (it may have more than 15 digits before the point).
AmountSum = Annotated[
    Decimal,
    WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,4})?$", "examples": ["48000.0000"]}),
]


class Money(BaseModel):
    """An amount in a currency; amounts travel as strings so no precision is lost."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"amount": "1234.50", "currency": "PLN"}]}
    )
    amount: Amount
    currency: StoredCurrency


class MoneyInput(Input):
    """An amount, never negative; the currency defaults to the organisation's."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"amount": "5000", "currency": "PLN"}]}
    )
    amount: NonNegativeAmount
    currency: Currency | None = None
