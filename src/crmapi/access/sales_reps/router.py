"""HTTP for sales-rep records under /v1/sales-reps, and the staff members who work as them."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response, status

from crmapi.access.actor import Actor
from crmapi.access.dependencies import Idempotent, require, staff_or
from crmapi.access.sales_reps import queries, service
from crmapi.access.sales_reps.schemas import SalesRepCreate, SalesRepListQuery, SalesRepRead, SalesRepUpdate
from crmapi.identity.pages import Route, declare_members
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, paginate, render, render_page, select_fields, sorted_by
from crmapi.kit.routes import CrmRoute

router = APIRouter(
    prefix="/v1/sales-reps", tags=["sales-reps"], route_class=CrmRoute, dependencies=[Idempotent]
)

RepPath = Annotated[UUID, Path(description="sales-rep record id")]
# The records are the ERP's: an integration key with sales_reps.manage pushes them.
Manager = Annotated[Actor, require("sales_reps.manage")]
# A link gives a person the record's accounts: an administrator's decision, like a group.
Admin = Annotated[Actor, require("org.admin")]
Reader = Annotated[Actor, staff_or("sales_reps.manage")]
ONE = problem_responses(401, 403, 404, 422, 503)


@router.get(
    "",
    operation_id="list_sales_reps",
    summary="List sales-rep records",
    response_model=Page[SalesRepRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 422, 503),
)
@sorted_by(queries.SORTING)
async def list_sales_reps(
    request: Request, session: DbSession, actor: Reader, query: Annotated[SalesRepListQuery, Query()]
) -> dict[str, Any]:
    """The organisation's records (staff, or a key with `sales_reps.manage`), by code unless
    `sort` says otherwise."""
    select_fields(SalesRepRead, query.fields)
    rows, cursor, count = await paginate(
        session,
        queries.filtered(actor, query),
        sorting=queries.SORTING,
        params=query,
        cursors=request.app.state.cursors,
    )
    return render_page(SalesRepRead, rows, cursor, count, query.fields)


@router.post(
    "",
    operation_id="create_sales_rep",
    summary="Create a sales-rep record",
    status_code=status.HTTP_201_CREATED,
    response_model=SalesRepRead,
    responses=problem_responses(401, 403, 409, 422, 503),
)
async def create_sales_rep(
    session: DbSession, actor: Manager, body: SalesRepCreate, response: Response
) -> SalesRepRead:
    """Needs `sales_reps.manage`. A code another record has answers 409 `code-taken` (codes
    compare exactly, case included, as accounts' `sales_rep_codes` do)."""
    rep = await service.create(session, actor, body)
    response.headers["Location"] = f"/v1/sales-reps/{rep.id}"
    response.headers["ETag"] = etag(rep.version)
    return render(SalesRepRead, rep)


@router.get(
    "/{sales_rep_id}",
    operation_id="get_sales_rep",
    summary="Get a sales-rep record",
    response_model=SalesRepRead,
    response_model_exclude_unset=True,
    responses=ONE,
)
async def get_sales_rep(
    session: DbSession,
    actor: Reader,
    sales_rep_id: RepPath,
    response: Response,
    fields: Annotated[str | None, Query(max_length=2048, description="Comma-separated fields.")] = None,
) -> SalesRepRead:
    rep = await service.get(session, actor, sales_rep_id)
    response.headers["ETag"] = etag(rep.version)
    return render(SalesRepRead, rep, select_fields(SalesRepRead, fields))


@router.patch(
    "/{sales_rep_id}",
    operation_id="update_sales_rep",
    summary="Change a sales-rep record",
    response_model=SalesRepRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
)
async def update_sales_rep(
    session: DbSession,
    actor: Manager,
    sales_rep_id: RepPath,
    body: SalesRepUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> SalesRepRead:
    """Needs `sales_reps.manage`. A new `code` replaces the old one on every account carrying
    it, in the same transaction; `active: false` keeps the record and its links, but its
    members stop seeing its accounts."""
    rep = await service.update(session, actor, sales_rep_id, body, expected_version(if_match))
    response.headers["ETag"] = etag(rep.version)
    return render(SalesRepRead, rep)


@router.delete(
    "/{sales_rep_id}",
    operation_id="delete_sales_rep",
    summary="Delete a sales-rep record",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 412, 422, 503),
)
async def delete_sales_rep(
    session: DbSession, actor: Manager, sales_rep_id: RepPath, if_match: IfMatch = None
) -> Response:
    """Needs `sales_reps.manage`. The record and its member links go for good; accounts keep
    the code (a record made again with it serves them again). To retire a rep but keep the
    record, PATCH `active: false`."""
    await service.delete(session, actor, sales_rep_id, expected_version(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


declare_members(
    router,
    param="sales_rep_id",
    noun="sales-rep record",
    reader=Reader,
    admin=Admin,
    get=service.get,
    members=queries.members,
    add=service.add_member,
    remove=service.remove_member,
    listing=Route(
        "list_sales_rep_members",
        "List the staff members working as a sales-rep record",
        "",
    ),
    adding=Route(
        "add_sales_rep_member",
        "Link a staff member to a sales-rep record",
        """Needs `org.admin`. The member then sees the accounts carrying the record's code (while it
        is active). Idempotent; a customer answers 422: only staff work as sales reps.""",
    ),
    removing=Route(
        "remove_sales_rep_member",
        "Unlink a member from a sales-rep record",
        "Needs `org.admin`. A member not linked answers 404.",
    ),
)
