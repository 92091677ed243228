"""HTTP for notes under /v1/notes, to read and change; listing and adding a record's notes is
declared by its kind's router (`crmapi.notes.on_records`)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status

from crmapi.access.dependencies import Idempotent, StaffActor
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, PageParams, render, select_fields, sorted_by
from crmapi.kit.routes import CrmRoute
from crmapi.notes import service
from crmapi.notes.schemas import NoteRead, NoteUpdate
from crmapi.records import history

router = APIRouter(tags=["notes"], route_class=CrmRoute, dependencies=[Idempotent])

NotePath = Annotated[UUID, "note id"]


@router.get(
    "/v1/notes/{note_id}",
    operation_id="get_note",
    summary="Get a note",
    response_model=NoteRead,
    response_model_exclude_unset=True,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_note(
    session: DbSession,
    actor: StaffActor,
    note_id: NotePath,
    response: Response,
    fields: Annotated[str | None, Query(max_length=2048, description="Comma-separated fields.")] = None,
) -> NoteRead:
    """Visible to whoever can see the note's contact or account."""
    note = await service.get(session, actor, note_id)
    response.headers["ETag"] = etag(note.version)
    return render(NoteRead, note, select_fields(NoteRead, fields))


@router.patch(
    "/v1/notes/{note_id}",
    operation_id="update_note",
    summary="Edit a note",
    response_model=NoteRead,
    responses=problem_responses(401, 403, 404, 412, 422, 503),
)
async def update_note(
    session: DbSession,
    actor: StaffActor,
    note_id: NotePath,
    body: NoteUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> NoteRead:
    """Only the author may edit a note. Merge semantics: fields left out stay as they are."""
    note = await service.update(session, actor, note_id, body, expected_version(if_match))
    response.headers["ETag"] = etag(note.version)
    return render(NoteRead, note)


@router.delete(
    "/v1/notes/{note_id}",
    operation_id="delete_note",
    summary="Delete a note (soft)",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 412, 422, 503),
)
async def delete_note(
    session: DbSession, actor: StaffActor, note_id: NotePath, if_match: IfMatch = None
) -> Response:
    """The author, or a member with 'org.admin', may delete a note; it then answers 404."""
    await service.delete(session, actor, note_id, expected_version(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/v1/notes/{note_id}/history",
    operation_id="list_note_history",
    summary="A note's history",
    response_model=Page[history.HistoryRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 404, 422, 503),
)
@sorted_by(history.HISTORY_SORTING)
async def list_note_history(
    request: Request,
    session: DbSession,
    actor: StaffActor,
    note_id: NotePath,
    page: Annotated[PageParams, Query()],
) -> dict[str, Any]:
    """Who wrote and changed the note and when, newest first."""
    await service.get(session, actor, note_id)
    return await history.page_of(session, service.ENTITY, note_id, page, request.app.state.cursors)
