"""HTTP for attachments: upload first, then name the upload in a message, post or comment."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, File, Path, Request, Response, UploadFile, status
from sqlalchemy import select

from crmapi.access.dependencies import CurrentActor
from crmapi.attachments import access, service
from crmapi.attachments.models import Attachment
from crmapi.attachments.schemas import AttachmentRead
from crmapi.identity.problems import MembersOnly
from crmapi.kit.db import DbSession
from crmapi.kit.errors import NotFound, problem_responses
from crmapi.kit.routes import CrmRoute

# No Idempotency-Key: the key's check reads the body, which the multipart parser has consumed; a
# retried upload makes a second loose upload of the same stored object, nothing worse.
router = APIRouter(prefix="/v1/attachments", tags=["attachments"], route_class=CrmRoute)
AttachmentPath = Annotated[UUID, Path(description="attachment id")]


async def _readable(session: DbSession, actor: CurrentActor, attachment_id: UUID) -> Attachment:
    stmt = select(Attachment).where(access.scope(actor), Attachment.id == attachment_id)
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise NotFound("No attachment with this id.")
    return found


@router.post(
    "",
    operation_id="upload_attachment",
    summary="Upload a file to attach",
    status_code=status.HTTP_201_CREATED,
    response_model=AttachmentRead,
    responses=problem_responses(401, 403, 413, 415, 422, 503),
)
async def upload_attachment(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    response: Response,
    file: Annotated[UploadFile, File(description="The file (multipart/form-data, field `file`).")],
) -> AttachmentRead:
    """A member uploads a file (10 MB at most unless the operator says otherwise; PDF, images,
    text, CSV, office documents, zip), then names its id in `attachment_ids` of a message, post
    or comment. Until then only the uploader reads it. The answer's `sha256` is the content's hash."""
    if actor.member_id is None:
        raise MembersOnly("An API key uploads nothing: sign in as a member.")
    settings = request.app.state.settings
    attachment = await service.upload(
        session, actor, file, request.app.state.storage, settings.attachment_max_bytes
    )
    response.headers["Location"] = f"/v1/attachments/{attachment.id}"
    return AttachmentRead.model_validate(attachment)


@router.get(
    "/{attachment_id}",
    operation_id="get_attachment",
    summary="An attachment's details",
    response_model=AttachmentRead,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_attachment(
    session: DbSession, actor: CurrentActor, attachment_id: AttachmentPath
) -> AttachmentRead:
    """For whoever may read what it is attached to; 404 for everyone else."""
    return AttachmentRead.model_validate(await _readable(session, actor, attachment_id))


@router.get(
    "/{attachment_id}/content",
    operation_id="download_attachment",
    summary="Download an attachment",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
        **problem_responses(401, 403, 404, 422, 503),
    },
)
async def download_attachment(
    request: Request, session: DbSession, actor: CurrentActor, attachment_id: AttachmentPath
) -> Response:
    """The bytes as uploaded, as a download (never shown inline), for whoever may read what the
    file is attached to. The ETag is the content's SHA-256."""
    attachment = await _readable(session, actor, attachment_id)
    try:
        data = await request.app.state.storage.get(attachment.org_id, attachment.sha256)
    except FileNotFoundError as exc:
        raise NotFound("The attachment's file is missing from the file store.") from exc
    return Response(
        data,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(attachment.filename)}",
            "ETag": f'"{attachment.sha256}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
