"""HTTP for notes: under their contact or account to list and add, under /v1/notes to read and change."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status

from crmapi.access.actor import Actor
from crmapi.access.dependencies import Idempotent, StaffActor
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, PageParams, paginate, render, render_page, select_fields, sorted_by
from crmapi.kit.routes import CrmRoute
from crmapi.notes import queries, service
from crmapi.notes.schemas import NoteCreate, NoteListQuery, NoteRead, NoteUpdate
from crmapi.records import history
from crmapi.records.subjects import NoteSubject

router = APIRouter(tags=["notes"], route_class=CrmRoute, dependencies=[Idempotent])

NotePath = Annotated[UUID, "note id"]
ContactPath = Annotated[UUID, "contact id"]
AccountPath = Annotated[UUID, "account id"]
LeadPath = Annotated[UUID, "lead id"]
LIST = problem_responses(400, 401, 403, 404, 422, 503)
CREATE = problem_responses(401, 403, 404, 409, 422, 503)


async def _list(
    request: Request,
    session: DbSession,
    actor: Actor,
    kind: NoteSubject,
    subject_id: UUID,
    query: NoteListQuery,
) -> dict[str, Any]:
    select_fields(NoteRead, query.fields)
    stmt = await service.subject_notes(session, actor, kind, subject_id)
    rows, cursor, count = await paginate(
        session, stmt, sorting=queries.SORTING, params=query, cursors=request.app.state.cursors
    )
    return render_page(NoteRead, rows, cursor, count, query.fields)


async def _create(
    session: DbSession,
    actor: Actor,
    kind: NoteSubject,
    subject_id: UUID,
    body: NoteCreate,
    response: Response,
) -> NoteRead:
    note = await service.create(session, actor, kind, subject_id, body)
    response.headers["Location"] = f"/v1/notes/{note.id}"
    response.headers["ETag"] = etag(note.version)
    return render(NoteRead, note)


@router.get(
    "/v1/contacts/{contact_id}/notes",
    operation_id="list_contact_notes",
    summary="List a contact's notes",
    response_model=Page[NoteRead],
    response_model_exclude_unset=True,
    responses=LIST,
)
@sorted_by(queries.SORTING)
async def list_contact_notes(
    request: Request,
    session: DbSession,
    actor: StaffActor,
    contact_id: ContactPath,
    query: Annotated[NoteListQuery, Query()],
) -> dict[str, Any]:
    """The notes of a contact the caller can see, newest first, paged by cursor."""
    return await _list(request, session, actor, "contact", contact_id, query)


@router.post(
    "/v1/contacts/{contact_id}/notes",
    operation_id="create_contact_note",
    summary="Add a note to a contact",
    status_code=status.HTTP_201_CREATED,
    response_model=NoteRead,
    responses=CREATE,
)
async def create_contact_note(
    session: DbSession, actor: StaffActor, contact_id: ContactPath, body: NoteCreate, response: Response
) -> NoteRead:
    """Staff who can see the contact may add a note; they become its author.

    Send `Idempotency-Key` to make a retry safe: the same key replays the first answer.
    """
    return await _create(session, actor, "contact", contact_id, body, response)


@router.get(
    "/v1/accounts/{account_id}/notes",
    operation_id="list_account_notes",
    summary="List an account's notes",
    response_model=Page[NoteRead],
    response_model_exclude_unset=True,
    responses=LIST,
)
@sorted_by(queries.SORTING)
async def list_account_notes(
    request: Request,
    session: DbSession,
    actor: StaffActor,
    account_id: AccountPath,
    query: Annotated[NoteListQuery, Query()],
) -> dict[str, Any]:
    """The notes of an account the caller can see, newest first, paged by cursor."""
    return await _list(request, session, actor, "account", account_id, query)


@router.post(
    "/v1/accounts/{account_id}/notes",
    operation_id="create_account_note",
    summary="Add a note to an account",
    status_code=status.HTTP_201_CREATED,
    response_model=NoteRead,
    responses=CREATE,
)
async def create_account_note(
    session: DbSession, actor: StaffActor, account_id: AccountPath, body: NoteCreate, response: Response
) -> NoteRead:
    """Staff who can see the account may add a note; they become its author.

    Send `Idempotency-Key` to make a retry safe: the same key replays the first answer.
    """
    return await _create(session, actor, "account", account_id, body, response)


@router.get(
    "/v1/leads/{lead_id}/notes",
    operation_id="list_lead_notes",
    summary="List a lead's shared notes",
    response_model=Page[NoteRead],
    response_model_exclude_unset=True,
    responses=LIST,
)
@sorted_by(queries.SORTING)
async def list_lead_notes(
    request: Request,
    session: DbSession,
    actor: StaffActor,
    lead_id: LeadPath,
    query: Annotated[NoteListQuery, Query()],
) -> dict[str, Any]:
    """The notes of a lead the caller can see, newest first, each with its author and time."""
    return await _list(request, session, actor, "lead", lead_id, query)


@router.post(
    "/v1/leads/{lead_id}/notes",
    operation_id="create_lead_note",
    summary="Add a shared note to a lead",
    status_code=status.HTTP_201_CREATED,
    response_model=NoteRead,
    responses=CREATE,
)
async def create_lead_note(
    session: DbSession, actor: StaffActor, lead_id: LeadPath, body: NoteCreate, response: Response
) -> NoteRead:
    """Staff who can see the lead may add a note; they become its author."""
    return await _create(session, actor, "lead", lead_id, body, response)


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
