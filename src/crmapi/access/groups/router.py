"""HTTP for groups under /v1/groups (their members and grants), and the capability catalogue."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response, status

from crmapi.access.actor import Actor
from crmapi.access.capabilities import CATALOGUE, implies
from crmapi.access.dependencies import CurrentActor, Idempotent, require
from crmapi.access.groups import queries, service
from crmapi.access.groups.schemas import (
    Capability,
    CapabilityList,
    CapabilityRead,
    GroupCreate,
    GroupListQuery,
    GroupRead,
    GroupUpdate,
)
from crmapi.identity.pages import MEMBER_SORTS, member_page
from crmapi.identity.schemas import MemberRead
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, PageParams, paginate, render, render_page, select_fields, sorted_by
from crmapi.kit.routes import CrmRoute

router = APIRouter(prefix="/v1/groups", tags=["groups"], route_class=CrmRoute, dependencies=[Idempotent])
capabilities = APIRouter(prefix="/v1/capabilities", tags=["groups"], route_class=CrmRoute)

GroupPath = Annotated[UUID, Path(description="group id")]
MemberPath = Annotated[UUID, Path(description="member id (a staff member)")]
CapabilityPath = Annotated[Capability, Path(description="a capability from GET /v1/capabilities")]
# Who holds what is the administrators' business, to read as much as to change.
Admin = Annotated[Actor, require("org.admin")]
ONE = problem_responses(401, 403, 404, 422, 503)
# Members and grants are part of the group's version: they take its ETag in If-Match and answer
# the new one.
LINK = problem_responses(401, 403, 404, 412, 422, 503)
UNLINK = problem_responses(401, 403, 404, 409, 412, 422, 503)


def _changed(version: int) -> Response:
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers={"ETag": etag(version)})


@capabilities.get(
    "",
    operation_id="list_capabilities",
    summary="The capability catalogue",
    response_model=CapabilityList,
    responses=problem_responses(401, 503),
)
async def list_capabilities(actor: CurrentActor) -> CapabilityList:
    """Every capability a group (or an API key) can be granted, what each implies, and whether
    the caller holds it: a front end can hide what the caller may not do."""
    return CapabilityList(
        items=[
            CapabilityRead(
                name=name,
                description=text,
                implies=[other for other in CATALOGUE if other != name and implies(frozenset({name}), other)],
                held=actor.can(name),
            )
            for name, text in CATALOGUE.items()
        ]
    )


@router.get(
    "",
    operation_id="list_groups",
    summary="List groups",
    response_model=Page[GroupRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 422, 503),
)
@sorted_by(queries.SORTING)
async def list_groups(
    request: Request, session: DbSession, actor: Admin, query: Annotated[GroupListQuery, Query()]
) -> dict[str, Any]:
    """Needs `org.admin`. By name unless `sort` says otherwise; `member_id` lists a member's groups."""
    select_fields(GroupRead, query.fields)
    rows, cursor, count = await paginate(
        session,
        queries.filtered(actor, query),
        sorting=queries.SORTING,
        params=query,
        cursors=request.app.state.cursors,
        scalars=False,
    )
    return render_page(GroupRead, [service.read(*row) for row in rows], cursor, count, query.fields)


@router.post(
    "",
    operation_id="create_group",
    summary="Create a group",
    status_code=status.HTTP_201_CREATED,
    response_model=GroupRead,
    responses=problem_responses(401, 403, 409, 422, 503),
)
async def create_group(session: DbSession, actor: Admin, body: GroupCreate, response: Response) -> GroupRead:
    """Needs `org.admin`. A name another group has, in any case, answers 409 `name-taken`; a
    capability outside the catalogue answers 422."""
    group = await service.create(session, actor, body)
    response.headers["Location"] = f"/v1/groups/{group.id}"
    response.headers["ETag"] = etag(group.version or 1)
    return group


@router.get(
    "/{group_id}",
    operation_id="get_group",
    summary="Get a group",
    response_model=GroupRead,
    response_model_exclude_unset=True,
    responses=ONE,
)
async def get_group(
    session: DbSession,
    actor: Admin,
    group_id: GroupPath,
    response: Response,
    fields: Annotated[str | None, Query(max_length=2048, description="Comma-separated fields.")] = None,
) -> GroupRead:
    """Needs `org.admin`."""
    group = await service.get(session, actor, group_id)
    response.headers["ETag"] = etag(group.version or 1)
    return render(GroupRead, group, select_fields(GroupRead, fields))


@router.patch(
    "/{group_id}",
    operation_id="update_group",
    summary="Rename a group or change its description",
    response_model=GroupRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
)
async def update_group(
    session: DbSession,
    actor: Admin,
    group_id: GroupPath,
    body: GroupUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> GroupRead:
    """Needs `org.admin`. What the group grants changes through its `grants`."""
    group = await service.update(session, actor, group_id, body, expected_version(if_match))
    response.headers["ETag"] = etag(group.version or 1)
    return group


@router.delete(
    "/{group_id}",
    operation_id="delete_group",
    summary="Delete a group",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
)
async def delete_group(
    session: DbSession, actor: Admin, group_id: GroupPath, if_match: IfMatch = None
) -> Response:
    """Needs `org.admin`. Its members lose what it granted on their next request. 409
    `last-administrator` when it is the last group making an active member an administrator."""
    await service.delete(session, actor, group_id, expected_version(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{group_id}/members",
    operation_id="list_group_members",
    summary="List the members of a group",
    response_model=Page[MemberRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 404, 422, 503),
)
@sorted_by(MEMBER_SORTS)
async def list_group_members(
    request: Request,
    session: DbSession,
    actor: Admin,
    group_id: GroupPath,
    query: Annotated[PageParams, Query()],
) -> dict[str, Any]:
    """Needs `org.admin`."""
    group = await service.get(session, actor, group_id)
    return await member_page(request, session, queries.members(actor, group.id), query)


@router.put(
    "/{group_id}/members/{member_id}",
    operation_id="add_group_member",
    summary="Put a staff member in a group",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=LINK,
)
async def add_group_member(
    session: DbSession, actor: Admin, group_id: GroupPath, member_id: MemberPath, if_match: IfMatch = None
) -> Response:
    """Needs `org.admin`. The member holds the group's capabilities from its next request on.
    Idempotent; a customer answers 422: customers see only what is assigned to them."""
    version = await service.add_member(session, actor, group_id, member_id, expected_version(if_match))
    return _changed(version)


@router.delete(
    "/{group_id}/members/{member_id}",
    operation_id="remove_group_member",
    summary="Take a member out of a group",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=UNLINK,
)
async def remove_group_member(
    session: DbSession, actor: Admin, group_id: GroupPath, member_id: MemberPath, if_match: IfMatch = None
) -> Response:
    """Needs `org.admin`. A member not in the group answers 404; taking out the last active
    administrator answers 409 `last-administrator`."""
    version = await service.remove_member(session, actor, group_id, member_id, expected_version(if_match))
    return _changed(version)


@router.put(
    "/{group_id}/grants/{capability}",
    operation_id="grant_capability",
    summary="Grant a group a capability",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=LINK,
)
async def grant_capability(
    session: DbSession,
    actor: Admin,
    group_id: GroupPath,
    capability: CapabilityPath,
    if_match: IfMatch = None,
) -> Response:
    """Needs `org.admin`. Every member of the group holds it from its next request on, in every
    server process. Idempotent; a name outside the catalogue answers 422."""
    version = await service.grant(session, actor, group_id, capability, expected_version(if_match))
    return _changed(version)


@router.delete(
    "/{group_id}/grants/{capability}",
    operation_id="revoke_capability",
    summary="Take a capability from a group",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=UNLINK,
)
async def revoke_capability(
    session: DbSession,
    actor: Admin,
    group_id: GroupPath,
    capability: CapabilityPath,
    if_match: IfMatch = None,
) -> Response:
    """Needs `org.admin`. A capability the group does not grant answers 404; revoking the last
    `org.admin` held by an active member answers 409 `last-administrator`."""
    version = await service.revoke(session, actor, group_id, capability, expected_version(if_match))
    return _changed(version)
