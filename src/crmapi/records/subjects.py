"""Records that other records hang off (notes, tags, history): one place to check them in scope.

Each kind's service registers its `get`, which answers 404 outside the actor's scope, and its
`get_for_change`, which also locks the row and refuses actors who may not change it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor

SubjectKind = Literal["contact", "account"]  # records with custom fields and tags
NoteSubject = Literal["contact", "account", "lead"]  # records with notes
TaggedKind = Literal["contact", "account", "lead", "opportunity"]  # records with tags
Getter = Callable[[AsyncSession, Actor, UUID], Awaitable[Any]]


# Each kind's service registers how others read and change its records (`register`): records
# sit below the domains, so they cannot import the services.
_GETTERS: dict[str, tuple[Getter, Getter]] = {}


def register(kind: TaggedKind, readable: Getter, changeable: Getter) -> None:
    """How the records of `kind` are read (404 outside the actor's scope) and locked for a change
    (404, 403, or 409 for a read-only record) by the records that hang off them."""
    _GETTERS[kind] = (readable, changeable)


async def readable(session: AsyncSession, actor: Actor, kind: TaggedKind, subject_id: UUID) -> Any:
    """The subject if the actor may see it; NotFound otherwise."""
    return await _GETTERS[kind][0](session, actor, subject_id)


async def changeable(session: AsyncSession, actor: Actor, kind: TaggedKind, subject_id: UUID) -> Any:
    """The subject, locked, if the actor may change it; NotFound / Forbidden otherwise."""
    return await _GETTERS[kind][1](session, actor, subject_id)
