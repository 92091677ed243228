"""HTTP for custom field definitions: staff read them, `config.manage` changes them."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response, status

from crmapi.access.actor import Actor
from crmapi.access.dependencies import Idempotent, require, staff_or
from crmapi.custom_fields import service
from crmapi.custom_fields.schemas import (
    CustomFieldCreate,
    CustomFieldListQuery,
    CustomFieldRead,
    CustomFieldUpdate,
)
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, render, render_page, select_fields
from crmapi.kit.routes import CrmRoute

router = APIRouter(
    prefix="/v1/custom-fields", tags=["custom fields"], route_class=CrmRoute, dependencies=[Idempotent]
)

FieldPath = Annotated[UUID, Path(description="custom field id")]
Manager = Annotated[Actor, require("config.manage")]
Reader = Annotated[Actor, staff_or("config.manage")]


@router.get(
    "",
    operation_id="list_custom_fields",
    summary="List custom field definitions",
    response_model=Page[CustomFieldRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 422, 503),
)
async def list_custom_fields(
    request: Request, session: DbSession, actor: Reader, query: Annotated[CustomFieldListQuery, Query()]
) -> dict[str, Any]:
    """The organisation's custom fields of contacts and accounts (staff only), by kind, position, key."""
    select_fields(CustomFieldRead, query.fields)
    rows, cursor, count = await service.page(session, actor, query, request.app.state.cursors)
    return render_page(CustomFieldRead, rows, cursor, count, query.fields)


@router.post(
    "",
    operation_id="create_custom_field",
    summary="Define a custom field",
    status_code=status.HTTP_201_CREATED,
    response_model=CustomFieldRead,
    responses=problem_responses(401, 403, 409, 422, 503),
)
async def create_custom_field(
    session: DbSession, actor: Manager, body: CustomFieldCreate, response: Response
) -> CustomFieldRead:
    """Needs `config.manage`. A key the kind already has answers 409 `custom-field-exists`.

    Records then carry the value under `custom.<key>`; writes are checked against the type, lists
    filter with `custom.<key>=value` and show it as a column with `fields=custom.<key>`.
    """
    definition = await service.create(session, actor, body)
    response.headers["Location"] = f"/v1/custom-fields/{definition.id}"
    response.headers["ETag"] = etag(definition.version)
    return render(CustomFieldRead, definition)


@router.get(
    "/{field_id}",
    operation_id="get_custom_field",
    summary="Get a custom field definition",
    response_model=CustomFieldRead,
    response_model_exclude_unset=True,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_custom_field(
    session: DbSession,
    actor: Reader,
    field_id: FieldPath,
    response: Response,
    fields: Annotated[str | None, Query(max_length=2048, description="Comma-separated fields.")] = None,
) -> CustomFieldRead:
    definition = await service.get(session, actor, field_id)
    response.headers["ETag"] = etag(definition.version)
    return render(CustomFieldRead, definition, select_fields(CustomFieldRead, fields))


@router.patch(
    "/{field_id}",
    operation_id="update_custom_field",
    summary="Change a custom field's label, options, required flag or position",
    response_model=CustomFieldRead,
    responses=problem_responses(401, 403, 404, 412, 422, 503),
)
async def update_custom_field(
    session: DbSession,
    actor: Manager,
    field_id: FieldPath,
    body: CustomFieldUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> CustomFieldRead:
    """Needs `config.manage`. Sending `kind`, `key` or `type` answers 422: they never change.
    Records are not rewritten: a value whose option was dropped stays until changed."""
    definition = await service.update(session, actor, field_id, body, expected_version(if_match))
    response.headers["ETag"] = etag(definition.version)
    return render(CustomFieldRead, definition)


@router.delete(
    "/{field_id}",
    operation_id="delete_custom_field",
    summary="Delete a custom field and its values",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 412, 422, 503),
)
async def delete_custom_field(
    session: DbSession, actor: Manager, field_id: FieldPath, if_match: IfMatch = None
) -> Response:
    """Needs `config.manage`. The key is taken out of every record's `custom` (deleted records too)."""
    await service.delete(session, actor, field_id, expected_version(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
