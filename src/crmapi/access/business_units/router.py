"""HTTP for business units under /v1/business-units: the unit tree and the members of a unit."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response, status

from crmapi.access.actor import Actor
from crmapi.access.business_units import queries, service
from crmapi.access.business_units.schemas import (
    BusinessUnitCreate,
    BusinessUnitListQuery,
    BusinessUnitRead,
    BusinessUnitUpdate,
)
from crmapi.access.dependencies import Idempotent, require, staff_or
from crmapi.identity.pages import Route, declare_members
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, paginate, render, render_page, select_fields, sorted_by
from crmapi.kit.routes import CrmRoute

router = APIRouter(
    prefix="/v1/business-units", tags=["business-units"], route_class=CrmRoute, dependencies=[Idempotent]
)

UnitPath = Annotated[UUID, Path(description="business unit id")]
Admin = Annotated[Actor, require("org.admin")]
# Staff read the tree; an API key needs org.admin.
Reader = Annotated[Actor, staff_or("org.admin")]
ONE = problem_responses(401, 403, 404, 422, 503)


@router.get(
    "",
    operation_id="list_business_units",
    summary="List business units",
    response_model=Page[BusinessUnitRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 422, 503),
)
@sorted_by(queries.SORTING)
async def list_business_units(
    request: Request, session: DbSession, actor: Reader, query: Annotated[BusinessUnitListQuery, Query()]
) -> dict[str, Any]:
    """The organisation's units (staff only), by name unless `sort` says otherwise. Each names
    its `parent_id`, so one pass over the pages rebuilds the tree."""
    select_fields(BusinessUnitRead, query.fields)
    rows, cursor, count = await paginate(
        session,
        queries.filtered(actor, query),
        sorting=queries.SORTING,
        params=query,
        cursors=request.app.state.cursors,
    )
    return render_page(BusinessUnitRead, rows, cursor, count, query.fields)


@router.post(
    "",
    operation_id="create_business_unit",
    summary="Create a business unit",
    status_code=status.HTTP_201_CREATED,
    response_model=BusinessUnitRead,
    responses=problem_responses(401, 403, 409, 422, 503),
)
async def create_business_unit(
    session: DbSession, actor: Admin, body: BusinessUnitCreate, response: Response
) -> BusinessUnitRead:
    """Needs `org.admin`. A name taken in any case answers 409 `name-taken`; an unknown
    `parent_id` answers 422."""
    unit = await service.create(session, actor, body)
    response.headers["Location"] = f"/v1/business-units/{unit.id}"
    response.headers["ETag"] = etag(unit.version)
    return render(BusinessUnitRead, unit)


@router.get(
    "/{unit_id}",
    operation_id="get_business_unit",
    summary="Get a business unit",
    response_model=BusinessUnitRead,
    response_model_exclude_unset=True,
    responses=ONE,
)
async def get_business_unit(
    session: DbSession,
    actor: Reader,
    unit_id: UnitPath,
    response: Response,
    fields: Annotated[str | None, Query(max_length=2048, description="Comma-separated fields.")] = None,
) -> BusinessUnitRead:
    unit = await service.get(session, actor, unit_id)
    response.headers["ETag"] = etag(unit.version)
    return render(BusinessUnitRead, unit, select_fields(BusinessUnitRead, fields))


@router.patch(
    "/{unit_id}",
    operation_id="update_business_unit",
    summary="Rename a business unit or move it in the tree",
    response_model=BusinessUnitRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
)
async def update_business_unit(
    session: DbSession,
    actor: Admin,
    unit_id: UnitPath,
    body: BusinessUnitUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> BusinessUnitRead:
    """Needs `org.admin`. A `parent_id` that is the unit itself or a unit below it answers 422
    (the tree would have a cycle); `null` makes the unit a top-level one."""
    unit = await service.update(session, actor, unit_id, body, expected_version(if_match))
    response.headers["ETag"] = etag(unit.version)
    return render(BusinessUnitRead, unit)


@router.delete(
    "/{unit_id}",
    operation_id="delete_business_unit",
    summary="Delete a business unit",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
)
async def delete_business_unit(
    session: DbSession, actor: Admin, unit_id: UnitPath, if_match: IfMatch = None
) -> Response:
    """Needs `org.admin`. Only a unit nothing depends on goes: 409 `unit-has-children`,
    `unit-has-members` or `unit-has-records` (accounts or contacts, deleted ones included)."""
    await service.delete(session, actor, unit_id, expected_version(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


declare_members(
    router,
    param="unit_id",
    noun="business unit",
    reader=Reader,
    admin=Admin,
    get=service.get,
    members=queries.members,
    add=service.add_member,
    remove=service.remove_member,
    listing=Route(
        "list_business_unit_members",
        "List the members of a business unit",
        "The staff members in the unit itself (not those of the units below it).",
    ),
    adding=Route(
        "add_business_unit_member",
        "Put a staff member into a business unit",
        """Needs `org.admin`. Idempotent: a member already in the unit changes nothing. A customer
        answers 422: units hold staff only.""",
    ),
    removing=Route(
        "remove_business_unit_member",
        "Take a member out of a business unit",
        "Needs `org.admin`. A member not in the unit answers 404.",
    ),
)
