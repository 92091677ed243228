"""Liveness and readiness."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crmapi.kit.errors import database_lost, problem_responses

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str


class Alive(BaseModel):
    status: str


async def _select_one(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


def _probe(request: Request) -> asyncio.Task[None]:
    """The database check under way, or a new one. One at a time: a probe outlives an answer that
    gave up on it (the engine's own bounds end it), and a silent database must not collect one
    per health check, each holding a pooled connection."""
    running: asyncio.Task[None] | None = getattr(request.app.state, "health_probe", None)
    if running is None or running.done():
        running = asyncio.create_task(_select_one(request.app.state.db.engine))
        # Its failure is reported by the answers that waited for it; nothing else reads it.
        running.add_done_callback(lambda task: task.cancelled() or task.exception())
        request.app.state.health_probe = running
    return running


@router.get(
    "/healthz",
    operation_id="get_health",
    summary="Is the service up and its database reachable",
    description="Answers within `HEALTH_TIMEOUT_SECONDS` (2 s); 503 when the database did not answer in it.",
    response_model=Health,
    responses=problem_responses(503),
)
async def healthz(request: Request) -> Health:
    try:
        async with asyncio.timeout(request.app.state.settings.health_timeout_seconds):
            # Shielded: giving up on the probe must not cancel it mid-statement.
            await asyncio.shield(_probe(request))
    except Exception as exc:
        raise database_lost() from exc
    return Health(status="ok", database="ok")


@router.get(
    "/livez",
    operation_id="get_liveness",
    summary="Is the process answering (no database round trip)",
    response_model=Alive,
    responses=problem_responses(500),
)
async def livez() -> Alive:
    """For a supervisor's liveness probe; `/healthz` also checks the database."""
    return Alive(status="ok")
