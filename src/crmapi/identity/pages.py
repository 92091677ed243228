"""A page of members: `/v1/members` and the member lists of groups, units and sales-rep records;
and the list, link and unlink routes of the records members work through (business units,
sales-rep records), declared by each record's router with `declare_members`.

No `from __future__ import annotations` here: `declare_members` makes its handlers' parameter
types (the record's path parameter and readers) at run time, and FastAPI must see them as objects.
"""

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.identity import service
from crmapi.identity.models import Member
from crmapi.identity.schemas import MemberRead
from crmapi.kit import routes
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, PageParams, Sorting, paginate, render_page, select_fields, sorted_by
from crmapi.records.targets import Target, target

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


@dataclass(frozen=True)
class Route:
    operation_id: str
    summary: str
    description: str


MemberPath = Annotated[UUID, Path(description="member id (a staff member)")]
Link = Callable[[AsyncSession, Actor, UUID, UUID], Awaitable[None]]


async def _member(member_id: MemberPath) -> UUID:
    """The member in the path, as a dependency declared after the record's target, so the record's
    id comes first among the path parameters, as in the URL."""
    return member_id


def declare_members(
    router: APIRouter,
    *,
    param: str,
    noun: str,
    reader: Any,
    admin: Any,
    get: Callable[[AsyncSession, Actor, UUID], Awaitable[Any]],
    members: Callable[[Actor, UUID], Select[Any]],
    add: Link,
    remove: Link,
    listing: Route,
    adding: Route,
    removing: Route,
) -> None:
    """Declare on the record's `router` GET /{param}/members (for `reader`) and PUT and DELETE
    /{param}/members/{member_id} (for `admin`); `get` finds the record in scope, `members`
    selects its members, `add` and `remove` are its service's."""
    seen, changed = target(param, f"{noun} id", reader), target(param, f"{noun} id", admin)
    one, done = f"/{{{param}}}/members/{{member_id}}", status.HTTP_204_NO_CONTENT
    linked = problem_responses(401, 403, 404, 422, 503)

    async def members_of(request: Request, query: Annotated[PageParams, Query()], t: Target = seen) -> Any:
        owner = await get(t.session, t.actor, t.id)
        return await member_page(request, t.session, members(t.actor, owner.id), query)

    async def link(t: Target = changed, member_id: UUID = Depends(_member)) -> Response:
        await add(t.session, t.actor, t.id, member_id)
        return Response(status_code=done)

    async def unlink(t: Target = changed, member_id: UUID = Depends(_member)) -> Response:
        await remove(t.session, t.actor, t.id, member_id)
        return Response(status_code=done)

    routes.add(
        router,
        "GET",
        f"/{{{param}}}/members",
        sorted_by(MEMBER_SORTS)(members_of),
        listing.operation_id,
        summary=listing.summary,
        description=inspect.cleandoc(listing.description),
        response_model=Page[MemberRead],
        response_model_exclude_unset=True,
        responses=problem_responses(400, 401, 403, 404, 422, 503),
    )
    for method, handler, route in (("PUT", link, adding), ("DELETE", unlink, removing)):
        routes.add(
            router,
            method,
            one,
            handler,
            route.operation_id,
            summary=route.summary,
            description=inspect.cleandoc(route.description),
            status_code=done,
            responses=linked,
        )
