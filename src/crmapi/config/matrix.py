"""The prioritisation matrix (the seed's prioritisation model): a service request's urgency and
impact, each 1 (highest) to 5, give its priority, 1 (highest) to 10."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.dependencies import Idempotent, require, staff_or
from crmapi.config.models import PriorityCell
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.ids import new_id
from crmapi.kit.routes import CrmRoute
from crmapi.kit.scalars import Input
from crmapi.records import changes

LEVELS = range(1, 6)
ENTITY = "prioritisation_matrix"
Level = Annotated[int, Field(ge=1, le=5, strict=True)]


def default(urgency: int, impact: int) -> int:
    """The matrix a new organisation starts with: the most urgent, widest-reaching first."""
    return urgency + impact - 1


class Cell(Input):
    urgency: Level = Field(description="1 (most urgent) to 5.")
    impact: Level = Field(description="1 (widest impact) to 5.")
    priority: int = Field(ge=1, le=10, strict=True, description="1 (highest) to 10.")


class Matrix(BaseModel):
    cells: list[Cell] = Field(description="Every urgency and impact pair once, by urgency then impact.")


class MatrixUpdate(Input):
    """The whole matrix: every one of the 25 urgency and impact pairs, once."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "cells": [
                        {"urgency": u, "impact": i, "priority": default(u, i)} for u in LEVELS for i in LEVELS
                    ]
                }
            ]
        },
    )
    cells: list[Cell] = Field(min_length=25, max_length=25)

    @field_validator("cells")
    @classmethod
    def _every_pair_once(cls, cells: list[Cell]) -> list[Cell]:
        if len({(c.urgency, c.impact) for c in cells}) != len(cells):
            raise ValueError("an urgency and impact pair came twice")
        return cells


def rows(org_id: UUID) -> list[dict[str, Any]]:
    return [
        {"org_id": org_id, "id": new_id(), "urgency": u, "impact": i, "priority": default(u, i)}
        for u in LEVELS
        for i in LEVELS
    ]


async def seed(session: AsyncSession, org_id: UUID) -> None:
    await session.execute(insert(PriorityCell), rows(org_id))


async def cells(session: AsyncSession) -> dict[tuple[int, int], int]:
    found = await session.execute(select(PriorityCell.urgency, PriorityCell.impact, PriorityCell.priority))
    return {(u, i): p for u, i, p in found}


async def priority_for(session: AsyncSession, urgency: int, impact: int) -> int:
    """The priority the organisation's matrix gives (what a service request gets on creation)."""
    found = await session.execute(
        select(PriorityCell.priority).where(PriorityCell.urgency == urgency, PriorityCell.impact == impact)
    )
    return found.scalar_one_or_none() or default(urgency, impact)


def _render(current: dict[tuple[int, int], int]) -> dict[str, Any]:
    return {"cells": [{"urgency": u, "impact": i, "priority": p} for (u, i), p in sorted(current.items())]}


router = APIRouter(
    prefix="/v1/config", tags=["configuration"], route_class=CrmRoute, dependencies=[Idempotent]
)


@router.get(
    "/prioritisation-matrix",
    operation_id="get_prioritisation_matrix",
    summary="The prioritisation matrix",
    response_model=Matrix,
    responses=problem_responses(401, 403, 503),
)
async def get_matrix(
    session: DbSession, actor: Annotated[Actor, staff_or("config.manage")]
) -> dict[str, Any]:
    """Staff read it. Urgency and impact 1 (highest) to 5 give the priority, 1 to 10; a new
    organisation starts with urgency + impact - 1."""
    return _render(await cells(session))


@router.put(
    "/prioritisation-matrix",
    operation_id="replace_prioritisation_matrix",
    summary="Replace the prioritisation matrix",
    response_model=Matrix,
    responses=problem_responses(401, 403, 422, 503),
)
async def replace_matrix(
    session: DbSession, actor: Annotated[Actor, require("config.manage")], body: MatrixUpdate
) -> dict[str, Any]:
    """Needs `config.manage`. All 25 cells, each pair once (422 otherwise); the changed cells go
    to history as `"<urgency>x<impact>"`. Requests already made keep their priority."""
    current = await cells(session)
    wanted = {(c.urgency, c.impact): c.priority for c in body.cells}
    changed = {
        f"{u}x{i}": {"old": current.get((u, i)), "new": p}
        for (u, i), p in sorted(wanted.items())
        if current.get((u, i)) != p
    }
    for (u, i), priority in wanted.items():
        if current.get((u, i)) != priority:
            await session.execute(
                pg_insert(PriorityCell)
                .values(org_id=actor.org_id, id=new_id(), urgency=u, impact=i, priority=priority)
                .on_conflict_do_update(
                    index_elements=[PriorityCell.org_id, PriorityCell.urgency, PriorityCell.impact],
                    set_={"priority": priority},
                )
            )
    if changed:
        changes.write(
            session, actor, entity=ENTITY, entity_id=actor.org_id, action="updated", changes=changed
        )
    return _render(wanted)
