"""HTTP for issue types and their form versions, under /v1/config/issue-types."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response, status

from crmapi.access.actor import Actor
from crmapi.access.dependencies import CurrentActor, Idempotent, require
from crmapi.config import service as options
from crmapi.config.types import TYPES
from crmapi.issues import types
from crmapi.issues.types import (
    FormVersionRead,
    IssueTypeCreate,
    IssueTypeQuery,
    IssueTypeRead,
    IssueTypeUpdate,
)
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, paginate, render, render_page, select_fields, sorted_by
from crmapi.kit.routes import CrmRoute

router = APIRouter(
    prefix="/v1/config/issue-types", tags=["configuration"], route_class=CrmRoute, dependencies=[Idempotent]
)
Manager = Annotated[Actor, require("config.manage")]
TypePath = Annotated[UUID, Path(description="issue type id")]
SORTING = options.sorting(TYPES)


async def _one(
    session: DbSession, actor: Actor, found: Any, response: Response, fields: set[str] | None = None
) -> Any:
    response.headers["ETag"] = etag(found.version)
    [row] = await types.answers(session, actor, [found])
    return render(IssueTypeRead, row, fields)


@router.get(
    "",
    operation_id="list_issue_types",
    summary="List the issue types",
    response_model=Page[IssueTypeRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 422, 503),
)
@sorted_by(SORTING)
async def list_issue_types(
    request: Request, session: DbSession, actor: CurrentActor, query: Annotated[IssueTypeQuery, Query()]
) -> dict[str, Any]:
    """Each with its current form. Staff read every type; a customer, the active ones it may file
    on its own accounts."""
    select_fields(IssueTypeRead, query.fields)
    found, cursor, count = await paginate(
        session,
        types.filtered(actor, query),
        sorting=SORTING,
        params=query,
        cursors=request.app.state.cursors,
    )
    return render_page(IssueTypeRead, await types.answers(session, actor, found), cursor, count, query.fields)


@router.post(
    "",
    operation_id="create_issue_type",
    summary="Define an issue type",
    status_code=status.HTTP_201_CREATED,
    response_model=IssueTypeRead,
    responses=problem_responses(401, 403, 409, 422, 503),
)
async def create_issue_type(
    session: DbSession, actor: Manager, body: IssueTypeCreate, response: Response
) -> Any:
    """Needs `config.manage`. A lifecycle type of the kind `issue` (its statuses and transition
    rules are configured like any type's) with its form as version 1. A field asked only when an
    earlier one is answered names it in `shown_when`; select fields copy the active values of
    their lookup list, with their labels, into the version."""
    made = await types.create(session, actor, body)
    response.headers["Location"] = f"/v1/config/issue-types/{made.id}"
    return await _one(session, actor, made, response)


@router.get(
    "/{type_id}",
    operation_id="get_issue_type",
    summary="Get an issue type",
    response_model=IssueTypeRead,
    response_model_exclude_unset=True,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_issue_type(
    session: DbSession,
    actor: CurrentActor,
    type_id: TypePath,
    response: Response,
    fields: Annotated[str | None, Query(max_length=2048, description="Comma-separated fields.")] = None,
) -> Any:
    chosen = select_fields(IssueTypeRead, fields)
    return await _one(session, actor, await types.get(session, actor, type_id), response, chosen)


@router.patch(
    "/{type_id}",
    operation_id="update_issue_type",
    summary="Change an issue type or its form",
    response_model=IssueTypeRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
)
async def update_issue_type(
    session: DbSession,
    actor: Manager,
    type_id: TypePath,
    body: IssueTypeUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> Any:
    """Needs `config.manage`. Merge semantics; a sent `form` becomes the form's next version, and
    issues filed before keep the version (fields, labels, options) they answered."""
    changed = await types.update(session, actor, type_id, body, expected_version(if_match))
    return await _one(session, actor, changed, response)


@router.get(
    "/{type_id}/forms",
    operation_id="list_issue_type_forms",
    summary="List an issue type's form versions",
    response_model=list[FormVersionRead],
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def list_issue_type_forms(session: DbSession, actor: CurrentActor, type_id: TypePath) -> Any:
    """Newest first."""
    return await types.versions(session, actor, type_id)


@router.get(
    "/{type_id}/forms/{version}",
    operation_id="get_issue_type_form",
    summary="Get one version of an issue type's form",
    response_model=FormVersionRead,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_issue_type_form(
    session: DbSession,
    actor: CurrentActor,
    type_id: TypePath,
    version: Annotated[int, Path(ge=1, le=1_000_000, description="form version")],
) -> Any:
    return await types.version(session, actor, type_id, version)
