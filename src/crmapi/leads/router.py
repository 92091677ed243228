"""HTTP for leads: the record, its moves through the life cycle, and its history."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Path, Query, Request, Response, status

from crmapi.access.actor import Actor
from crmapi.access.dependencies import CurrentActor, Idempotent, StaffActor, require, staff_or
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import PROBLEM_JSON, problem_responses
from crmapi.kit.pagination import Page, PageParams, paginate, render_page, select_fields, sorted_by
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
from crmapi.lifecycle import engine, work
from crmapi.lifecycle.board import Board, board
from crmapi.notes import on_records as notes_on
from crmapi.notes.schemas import NoteCreate, NoteListQuery, NoteRead
from crmapi.records import history, work_routes
from crmapi.records.bulk import BulkAssign, BulkMove, StepResult, each
from crmapi.records.work_routes import Answers
from crmapi.tags import on_records as tags_on
from crmapi.tags import service as tags
from crmapi.tags.on_records import TagName
from crmapi.tags.schemas import BulkTags, RecordTags, TagAssign

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


@router.post(
    "/{lead_id}/start",
    operation_id="start_lead",
    summary="Start progress on a lead",
    response_model=LeadRead,
    responses=MOVE,
)
async def start_lead(
    session: DbSession,
    actor: Reader,
    lead_id: LeadPath,
    response: Response,
    body: Annotated[StartMove | None, Body()] = None,
    if_match: IfMatch = None,
) -> LeadRead:
    """Pending -> in progress (the type's default in-progress status unless `status_id` names
    another). The lead must be assigned to a member first (409 `not-assigned`). The type's rules
    apply (403 `transition-rule` naming them)."""
    move = body or StartMove()
    lead = await service.move(
        session,
        actor,
        lead_id,
        state="in_progress",
        status_id=move.status_id,
        expected=expected_version(if_match),
    )
    return _one(lead, response)


@router.post(
    "/{lead_id}/win",
    operation_id="win_lead",
    summary="Mark a lead won",
    response_model=LeadRead,
    responses=MOVE,
)
async def win_lead(
    session: DbSession,
    actor: Reader,
    lead_id: LeadPath,
    response: Response,
    body: Annotated[WinMove | None, Body()] = None,
    if_match: IfMatch = None,
) -> LeadRead:
    """In progress -> won."""
    move = body or WinMove()
    lead = await service.move(
        session, actor, lead_id, state="won", status_id=move.status_id, expected=expected_version(if_match)
    )
    return _one(lead, response)


@router.post(
    "/{lead_id}/lose",
    operation_id="lose_lead",
    summary="Mark a lead lost",
    response_model=LeadRead,
    responses=MOVE,
)
async def lose_lead(
    session: DbSession,
    actor: Reader,
    lead_id: LeadPath,
    response: Response,
    body: Annotated[LoseMove | None, Body()] = None,
    if_match: IfMatch = None,
) -> LeadRead:
    """In progress -> lost; `lost_reason_id` is required (422 `reason-required`)."""
    move = body or LoseMove()
    lead = await service.move(
        session,
        actor,
        lead_id,
        state="lost",
        status_id=move.status_id,
        lost_reason_id=move.lost_reason_id,
        expected=expected_version(if_match),
    )
    return _one(lead, response)


@router.post(
    "/{lead_id}/cancel",
    operation_id="cancel_lead",
    summary="Cancel a pending lead",
    response_model=LeadRead,
    responses=MOVE,
)
async def cancel_lead(
    session: DbSession,
    actor: Reader,
    lead_id: LeadPath,
    response: Response,
    body: Annotated[CancelMove | None, Body()] = None,
    if_match: IfMatch = None,
) -> LeadRead:
    """Pending -> cancelled (409 `no-such-transition` from any other state); a cancelled lead is
    read-only."""
    move = body or CancelMove()
    lead = await service.move(
        session,
        actor,
        lead_id,
        state="cancelled",
        status_id=move.status_id,
        cancellation_reason_id=move.cancellation_reason_id,
        expected=expected_version(if_match),
    )
    return _one(lead, response)


@router.post(
    "/{lead_id}/transitions",
    operation_id="transition_lead",
    summary="Move a lead to any status its type allows",
    response_model=LeadRead,
    responses=MOVE,
)
async def transition_lead(
    session: DbSession,
    actor: Reader,
    lead_id: LeadPath,
    body: Transition,
    response: Response,
    if_match: IfMatch = None,
) -> LeadRead:
    """The general move, also between statuses of one state (e.g. two in-progress steps). The
    life cycle and the type's rules decide: 409 for a move they lack, 403 `transition-rule`
    naming the rules that exclude the caller, 422 for a status the type does not allow or a lost
    status without `lost_reason_id`."""
    lead = await service.move(
        session,
        actor,
        lead_id,
        state=None,
        status_id=body.status_id,
        lost_reason_id=body.lost_reason_id,
        cancellation_reason_id=body.cancellation_reason_id,
        expected=expected_version(if_match),
    )
    return _one(lead, response)


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

    async def step(lead_id: UUID) -> bool:
        return await service.settle(
            session, actor, lead_id, status_id=body.status_id, lost_reason_id=body.lost_reason_id
        )

    return await each(session, body.ids, step)


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


@router.delete("/{lead_id}", operation_id="delete_lead", **work_routes.delete(service.WORK))
async def delete_lead(
    session: DbSession, actor: Reader, lead_id: LeadPath, if_match: IfMatch = None
) -> Response:
    await work.remove(session, actor, service.WORK, lead_id, expected_version(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{lead_id}/restore", operation_id="restore_lead", **work_routes.restore(service.WORK, ANSWERS))
async def restore_lead(
    session: DbSession, response: Response, actor: Reader, lead_id: LeadPath, if_match: IfMatch = None
) -> Any:
    return _one(
        await work.restore(session, actor, service.WORK, lead_id, expected_version(if_match)), response
    )


@router.post("/{lead_id}/accept", operation_id="accept_lead", **work_routes.accept(service.WORK, ANSWERS))
async def accept_lead(
    session: DbSession, response: Response, actor: Reader, lead_id: LeadPath, if_match: IfMatch = None
) -> Any:
    return _one(await work.take(session, actor, service.WORK, lead_id, expected_version(if_match)), response)


@router.post(
    "/{lead_id}/reminder/close",
    operation_id="close_lead_reminder",
    **work_routes.close_reminder(service.WORK, ANSWERS),
)
async def close_lead_reminder(
    session: DbSession, response: Response, actor: Reader, lead_id: LeadPath, if_match: IfMatch = None
) -> Any:
    closed = await work.close_reminder_of(session, actor, service.WORK, lead_id, expected_version(if_match))
    return _one(closed, response)


@router.get("/{lead_id}/history", operation_id="list_lead_history", **work_routes.history_of(service.WORK))
@sorted_by(history.HISTORY_SORTING)
async def list_lead_history(
    request: Request,
    session: DbSession,
    page: Annotated[PageParams, Query()],
    actor: Reader,
    lead_id: LeadPath,
) -> dict[str, Any]:
    await work.fetch(session, actor, service.WORK, lead_id)
    return await history.page_of(session, service.WORK.entity, lead_id, page, request.app.state.cursors)


# A lead's notes: their own router, which app.py includes after the leads, so the OpenAPI
# document keeps the order clients were generated from.
notes_router = APIRouter(prefix="/v1/leads", tags=["notes"], route_class=CrmRoute, dependencies=[Idempotent])


@notes_router.get(
    "/{lead_id}/notes", operation_id="list_lead_notes", summary="List a lead's shared notes", **notes_on.LIST
)
@sorted_by(notes_on.SORTING)
async def list_lead_notes(
    request: Request,
    session: DbSession,
    actor: StaffActor,
    lead_id: UUID,
    query: Annotated[NoteListQuery, Query()],
) -> dict[str, Any]:
    """The notes of a lead the caller can see, newest first, each with its author and time."""
    lead = await service.get(session, actor, lead_id)
    return await notes_on.page(request, session, actor, "lead", lead, query)


@notes_router.post(
    "/{lead_id}/notes",
    operation_id="create_lead_note",
    summary="Add a shared note to a lead",
    **notes_on.CREATE,
)
async def create_lead_note(
    session: DbSession, actor: StaffActor, lead_id: UUID, body: NoteCreate, response: Response
) -> NoteRead:
    """Staff who can see the lead may add a note; they become its author."""
    lead = await service.get(session, actor, lead_id)
    return await notes_on.add(session, actor, "lead", lead, body, response)


# Tagging leads: its own router, which app.py includes after the notes, so the OpenAPI document
# keeps the order clients were generated from.
tags_router = APIRouter(prefix="/v1/leads", tags=["leads"], route_class=CrmRoute, dependencies=[Idempotent])
Tagged = Annotated[UUID, Path(description="lead id")]


# Declared before /{lead_id}/tags so that "bulk" is never read as an id.
@tags_router.post(
    "/bulk/tags",
    operation_id="bulk_tag_leads",
    summary="Add and remove tags on many leads",
    **tags_on.BULK,
)
async def bulk_tag_leads(
    session: DbSession, actor: Annotated[Actor, staff_or("leads.manage")], body: BulkTags
) -> dict[str, Any]:
    return {"results": await tags.bulk(session, actor, "lead", body)}


@tags_router.post(
    "/{lead_id}/tags", operation_id="add_lead_tag", summary="Add a tag to a lead", **tags_on.ADD
)
async def add_lead_tag(
    session: DbSession,
    actor: CurrentActor,
    lead_id: Tagged,
    body: TagAssign,
    response: Response,
    if_match: IfMatch = None,
) -> RecordTags:
    # Tagging a cancelled lead is a change of a read-only record: 409.
    lead = await service.get_writable(session, actor, lead_id)
    tagged = await tags.add_to_record(session, actor, "lead", lead, body.name, expected_version(if_match))
    return tags_on.answer(tagged, response)


@tags_router.delete(
    # `:path`, so a name holding a slash ("B2B/B2C"), sent as %2F, still reaches this route.
    "/{lead_id}/tags/{name:path}",
    operation_id="remove_lead_tag",
    summary="Remove a tag from a lead",
    **tags_on.REMOVE,
)
async def remove_lead_tag(
    session: DbSession,
    actor: CurrentActor,
    lead_id: Tagged,
    name: TagName,
    response: Response,
    if_match: IfMatch = None,
) -> RecordTags:
    lead = await service.get_writable(session, actor, lead_id)
    tagged = await tags.remove_from_record(session, actor, "lead", lead, name, expected_version(if_match))
    return tags_on.answer(tagged, response)
