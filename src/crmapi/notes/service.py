"""Notes on contacts and accounts: staff add them, authors edit and delete them, all with history.

A note has no scope of its own: it is visible exactly when its subject is readable
(`crmapi.records.subjects.readable`), so a note outside the actor's scope answers 404 like its subject.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.problems import StaffOnly
from crmapi.kit.concurrency import check_version
from crmapi.kit.errors import NotFound
from crmapi.notes import queries
from crmapi.notes.models import Note
from crmapi.notes.problems import NotAuthor
from crmapi.notes.schemas import NoteCreate, NoteUpdate
from crmapi.records import history, outbox, subjects
from crmapi.records.subjects import NoteSubject

ENTITY = "note"
# The columns a client writes; history compares exactly these.
WRITABLE = tuple(NoteUpdate.model_fields)


def _snapshot(note: Note) -> dict[str, Any]:
    return {k: getattr(note, k) for k in WRITABLE}


def _about(note: Note) -> dict[str, Any]:
    # Consumers of note events (webhooks, timelines) need the record the note hangs off.
    return {"subject": note.subject, "subject_id": note.subject_id}


async def _check_subject(session: AsyncSession, actor: Actor, note: Note) -> None:
    try:
        await subjects.readable(session, actor, cast(NoteSubject, note.subject), note.subject_id)
    except NotFound:
        # Same answer as a note that does not exist: its subject's existence is not revealed either.
        raise NotFound("No note with this id.") from None


async def subject_notes(
    session: AsyncSession, actor: Actor, kind: NoteSubject, subject_id: UUID
) -> Select[Note]:
    """The live notes of a subject the actor can read; 404 when the subject is not readable."""
    await subjects.readable(session, actor, kind, subject_id)
    return queries.of_subject(actor, kind, subject_id)


async def create(
    session: AsyncSession, actor: Actor, kind: NoteSubject, subject_id: UUID, data: NoteCreate
) -> Note:
    """Add a note to a readable subject; the calling staff member is its author."""
    # API keys are refused too: a note needs an author member, the only one who may edit it.
    if actor.kind != "staff" or actor.member_id is None:
        raise StaffOnly("Only staff members may add notes.")
    await subjects.readable(session, actor, kind, subject_id)
    note = Note(
        org_id=actor.org_id,
        subject=kind,
        subject_id=subject_id,
        author_member_id=actor.member_id,
        body=data.body,
    )
    session.add(note)
    await session.flush()
    history.record(
        session,
        actor,
        entity=ENTITY,
        entity_id=note.id,
        action="created",
        changes=history.diff(
            {}, {**_about(note), "author_member_id": note.author_member_id, **_snapshot(note)}
        ),
    )
    outbox.emit(
        session,
        actor,
        topic="note.created",
        entity=ENTITY,
        entity_id=note.id,
        payload={"version": note.version, **_about(note)},
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
    changes = history.diff(before, _snapshot(note))
    if not changes:
        return note
    note.updated_at = datetime.now(UTC)
    await session.flush()
    history.record(session, actor, entity=ENTITY, entity_id=note.id, action="updated", changes=changes)
    outbox.emit(
        session,
        actor,
        topic="note.updated",
        entity=ENTITY,
        entity_id=note.id,
        payload={"version": note.version, "fields": sorted(changes), **_about(note)},
    )
    return note


async def delete(session: AsyncSession, actor: Actor, note_id: UUID, expected: int | None) -> None:
    """Soft-delete: the note disappears from its subject's list and answers 404."""
    note = await get_for_change(session, actor, note_id, deleting=True)
    check_version(note.version, expected)
    note.deleted_at = datetime.now(UTC)
    note.updated_at = note.deleted_at
    await session.flush()
    history.record(session, actor, entity=ENTITY, entity_id=note.id, action="deleted")
    outbox.emit(session, actor, topic="note.deleted", entity=ENTITY, entity_id=note.id, payload=_about(note))
