"""An issue type's form, checked without a database: what a definition may say, and how answers
are refused (each named by label and key), stored and hidden."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError

from crmapi.issues.forms import FormIn, check, visible

TERMS = [{"code": "NET7", "name": "7 days"}, {"code": "NET30", "name": "30 days"}]
FIELDS: list[dict[str, Any]] = [
    {"key": "limit", "label": "Limit", "type": "money", "currency": "PLN", "required": True, "min": "1000"},
    {"key": "terms", "label": "Terms", "type": "select", "options": TERMS},
    {"key": "channels", "label": "Channels", "type": "multi_select", "options": TERMS, "max_length": 1},
    {"key": "refs", "label": "References", "type": "boolean"},
    {
        "key": "who",
        "label": "Who",
        "type": "text",
        "required": True,
        "pattern": "[A-Z].*",
        "shown_when": {"key": "refs", "equals": True},
    },
    {"key": "pallets", "label": "Pallets", "type": "number", "max": "40"},
    {"key": "on", "label": "Delivered on", "type": "date"},
    {"key": "at", "label": "Called at", "type": "datetime"},
    {"key": "rate", "label": "Rate", "type": "decimal", "min": "0"},
    {"key": "risk", "label": "Risk", "type": "text", "staff_only": True},
    {"key": "contact", "label": "Contact", "type": "contact"},
]


def refusals(given: dict[str, Any], *, customer: bool = False) -> dict[str, str]:
    return {
        e.field.removeprefix("body.answers."): e.message
        for e in check(FIELDS, given, customer=customer).errors
    }


def test_good_answers_are_stored_normalised_with_their_references() -> None:
    checked = check(
        FIELDS,
        {
            "limit": {"amount": "2500.00", "currency": "PLN"},
            "terms": "NET30",
            "channels": ["NET7", "NET7"],
            "refs": True,
            "who": "  Nowak  ",
            "pallets": 12,
            "on": "2026-12-01",
            "at": "2026-12-01T10:00:00+01:00",
            "rate": 1.5,
            "contact": "0192f0a8-0000-7000-8000-000000000001",
        },
        customer=False,
    )
    assert checked.errors == []
    assert checked.answers["who"] == "Nowak" and checked.answers["channels"] == ["NET7"]
    assert checked.answers["at"] == "2026-12-01T09:00:00+00:00" and checked.answers["rate"] == "1.5"
    assert checked.references == {"contact": [("contact", UUID("0192f0a8-0000-7000-8000-000000000001"))]}


def test_every_bad_answer_is_named_by_label_and_key() -> None:
    found = refusals(
        {
            "limit": {"amount": "500", "currency": "PLN"},
            "terms": "NET99",
            "channels": ["NET7", "NET30"],
            "refs": "yes",
            "pallets": 41,
            "on": "01.12.2026",
            "at": "2026-12-01T10:00:00",
            "rate": "-1",
            "nope": 1,
            "contact": "not-an-id",
        }
    )
    assert found == {
        "limit": "'Limit' (limit) is below the least allowed, 1000.",
        "terms": "'Terms' (terms) must be one of NET30, NET7.",
        "channels": "'Channels' (channels) takes at most 1 choices.",
        "refs": "'References' (refs) must be true or false.",
        "pallets": "'Pallets' (pallets) is above the most allowed, 40.",
        "on": "'Delivered on' (on) must be a date, e.g. 2026-12-31.",
        "at": "'Called at' (at) must be a date and time with its offset, e.g. 2026-12-31T09:30:00+01:00.",
        "rate": "'Rate' (rate) is below the least allowed, 0.",
        "nope": "The form has no field 'nope'.",
        "contact": "'Contact' (contact) must be an id.",
    }


def test_a_conditional_field_is_required_only_when_asked_and_refused_otherwise() -> None:
    money = {"amount": "1000", "currency": "PLN"}
    assert refusals({"limit": money, "refs": True}) == {"who": "'Who' (who) is required."}
    assert refusals({"limit": money, "refs": True, "who": "nowak"}) == {
        "who": "'Who' (who) does not have the expected form."
    }
    assert refusals({"limit": money, "refs": False, "who": "Nowak"}) == {
        "who": "'Who' (who) is asked only when 'References' (refs) is answered so."
    }
    assert refusals({"limit": money}) == {}


def test_customers_neither_answer_nor_see_staff_only_fields() -> None:
    money = {"amount": "1000", "currency": "PLN"}
    assert refusals({"limit": money, "risk": "high"}, customer=True) == {
        "risk": "'Risk' (risk) is answered by staff only."
    }
    answers = {"limit": money, "risk": "high"}
    assert visible(FIELDS, answers, customer=True) == {"limit": money}
    assert visible(FIELDS, answers, customer=False) == answers


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ([{"key": "a", "label": "A", "type": "text", "min": "1"}], "a text field has no min"),
        ([{"key": "a", "label": "A", "type": "select"}], "a select field needs lookup_list_id"),
        ([{"key": "a", "label": "A", "type": "text"}] * 2, "two fields have the key 'a'"),
        (
            [{"key": "a", "label": "A", "type": "text", "shown_when": {"key": "b"}}],
            "which is not an earlier field",
        ),
        ([{"key": "a", "label": "A", "type": "text", "pattern": "("}], "pattern is not a regular expression"),
        ([{"key": "a", "label": "A", "type": "money", "currency": "XYZ"}], "not an ISO 4217 currency code"),
        ([{"key": "a", "label": "A", "type": "number", "min": "5", "max": "1"}], "min is above max"),
    ],
)
def test_a_form_that_cannot_be_answered_is_refused_when_saved(
    fields: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        FormIn.model_validate({"fields": fields})
