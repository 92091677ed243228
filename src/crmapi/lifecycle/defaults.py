"""The configuration a new organisation starts with, so every life-cycle API works at once."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.config import defaults as option_defaults
from crmapi.config.service import STEP
from crmapi.kit.base import utcnow
from crmapi.kit.ids import new_id
from crmapi.lifecycle.kinds import KINDS
from crmapi.lifecycle.models import LifecycleStatus, LifecycleType


def status_rows(org_id: UUID) -> list[dict[str, Any]]:
    """One status a state, named after it, in the kind's order."""
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


def type_rows(org_id: UUID, statuses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A default "Standard" type per kind with every status (each its state's default), no rules."""
    now = utcnow()
    rows = []
    for kind in KINDS.values():
        ids = [s["id"] for s in statuses if s["kind"] == kind.name]
        rows.append(
            {
                "org_id": org_id,
                "id": new_id(),
                "kind": kind.name,
                "code": "STANDARD",
                "name": "Standard",
                "position": STEP,
                "active": True,
                "is_default": True,
                "status_ids": ids,
                "default_status_ids": ids,
                "category_ids": [],
                "creating_unit_ids": [],
                "auto_convert": False,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
        )
    return rows


async def seed(session: AsyncSession, org_id: UUID) -> None:
    """Give a new organisation the default statuses, types and lists."""
    statuses = status_rows(org_id)
    await session.execute(insert(LifecycleStatus), statuses)
    await session.execute(insert(LifecycleType), type_rows(org_id, statuses))
    await option_defaults.seed(session, org_id)
