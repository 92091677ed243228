"""HTTP for life-cycle configuration under /v1/config: staff read it, `config.manage` changes it."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response, status

from crmapi.access.actor import Actor
from crmapi.access.dependencies import require, staff_or
from crmapi.concurrency import IfMatch, etag, expected_version
from crmapi.db import DbSession
from crmapi.errors import problem_responses
from crmapi.idempotency import CrmRoute, Idempotent
from crmapi.lifecycle import queries, service
from crmapi.lifecycle.schemas import StatusCreate, StatusListQuery, StatusRead, StatusUpdate
from crmapi.pagination import Page, paginate, render, render_page, select_fields

router = APIRouter(
    prefix="/v1/config", tags=["configuration"], route_class=CrmRoute, dependencies=[Idempotent]
)

StatusPath = Annotated[UUID, Path(description="status id")]
Manager = Annotated[Actor, require("config.manage")]
Reader = Annotated[Actor, staff_or("config.manage")]


@router.get(
    "/statuses",
    operation_id="list_statuses",
    summary="List the statuses of leads, opportunities, activities and service requests",
    response_model=Page[StatusRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 422, 503),
)
async def list_statuses(
    request: Request, session: DbSession, actor: Reader, query: Annotated[StatusListQuery, Query()]
) -> dict[str, Any]:
    """Staff only. By board position unless `sort` says otherwise; filter by `kind`, `state`, `active`.
    A new organisation starts with one status a state of every kind."""
    select_fields(StatusRead, query.fields)
    rows, cursor, count = await paginate(
        session,
        queries.filtered_statuses(actor, query),
        sorting=queries.STATUS_SORTING,
        params=query,
        cursors=request.app.state.cursors,
    )
    return render_page(StatusRead, rows, cursor, count, query.fields)


@router.post(
    "/statuses",
    operation_id="create_status",
    summary="Add a status to a kind",
    status_code=status.HTTP_201_CREATED,
    response_model=StatusRead,
    responses=problem_responses(401, 403, 409, 422, 503),
)
async def create_status(
    session: DbSession, actor: Manager, body: StatusCreate, response: Response
) -> StatusRead:
    """Needs `config.manage`. `state` must be one of the kind's (422 otherwise); a code the kind
    already has answers 409 `code-taken`; without a code one is made from the name."""
    made = await service.create_status(session, actor, body)
    response.headers["Location"] = f"/v1/config/statuses/{made.id}"
    response.headers["ETag"] = etag(made.version)
    return render(StatusRead, made)


@router.get(
    "/statuses/{status_id}",
    operation_id="get_status",
    summary="Get a status",
    response_model=StatusRead,
    response_model_exclude_unset=True,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_status(
    session: DbSession,
    actor: Reader,
    status_id: StatusPath,
    response: Response,
    fields: Annotated[str | None, Query(max_length=2048, description="Comma-separated fields.")] = None,
) -> StatusRead:
    found = await service.get_status(session, actor, status_id)
    response.headers["ETag"] = etag(found.version)
    return render(StatusRead, found, select_fields(StatusRead, fields))


@router.patch(
    "/statuses/{status_id}",
    operation_id="update_status",
    summary="Rename, recode, reorder or (de)activate a status",
    response_model=StatusRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
)
async def update_status(
    session: DbSession,
    actor: Manager,
    status_id: StatusPath,
    body: StatusUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> StatusRead:
    """Needs `config.manage`. Sending `kind` or `state` answers 422: records rely on them."""
    changed = await service.update_status(session, actor, status_id, body, expected_version(if_match))
    response.headers["ETag"] = etag(changed.version)
    return render(StatusRead, changed)
