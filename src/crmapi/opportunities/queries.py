"""Which opportunities an actor may read: those of the accounts it may read (DESIGN: children
inherit their account's scope), and those it owns or is assigned."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Text, case, cast, false, func, select, union_all

from crmapi.access.actor import Actor
from crmapi.access.problems import MissingCapability
from crmapi.accounts import queries as accounts
from crmapi.accounts.models import Account
from crmapi.kit import search
from crmapi.kit.pagination import Sorting
from crmapi.lifecycle.board import utc
from crmapi.opportunities.models import Opportunity
from crmapi.opportunities.schemas import OpportunityFilter, OpportunityListQuery

SORTING = Sorting(
    columns={
        "created_at": Opportunity.created_at,
        "updated_at": Opportunity.updated_at,
        "number": Opportunity.number,
    },
    id_column=Opportunity.id,
    default="created_at",
)
_EQUAL = (
    "type_id",
    "status_id",
    "state",
    "account_id",
    "lead_id",
    "owner_member_id",
    "assigned_member_id",
    "business_unit_id",
)


def scope(actor: Actor) -> Any:
    return actor.remember("opportunities.scope", _scope)


def _scope(actor: Actor) -> Any:
    """The opportunities of the accounts the actor sees, and a member's own: those it owns or is
    assigned, whatever their account (DESIGN: a work item is visible to its assignee). Customers,
    who see their own accounts, never see the sales side of them."""
    if actor.kind == "customer":
        return false()
    org = Opportunity.org_id == actor.org_id
    # Children follow their account: a deleted account's opportunities are gone with it.
    live = Opportunity.account_id.in_(select(Account.id).where(Account.deleted_at.is_(None)))
    if actor.can("accounts.view_any"):
        return org & live
    through_account = Opportunity.account_id.in_(accounts.visible_ids(actor))
    if actor.member_id is None:
        return org & through_account
    # One indexed lookup per path, (org_id, account_id), (org_id, owner_member_id) and
    # (org_id, assigned_member_id), collected first and joined (as accounts do): beside an OR,
    # `IN (subquery)` is no index condition and every opportunity would be tested.
    # `correlate(None)` keeps each a lookup of its own, not tied to the enclosing query's rows.
    paths = [
        select(Opportunity.id).where(through_account),
        select(Opportunity.id).where(Opportunity.owner_member_id == actor.member_id, live),
        select(Opportunity.id).where(Opportunity.assigned_member_id == actor.member_id, live),
    ]
    return org & Opportunity.id.in_(union_all(*(p.correlate(None) for p in paths)))


def readable(actor: Actor, *, deleted: bool = False) -> Select[Opportunity]:
    state = Opportunity.deleted_at.is_not(None) if deleted else Opportunity.deleted_at.is_(None)
    return select(Opportunity).where(scope(actor), state)


def narrowed(stmt: Select[Any], f: OpportunityFilter) -> Select[Any]:
    """The list's filters on any statement over opportunities (the list, the pipeline, the board)."""
    for key in _EQUAL:
        value = getattr(f, key)
        if value is not None:
            stmt = stmt.where(getattr(Opportunity, key) == value)
    if f.tag:
        stmt = stmt.where(Opportunity.tags.contains([f.tag]))
    if f.created_from:
        stmt = stmt.where(Opportunity.created_at >= f.created_from)
    if f.created_to:
        stmt = stmt.where(Opportunity.created_at < f.created_to)
    if f.q:
        stmt = stmt.where(search.matches(Opportunity.search_text, f.q))
    return stmt


def filtered(actor: Actor, f: OpportunityListQuery) -> Select[Opportunity]:
    if f.deleted == "only" and not actor.can("opportunities.manage"):
        raise MissingCapability("Listing removed opportunities needs 'opportunities.manage'.")
    return narrowed(readable(actor, deleted=f.deleted == "only"), f)


def _card() -> dict[str, Any]:
    """What a board shows of an opportunity, as SQL."""
    amount = case(
        (
            Opportunity.amount_amount.is_not(None),
            func.json_build_object(
                "amount", cast(Opportunity.amount_amount, Text), "currency", Opportunity.amount_currency
            ),
        ),
    )
    return {
        "id": Opportunity.id,
        "number": Opportunity.number,
        "name": Opportunity.name,
        "account_id": Opportunity.account_id,
        "amount": amount,
        "probability": Opportunity.probability,
        "expected_close_date": Opportunity.expected_close_date,
        "assigned_member_id": Opportunity.assigned_member_id,
        "created_at": utc(Opportunity.created_at),
        "tags": Opportunity.tags,
    }


def stage_sums(matching: Select[Any]) -> Select[Any]:
    """Per stage and currency: how many, their amounts, and the amounts weighted by probability."""
    found = matching.with_only_columns(
        Opportunity.status_id, Opportunity.amount_currency, Opportunity.amount_amount, Opportunity.probability
    ).subquery()
    weighted = found.c.amount_amount * func.coalesce(found.c.probability, 0) / 100
    return select(
        found.c.status_id,
        found.c.amount_currency,
        func.count().label("count"),
        func.sum(found.c.amount_amount).label("amount"),
        func.sum(weighted).label("weighted"),
    ).group_by(found.c.status_id, found.c.amount_currency)


CARD = _card()
