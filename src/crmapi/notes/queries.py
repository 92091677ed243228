"""Which notes a read starts from; the subject's scope is checked by the caller, once."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import Select, select

from crmapi.access.actor import Actor
from crmapi.kit.pagination import Sorting
from crmapi.notes.models import Note, NoteSubject

# Served by ix_notes_subject (org_id, subject, subject_id, created_at, id).
SORTING = Sorting(columns={"created_at": Note.created_at}, id_column=Note.id, default="-created_at")


def live(actor: Actor) -> Select[Note]:
    """The organisation's notes that are not deleted; not yet narrowed to a readable subject."""
    return select(Note).where(Note.org_id == actor.org_id, Note.deleted_at.is_(None))


def of_subject(actor: Actor, kind: NoteSubject, subject_id: UUID) -> Select[Note]:
    """Live notes on one subject the caller has already found readable."""
    return live(actor).where(Note.subject == kind, Note.subject_id == subject_id)
