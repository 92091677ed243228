"""Custom field definitions, and the `custom` filter that contact and account lists accept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from crmapi.kit.pagination import PageParams
from crmapi.kit.scalars import CUSTOM_KEY_PATTERN, Input, Name, Omittable, trimmed

# The records that carry custom fields.
CarrierKind = Literal["contact", "account"]
FieldType = Literal["text", "number", "date", "bool", "select"]
Key = Annotated[
    str,
    StringConstraints(pattern=CUSTOM_KEY_PATTERN),
    Field(
        description="Stable key in records' `custom` object: a lower-case letter, then up to 49 lower-case "
        "letters, digits or underscores.",
        examples=["region"],
    ),
]
Option = Annotated[str, trimmed(200)]
Position = Annotated[
    int,
    Field(ge=0, le=100_000, strict=True, description="Order within the kind, for forms and columns."),
]
MAX_OPTIONS = 200
IMMUTABLE = ("kind", "key", "type")
CUSTOM_PREFIX = "custom."


def _invalid(model: str, errors: list[tuple[str, str]]) -> ValidationError:
    """A validation error located on the named fields, so the problem names `body.<field>`."""
    return ValidationError.from_exception_data(
        model,
        [
            InitErrorDetails(type=PydanticCustomError("invalid", message), loc=(field,), input=None)
            for field, message in errors
        ],
    )


def _check_unique(model: str, options: list[str] | None) -> None:
    if options is not None and len(set(options)) != len(options):
        raise _invalid(model, [("options", "options must be unique")])


class CustomFieldCreate(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "account",
                    "key": "region",
                    "label": "Region",
                    "type": "select",
                    "options": ["north", "south", "east", "west"],
                },
                {"kind": "contact", "key": "employees", "label": "Employees", "type": "number"},
            ]
        },
    )
    kind: CarrierKind = Field(description="The records that carry the field.")
    key: Key
    label: Name = Field(examples=["Region"])
    type: FieldType = Field(description="Fixed once created, like `kind` and `key`.")
    options: list[Option] | None = Field(
        None,
        max_length=MAX_OPTIONS,
        description="The allowed values: required for `select`, refused otherwise.",
    )
    required: bool = Field(False, strict=True, description="Every new record must give a value.")
    position: Position | None = Field(None, description="Defaults to after the kind's last field.")

    @model_validator(mode="after")
    def _options_fit_the_type(self) -> CustomFieldCreate:
        _check_unique(type(self).__name__, self.options)
        if self.type == "select" and not self.options:
            raise _invalid(type(self).__name__, [("options", "a select field needs at least one option")])
        if self.type != "select" and self.options:
            raise _invalid(type(self).__name__, [("options", "only select fields have options")])
        return self


class CustomFieldUpdate(Input):
    """Merge semantics. `kind`, `key` and `type` never change: delete the field and create another."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"label": "Sales region"}]})
    label: Omittable[Name] = None
    options: Omittable[list[Option]] = Field(
        None,
        max_length=MAX_OPTIONS,
        description="Select fields only; replaces the list. Records keep values no longer listed.",
    )
    required: Omittable[bool] = Field(None, strict=True, description="Checked when records are created.")
    position: Omittable[Position] = None

    @model_validator(mode="before")
    @classmethod
    def _fixed_fields_stay(cls, data: Any) -> Any:
        if isinstance(data, dict):
            sent = [f for f in IMMUTABLE if f in data]
            if sent:
                message = "cannot change; delete the field and create another"
                raise _invalid(cls.__name__, [(f, message) for f in sent])
        return data

    @model_validator(mode="after")
    def _options_are_unique(self) -> CustomFieldUpdate:
        _check_unique(type(self).__name__, self.options)
        return self


class CustomFieldRead(BaseModel):
    """Every field but id is optional: `fields` may leave any of them out."""

    model_config = ConfigDict(from_attributes=True)
    id: UUID
    kind: CarrierKind | None = None
    key: str | None = None
    label: str | None = None
    type: FieldType | None = None
    options: list[str] | None = None
    required: bool | None = None
    position: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int | None = None


class CustomFieldListQuery(PageParams):
    model_config = ConfigDict(extra="forbid")
    kind: CarrierKind | None = None
    sort: Literal["position"] | None = Field(
        None, description="The one order: kind, then position, then key."
    )


# --- filtering contacts and accounts by custom values ----------------------------------------


@dataclass(frozen=True)
class CustomFilter:
    """`custom` values a list must match, as sent: text from a URL, JSON from a search body."""

    values: dict[str, Any]
    source: Literal["query", "body"]

    @property
    def from_text(self) -> bool:
        return self.source == "query"


class CustomQuery(BaseModel):
    """A list's query model that also takes `custom.<key>=value` parameters.

    The parameters' names depend on the organisation's definitions, so they cannot be model
    fields: they are taken out before validation (every other unknown parameter is still 422)
    and checked against the definitions by `custom_fields.service.narrow`.
    """

    _custom: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _take_custom_parameters(cls, data: Any, handler: Any) -> Any:
        custom: dict[str, Any] = {}
        if isinstance(data, dict):
            custom = {k[len(CUSTOM_PREFIX) :]: v for k, v in data.items() if k.startswith(CUSTOM_PREFIX)}
            data = {k: v for k, v in data.items() if not k.startswith(CUSTOM_PREFIX)}
        model = handler(data)
        model._custom = custom
        return model

    def custom_filter(self) -> CustomFilter:
        return CustomFilter(self._custom, "query")


class CustomBody(BaseModel):
    """A search body's `custom` object: every key given must match."""

    custom: dict[str, Any] | None = Field(
        None,
        max_length=50,
        description="Custom field values every record must have (JSON typed: numbers as numbers, "
        "booleans as booleans, dates as YYYY-MM-DD).",
        examples=[{"region": "north", "employees": 10}],
    )

    def custom_filter(self) -> CustomFilter:
        return CustomFilter(self.custom or {}, "body")
