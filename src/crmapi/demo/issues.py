"""The demo's issues: the seed's example issue types (Credit Application, Refunds, Freight
Delivery Enquiries...) each with a form, and a few hundred issues filed on the accounts by staff
and by the accounts' customers, answered, followed, commented on and with work logged.

Select fields offer a "Payment terms" lookup list the demo adds. All from the demo's `rng` and
times relative to `now`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from crmapi.kit.ids import new_id
from crmapi.lifecycle.kinds import ISSUE

TERMS = (("NET7", "7 dni"), ("NET14", "14 dni"), ("NET30", "30 dni"), ("NET60", "60 dni"))
REASONS = (("DAMAGED", "Uszkodzony towar"), ("WRONG", "Błędna dostawa"), ("LATE", "Spóźniona dostawa"))
_MONEY = {"type": "money", "currency": "PLN"}
# name, customers file it, its fields (select fields name their list by code)
TYPES: tuple[tuple[str, bool, tuple[dict[str, Any], ...]], ...] = (
    (
        "Credit Application",
        True,
        (
            {
                "key": "requested_limit",
                "label": "Wnioskowany limit",
                **_MONEY,
                "required": True,
                "min": "1000",
            },
            {
                "key": "terms",
                "label": "Termin płatności",
                "type": "select",
                "list": "TERMS",
                "required": True,
            },
            {"key": "has_references", "label": "Referencje handlowe", "type": "boolean"},
            {
                "key": "references",
                "label": "Od kogo referencje",
                "type": "long_text",
                "required": True,
                "shown_when": {"key": "has_references", "equals": True},
            },
            {"key": "risk_note", "label": "Ocena ryzyka", "type": "text", "staff_only": True},
        ),
    ),
    (
        "Refunds",
        True,
        (
            {"key": "amount", "label": "Kwota zwrotu", **_MONEY, "required": True},
            {"key": "reason", "label": "Powód", "type": "select", "list": "REASONS", "required": True},
            {"key": "delivered_on", "label": "Data dostawy", "type": "date"},
        ),
    ),
    (
        "Freight Delivery Enquiries",
        True,
        (
            {"key": "order_number", "label": "Numer zamówienia", "type": "text", "required": True},
            {"key": "pallets", "label": "Liczba palet", "type": "number", "min": "1", "max": "40"},
        ),
    ),
    (
        "Product Stock Availability",
        True,
        ({"key": "product_code", "label": "Kod produktu", "type": "text", "required": True},),
    ),
    ("Customer Meetings", False, ({"key": "met_on", "label": "Data spotkania", "type": "date"},)),
    (
        "Account Terms Changes",
        False,
        ({"key": "terms", "label": "Nowy termin płatności", "type": "select", "list": "TERMS"},),
    ),
    ("Promotion Redemption", True, ({"key": "promotion", "label": "Kod promocji", "type": "text"},)),
    ("General Customer Enquiries", True, ()),
)
COMMENTS = (
    "Sprawdzam z magazynem.",
    "Klient potwierdził telefonicznie.",
    "Przekazane do działu finansowego.",
    "Dziękujemy, czekamy na odpowiedź.",
)
STATES = ISSUE.states


@dataclass
class Issues:
    lookup_lists: list[dict[str, Any]] = field(default_factory=list)
    lookup_values: list[dict[str, Any]] = field(default_factory=list)
    types: list[dict[str, Any]] = field(default_factory=list)
    forms: list[dict[str, Any]] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)
    followers: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    work_logs: list[dict[str, Any]] = field(default_factory=list)


def _row(org_id: UUID, at: datetime, **values: Any) -> dict[str, Any]:
    return {"org_id": org_id, "id": new_id(), "created_at": at, "updated_at": at, "version": 1, **values}


def _lists(found: Issues, org_id: UUID, now: datetime) -> dict[str, list[dict[str, str]]]:
    """The lookup lists select fields offer, as rows and as a form version's options."""
    options = {}
    for position, (code, name, values) in enumerate(
        (("TERMS", "Terminy płatności", TERMS), ("REASONS", "Powody zwrotu", REASONS)), start=1
    ):
        listed = _row(org_id, now, code=f"DEMO_{code}", name=name, position=1000 + position, active=True)
        found.lookup_lists.append(listed)
        for n, (value, label) in enumerate(values, start=1):
            found.lookup_values.append(
                _row(org_id, now, list_id=listed["id"], code=value, name=label, position=10 * n, active=True)
            )
        options[code] = [{"code": value, "name": label} for value, label in values]
    return options


def _answer(rng: random.Random, f: dict[str, Any], now: datetime) -> Any:
    kind = f["type"]
    if kind == "money":
        return {"amount": f"{rng.randint(10, 500) * 100}.00", "currency": "PLN"}
    if kind == "select":
        return rng.choice(f["options"])["code"]
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "number":
        return rng.randint(1, 40)
    if kind == "date":
        return (now.date() - timedelta(days=rng.randint(0, 60))).isoformat()
    if kind == "long_text":
        return "Hurtownia Nowak, Kowalski i Syn"
    return f"{f['key'].upper()[:3]}-{rng.randint(100, 999)}"


def _answers(rng: random.Random, fields: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """Every required answer and most others, those asked only when an earlier answer says so
    only then."""
    answers: dict[str, Any] = {}
    for f in fields:
        when = f.get("shown_when")
        if when:
            given = answers.get(when["key"])
            if given is None or ("equals" in when and given != when["equals"]):
                continue
        if f.get("required") or rng.random() < 0.7:
            answers[f["key"]] = _answer(rng, f, now)
    return answers


def build(
    rng: random.Random,
    org_id: UUID,
    now: datetime,
    statuses: dict[str, UUID],
    staff: list[UUID],
    accounts: list[dict[str, Any]],
    customers_of: dict[UUID, list[UUID]],
    numbers: range,
) -> Issues:
    """`statuses`: the organisation's issue status of each state; `customers_of`: each account's
    customer members; `numbers`: the issue numbers reserved."""
    found = Issues()
    options = _lists(found, org_id, now)
    ids = [statuses[s] for s in STATES]
    kinds = []
    for position, (name, submittable, spec) in enumerate(TYPES, start=1):
        fields = []
        for f in spec:
            stored = {k: v for k, v in f.items() if k != "list"}
            stored |= {"required": f.get("required", False), "staff_only": f.get("staff_only", False)}
            if "list" in f:
                stored["options"] = options[f["list"]]
            fields.append(stored)
        kind = _row(
            org_id,
            now - timedelta(days=120),
            kind="issue",
            code=f"DEMO_{position}",
            name=name,
            description=None,
            position=100 + position,
            active=True,
            is_default=False,
            status_ids=ids,
            default_status_ids=ids,
            category_ids=[],
            creating_unit_ids=[],
            auto_convert=False,
            activity_type_ids=[],
            service_ids=[],
            automatic_service_ids=[],
            recalculate_on_responding=False,
            customer_submittable=submittable,
            follow_on=["create", "comment"],
            form_version=1,
            complete_within={"amount": 5, "unit": "days"},
            default_priority=5,
        )
        found.types.append(kind)
        found.forms.append(
            {
                "org_id": org_id,
                "id": new_id(),
                "type_id": kind["id"],
                "version": 1,
                "fields": fields,
                "created_at": kind["created_at"],
                "created_by_member_id": staff[0],
            }
        )
        kinds.append((kind, fields))
    for number in numbers:
        kind, fields = rng.choice(kinds)
        account = rng.choice(accounts)
        customers = customers_of.get(account["id"], [])
        by_customer = kind["customer_submittable"] and bool(customers) and rng.random() < 0.6
        filer = rng.choice(customers) if by_customer else rng.choice(staff)
        state = STATES[number % len(STATES)]
        created = max(account["created_at"], now - timedelta(days=rng.uniform(0, 60)))
        done = min(now, created + timedelta(days=rng.uniform(0.5, 6)))
        issue = _row(
            org_id,
            created,
            number=number,
            type_id=kind["id"],
            form_version=1,
            status_id=statuses[state],
            state=state,
            cancellation_reason_id=None,
            account_id=account["id"],
            contact_id=None,
            subject=kind["name"],
            description=None,
            priority=rng.randint(1, 10),
            answers=_answers(rng, fields, now),
            business_unit_id=None,
            assigned_member_id=rng.choice(staff) if state != "open" or rng.random() < 0.5 else None,
            owner_member_id=filer,
            filed_by_customer=by_customer,
            logged_minutes=0,
            start_at=created,
            expected_completion_at=created + timedelta(days=5),
            completed_at=done if state in ("closed", "cancelled") else None,
            search_text=f"{kind['name']} {number} ISS-{number}".lower(),
            deleted_at=None,
        )
        if state != "open":
            issue["updated_at"] = done
        found.issues.append(issue)
        found.followers.append(
            {"org_id": org_id, "issue_id": issue["id"], "member_id": filer, "created_at": created}
        )
        for n in range(rng.randint(0, 3)):
            author = rng.choice([filer, *staff[:3]])
            found.comments.append(
                {
                    "org_id": org_id,
                    "id": new_id(),
                    "issue_id": issue["id"],
                    "author_member_id": author,
                    "body": COMMENTS[n % len(COMMENTS)],
                    "internal": author != filer and rng.random() < 0.2,
                    "created_at": created + timedelta(hours=n + 1),
                }
            )
        if state != "open" and issue["assigned_member_id"] is not None:
            for n in range(rng.randint(1, 3)):
                minutes = rng.choice((15, 30, 45, 60, 90))
                issue["logged_minutes"] += minutes
                found.work_logs.append(
                    {
                        "org_id": org_id,
                        "id": new_id(),
                        "issue_id": issue["id"],
                        "member_id": issue["assigned_member_id"],
                        "minutes": minutes,
                        "worked_at": created + timedelta(hours=2 * n + 1),
                        "note": None,
                        "created_at": created,
                    }
                )
    return found
