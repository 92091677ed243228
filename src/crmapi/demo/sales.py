"""Demo leads, opportunities and service requests: every board column filled, a pipeline with
amounts to sum, a service dashboard and rated requests.

Built from the organisation's seeded statuses and default types, the demo's staff, contacts and
accounts; written with their "created" and "transition" history as the services write them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.config.defaults import LEAD_SOURCES
from crmapi.config.models import LostReason
from crmapi.kit.ids import new_id
from crmapi.leads import service as lead_service
from crmapi.leads.models import Lead
from crmapi.lifecycle.models import LifecycleStatus, LifecycleType

WANTS = (
    "Wants a quote for {n} licences",
    "Asked about delivery to {city}",
    "Met at the trade fair, interested in the {item}",
    "Called about the {item} price list",
    "Needs {n} units of the {item} before the season",
)
ITEMS = ("web shop module", "warehouse scanners", "loyalty programme", "B2B portal", "mobile app")
CITIES = ("Kraków", "Gdańsk", "Poznań", "Wrocław", "Łódź")
# Of every ten leads: four pending, three in progress, one each won, lost, cancelled.
LEAD_STATES = ("pending",) * 4 + ("in_progress",) * 3 + ("won", "lost", "cancelled")
OPPORTUNITY_STATES = ("open",) * 6 + ("won",) * 2 + ("lost", "cancelled")
REQUEST_STATES = (
    ("pending",) * 3
    + ("in_progress",) * 2
    + (
        "responded",
        "finally_resolved",
        "completed",
        "completed",
        "cancelled",
    )
)
PROBLEMS = (
    "The {item} stopped syncing",
    "Invoice for the {item} is wrong",
    "Cannot sign in to the {item}",
    "Delivery to {city} is late",
)
RATINGS = (5, 5, 5, 4, 4, 3, 2, 1)  # what customers tend to give


@dataclass
class Sales:
    leads: list[dict[str, Any]] = field(default_factory=list)
    opportunities: list[dict[str, Any]] = field(default_factory=list)
    service_requests: list[dict[str, Any]] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Config:
    """The organisation's seeded configuration the demo records refer to."""

    types: dict[str, UUID]
    statuses: dict[tuple[str, str], tuple[UUID, str]]  # (kind, state) -> first status id, code
    lost_reasons: list[UUID]


async def config(session: AsyncSession) -> Config:
    defaults = await session.execute(
        select(LifecycleType.kind, LifecycleType.id).where(LifecycleType.is_default)
    )
    types = {kind: type_id for kind, type_id in defaults}
    statuses: dict[tuple[str, str], tuple[UUID, str]] = {}
    ordered = select(LifecycleStatus).order_by(LifecycleStatus.position.desc())
    for status in (await session.execute(ordered)).scalars():  # the first of a state wins
        statuses[(status.kind, status.state)] = (status.id, status.code)
    reasons = list((await session.execute(select(LostReason.id))).scalars())
    return Config(types, statuses, reasons)


def build(
    rng: random.Random,
    org_id: UUID,
    now: datetime,
    cfg: Config,
    staff: list[UUID],
    contacts: list[dict[str, Any]],
    accounts: list[dict[str, Any]],
) -> Sales:
    sales = Sales()
    persons = [c for c in contacts if c["kind"] == "person"]
    for number in range(1, max(10, len(accounts) // 2) + 1):
        person = rng.choice(persons)
        state = LEAD_STATES[number % len(LEAD_STATES)]
        created = now - timedelta(days=rng.uniform(0, 120))
        assignee = rng.choice(staff) if state != "pending" or rng.random() < 0.5 else None
        lead = {
            **_base(org_id, created),
            "number": number,
            "type_id": cfg.types["lead"],
            "category_id": None,
            "source": rng.choice(LEAD_SOURCES[:8])[0],
            "priority": rng.randint(1, 10),
            "importance_id": None,
            "description": rng.choice(WANTS).format(
                n=rng.randint(2, 80), city=rng.choice(CITIES), item=rng.choice(ITEMS)
            ),
            "first_name": person["first_name"],
            "last_name": person["last_name"],
            "company": None,
            "title": person["job_title"],
            "phone": None,
            "email": None,
            "website": None,
            "time_zone": "Europe/Warsaw",
            "notes": None,
            "objection": None,
            "call_tries": rng.randint(0, 4),
            "call_date": None,
            "call_code": None,
            "call_status": None,
            "reminder_at": None,
            "product_refs": [],
            "competitor_ids": [],
            "tags": [],
            "contact_id": None,
            "account_id": None,
            "business_unit_id": None,
            "assigned_member_id": assignee,
            "owner_member_id": rng.choice(staff),
            "accepted_at": None,
            "lost_reason_id": rng.choice(cfg.lost_reasons) if state == "lost" else None,
            "cancellation_reason_id": None,
            "start_at": created,
            "expected_completion_at": None,
            "completed_at": created + timedelta(days=rng.uniform(1, 10))
            if state in ("won", "lost", "cancelled")
            else None,
            "deleted_at": None,
        }
        _place(lead, cfg, "lead", state)
        record = Lead(**{k: v for k, v in lead.items() if k != "_code"})
        lead_service.derive(record)
        lead["search_text"] = record.search_text
        sales.leads.append(lead)
        _history(sales, lead, "lead")
    for number in range(1, max(10, len(accounts) // 5) + 1):
        account = rng.choice(accounts)
        state = OPPORTUNITY_STATES[number % len(OPPORTUNITY_STATES)]
        created = max(account["created_at"], now - timedelta(days=rng.uniform(0, 90)))
        amount = Decimal(rng.randint(5, 400) * 250)
        opportunity = {
            **_base(org_id, created),
            "number": number,
            "type_id": cfg.types["opportunity"],
            "stage_entered_at": created,
            "account_id": account["id"],
            "contact_id": account["primary_contact_id"],
            "lead_id": None,
            "name": f"{account['name'][:120]}: {rng.choice(ITEMS)}",
            "description": None,
            "source": None,
            "partner": None,
            "amount_amount": amount,
            "amount_currency": "PLN",
            "budget_amount": None,
            "budget_currency": None,
            "cost_conscious": rng.random() < 0.3,
            "expected_close_date": (created + timedelta(days=rng.randint(14, 120))).date(),
            "alternative_close_date": None,
            "closed_at": created + timedelta(days=rng.uniform(5, 30)) if state != "open" else None,
            "interest_level": rng.choice(("low", "medium", "high")),
            "probability": {"open": rng.choice((10, 25, 50, 75)), "won": 100}.get(state, 0),
            "objection": None,
            "lost_reason_id": rng.choice(cfg.lost_reasons) if state == "lost" else None,
            "won_reason": "Best offer" if state == "won" else None,
            "decision_maker": None,
            "next_step": "Send the offer" if state == "open" else None,
            "last_activity_at": None,
            "owner_member_id": account["owner_member_id"],
            "assigned_member_id": account["owner_member_id"],
            "business_unit_id": None,
            "tags": [],
            "search_text": "",
            "deleted_at": None,
        }
        _place(opportunity, cfg, "opportunity", state)
        opportunity["search_text"] = f"{opportunity['name']} {number}".lower()
        sales.opportunities.append(opportunity)
        _history(sales, opportunity, "opportunity")
    _service_requests(sales, rng, org_id, now, cfg, staff, accounts)
    return sales


def _service_requests(
    sales: Sales,
    rng: random.Random,
    org_id: UUID,
    now: datetime,
    cfg: Config,
    staff: list[UUID],
    accounts: list[dict[str, Any]],
) -> None:
    """Requests in every state, a third of the open ones past their deadline, the completed ones
    mostly rated."""
    for number in range(1, max(10, len(accounts) // 2) + 1):
        account = rng.choice(accounts)
        state = REQUEST_STATES[number % len(REQUEST_STATES)]
        created = max(account["created_at"], now - timedelta(days=rng.uniform(0, 90)))
        urgency, impact = rng.randint(1, 5), rng.randint(1, 5)
        closed = min(now, created + timedelta(days=rng.uniform(0.5, 5)))
        request = {
            **_base(org_id, created),
            "number": number,
            "type_id": cfg.types["service_request"],
            "category_id": None,
            "cancellation_reason_id": None,
            "subject": rng.choice(PROBLEMS).format(item=rng.choice(ITEMS), city=rng.choice(CITIES)),
            "description": None,
            "urgency": urgency,
            "impact": impact,
            "priority": urgency + impact - 1,  # the seeded matrix
            "contact_id": account["primary_contact_id"],
            "account_id": account["id"],
            "business_unit_id": None,
            "assigned_member_id": rng.choice(staff) if state != "pending" or rng.random() < 0.5 else None,
            "owner_member_id": rng.choice(staff),
            "accepted_at": None,
            "start_at": created,
            "expected_completion_at": created + timedelta(days=rng.choice((3, 7, 100))),
            "completed_at": closed if state in ("completed", "cancelled") else None,
            "awaiting_acceptance_of": None,
            "deleted_at": None,
        }
        request |= _answers(state, closed)
        if state != "pending":
            request["updated_at"] = closed
        _place(request, cfg, "service_request", state)
        request["search_text"] = f"{request['subject']} {number}".lower()
        sales.service_requests.append(request)
        _history(sales, request, "service_request")
        if state == "completed" and rng.random() < 0.8:
            _rate(sales, rng, request, min(now, closed + timedelta(hours=rng.uniform(1, 48))))


def _rate(sales: Sales, rng: random.Random, request: dict[str, Any], at: datetime) -> None:
    """The contact's rating through its link, with the history row the service writes."""
    rating = rng.choice(RATINGS)
    org_id = request["org_id"]
    sales.feedback.append(
        {
            "org_id": org_id,
            "id": new_id(),
            "service_request_id": request["id"],
            "rating": rating,
            "comment": None,
            "member_id": None,
            "via": "link",
            "created_at": at,
        }
    )
    changes = {"rating": {"old": None, "new": rating}, "via": {"old": None, "new": "link"}}
    row = _history_row(request, "service_request", None)
    sales.history.append({**row, "id": new_id(), "at": at, "action": "rated", "changes": changes})


def _answers(state: str, at: datetime) -> dict[str, Any]:
    """The answer columns of a request in `state`: responded and resolved ones have been answered
    (categories left empty: the demo does not guess an organisation's trees)."""
    columns: dict[str, Any] = {}
    for kind, given, reached in (
        ("response", "responded_at", ("responded", "finally_resolved", "completed")),
        ("temporary_resolution", "temporarily_resolved_at", ()),
        ("final_resolution", "finally_resolved_at", ("finally_resolved", "completed")),
    ):
        done = state in reached
        columns |= {
            f"{kind}_category_id": None,
            kind: "Answered by phone." if done else None,
            given: at if done else None,
            f"{kind}_accepted_at": None,
        }
    return columns


def _base(org_id: UUID, at: datetime) -> dict[str, Any]:
    return {"org_id": org_id, "id": new_id(), "created_at": at, "updated_at": at, "version": 1}


def _place(record: dict[str, Any], cfg: Config, kind: str, state: str) -> None:
    record["status_id"], record["_code"] = cfg.statuses[(kind, state)]
    record["state"] = state


def _history_row(record: dict[str, Any], entity: str, actor: UUID | None) -> dict[str, Any]:
    """What every history row of a demo record has (a link token's actor is nobody)."""
    return {
        "org_id": record["org_id"],
        "entity": entity,
        "entity_id": record["id"],
        "actor_member_id": actor,
        "actor_api_key_id": None,
        "request_id": None,
    }


def _history(sales: Sales, record: dict[str, Any], entity: str) -> None:
    """A "created" row, and a "transition" row when the record is past its first state."""
    code = record.pop("_code")
    row = _history_row(record, entity, record["owner_member_id"])
    sales.history.append(
        {**row, "id": new_id(), "at": record["created_at"], "action": "created", "changes": {}}
    )
    if record["state"] not in ("pending", "open"):
        moved = {"state": {"old": None, "new": record["state"]}, "status": {"old": None, "new": code}}
        at = record.get("completed_at") or record.get("closed_at") or record["created_at"]
        sales.history.append({**row, "id": new_id(), "at": at, "action": "transition", "changes": moved})
