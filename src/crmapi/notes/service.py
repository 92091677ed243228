"""Notes on contacts, accounts and leads: staff add them, authors edit and delete them, all with
history.

A note has no scope of its own: it is visible exactly when its subject is readable (its kind's
`get`), so a note outside the actor's scope answers 404 like its subject.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.problems import StaffOnly
from crmapi.accounts import service as accounts
from crmapi.contacts import service as contacts
from crmapi.kit.concurrency import check_version
from crmapi.kit.errors import NotFound
from crmapi.leads import service as leads
from crmapi.notes import queries
from crmapi.notes.models import Note, NoteSubject
from crmapi.notes.problems import NotAuthor
from crmapi.notes.schemas import NoteCreate, NoteUpdate
from crmapi.records import changes, history

ENTITY = "note"
# The columns a client writes; history compares exactly these.
WRITABLE = tuple(NoteUpdate.model_fields)


def _snapshot(note: Note) -> dict[str, Any]:
    return {k: getattr(note, k) for k in WRITABLE}


def _about(note: Note) -> dict[str, Any]:
    # Consumers of note events (webhooks, timelines) need the record the note hangs off.
    return {"subject": note.subject, "subject_id": note.subject_id}


# How each subject kind is read in the actor's scope (404 outside it).
READERS: dict[str, Callable[[AsyncSession, Actor, UUID], Awaitable[Any]]] = {
    "contact": contacts.get,
    "account": accounts.get,
    "lead": leads.get,
}


async def _check_subject(session: AsyncSession, actor: Actor, note: Note) -> None:
    try:
        await READERS[note.subject](session, actor, note.subject_id)
    except NotFound:
        # Same answer as a note that does not exist: its subject's existence is not revealed either.
        raise NotFound("No note with this id.") from None


async def create(
    session: AsyncSession, actor: Actor, kind: NoteSubject, subject: Any, data: NoteCreate
) -> Note:
    """Add a note to a subject its kind's `get` found readable; the calling staff member is its
    author."""
    # API keys are refused too: a note needs an author member, the only one who may edit it.
    if actor.kind != "staff" or actor.member_id is None:
        raise StaffOnly("Only staff members may add notes.")
    note = Note(
        org_id=actor.org_id,
        subject=kind,
        subject_id=subject.id,
        author_member_id=actor.member_id,
        body=data.body,
    )
    session.add(note)
    await session.flush()
    made = {**_about(note), "author_member_id": note.author_member_id, **_snapshot(note)}
    changes.announce(
        session,
        actor,
        note,
        entity=ENTITY,
        action="created",
        changes=history.diff({}, made),
        about=_about(note),
    )
    return note


async def get(session: AsyncSession, actor: Actor, note_id: UUID) -> Note:
    """A live note whose subject the actor can read; 404 otherwise."""
    note = (await session.execute(queries.live(actor).where(Note.id == note_id))).scalar_one_or_none()
    if note is None:
        raise NotFound("No note with this id.")
    await _check_subject(session, actor, note)
    return note


async def get_for_change(
    session: AsyncSession, actor: Actor, note_id: UUID, *, deleting: bool = False
) -> Note:
    """The note, locked, if the actor is its author (or, to delete it, holds org.admin)."""
    stmt = queries.live(actor).where(Note.id == note_id).with_for_update()
    note = (await session.execute(stmt)).scalar_one_or_none()
    if note is None:
        raise NotFound("No note with this id.")
    await _check_subject(session, actor, note)
    if actor.member_id is not None and note.author_member_id == actor.member_id:
        return note
    if deleting and actor.can("org.admin"):
        return note
    if deleting:
        raise NotAuthor("Only the note's author or 'org.admin' may delete this note.")
    raise NotAuthor("Only the note's author may edit this note.")


async def update(
    session: AsyncSession, actor: Actor, note_id: UUID, data: NoteUpdate, expected: int | None
) -> Note:
    """Merge the sent fields into the author's note; nothing is written when nothing changes."""
    note = await get_for_change(session, actor, note_id)
    check_version(note.version, expected)
    values = {k: getattr(data, k) for k in data.model_fields_set}
    before = _snapshot(note)
    for key, value in values.items():
        setattr(note, key, value)
    changed = history.diff(before, _snapshot(note))
    if not changed:
        return note
    note.updated_at = datetime.now(UTC)
    await session.flush()
    changes.announce(
        session, actor, note, entity=ENTITY, action="updated", changes=changed, about=_about(note)
    )
    return note


async def delete(session: AsyncSession, actor: Actor, note_id: UUID, expected: int | None) -> None:
    """Soft-delete: the note disappears from its subject's list and answers 404."""
    note = await get_for_change(session, actor, note_id, deleting=True)
    check_version(note.version, expected)
    await changes.soft_delete(session, actor, note, entity=ENTITY, about=_about(note))
