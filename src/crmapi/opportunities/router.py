"""HTTP for opportunities: the record, its stages and decisions, and its history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response, status

from crmapi.access.actor import Actor
from crmapi.access.dependencies import Idempotent, require, staff_or
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, PageParams, paginate, render, render_page, select_fields, sorted_by
from crmapi.kit.routes import CrmRoute
from crmapi.lifecycle import moves
from crmapi.lifecycle.board import Board, board
from crmapi.opportunities import pipeline, queries, service
from crmapi.opportunities.models import Opportunity
from crmapi.opportunities.schemas import (
    CancelOpportunity,
    LoseOpportunity,
    OpportunityBoardQuery,
    OpportunityCard,
    OpportunityCreate,
    OpportunityListQuery,
    OpportunityRead,
    OpportunityTransition,
    OpportunityUpdate,
    Pipeline,
    WinOpportunity,
)
from crmapi.records import history, work_routes
from crmapi.records.bulk import BulkAssign, BulkMove, StepResult, each
from crmapi.records.targets import Target
from crmapi.records.work_routes import Move
from crmapi.tags import router as tags

router = APIRouter(
    prefix="/v1/opportunities", tags=["opportunities"], route_class=CrmRoute, dependencies=[Idempotent]
)

# Internal like leads: staff, or an integration that reads every account.
Reader = Annotated[Actor, staff_or("accounts.view_any")]
Creator = Annotated[Actor, require("opportunities.create")]
OpportunityPath = Annotated[UUID, Path(description="opportunity id")]
ONE = problem_responses(401, 403, 404, 422, 503)
MOVE = problem_responses(401, 403, 404, 409, 412, 422, 503)
_COPIED = tuple(k for k in OpportunityRead.model_fields if hasattr(Opportunity, k))
DAY = 86_400


def row(o: Opportunity, now: datetime) -> dict[str, Any]:
    return {
        **{k: getattr(o, k) for k in _COPIED},
        "amount": service.money(o, "amount"),
        "budget": service.money(o, "budget"),
        "age_days": int((now - o.created_at).total_seconds() // DAY),
        "days_in_stage": int((now - o.stage_entered_at).total_seconds() // DAY),
    }


def _rows(found: Sequence[Opportunity]) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [row(o, now) for o in found]


def _one(o: Opportunity, response: Response, fields: set[str] | None = None) -> OpportunityRead:
    response.headers["ETag"] = etag(o.version)
    return render(OpportunityRead, _rows([o])[0], fields)


@router.get(
    "",
    operation_id="list_opportunities",
    summary="List opportunities",
    response_model=Page[OpportunityRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 422, 503),
)
@sorted_by(queries.SORTING)
async def list_opportunities(
    request: Request, session: DbSession, actor: Reader, query: Annotated[OpportunityListQuery, Query()]
) -> dict[str, Any]:
    """The opportunities of the accounts the caller can see."""
    select_fields(OpportunityRead, query.fields)
    found, cursor, count = await paginate(
        session,
        queries.filtered(actor, query),
        sorting=queries.SORTING,
        params=query,
        cursors=request.app.state.cursors,
    )
    return render_page(OpportunityRead, _rows(found), cursor, count, query.fields)


@router.get(
    "/pipeline",
    operation_id="get_opportunity_pipeline",
    summary="The pipeline: count and amounts per stage",
    response_model=Pipeline,
    responses=problem_responses(401, 403, 422, 503),
)
async def get_opportunity_pipeline(
    session: DbSession, actor: Reader, query: Annotated[OpportunityBoardQuery, Query()]
) -> dict[str, Any]:
    """Per active stage in `position` order (with `type_id`, that type's): how many
    opportunities, and per currency their amounts summed plainly and weighted by probability
    (an amount times its probability; none counts as 0 %), in the caller's scope and the list's
    filters. Amounts are never added across currencies."""
    return await pipeline.summary(session, actor, query)


@router.get(
    "/board",
    operation_id="get_opportunity_board",
    summary="Opportunities in columns by stage",
    response_model=Board[OpportunityCard],
    responses=problem_responses(401, 403, 422, 503),
)
async def get_opportunity_board(
    request: Request, session: DbSession, actor: Reader, query: Annotated[OpportunityBoardQuery, Query()]
) -> Response:
    """One column per active status in `position` order, each with its first 100 opportunities
    in the order they came; a column's `next_cursor` continues it in the list
    (`GET /v1/opportunities?status_id=<column>&cursor=<next_cursor>`)."""
    text = await board(
        session,
        actor,
        kind="opportunity",
        filters=query,
        matching=lambda: queries.narrowed(queries.readable(actor), query),
        model=Opportunity,
        card=queries.CARD,
        cursors=request.app.state.cursors,
        status_ids=await pipeline.stage_ids(session, query),
    )
    return Response(content=text, media_type="application/json")


@router.post(
    "",
    operation_id="create_opportunity",
    summary="Create an opportunity",
    status_code=status.HTTP_201_CREATED,
    response_model=OpportunityRead,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def create_opportunity(
    session: DbSession, actor: Creator, body: OpportunityCreate, response: Response
) -> OpportunityRead:
    """On an account the caller can see (422 otherwise), in the type's default open stage."""
    o = await service.create(session, actor, body)
    response.headers["Location"] = f"/v1/opportunities/{o.id}"
    return _one(o, response)


@router.get(
    "/{opportunity_id}",
    operation_id="get_opportunity",
    summary="Get an opportunity",
    response_model=OpportunityRead,
    response_model_exclude_unset=True,
    responses=ONE,
)
async def get_opportunity(
    session: DbSession,
    actor: Reader,
    opportunity_id: OpportunityPath,
    response: Response,
    fields: Annotated[str | None, Query(max_length=2048, description="Comma-separated fields.")] = None,
) -> OpportunityRead:
    chosen = select_fields(OpportunityRead, fields)
    return _one(await service.get(session, actor, opportunity_id), response, chosen)


@router.patch(
    "/{opportunity_id}",
    operation_id="update_opportunity",
    summary="Change an opportunity",
    response_model=OpportunityRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
)
async def update_opportunity(
    session: DbSession,
    actor: Reader,
    opportunity_id: OpportunityPath,
    body: OpportunityUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> OpportunityRead:
    """Merge semantics. The owner, the assignee or `opportunities.manage` may change it; a
    cancelled one is read-only (409); type and account never change (409)."""
    o = await service.update(session, actor, opportunity_id, body, expected_version(if_match))
    return _one(o, response)


@router.delete(
    "/{opportunity_id}",
    operation_id="delete_opportunity",
    summary="Remove an opportunity (soft)",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 412, 422, 503),
)
async def delete_opportunity(
    session: DbSession, actor: Reader, opportunity_id: OpportunityPath, if_match: IfMatch = None
) -> Response:
    await service.delete(session, actor, opportunity_id, expected_version(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{opportunity_id}/restore",
    operation_id="restore_opportunity",
    summary="Restore a removed opportunity",
    response_model=OpportunityRead,
    responses=problem_responses(401, 403, 404, 412, 422, 503),
)
async def restore_opportunity(
    session: DbSession,
    actor: Reader,
    opportunity_id: OpportunityPath,
    response: Response,
    if_match: IfMatch = None,
) -> OpportunityRead:
    """Needs `opportunities.manage`."""
    return _one(await service.restore(session, actor, opportunity_id, expected_version(if_match)), response)


async def _move(t: Target, response: Response, move: dict[str, Any]) -> OpportunityRead:
    """An opportunity moved as its route asks, with its new ETag."""
    return _one(await service.move(t.session, t.actor, t.id, **move), response)


work_routes.declare_moves(
    router,
    (
        Move(
            "win",
            "win_opportunity",
            "Mark an opportunity won",
            WinOpportunity,
            "won",
            "Open -> won (the type's default won status unless `status_id` names another).",
        ),
        Move(
            "lose",
            "lose_opportunity",
            "Mark an opportunity lost",
            LoseOpportunity,
            "lost",
            "Open -> lost; `lost_reason_id` is required (422 `reason-required`).",
        ),
        Move(
            "cancel",
            "cancel_opportunity",
            "Cancel an open opportunity",
            CancelOpportunity,
            "cancelled",
            "Open -> cancelled; a cancelled opportunity is read-only.",
        ),
        Move(
            "transitions",
            "transition_opportunity",
            "Move an opportunity to any stage or outcome its type allows",
            OpportunityTransition,
            None,
            """Between open stages, or to won, lost or cancelled; the type's rules decide (403
            `transition-rule` naming them), a lost status needs `lost_reason_id`.""",
        ),
    ),
    param="opportunity_id",
    noun="opportunity",
    reader=Reader,
    move=_move,
    read_model=OpportunityRead,
)


@router.get(
    "/{opportunity_id}/history",
    operation_id="list_opportunity_history",
    summary="An opportunity's history",
    response_model=Page[history.HistoryRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 404, 422, 503),
)
@sorted_by(history.HISTORY_SORTING)
async def list_opportunity_history(
    request: Request,
    session: DbSession,
    actor: Reader,
    opportunity_id: OpportunityPath,
    page: Annotated[PageParams, Query()],
) -> dict[str, Any]:
    """Who changed or moved it and when, newest first."""
    await service.get(session, actor, opportunity_id)
    return await history.page_of(session, service.ENTITY, opportunity_id, page, request.app.state.cursors)


@router.post(
    "/bulk/moves",
    operation_id="bulk_move_opportunities",
    summary="Move many opportunities to a stage or outcome",
    response_model=StepResult,
    responses=problem_responses(401, 403, 422, 503),
)
async def bulk_move_opportunities(session: DbSession, actor: Reader, body: BulkMove) -> dict[str, Any]:
    """Each through the same engine as `transitions`; an outcome per id in the order sent. One
    already in the status is `unchanged`, so a replayed call reports no failures for what the
    first one moved."""

    return await moves.move_all(session, actor, service.MOVES, body)


@router.post(
    "/bulk/assignments",
    operation_id="bulk_assign_opportunities",
    summary="Assign many opportunities to a member and/or a business unit",
    response_model=StepResult,
    responses=problem_responses(401, 403, 422, 503),
)
async def bulk_assign_opportunities(session: DbSession, actor: Reader, body: BulkAssign) -> dict[str, Any]:
    """As `PATCH` would for each; `unchanged` when one already had them (a cancelled one too)."""
    wanted = body.changes()

    async def step(opportunity_id: UUID) -> bool:
        return await service.assign(session, actor, opportunity_id, wanted)

    return await each(session, body.ids, step)


# Tagging opportunities: its own router, which app.py includes after the notes, so the OpenAPI document
# keeps the order clients were generated from.
# Tagging a cancelled opportunity is a change of a read-only record: 409.
tags_router = APIRouter(
    prefix="/v1/opportunities", tags=["opportunities"], route_class=CrmRoute, dependencies=[Idempotent]
)
tags.declare(
    tags_router,
    "opportunity",
    "opportunities",
    service.get_writable,
    bulk="bulk_tag_opportunities",
    add="add_opportunity_tag",
    remove="remove_opportunity_tag",
)
