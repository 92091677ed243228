"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text

from crmapi.errors import database_lost, problem_responses

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str


class Alive(BaseModel):
    status: str


@router.get(
    "/healthz",
    operation_id="get_health",
    summary="Is the service up and its database reachable",
    response_model=Health,
    responses=problem_responses(503),
)
async def healthz(request: Request) -> Health:
    try:
        async with request.app.state.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
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
