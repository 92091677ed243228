"""What the routes that list and add a record's notes share, whichever kind's router declares them
(contacts, accounts, leads): their answers, and the page and the new note as they are answered."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response, status

from crmapi.access.actor import Actor
from crmapi.kit.concurrency import etag
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, paginate, render, render_page, select_fields
from crmapi.notes import queries, service
from crmapi.notes.models import NoteSubject
from crmapi.notes.schemas import NoteCreate, NoteListQuery, NoteRead

SORTING = queries.SORTING
LIST: dict[str, Any] = {
    "response_model": Page[NoteRead],
    "response_model_exclude_unset": True,
    "responses": problem_responses(400, 401, 403, 404, 422, 503),
}
CREATE: dict[str, Any] = {
    "status_code": status.HTTP_201_CREATED,
    "response_model": NoteRead,
    "responses": problem_responses(401, 403, 404, 409, 422, 503),
}


async def page(
    request: Request, session: DbSession, actor: Actor, kind: NoteSubject, subject: Any, query: NoteListQuery
) -> dict[str, Any]:
    """A page of the notes on a subject its kind's `get` found readable, newest first."""
    select_fields(NoteRead, query.fields)
    rows, cursor, count = await paginate(
        session,
        queries.of_subject(actor, kind, subject.id),
        sorting=queries.SORTING,
        params=query,
        cursors=request.app.state.cursors,
    )
    return render_page(NoteRead, rows, cursor, count, query.fields)


async def add(
    session: DbSession, actor: Actor, kind: NoteSubject, subject: Any, body: NoteCreate, response: Response
) -> NoteRead:
    """The note added to the subject, with where it lives and its ETag."""
    note = await service.create(session, actor, kind, subject, body)
    response.headers["Location"] = f"/v1/notes/{note.id}"
    response.headers["ETag"] = etag(note.version)
    return render(NoteRead, note)
