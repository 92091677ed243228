"""Which opportunities an actor may read: those of the accounts it may read (DESIGN: children
inherit their account's scope)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Text, case, cast, false, func, select

from crmapi import search
from crmapi.access.actor import Actor
from crmapi.accounts import queries as accounts
from crmapi.accounts.models import Account
from crmapi.errors import Forbidden
from crmapi.lifecycle.board import utc
from crmapi.opportunities.models import Opportunity
from crmapi.opportunities.schemas import OpportunityFilter, OpportunityListQuery
from crmapi.pagination import Sorting

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
    """The opportunities of the accounts the actor sees; customers, who see their own accounts,
    never see the sales side of them."""
    if actor.kind == "customer":
        return false()
    if actor.can("accounts.view_any"):
        # Children follow their account: a deleted account's opportunities are gone with it.
        live = select(Account.id).where(Account.deleted_at.is_(None))
        return (Opportunity.org_id == actor.org_id) & Opportunity.account_id.in_(live)
    return (Opportunity.org_id == actor.org_id) & Opportunity.account_id.in_(accounts.visible_ids(actor))


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
        raise Forbidden(
            "Listing removed opportunities needs 'opportunities.manage'.", slug="missing-capability"
        )
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
