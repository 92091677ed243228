"""HTTP for activities: the record, its moves, its reminder and its history."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Path, Query, Request, Response, status

from crmapi.access.actor import Actor
from crmapi.access.dependencies import CurrentActor, Idempotent, require
from crmapi.activities import queries, service
from crmapi.activities.models import Activity
from crmapi.activities.schemas import (
    ActivityCancel,
    ActivityCreate,
    ActivityListQuery,
    ActivityMove,
    ActivityRead,
    ActivitySchedule,
    ActivityTransition,
    ActivityUpdate,
)
from crmapi.kit.concurrency import IfMatch, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, PageParams, paginate, render_page, select_fields, sorted_by
from crmapi.kit.routes import CrmRoute
from crmapi.lifecycle import work
from crmapi.records import history, work_routes
from crmapi.records.work_routes import Answers

router = APIRouter(
    prefix="/v1/activities", tags=["activities"], route_class=CrmRoute, dependencies=[Idempotent]
)

Creator = Annotated[Actor, require("activities.create")]
ActivityPath = Annotated[UUID, Path(description="activity id")]
ONE = problem_responses(401, 403, 404, 422, 503)
MOVE = problem_responses(401, 403, 404, 409, 412, 422, 503)
ANSWERS = Answers(ActivityRead, Activity)
_rows, _one = ANSWERS.rows, ANSWERS.one


@router.get(
    "",
    operation_id="list_activities",
    summary="List activities",
    response_model=Page[ActivityRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 422, 503),
)
@sorted_by(queries.SORTING)
async def list_activities(
    request: Request, session: DbSession, actor: CurrentActor, query: Annotated[ActivityListQuery, Query()]
) -> dict[str, Any]:
    """The caller's own work (owned, assigned, its units') and the activities of the contacts,
    accounts, leads and opportunities it can see; a customer, those of its accounts."""
    select_fields(ActivityRead, query.fields)
    found, cursor, count = await paginate(
        session,
        queries.filtered(actor, query),
        sorting=queries.SORTING,
        params=query,
        cursors=request.app.state.cursors,
    )
    return render_page(ActivityRead, _rows(found), cursor, count, query.fields)


@router.post(
    "",
    operation_id="create_activity",
    summary="Create (or log) an activity",
    status_code=status.HTTP_201_CREATED,
    response_model=ActivityRead,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def create_activity(
    session: DbSession, actor: Creator, body: ActivityCreate, response: Response
) -> ActivityRead:
    """In its type's default pending status, for a contact, account, lead or opportunity the
    caller can see (each optional); an activity on an opportunity marks its last activity time."""
    a = await service.create(session, actor, body)
    response.headers["Location"] = f"/v1/activities/{a.id}"
    return _one(a, response)


@router.get(
    "/{activity_id}",
    operation_id="get_activity",
    summary="Get an activity",
    response_model=ActivityRead,
    response_model_exclude_unset=True,
    responses=ONE,
)
async def get_activity(
    session: DbSession,
    actor: CurrentActor,
    activity_id: ActivityPath,
    response: Response,
    fields: Annotated[str | None, Query(max_length=2048, description="Comma-separated fields.")] = None,
) -> ActivityRead:
    chosen = select_fields(ActivityRead, fields)
    return _one(await service.get(session, actor, activity_id), response, chosen)


@router.patch(
    "/{activity_id}",
    operation_id="update_activity",
    summary="Change an activity",
    response_model=ActivityRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
)
async def update_activity(
    session: DbSession,
    actor: CurrentActor,
    activity_id: ActivityPath,
    body: ActivityUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> ActivityRead:
    """Merge semantics. Completed and cancelled activities are read-only (409); a new
    `reminder_at` opens the reminder again."""
    return _one(await service.update(session, actor, activity_id, body, expected_version(if_match)), response)


@router.post(
    "/{activity_id}/start",
    operation_id="start_activity",
    summary="Start an activity",
    response_model=ActivityRead,
    responses=MOVE,
)
async def start_activity(
    session: DbSession,
    actor: CurrentActor,
    activity_id: ActivityPath,
    response: Response,
    body: Annotated[ActivityMove | None, Body()] = None,
    if_match: IfMatch = None,
) -> ActivityRead:
    """Pending -> in progress; it must be assigned first (409 `not-assigned`)."""
    move = body or ActivityMove()
    a = await service.move(
        session,
        actor,
        activity_id,
        state="in_progress",
        status_id=move.status_id,
        expected=expected_version(if_match),
    )
    return _one(a, response)


@router.post(
    "/{activity_id}/complete",
    operation_id="complete_activity",
    summary="Complete an activity",
    response_model=ActivityRead,
    responses=MOVE,
)
async def complete_activity(
    session: DbSession,
    actor: CurrentActor,
    activity_id: ActivityPath,
    response: Response,
    body: Annotated[ActivityMove | None, Body()] = None,
    if_match: IfMatch = None,
) -> ActivityRead:
    """In progress -> completed (read-only from then on); its opportunity's last activity moves on."""
    move = body or ActivityMove()
    a = await service.move(
        session,
        actor,
        activity_id,
        state="completed",
        status_id=move.status_id,
        expected=expected_version(if_match),
    )
    return _one(a, response)


@router.post(
    "/{activity_id}/cancel",
    operation_id="cancel_activity",
    summary="Cancel a pending activity",
    response_model=ActivityRead,
    responses=MOVE,
)
async def cancel_activity(
    session: DbSession,
    actor: CurrentActor,
    activity_id: ActivityPath,
    response: Response,
    body: Annotated[ActivityCancel | None, Body()] = None,
    if_match: IfMatch = None,
) -> ActivityRead:
    """Pending -> cancelled (409 from any other state)."""
    move = body or ActivityCancel()
    a = await service.move(
        session,
        actor,
        activity_id,
        state="cancelled",
        status_id=move.status_id,
        cancellation_reason_id=move.cancellation_reason_id,
        expected=expected_version(if_match),
    )
    return _one(a, response)


@router.post(
    "/{activity_id}/transitions",
    operation_id="transition_activity",
    summary="Move an activity to any status its type allows",
    response_model=ActivityRead,
    responses=MOVE,
)
async def transition_activity(
    session: DbSession,
    actor: CurrentActor,
    activity_id: ActivityPath,
    body: ActivityTransition,
    response: Response,
    if_match: IfMatch = None,
) -> ActivityRead:
    a = await service.move(
        session,
        actor,
        activity_id,
        state=None,
        status_id=body.status_id,
        cancellation_reason_id=body.cancellation_reason_id,
        expected=expected_version(if_match),
    )
    return _one(a, response)


@router.delete("/{activity_id}", operation_id="delete_activity", **work_routes.delete(service.WORK))
async def delete_activity(
    session: DbSession, actor: CurrentActor, activity_id: ActivityPath, if_match: IfMatch = None
) -> Response:
    await work.remove(session, actor, service.WORK, activity_id, expected_version(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{activity_id}/restore", operation_id="restore_activity", **work_routes.restore(service.WORK, ANSWERS)
)
async def restore_activity(
    session: DbSession,
    response: Response,
    actor: CurrentActor,
    activity_id: ActivityPath,
    if_match: IfMatch = None,
) -> Any:
    return _one(
        await work.restore(session, actor, service.WORK, activity_id, expected_version(if_match)), response
    )


@router.post(
    "/{activity_id}/accept", operation_id="accept_activity", **work_routes.accept(service.WORK, ANSWERS)
)
async def accept_activity(
    session: DbSession,
    response: Response,
    actor: CurrentActor,
    activity_id: ActivityPath,
    if_match: IfMatch = None,
) -> Any:
    return _one(
        await work.take(session, actor, service.WORK, activity_id, expected_version(if_match)), response
    )


@router.post(
    "/{activity_id}/reminder/close",
    operation_id="close_activity_reminder",
    **work_routes.close_reminder(service.WORK, ANSWERS),
)
async def close_activity_reminder(
    session: DbSession,
    response: Response,
    actor: CurrentActor,
    activity_id: ActivityPath,
    if_match: IfMatch = None,
) -> Any:
    closed = await work.close_reminder_of(
        session, actor, service.WORK, activity_id, expected_version(if_match)
    )
    return _one(closed, response)


@router.get(
    "/{activity_id}/history", operation_id="list_activity_history", **work_routes.history_of(service.WORK)
)
@sorted_by(history.HISTORY_SORTING)
async def list_activity_history(
    request: Request,
    session: DbSession,
    page: Annotated[PageParams, Query()],
    actor: CurrentActor,
    activity_id: ActivityPath,
) -> dict[str, Any]:
    await work.fetch(session, actor, service.WORK, activity_id)
    return await history.page_of(session, service.WORK.entity, activity_id, page, request.app.state.cursors)


# Scheduling from the records activities are planned for -----------------------------------------

scheduling = APIRouter(tags=["activities"], route_class=CrmRoute, dependencies=[Idempotent])
SCHEDULE = problem_responses(401, 403, 404, 409, 422, 503)


@scheduling.post(
    "/v1/leads/{lead_id}/activities",
    operation_id="schedule_lead_activity",
    summary="Schedule an activity for a lead",
    status_code=status.HTTP_201_CREATED,
    response_model=ActivityRead,
    responses=SCHEDULE,
)
async def schedule_lead_activity(
    session: DbSession,
    actor: Creator,
    lead_id: Annotated[UUID, Path(description="lead id")],
    body: ActivitySchedule,
    response: Response,
) -> ActivityRead:
    """By who works on the lead; an activity type the lead's type allows (422), carrying the
    lead's contact and account. 409 on a cancelled lead."""
    a = await service.schedule(session, actor, body, "lead_id", lead_id)
    response.headers["Location"] = f"/v1/activities/{a.id}"
    return _one(a, response)


@scheduling.post(
    "/v1/service-requests/{service_request_id}/activities",
    operation_id="schedule_service_request_activity",
    summary="Schedule an activity for a service request",
    status_code=status.HTTP_201_CREATED,
    response_model=ActivityRead,
    responses=SCHEDULE,
)
async def schedule_service_request_activity(
    session: DbSession,
    actor: Creator,
    service_request_id: Annotated[UUID, Path(description="service request id")],
    body: ActivitySchedule,
    response: Response,
) -> ActivityRead:
    """By who works on the request; an activity type the request's type allows (422), carrying
    its contact and account. The request cannot complete while the activity is open. 409 on a
    completed or cancelled request."""
    a = await service.schedule(session, actor, body, "service_request_id", service_request_id)
    response.headers["Location"] = f"/v1/activities/{a.id}"
    return _one(a, response)
