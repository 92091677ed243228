"""Business units as staff read them, and the members of one unit."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Select, func, select

from crmapi.access.actor import Actor
from crmapi.access.business_units.schemas import BusinessUnitListQuery
from crmapi.access.models import BusinessUnit, MemberUnit
from crmapi.identity import pages
from crmapi.kit.pagination import Sorting
from crmapi.kit.search import escape_like

SORTING = Sorting(
    columns={"name": BusinessUnit.name, "created_at": BusinessUnit.created_at},
    id_column=BusinessUnit.id,
    default="name",
)


def readable(actor: Actor) -> Select[BusinessUnit]:
    """The organisation's whole tree: every staff member reads all of it."""
    return select(BusinessUnit).where(BusinessUnit.org_id == actor.org_id)


def filtered(actor: Actor, f: BusinessUnitListQuery) -> Select[BusinessUnit]:
    stmt = readable(actor)
    if f.q:
        prefix = escape_like(f.q.lower()) + "%"
        stmt = stmt.where(func.lower(BusinessUnit.name).like(prefix, escape="\\"))
    if f.parent_id:
        stmt = stmt.where(BusinessUnit.parent_id == f.parent_id)
    return stmt


def members(actor: Actor, unit_id: UUID) -> Select[Any]:
    """(Member, email) rows of the members linked to the unit."""
    linked = select(MemberUnit.member_id).where(
        MemberUnit.org_id == actor.org_id, MemberUnit.business_unit_id == unit_id
    )
    return pages.linked(actor, linked)


def is_at_or_above(actor: Actor, unit_id: UUID, other_id: UUID) -> Select[Any]:
    """Whether `unit_id` is `other_id` or one of the units above it (a recursive walk up)."""
    up = (
        select(BusinessUnit.id, BusinessUnit.parent_id)
        .where(BusinessUnit.org_id == actor.org_id, BusinessUnit.id == other_id)
        .cte("above", recursive=True)
    )
    parent = select(BusinessUnit.id, BusinessUnit.parent_id).join(
        up, (BusinessUnit.org_id == actor.org_id) & (BusinessUnit.id == up.c.parent_id)
    )
    # UNION, not UNION ALL: a cycle already in the table (it should never be) cannot loop forever.
    tree = up.union(parent)
    return select(select(tree.c.id).where(tree.c.id == unit_id).exists())
