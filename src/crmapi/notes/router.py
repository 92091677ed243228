"""HTTP for notes: under /v1/notes to read and change, and the routes that list and add a
record's notes, which each kind's router (contacts, accounts, leads) declares with `declare`,
under the operation ids it spells out; the kind hands in how its records are read, so a note is
listed or added only on a record the caller can see.

No `from __future__ import annotations` here: `declare` makes its handlers' path parameter at run
time, and FastAPI must see it as an object.
"""

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.dependencies import Idempotent, StaffActor
from crmapi.kit import routes
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, PageParams, paginate, render, render_page, select_fields, sorted_by
from crmapi.kit.routes import CrmRoute
from crmapi.notes import queries, service
from crmapi.notes.models import NoteSubject
from crmapi.notes.schemas import NoteCreate, NoteListQuery, NoteRead, NoteUpdate
from crmapi.records import history
from crmapi.records.targets import Target, target

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


Readable = Callable[[AsyncSession, Actor, UUID], Awaitable[Any]]


@dataclass(frozen=True)
class Route:
    operation_id: str
    summary: str
    description: str


def declare(
    router: APIRouter, kind: NoteSubject, readable: Readable, *, listing: Route, adding: Route
) -> None:
    """Declare on the kind's `router` GET and POST /{<kind>_id}/notes; `readable` is the kind's
    `get` (404 outside the caller's scope)."""
    on, path = target(f"{kind}_id", None, StaffActor), f"/{{{kind}_id}}/notes"

    async def notes_on(request: Request, query: Annotated[NoteListQuery, Query()], t: Target = on) -> Any:
        subject = await readable(t.session, t.actor, t.id)
        select_fields(NoteRead, query.fields)
        stmt, cursors = queries.of_subject(t.actor, kind, subject.id), request.app.state.cursors
        rows, cursor, count = await paginate(
            t.session, stmt, sorting=queries.SORTING, params=query, cursors=cursors
        )
        return render_page(NoteRead, rows, cursor, count, query.fields)

    async def note_on(body: NoteCreate, response: Response, t: Target = on) -> NoteRead:
        subject = await readable(t.session, t.actor, t.id)
        note = await service.create(t.session, t.actor, kind, subject, body)
        response.headers["Location"] = f"/v1/notes/{note.id}"
        response.headers["ETag"] = etag(note.version)
        return render(NoteRead, note)

    routes.add(
        router,
        "GET",
        path,
        sorted_by(queries.SORTING)(notes_on),
        listing.operation_id,
        summary=listing.summary,
        description=inspect.cleandoc(listing.description),
        response_model=Page[NoteRead],
        response_model_exclude_unset=True,
        responses=problem_responses(400, 401, 403, 404, 422, 503),
    )
    routes.add(
        router,
        "POST",
        path,
        note_on,
        adding.operation_id,
        summary=adding.summary,
        description=inspect.cleandoc(adding.description),
        status_code=status.HTTP_201_CREATED,
        response_model=NoteRead,
        responses=problem_responses(401, 403, 404, 409, 422, 503),
    )
