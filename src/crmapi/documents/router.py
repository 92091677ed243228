"""HTTP for one ERP document by id (an account's lists are under `/v1/accounts/{id}`)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response

from crmapi.access.dependencies import CurrentActor
from crmapi.documents import service
from crmapi.documents.schemas import DocumentRead
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.routes import CrmRoute

router = APIRouter(prefix="/v1/documents", tags=["documents"], route_class=CrmRoute)


@router.get(
    "/{document_id}",
    operation_id="get_document",
    summary="Get an ERP document",
    response_model=DocumentRead,
    response_model_exclude_unset=True,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_document(
    session: DbSession,
    actor: CurrentActor,
    document_id: Annotated[UUID, Path(description="document id")],
    fields: Annotated[str | None, Query(max_length=2048, description="Comma-separated fields.")] = None,
) -> Response:
    """An invoice, credit note, back order or payment of an account the caller can see, with its
    lines and allocations."""
    return await service.one(session, actor, document_id, fields)
