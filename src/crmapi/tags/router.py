"""HTTP for the tag catalogue under /v1/tags; tagging a record is declared by its kind's router
(`crmapi.tags.on_records`)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response, status

from crmapi.access.actor import Actor
from crmapi.access.dependencies import Idempotent, require, staff_or
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, paginate, render, render_page, select_fields, sorted_by
from crmapi.kit.routes import CrmRoute
from crmapi.tags import queries, service
from crmapi.tags.schemas import (
    TagCreate,
    TagListQuery,
    TagRead,
    TagUpdate,
)

router = APIRouter(prefix="/v1/tags", tags=["tags"], route_class=CrmRoute, dependencies=[Idempotent])

TagPath = Annotated[UUID, Path(description="tag id")]
Manager = Annotated[Actor, require("tags.manage")]
Reader = Annotated[Actor, staff_or("tags.manage")]


@router.get(
    "",
    operation_id="list_tags",
    summary="List the tag catalogue",
    response_model=Page[TagRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 422, 503),
)
@sorted_by(queries.SORTING)
async def list_tags(
    request: Request, session: DbSession, actor: Reader, query: Annotated[TagListQuery, Query()]
) -> dict[str, Any]:
    """The organisation's tags (staff only), by name unless `sort` says otherwise."""
    select_fields(TagRead, query.fields)
    rows, cursor, count = await paginate(
        session,
        queries.filtered(actor, query),
        sorting=queries.SORTING,
        params=query,
        cursors=request.app.state.cursors,
    )
    return render_page(TagRead, rows, cursor, count, query.fields)


@router.post(
    "",
    operation_id="create_tag",
    summary="Create a tag",
    status_code=status.HTTP_201_CREATED,
    response_model=TagRead,
    responses=problem_responses(401, 403, 409, 422, 503),
)
async def create_tag(session: DbSession, actor: Manager, body: TagCreate, response: Response) -> TagRead:
    """Needs `tags.manage`. A name taken in any case answers 409 `tag-exists`."""
    tag = await service.create(session, actor, body)
    response.headers["Location"] = f"/v1/tags/{tag.id}"
    response.headers["ETag"] = etag(tag.version)
    return render(TagRead, tag)


@router.get(
    "/{tag_id}",
    operation_id="get_tag",
    summary="Get a tag",
    response_model=TagRead,
    response_model_exclude_unset=True,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_tag(
    session: DbSession,
    actor: Reader,
    tag_id: TagPath,
    response: Response,
    fields: Annotated[str | None, Query(max_length=2048, description="Comma-separated fields.")] = None,
) -> TagRead:
    tag = await service.get(session, actor, tag_id)
    response.headers["ETag"] = etag(tag.version)
    return render(TagRead, tag, select_fields(TagRead, fields))


@router.patch(
    "/{tag_id}",
    operation_id="update_tag",
    summary="Rename or recolour a tag",
    response_model=TagRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
)
async def update_tag(
    session: DbSession,
    actor: Manager,
    tag_id: TagPath,
    body: TagUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> TagRead:
    """Needs `tags.manage`. A new name replaces the old one on every contact and account."""
    tag = await service.update(session, actor, tag_id, body, expected_version(if_match))
    response.headers["ETag"] = etag(tag.version)
    return render(TagRead, tag)


@router.delete(
    "/{tag_id}",
    operation_id="delete_tag",
    summary="Delete a tag",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 412, 422, 503),
)
async def delete_tag(
    session: DbSession, actor: Manager, tag_id: TagPath, if_match: IfMatch = None
) -> Response:
    """Needs `tags.manage`. The name is taken off every contact and account that carries it."""
    await service.delete(session, actor, tag_id, expected_version(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
