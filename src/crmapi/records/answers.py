"""A record read by its id as the answer PostgreSQL renders (kit.rendered), in one statement
straight to asyncpg (kit.direct): what every kind's `get_rendered` shares."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.kit import direct
from crmapi.kit.errors import NotFound

# A kind's statement for the answer: its scope for the actor, `id = :record_id`, and the columns
# (the answer's JSON text, the version), every field or the `fields` chosen.
Answer = Callable[[Actor, set[str] | None], Select[str, int]]


async def by_id(
    session: AsyncSession,
    actor: Actor,
    answer: Answer,
    record_id: UUID,
    fields: set[str] | None,
    missing: str,
) -> tuple[str, int]:
    """The record's answer as JSON text and its version; 404 (`missing`) outside the scope."""
    if fields is None:
        # The whole answer's statement is kept with the actor's scope (Actor.remember).
        stmt = actor.remember(f"answer:{answer.__module__}.{answer.__qualname__}", _compiled(answer))
    else:
        stmt = direct.direct(answer(actor, fields))
    found: Any = await direct.fetch(session, stmt, actor.org_id, record_id=record_id)
    if found is None:
        raise NotFound(missing)
    body, version = found
    return body, version


def _compiled(answer: Answer) -> Callable[[Actor], direct.Direct]:
    return lambda actor: direct.direct(answer(actor, None))
