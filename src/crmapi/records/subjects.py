"""Records that other records hang off (notes, tags, history): one place to check them in scope.

Each kind maps to its service's `get`, which answers 404 outside the actor's scope, and to
`for_change`, which also locks the row and refuses actors who may not change it.
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


def _getters() -> dict[str, tuple[Getter, Getter]]:
    # Imported here: the domain services import this module's users, not the reverse.
    import crmapi.accounts.service as accounts
    from crmapi.contacts import service as contacts
    from crmapi.leads import service as leads
    from crmapi.opportunities import service as opportunities

    return {
        "contact": (contacts.get, contacts.get_for_change),
        "account": (accounts.get, accounts.get_for_change),
        # Tagging a cancelled lead or opportunity is a change of a read-only record: 409.
        "lead": (leads.get, leads.get_writable),
        "opportunity": (opportunities.get, opportunities.get_writable),
    }


async def readable(session: AsyncSession, actor: Actor, kind: TaggedKind, subject_id: UUID) -> Any:
    """The subject if the actor may see it; NotFound otherwise."""
    return await _getters()[kind][0](session, actor, subject_id)


async def changeable(session: AsyncSession, actor: Actor, kind: TaggedKind, subject_id: UUID) -> Any:
    """The subject, locked, if the actor may change it; NotFound / Forbidden otherwise."""
    return await _getters()[kind][1](session, actor, subject_id)
