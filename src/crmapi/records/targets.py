"""What a route that declarations share (across record kinds) starts from: the session, the caller
and the id in the kind's path parameter, given by one dependency, so each handler is one line of
parameters whatever the kind calls its id.

No `from __future__ import annotations` here: the dependency's parameter types (the kind's path
parameter and reader) are made at run time, and FastAPI must see them as objects.
"""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi import Depends, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.kit.db import DbSession


@dataclass(frozen=True)
class Target:
    request: Request
    session: AsyncSession
    actor: Actor
    id: UUID


def target(param: str, description: str | None, reader: Any) -> Any:
    """The dependency that gives a route its `Target`: `param` is the kind's path parameter
    (`lead_id`), `reader` its actor dependency (`CurrentActor`, `Annotated[Actor, staff_or(...)]`)."""

    async def of(
        request: Request,
        session: DbSession,
        actor: reader,
        item: UUID = Path(alias=param, description=description),
    ) -> Target:
        return Target(request, session, actor, item)

    return Depends(of)
