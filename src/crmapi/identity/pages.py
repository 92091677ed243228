"""A page of members: `/v1/members` and the member lists of groups, units and sales-rep records."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.identity import service
from crmapi.identity.models import Member
from crmapi.identity.schemas import MemberRead
from crmapi.kit.pagination import PageParams, Sorting, paginate, render_page, select_fields

MEMBER_SORTS = Sorting(
    columns={"created_at": Member.created_at, "updated_at": Member.updated_at},
    id_column=Member.id,
    default="created_at",
)


def linked(actor: Actor, member_ids: Select[Any]) -> Select[Any]:
    """(Member, email) rows of the organisation's members whose ids `member_ids` selects."""
    stmt: Select[Any] = service.members_statement(None, None)
    return stmt.where(Member.org_id == actor.org_id, Member.id.in_(member_ids))


async def member_page(
    request: Request, session: AsyncSession, stmt: Select[Any], query: PageParams
) -> dict[str, Any]:
    """One page of `stmt`'s (Member, email) rows, rendered as MemberRead with `fields` applied."""
    select_fields(MemberRead, query.fields, query.LOCATION)
    rows, cursor, count = await paginate(
        session, stmt, sorting=MEMBER_SORTS, params=query, cursors=request.app.state.cursors, scalars=False
    )
    items = [service.member_row(m, email) for m, email in rows]
    return render_page(MemberRead, items, cursor, count, query.fields)
