"""An issue type's form: the fields an issue answers, how each answer is checked, and which are
asked only when an earlier one is answered.

A form is saved as a new version each time it changes (`IssueForm`); select options are copied
into the version with their labels, so an issue shows the labels it was filed under even after
the lookup list is edited. `check` is pure: references to other records (contacts, documents,
files) are checked by the service afterwards, in one query each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from crmapi.kit.errors import FieldError
from crmapi.kit.scalars import AMOUNT_PATTERN, CURRENCIES, CUSTOM_KEY_PATTERN, Input, Name, ShortText

FieldType = Literal[
    "text",
    "long_text",
    "number",
    "decimal",
    "money",
    "date",
    "datetime",
    "boolean",
    "select",
    "multi_select",
    "contact",
    "document",
    "file",
]
CHOICES = ("select", "multi_select")
RANGED = ("number", "decimal", "money")
SIZED = ("text", "long_text", "multi_select")
REFERENCES = ("contact", "document", "file")
# What the list filter `answer` accepts: values the containment index finds, and ranges.
FILTERABLE = ("select", "multi_select", "number", "date", "boolean")
MAX_FIELDS = 100
LONGEST = {"text": 2_000, "long_text": 20_000}
_AMOUNT = re.compile(AMOUNT_PATTERN)
_DECIMAL = re.compile(r"^-?[0-9]{1,20}(\.[0-9]{1,10})?$")
Key = Annotated[
    str,
    StringConstraints(pattern=CUSTOM_KEY_PATTERN),
    Field(
        description="Stable key of the answer: a lower-case letter, then up to 49 lower-case letters, "
        "digits or underscores.",
        examples=["credit_limit"],
    ),
]
Bound = Annotated[Decimal, Field(max_digits=30, decimal_places=10)]
Length = Annotated[int, Field(ge=0, le=20_000, strict=True)]


class Condition(Input):
    """The field is asked (and can be required) only when the earlier field `key` is answered,
    or, with `equals`, answered with that value (a select's option code, a boolean)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"key": "has_references", "equals": True}]}
    )
    key: Key
    equals: str | bool | None = Field(None, description="Leave out for 'has any answer'.")


class FormField(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "key": "requested_limit",
                    "label": "Requested limit",
                    "type": "money",
                    "currency": "PLN",
                    "required": True,
                    "min": "1000",
                },
                {
                    "key": "trade_references",
                    "label": "Trade references",
                    "type": "long_text",
                    "shown_when": {"key": "has_references", "equals": True},
                    "required": True,
                },
            ]
        },
    )
    key: Key
    label: Name = Field(examples=["Requested limit"])
    type: FieldType
    help: ShortText | None = Field(None, description="Shown under the field.")
    required: bool = Field(False, strict=True, description="When the field is asked, an answer is needed.")
    staff_only: bool = Field(
        False, strict=True, description="Answered and seen by staff only; hidden from customers."
    )
    min: Bound | None = Field(None, description="number, decimal, money (its amount): the least allowed.")
    max: Bound | None = Field(None, description="number, decimal, money (its amount): the most allowed.")
    min_length: Length | None = Field(None, description="text, long text: characters; multi-select: choices.")
    max_length: Length | None = Field(None, description="text, long text: characters; multi-select: choices.")
    pattern: str | None = Field(
        None, max_length=200, description="text: a regular expression the whole answer matches."
    )
    lookup_list_id: UUID | None = Field(
        None, description="select, multi-select: the lookup list offering the options."
    )
    currency: str | None = Field(None, description="money: the one currency accepted (ISO 4217); none: any.")
    shown_when: Condition | None = None

    @model_validator(mode="after")
    def _fits_its_type(self) -> FormField:
        wrong = [
            name
            for name, allowed in (
                ("min", RANGED),
                ("max", RANGED),
                ("min_length", SIZED),
                ("max_length", SIZED),
                ("pattern", ("text",)),
                ("lookup_list_id", CHOICES),
                ("currency", ("money",)),
            )
            if getattr(self, name) is not None and self.type not in allowed
        ]
        if wrong:
            raise ValueError(f"a {self.type} field has no {', '.join(wrong)}")
        if self.type in CHOICES and self.lookup_list_id is None:
            raise ValueError(f"a {self.type} field needs lookup_list_id")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is above max")
        if self.min_length is not None and self.max_length is not None and self.min_length > self.max_length:
            raise ValueError("min_length is above max_length")
        if self.currency is not None and self.currency not in CURRENCIES:
            raise ValueError(f"'{self.currency}' is not an ISO 4217 currency code")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern is not a regular expression: {exc}") from exc
        return self


class FormIn(Input):
    model_config = ConfigDict(extra="forbid")
    fields: list[FormField] = Field(max_length=MAX_FIELDS, description="In the order they are asked.")

    @model_validator(mode="after")
    def _keys_and_conditions(self) -> FormIn:
        seen: dict[str, FormField] = {}
        for f in self.fields:
            if f.key in seen:
                raise ValueError(f"two fields have the key '{f.key}'")
            if f.shown_when is not None:
                earlier = seen.get(f.shown_when.key)
                if earlier is None:
                    raise ValueError(
                        f"'{f.key}' is shown when '{f.shown_when.key}', which is not an earlier field"
                    )
                if f.shown_when.equals is not None and earlier.type not in ("select", "boolean"):
                    raise ValueError(
                        f"'{f.key}' compares '{earlier.key}', but only select and boolean answers compare"
                    )
                if (
                    isinstance(f.shown_when.equals, bool) != (earlier.type == "boolean")
                    and f.shown_when.equals is not None
                ):
                    raise ValueError(f"'{f.key}' compares '{earlier.key}' with a value of another type")
            seen[f.key] = f
        return self


class Option(BaseModel):
    code: str
    name: str


class FormFieldRead(BaseModel):
    """A field as its form version holds it: select options with the labels of that version."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "key": "terms",
                    "label": "Payment terms",
                    "type": "select",
                    "required": True,
                    "lookup_list_id": "0192f0a8-0000-7000-8000-000000000031",
                    "options": [{"code": "NET30", "name": "30 days"}],
                }
            ]
        },
    )
    key: str
    label: str
    type: FieldType
    help: str | None = None
    required: bool = False
    staff_only: bool = False
    min: Decimal | None = None
    max: Decimal | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    lookup_list_id: UUID | None = None
    currency: str | None = None
    shown_when: Condition | None = None
    options: list[Option] | None = None


@dataclass
class Checked:
    """The answers as stored, and the references the service still has to find."""

    answers: dict[str, Any]
    errors: list[FieldError] = field(default_factory=list)
    references: dict[str, list[tuple[str, UUID]]] = field(default_factory=dict)  # type -> (key, id)


def _where(key: str) -> str:
    return f"body.answers.{key}"


def _named(f: dict[str, Any]) -> str:
    return f"'{f['label']}' ({f['key']})"


def _shown(f: dict[str, Any], answers: dict[str, Any]) -> bool:
    when = f.get("shown_when")
    if not when:
        return True
    given = answers.get(when["key"])
    if given is None:
        return False
    wanted = when.get("equals")
    if wanted is None:
        return True
    return wanted in given if isinstance(given, list) else given == wanted


def _bounded(f: dict[str, Any], value: Decimal) -> str | None:
    if f.get("min") is not None and value < Decimal(str(f["min"])):
        return f"is below the least allowed, {f['min']}"
    if f.get("max") is not None and value > Decimal(str(f["max"])):
        return f"is above the most allowed, {f['max']}"
    return None


def _sized(f: dict[str, Any], size: int, unit: str) -> str | None:
    if f.get("min_length") is not None and size < f["min_length"]:
        return f"needs at least {f['min_length']} {unit}"
    if f.get("max_length") is not None and size > f["max_length"]:
        return f"takes at most {f['max_length']} {unit}"
    return None


def _value(f: dict[str, Any], given: Any) -> tuple[Any, str | None]:
    """The answer as stored, or why it is refused."""
    kind = f["type"]
    if kind in ("text", "long_text"):
        if not isinstance(given, str):
            return None, "must be text"
        text = given.strip()
        if len(text) > LONGEST[kind]:
            return None, f"takes at most {LONGEST[kind]} characters"
        if f.get("pattern") and not re.fullmatch(f["pattern"], text):
            return None, "does not have the expected form"
        return text, _sized(f, len(text), "characters")
    if kind == "number":
        if isinstance(given, bool) or not isinstance(given, int) or abs(given) > 10**15:
            return None, "must be a whole number"
        return given, _bounded(f, Decimal(given))
    if kind == "decimal":
        text = str(given) if isinstance(given, int | float) and not isinstance(given, bool) else given
        if not isinstance(text, str) or not _DECIMAL.fullmatch(text):
            return None, 'must be a decimal number, e.g. "12.5"'
        return text, _bounded(f, Decimal(text))
    if kind == "money":
        return _money(f, given)
    if kind == "date":
        try:
            if isinstance(given, str) and len(given) == 10:
                return date.fromisoformat(given).isoformat(), None
        except ValueError:
            pass
        return None, "must be a date, e.g. 2026-12-31"
    if kind == "datetime":
        return _moment(given)
    if kind == "boolean":
        return (given, None) if isinstance(given, bool) else (None, "must be true or false")
    if kind == "select":
        codes = {o["code"] for o in f.get("options") or ()}
        if not isinstance(given, str) or given not in codes:
            return None, f"must be one of {', '.join(sorted(codes))}"
        return given, None
    if kind == "multi_select":
        codes = {o["code"] for o in f.get("options") or ()}
        if not isinstance(given, list) or not all(isinstance(c, str) for c in given):
            return None, "must be a list of option codes"
        if unknown := [c for c in given if c not in codes]:
            return None, f"has unknown options {', '.join(unknown)}"
        chosen = list(dict.fromkeys(given))
        return chosen, _sized(f, len(chosen), "choices")
    try:  # contact, document, file: an id found by the service afterwards
        return str(UUID(given)), None
    except (TypeError, ValueError, AttributeError):
        return None, "must be an id"


def _money(f: dict[str, Any], given: Any) -> tuple[Any, str | None]:
    if not isinstance(given, dict) or set(given) != {"amount", "currency"}:
        return None, 'must be {"amount": "1234.50", "currency": "PLN"}'
    amount, currency = given["amount"], given["currency"]
    if not isinstance(amount, str) or not _AMOUNT.fullmatch(amount):
        return None, 'needs the amount as a decimal string, e.g. "1234.50"'
    if currency not in CURRENCIES:
        return None, "needs an ISO 4217 currency code"
    if f.get("currency") and currency != f["currency"]:
        return None, f"must be in {f['currency']}"
    return {"amount": amount, "currency": currency}, _bounded(f, Decimal(amount))


def _moment(given: Any) -> tuple[Any, str | None]:
    try:
        moment = datetime.fromisoformat(given) if isinstance(given, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        return None, "must be a date and time with its offset, e.g. 2026-12-31T09:30:00+01:00"
    return moment.astimezone(UTC).isoformat(), None


def check(fields: list[dict[str, Any]], given: dict[str, Any], *, customer: bool) -> Checked:
    """The answers to a form version's `fields`: each checked against its field, asked only when
    its condition holds, required ones present; every refusal names the field by label and key."""
    result = Checked(answers={})
    known = {f["key"]: f for f in fields}
    for key in given:
        if key not in known:
            result.errors.append(FieldError(field=_where(key), message=f"The form has no field '{key}'."))
    for f in fields:
        key, value = f["key"], given.get(f["key"])
        empty = value is None or value == "" or value == []
        if customer and f.get("staff_only"):
            if not empty:
                result.errors.append(
                    FieldError(field=_where(key), message=f"{_named(f)} is answered by staff only.")
                )
            continue
        if not _shown(f, result.answers):
            if not empty:
                when = known[f["shown_when"]["key"]]
                result.errors.append(
                    FieldError(
                        field=_where(key),
                        message=f"{_named(f)} is asked only when {_named(when)} is answered so.",
                    )
                )
            continue
        if empty:
            if f.get("required"):
                result.errors.append(FieldError(field=_where(key), message=f"{_named(f)} is required."))
            continue
        stored, refused = _value(f, value)
        if refused:
            result.errors.append(FieldError(field=_where(key), message=f"{_named(f)} {refused}."))
            continue
        result.answers[key] = stored
        if f["type"] in REFERENCES:
            result.references.setdefault(f["type"], []).append((key, UUID(stored)))
    return result


def asked(fields: list[dict[str, Any]], *, customer: bool) -> list[dict[str, Any]]:
    """A form's fields as a reader sees them: without the staff-only ones for a customer."""
    return [f for f in fields if not (customer and f.get("staff_only"))]


def visible(fields: list[dict[str, Any]], answers: dict[str, Any], *, customer: bool) -> dict[str, Any]:
    """The answers a reader sees: without the staff-only ones for a customer."""
    if not customer:
        return answers
    hidden = {f["key"] for f in fields if f.get("staff_only")}
    return {k: v for k, v in answers.items() if k not in hidden}
