"""HTTP for API keys under /v1/api-keys: an administrator makes, lists, changes and revokes them."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from crmapi.access.actor import Actor
from crmapi.access.api_keys import service
from crmapi.access.api_keys.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyListQuery,
    ApiKeyRead,
    ApiKeyUpdate,
)
from crmapi.access.dependencies import require
from crmapi.access.problems import StaffOnly
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.idempotency import refused_here
from crmapi.kit.pagination import Page, paginate, render, render_page, select_fields, sorted_by
from crmapi.kit.routes import CrmRoute

# No `Idempotent` here: a replayed create would have to store the answer, and so the secret.
router = APIRouter(prefix="/v1/api-keys", tags=["api-keys"], route_class=CrmRoute)

KeyPath = Annotated[UUID, Path(description="API key id (the hex between `crm_` and the secret)")]


OrgAdmin = Annotated[Actor, require("org.admin")]


async def administrator(actor: OrgAdmin) -> Actor:
    """`org.admin`, and a signed-in member: keys never manage keys."""
    if actor.kind != "staff":
        raise StaffOnly("API keys are managed by a signed-in administrator.")
    return actor


Admin = Annotated[Actor, Depends(administrator)]


refuse_idempotency_key = refused_here(
    "a replay would need the key's secret, which is never stored. "
    "After a failed call, list the keys and revoke any you did not get a token for."
)


@router.get(
    "",
    operation_id="list_api_keys",
    summary="List API keys",
    response_model=Page[ApiKeyRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 422, 503),
)
@sorted_by(service.SORTING)
async def list_api_keys(
    request: Request, session: DbSession, actor: Admin, query: Annotated[ApiKeyListQuery, Query()]
) -> dict[str, Any]:
    """Needs `org.admin`. The organisation's keys, revoked ones included unless `revoked=false`;
    never their secrets."""
    select_fields(ApiKeyRead, query.fields)
    rows, cursor, count = await paginate(
        session,
        service.filtered(actor, query),
        sorting=service.SORTING,
        params=query,
        cursors=request.app.state.cursors,
    )
    return render_page(ApiKeyRead, rows, cursor, count, query.fields)


@router.post(
    "",
    operation_id="create_api_key",
    summary="Create an API key",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    responses=problem_responses(401, 403, 422, 503),
    dependencies=[Depends(refuse_idempotency_key)],
)
async def create_api_key(
    request: Request, session: DbSession, actor: Admin, body: ApiKeyCreate, response: Response
) -> ApiKeyCreated:
    """Needs `org.admin`. The answer holds the key's `token`, shown this once: keep it safe.
    A key holds only the capabilities given (never `org.admin`) and is refused everything else.
    `Idempotency-Key` is not accepted (422): a replay would need the secret."""
    new = await service.create(session, actor, request.app.state.keys, body)
    response.headers["Location"] = f"/v1/api-keys/{new.key.id}"
    response.headers["Cache-Control"] = "no-store"
    return ApiKeyCreated(**render(ApiKeyRead, new.key).model_dump(), token=new.token)


@router.get(
    "/{api_key_id}",
    operation_id="get_api_key",
    summary="Get an API key",
    response_model=ApiKeyRead,
    response_model_exclude_unset=True,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_api_key(
    session: DbSession,
    actor: Admin,
    api_key_id: KeyPath,
    fields: Annotated[str | None, Query(max_length=2048, description="Comma-separated fields.")] = None,
) -> ApiKeyRead:
    """Needs `org.admin`. Never the secret."""
    key = await service.get(session, actor, api_key_id)
    return render(ApiKeyRead, key, select_fields(ApiKeyRead, fields))


@router.patch(
    "/{api_key_id}",
    operation_id="update_api_key",
    summary="Rename an API key or change its capabilities",
    response_model=ApiKeyRead,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def update_api_key(
    session: DbSession, actor: Admin, api_key_id: KeyPath, body: ApiKeyUpdate
) -> ApiKeyRead:
    """Needs `org.admin`. New capabilities apply from the key's next request; a revoked key
    answers 409 `api-key-revoked`."""
    key = await service.update(session, actor, api_key_id, body)
    return render(ApiKeyRead, key)


@router.delete(
    "/{api_key_id}",
    operation_id="revoke_api_key",
    summary="Revoke an API key",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def revoke_api_key(session: DbSession, actor: Admin, api_key_id: KeyPath) -> Response:
    """Needs `org.admin`. The key answers 401 from its next request on; it stays listed, with
    `revoked_at`. Revoking it again changes nothing."""
    await service.revoke(session, actor, api_key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
