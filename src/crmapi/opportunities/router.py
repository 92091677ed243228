"""HTTP for opportunities: the record, its stages and decisions, and its history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Path, Query, Request, Response, status

from crmapi.access.actor import Actor
from crmapi.access.dependencies import CurrentActor, Idempotent, require, staff_or
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, PageParams, paginate, render, render_page, select_fields, sorted_by
from crmapi.kit.routes import CrmRoute
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
from crmapi.records import history
from crmapi.records.bulk import BulkAssign, BulkMove, StepResult, each
from crmapi.tags import on_records as tags_on
from crmapi.tags import service as tags
from crmapi.tags.on_records import TagName
from crmapi.tags.schemas import BulkTags, RecordTags, TagAssign

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


@router.post(
    "/{opportunity_id}/win",
    operation_id="win_opportunity",
    summary="Mark an opportunity won",
    response_model=OpportunityRead,
    responses=MOVE,
)
async def win_opportunity(
    session: DbSession,
    actor: Reader,
    opportunity_id: OpportunityPath,
    response: Response,
    body: Annotated[WinOpportunity | None, Body()] = None,
    if_match: IfMatch = None,
) -> OpportunityRead:
    """Open -> won (the type's default won status unless `status_id` names another)."""
    move = body or WinOpportunity()
    o = await service.move(
        session,
        actor,
        opportunity_id,
        state="won",
        status_id=move.status_id,
        won_reason=move.won_reason,
        expected=expected_version(if_match),
    )
    return _one(o, response)


@router.post(
    "/{opportunity_id}/lose",
    operation_id="lose_opportunity",
    summary="Mark an opportunity lost",
    response_model=OpportunityRead,
    responses=MOVE,
)
async def lose_opportunity(
    session: DbSession,
    actor: Reader,
    opportunity_id: OpportunityPath,
    response: Response,
    body: Annotated[LoseOpportunity | None, Body()] = None,
    if_match: IfMatch = None,
) -> OpportunityRead:
    """Open -> lost; `lost_reason_id` is required (422 `reason-required`)."""
    move = body or LoseOpportunity()
    o = await service.move(
        session,
        actor,
        opportunity_id,
        state="lost",
        status_id=move.status_id,
        lost_reason_id=move.lost_reason_id,
        expected=expected_version(if_match),
    )
    return _one(o, response)


@router.post(
    "/{opportunity_id}/cancel",
    operation_id="cancel_opportunity",
    summary="Cancel an open opportunity",
    response_model=OpportunityRead,
    responses=MOVE,
)
async def cancel_opportunity(
    session: DbSession,
    actor: Reader,
    opportunity_id: OpportunityPath,
    response: Response,
    body: Annotated[CancelOpportunity | None, Body()] = None,
    if_match: IfMatch = None,
) -> OpportunityRead:
    """Open -> cancelled; a cancelled opportunity is read-only."""
    move = body or CancelOpportunity()
    o = await service.move(
        session,
        actor,
        opportunity_id,
        state="cancelled",
        status_id=move.status_id,
        expected=expected_version(if_match),
    )
    return _one(o, response)


@router.post(
    "/{opportunity_id}/transitions",
    operation_id="transition_opportunity",
    summary="Move an opportunity to any stage or outcome its type allows",
    response_model=OpportunityRead,
    responses=MOVE,
)
async def transition_opportunity(
    session: DbSession,
    actor: Reader,
    opportunity_id: OpportunityPath,
    body: OpportunityTransition,
    response: Response,
    if_match: IfMatch = None,
) -> OpportunityRead:
    """Between open stages, or to won, lost or cancelled; the type's rules decide (403
    `transition-rule` naming them), a lost status needs `lost_reason_id`."""
    o = await service.move(
        session,
        actor,
        opportunity_id,
        state=None,
        status_id=body.status_id,
        lost_reason_id=body.lost_reason_id,
        won_reason=body.won_reason,
        expected=expected_version(if_match),
    )
    return _one(o, response)


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

    async def step(opportunity_id: UUID) -> bool:
        return await service.settle(
            session, actor, opportunity_id, status_id=body.status_id, lost_reason_id=body.lost_reason_id
        )

    return await each(session, body.ids, step)


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
tags_router = APIRouter(
    prefix="/v1/opportunities", tags=["opportunities"], route_class=CrmRoute, dependencies=[Idempotent]
)
Tagged = Annotated[UUID, Path(description="opportunity id")]


# Declared before /{opportunity_id}/tags so that "bulk" is never read as an id.
@tags_router.post(
    "/bulk/tags",
    operation_id="bulk_tag_opportunities",
    summary="Add and remove tags on many opportunities",
    **tags_on.BULK,
)
async def bulk_tag_opportunities(
    session: DbSession, actor: Annotated[Actor, staff_or("opportunities.manage")], body: BulkTags
) -> dict[str, Any]:
    return {"results": await tags.bulk(session, actor, "opportunity", body)}


@tags_router.post(
    "/{opportunity_id}/tags",
    operation_id="add_opportunity_tag",
    summary="Add a tag to an opportunity",
    **tags_on.ADD,
)
async def add_opportunity_tag(
    session: DbSession,
    actor: CurrentActor,
    opportunity_id: Tagged,
    body: TagAssign,
    response: Response,
    if_match: IfMatch = None,
) -> RecordTags:
    # Tagging a cancelled opportunity is a change of a read-only record: 409.
    opportunity = await service.get_writable(session, actor, opportunity_id)
    tagged = await tags.add_to_record(
        session, actor, "opportunity", opportunity, body.name, expected_version(if_match)
    )
    return tags_on.answer(tagged, response)


@tags_router.delete(
    # `:path`, so a name holding a slash ("B2B/B2C"), sent as %2F, still reaches this route.
    "/{opportunity_id}/tags/{name:path}",
    operation_id="remove_opportunity_tag",
    summary="Remove a tag from an opportunity",
    **tags_on.REMOVE,
)
async def remove_opportunity_tag(
    session: DbSession,
    actor: CurrentActor,
    opportunity_id: Tagged,
    name: TagName,
    response: Response,
    if_match: IfMatch = None,
) -> RecordTags:
    opportunity = await service.get_writable(session, actor, opportunity_id)
    tagged = await tags.remove_from_record(
        session, actor, "opportunity", opportunity, name, expected_version(if_match)
    )
    return tags_on.answer(tagged, response)
