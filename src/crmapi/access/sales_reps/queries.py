"""Sales-rep records as staff read them, and the staff members linked to one."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Select, or_, select

from crmapi.access.actor import Actor
from crmapi.access.models import SalesRep, SalesRepMember
from crmapi.access.sales_reps.schemas import SalesRepListQuery
from crmapi.identity import pages
from crmapi.kit.pagination import Sorting
from crmapi.kit.search import escape_like

SORTING = Sorting(
    columns={"code": SalesRep.code, "name": SalesRep.name, "created_at": SalesRep.created_at},
    id_column=SalesRep.id,
    default="code",
)


def readable(actor: Actor) -> Select[SalesRep]:
    """Every record of the organisation: staff read all of them."""
    return select(SalesRep).where(SalesRep.org_id == actor.org_id)


def filtered(actor: Actor, f: SalesRepListQuery) -> Select[SalesRep]:
    stmt = readable(actor)
    if f.active is not None:
        stmt = stmt.where(SalesRep.active.is_(f.active))
    if f.q:
        # A handful to a few hundred records per organisation: a scan is fine, no trigram index.
        part = "%" + escape_like(f.q) + "%"
        stmt = stmt.where(or_(SalesRep.code.ilike(part, escape="\\"), SalesRep.name.ilike(part, escape="\\")))
    return stmt


def members(actor: Actor, rep_id: UUID) -> Select[Any]:
    """(Member, email) rows of the staff members linked to the record."""
    linked = select(SalesRepMember.member_id).where(
        SalesRepMember.org_id == actor.org_id, SalesRepMember.sales_rep_id == rep_id
    )
    return pages.linked(actor, linked)
