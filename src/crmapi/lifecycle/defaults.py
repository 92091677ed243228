"""The configuration a new organisation starts with, so every life-cycle API works at once."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.base import utcnow
from crmapi.ids import new_id
from crmapi.lifecycle.kinds import KINDS
from crmapi.lifecycle.models import LifecycleStatus

# One status a state, named after it, in the kind's order; positions leave room in between.
STEP = 10


def status_rows(org_id: UUID) -> list[dict[str, object]]:
    now = utcnow()
    return [
        {
            "org_id": org_id,
            "id": new_id(),
            "kind": kind.name,
            "code": state.upper(),
            "name": state.replace("_", " ").capitalize(),
            "state": state,
            "position": STEP * (n + 1),
            "active": True,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        for kind in KINDS.values()
        for n, state in enumerate(kind.states)
    ]


async def seed(session: AsyncSession, org_id: UUID) -> None:
    """Give a new organisation the default statuses of every kind."""
    await session.execute(insert(LifecycleStatus), status_rows(org_id))
