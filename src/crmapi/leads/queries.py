"""What an actor may read of leads: the scope every lead read and write starts from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, false, func, or_, select

from crmapi.access.actor import Actor
from crmapi.access.problems import MissingCapability
from crmapi.kit import search
from crmapi.kit.pagination import Sorting
from crmapi.leads.models import Lead
from crmapi.leads.schemas import LeadFilter
from crmapi.lifecycle import work
from crmapi.lifecycle.board import utc

SORTING = Sorting(
    columns={"created_at": Lead.created_at, "updated_at": Lead.updated_at, "number": Lead.number},
    id_column=Lead.id,
    default="created_at",
)
_EQUAL = (
    "type_id",
    "status_id",
    "state",
    "category_id",
    "source",
    "assigned_member_id",
    "business_unit_id",
    "owner_member_id",
    "contact_id",
    "account_id",
)


def scope(actor: Actor) -> Any:
    return actor.remember("leads.scope", _scope)


def _scope(actor: Actor) -> Any:
    """Leads the actor may see: all with leads.view_any; else those it owns, is assigned, or that
    are assigned to one of its business units (so a unit's members can accept them), and with
    the organisation's unit visibility on, those of the units below its own."""
    if actor.can("leads.view_any"):
        return Lead.org_id == actor.org_id
    if actor.member_id is None:
        raise MissingCapability("An API key needs the capability 'leads.view_any' here.")
    paths = work.paths(actor, Lead)
    return (Lead.org_id == actor.org_id) & or_(*paths)


def readable(actor: Actor, *, deleted: bool = False) -> Select[Lead]:
    state = Lead.deleted_at.is_not(None) if deleted else Lead.deleted_at.is_(None)
    return select(Lead).where(scope(actor), state)


def overdue() -> Any:
    """Open and past the expected completion, by the database's clock (so a statement built
    once and kept, like a board's, stays right)."""
    return Lead.completed_at.is_(None) & (Lead.expected_completion_at < func.now())


def filtered(actor: Actor, f: LeadFilter, *, deleted: bool = False) -> Select[Lead]:
    """Leads in scope matching the list's filters; `deleted`: the removed ones (leads.manage)."""
    if deleted and not actor.can("leads.manage"):
        raise MissingCapability("Listing removed leads needs 'leads.manage'.")
    stmt = readable(actor, deleted=deleted)
    for key in _EQUAL:
        value = getattr(f, key)
        if value is not None:
            stmt = stmt.where(getattr(Lead, key) == value)
    if f.tag:
        stmt = stmt.where(Lead.tags.contains([f.tag]))
    if f.overdue is not None:
        late = overdue()
        stmt = stmt.where(late if f.overdue else ~late | Lead.expected_completion_at.is_(None))
    if f.created_from:
        stmt = stmt.where(Lead.created_at >= f.created_from)
    if f.created_to:
        stmt = stmt.where(Lead.created_at < f.created_to)
    if f.q:
        stmt = stmt.where(search.matches(Lead.search_text, f.q))
    return stmt


def _card() -> dict[str, Any]:
    """What a board shows of a lead, as SQL."""
    return {
        "id": Lead.id,
        "number": Lead.number,
        "description": Lead.description,
        "first_name": Lead.first_name,
        "last_name": Lead.last_name,
        "company": Lead.company,
        "priority": Lead.priority,
        "assigned_member_id": Lead.assigned_member_id,
        "business_unit_id": Lead.business_unit_id,
        "expected_completion_at": utc(Lead.expected_completion_at),
        "overdue": func.coalesce(
            Lead.completed_at.is_(None) & (Lead.expected_completion_at < func.now()), false()
        ),
        "created_at": utc(Lead.created_at),
        "tags": Lead.tags,
    }


CARD = _card()
