"""HTTP for leads: the record, its moves through the life cycle, and its history."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response, status

from crmapi.access.actor import Actor
from crmapi.access.dependencies import Idempotent, require, staff_or
from crmapi.activities import router as activity_routes
from crmapi.activities import service as activities
from crmapi.activities.schemas import ActivityRead, ActivitySchedule
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import PROBLEM_JSON, problem_responses
from crmapi.kit.pagination import Page, paginate, render_page, select_fields, sorted_by
from crmapi.kit.routes import CrmRoute
from crmapi.leads import queries, service
from crmapi.leads.models import Lead
from crmapi.leads.schemas import (
    CancelMove,
    Conversion,
    ConversionProblem,
    LeadBoardQuery,
    LeadCard,
    LeadCreate,
    LeadListQuery,
    LeadRead,
    LeadUpdate,
    LoseMove,
    StartMove,
    Transition,
    WinMove,
)
from crmapi.lifecycle import engine, moves
from crmapi.lifecycle.board import Board, board
from crmapi.notes import router as notes
from crmapi.records import work_routes
from crmapi.records.bulk import BulkAssign, BulkMove, StepResult, each
from crmapi.records.targets import Target
from crmapi.records.work_routes import Answers, Move
from crmapi.tags import router as tags

router = APIRouter(prefix="/v1/leads", tags=["leads"], route_class=CrmRoute, dependencies=[Idempotent])

# Leads are internal: staff, or an integration holding the view capability; customers never.
Reader = Annotated[Actor, staff_or("leads.view_any")]
Creator = Annotated[Actor, require("leads.create")]
LeadPath = Annotated[UUID, Path(description="lead id")]
ONE = problem_responses(401, 403, 404, 422, 503)
MOVE = problem_responses(401, 403, 404, 409, 412, 422, 503)
ANSWERS = Answers(LeadRead, Lead)
_rows, _one = ANSWERS.rows, ANSWERS.one


@router.get(
    "",
    operation_id="list_leads",
    summary="List leads",
    response_model=Page[LeadRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 422, 503),
)
@sorted_by(queries.SORTING)
async def list_leads(
    request: Request, session: DbSession, actor: Reader, query: Annotated[LeadListQuery, Query()]
) -> dict[str, Any]:
    """Leads in the caller's scope: with `leads.view_any` all of them, else those it owns, is
    assigned, or that are assigned to its business units."""
    select_fields(LeadRead, query.fields)
    rows, cursor, count = await paginate(
        session,
        queries.filtered(actor, query, deleted=query.deleted == "only"),
        sorting=queries.SORTING,
        params=query,
        cursors=request.app.state.cursors,
    )
    return render_page(LeadRead, _rows(rows), cursor, count, query.fields)


@router.get(
    "/board",
    operation_id="get_lead_board",
    summary="Leads in columns by status",
    response_model=Board[LeadCard],
    responses=problem_responses(401, 403, 422, 503),
)
async def get_lead_board(
    request: Request, session: DbSession, actor: Reader, query: Annotated[LeadBoardQuery, Query()]
) -> Response:
    """One column per active lead status in `position` order (with `type_id`, that type's
    statuses), each with its first 100 leads in the order they came, in the caller's scope and
    the list's filters. A column's `next_cursor` continues it in the list:
    `GET /v1/leads?status_id=<column>&cursor=<next_cursor>` with the same filters."""
    status_ids = None
    if query.type_id is not None:
        status_ids = (await engine.load_type(session, "lead", query.type_id, "query.type_id")).type.status_ids
    text = await board(
        session,
        actor,
        kind="lead",
        filters=query,
        matching=lambda: queries.filtered(actor, query),
        model=Lead,
        card=queries.CARD,
        cursors=request.app.state.cursors,
        status_ids=status_ids,
    )
    return Response(content=text, media_type="application/json")


@router.post(
    "",
    operation_id="create_lead",
    summary="Create a lead",
    status_code=status.HTTP_201_CREATED,
    response_model=LeadRead,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def create_lead(session: DbSession, actor: Creator, body: LeadCreate, response: Response) -> LeadRead:
    """In its type's default pending status, with the type's default category, priority and
    importance, and an expected completion from the type's "to be completed within". Without
    `type_id`, the organisation's default lead type. A type limited to creating units refuses
    others with 403 `type-not-allowed`."""
    lead = await service.create(session, actor, body)
    response.headers["Location"] = f"/v1/leads/{lead.id}"
    return _one(lead, response)


@router.get(
    "/{lead_id}",
    operation_id="get_lead",
    summary="Get a lead",
    response_model=LeadRead,
    response_model_exclude_unset=True,
    responses=ONE,
)
async def get_lead(
    session: DbSession,
    actor: Reader,
    lead_id: LeadPath,
    response: Response,
    fields: Annotated[str | None, Query(max_length=2048, description="Comma-separated fields.")] = None,
) -> LeadRead:
    chosen = select_fields(LeadRead, fields)
    return _one(await service.get(session, actor, lead_id), response, chosen)


@router.patch(
    "/{lead_id}",
    operation_id="update_lead",
    summary="Change a lead",
    response_model=LeadRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
)
async def update_lead(
    session: DbSession,
    actor: Reader,
    lead_id: LeadPath,
    body: LeadUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> LeadRead:
    """Merge semantics. A cancelled lead is read-only (409 `read-only`); the type never changes
    (409 `type-fixed`); contact and account only while empty (409). The owner, the assignee, a
    member of the lead's unit or `leads.manage` may change it."""
    lead = await service.update(session, actor, lead_id, body, expected_version(if_match))
    return _one(lead, response)


async def _move(t: Target, response: Response, move: dict[str, Any]) -> LeadRead:
    """A lead moved as its route asks, with its new ETag."""
    return _one(await service.move(t.session, t.actor, t.id, **move), response)


work_routes.declare_moves(
    router,
    (
        Move(
            "start",
            "start_lead",
            "Start progress on a lead",
            StartMove,
            "in_progress",
            """Pending -> in progress (the type's default in-progress status unless `status_id` names
            another). The lead must be assigned to a member first (409 `not-assigned`). The type's rules
            apply (403 `transition-rule` naming them).""",
        ),
        Move(
            "win",
            "win_lead",
            "Mark a lead won",
            WinMove,
            "won",
            "In progress -> won.",
        ),
        Move(
            "lose",
            "lose_lead",
            "Mark a lead lost",
            LoseMove,
            "lost",
            "In progress -> lost; `lost_reason_id` is required (422 `reason-required`).",
        ),
        Move(
            "cancel",
            "cancel_lead",
            "Cancel a pending lead",
            CancelMove,
            "cancelled",
            """Pending -> cancelled (409 `no-such-transition` from any other state); a cancelled lead is
            read-only.""",
        ),
        Move(
            "transitions",
            "transition_lead",
            "Move a lead to any status its type allows",
            Transition,
            None,
            """The general move, also between statuses of one state (e.g. two in-progress steps). The
            life cycle and the type's rules decide: 409 for a move they lack, 403 `transition-rule`
            naming the rules that exclude the caller, 422 for a status the type does not allow or a lost
            status without `lost_reason_id`.""",
        ),
    ),
    param="lead_id",
    noun="lead",
    reader=Reader,
    move=_move,
    read_model=LeadRead,
)


@router.post(
    "/{lead_id}/convert",
    operation_id="convert_lead",
    summary="Convert a lead to an opportunity",
    response_model=Conversion,
    responses=MOVE
    | {409: {"model": ConversionProblem, "description": "Conflict", "content": {PROBLEM_JSON: {}}}},
)
async def convert_lead(
    session: DbSession, actor: Reader, lead_id: LeadPath, response: Response, if_match: IfMatch = None
) -> dict[str, Any]:
    """Makes the lead's contact (when it names none) from its names, company, email and phone, a
    customer account for it (classification and credit rating from the lead's type), and an
    opportunity assigned to the lead's assignee; the lead keeps its status. Once per lead: a lead
    converted before, by this call or by winning, answers 409 `already-converted` with what it
    became in `conversion`. Not for a lost or cancelled lead (409). Winning a lead whose type has
    `auto_convert` does the same and also makes the contact financial. The `ETag` is the
    lead's."""
    lead, made = await service.convert(session, actor, lead_id, expected_version(if_match))
    response.headers["ETag"] = etag(lead.version)
    return made


@router.post(
    "/bulk/moves",
    operation_id="bulk_move_leads",
    summary="Move many leads to a status",
    response_model=StepResult,
    responses=problem_responses(401, 403, 422, 503),
)
async def bulk_move_leads(session: DbSession, actor: Reader, body: BulkMove) -> dict[str, Any]:
    """Each lead goes through the same engine as `transitions`: an outcome per id in the order
    sent, `error` with the refusal's slug and detail (a rule's 403 names the rule), the others
    moved, each with its history row. A lead already in the status is `unchanged`, so a
    replayed call reports no failures for what the first one moved."""

    return await moves.move_all(session, actor, service.MOVES, body)


@router.post(
    "/bulk/assignments",
    operation_id="bulk_assign_leads",
    summary="Assign many leads to a member and/or a business unit",
    response_model=StepResult,
    responses=problem_responses(401, 403, 422, 503),
)
async def bulk_assign_leads(session: DbSession, actor: Reader, body: BulkAssign) -> dict[str, Any]:
    """As `PATCH` would for each lead (the owner's or `leads.manage`'s call); `unchanged` when a
    lead already had them (a cancelled one too)."""
    wanted = body.changes()

    async def step(lead_id: UUID) -> bool:
        return await service.assign(session, actor, lead_id, wanted)

    return await each(session, body.ids, step)


work_routes.declare_common(
    router,
    service.WORK,
    ANSWERS,
    param="lead_id",
    reader=Reader,
    delete="delete_lead",
    restore="restore_lead",
    accept="accept_lead",
    history_of="list_lead_history",
    close_reminder="close_lead_reminder",
)


# A lead's notes: their own router, which app.py includes after the leads, so the OpenAPI
# document keeps the order clients were generated from.
notes_router = APIRouter(prefix="/v1/leads", tags=["notes"], route_class=CrmRoute, dependencies=[Idempotent])


notes.declare(
    notes_router,
    "lead",
    service.get,
    listing=notes.Route(
        "list_lead_notes",
        "List a lead's shared notes",
        "The notes of a lead the caller can see, newest first, each with its author and time.",
    ),
    adding=notes.Route(
        "create_lead_note",
        "Add a shared note to a lead",
        """Staff who can see the lead may add a note; they become its author.""",
    ),
)


# Tagging leads: its own router, which app.py includes after the notes, so the OpenAPI document
# keeps the order clients were generated from.
# Tagging a cancelled lead is a change of a read-only record: 409.
tags_router = APIRouter(prefix="/v1/leads", tags=["leads"], route_class=CrmRoute, dependencies=[Idempotent])
tags.declare(
    tags_router,
    "lead",
    "leads",
    service.get_writable,
    bulk="bulk_tag_leads",
    add="add_lead_tag",
    remove="remove_lead_tag",
)


# Scheduling activities for leads: their own router, tagged activities, which app.py includes
# after the activities, so the OpenAPI document keeps its order.
scheduling = APIRouter(
    prefix="/v1/leads", tags=["activities"], route_class=CrmRoute, dependencies=[Idempotent]
)


@scheduling.post(
    "/{lead_id}/activities",
    operation_id="schedule_lead_activity",
    summary="Schedule an activity for a lead",
    status_code=status.HTTP_201_CREATED,
    response_model=ActivityRead,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def schedule_lead_activity(
    session: DbSession,
    actor: Annotated[Actor, require("activities.create")],
    lead_id: Annotated[UUID, Path(description="lead id")],
    body: ActivitySchedule,
    response: Response,
) -> ActivityRead:
    """By who works on the lead; an activity type the lead's type allows (422), carrying the
    lead's contact and account. 409 on a cancelled lead."""
    a = await activities.schedule(session, actor, body, "lead_id", lead_id)
    response.headers["Location"] = f"/v1/activities/{a.id}"
    return activity_routes.ANSWERS.one(a, response)
