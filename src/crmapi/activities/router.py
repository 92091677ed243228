"""HTTP for activities: the record, its moves, its reminder and its history."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response, status

from crmapi.access.actor import Actor
from crmapi.access.dependencies import CurrentActor, Idempotent, require
from crmapi.activities import queries, service, services
from crmapi.activities.models import Activity, ActivityService
from crmapi.activities.schemas import (
    ActivityCancel,
    ActivityCreate,
    ActivityListQuery,
    ActivityMove,
    ActivityRead,
    ActivityServiceCreate,
    ActivityServiceRead,
    ActivityServiceUpdate,
    ActivityTransition,
    ActivityUpdate,
)
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, paginate, render_page, select_fields, sorted_by
from crmapi.kit.routes import CrmRoute
from crmapi.records import work_routes
from crmapi.records.targets import Target
from crmapi.records.work_routes import Answers, Move

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


async def _move(t: Target, response: Response, move: dict[str, Any]) -> ActivityRead:
    """An activity moved as its route asks, with its new ETag."""
    return _one(await service.move(t.session, t.actor, t.id, **move), response)


work_routes.declare_moves(
    router,
    (
        Move(
            "start",
            "start_activity",
            "Start an activity",
            ActivityMove,
            "in_progress",
            "Pending -> in progress; it must be assigned first (409 `not-assigned`).",
        ),
        Move(
            "complete",
            "complete_activity",
            "Complete an activity",
            ActivityMove,
            "completed",
            "In progress -> completed (read-only from then on); its opportunity's last activity moves on.",
        ),
        Move(
            "cancel",
            "cancel_activity",
            "Cancel a pending activity",
            ActivityCancel,
            "cancelled",
            "Pending -> cancelled (409 from any other state).",
        ),
        Move(
            "transitions",
            "transition_activity",
            "Move an activity to any status its type allows",
            ActivityTransition,
            None,
            "",
        ),
    ),
    param="activity_id",
    noun="activity",
    reader=CurrentActor,
    move=_move,
    read_model=ActivityRead,
)


work_routes.declare_common(
    router,
    service.WORK,
    ANSWERS,
    param="activity_id",
    reader=CurrentActor,
    delete="delete_activity",
    restore="restore_activity",
    accept="accept_activity",
    history_of="list_activity_history",
    close_reminder="close_activity_reminder",
)


# Scheduling from the records activities are planned for -----------------------------------------


# The services an activity provides and the time spent on each: their own router, which app.py
# includes after the activities, so the OpenAPI document keeps its order.
services_router = APIRouter(
    prefix="/v1/activities", tags=["activities"], route_class=CrmRoute, dependencies=[Idempotent]
)
LinePath = Annotated[UUID, Path(description="service line id")]
CHANGE = problem_responses(401, 403, 404, 409, 412, 422, 503)


def _read(line: ActivityService) -> ActivityServiceRead:
    return ActivityServiceRead.model_validate(line)


@services_router.get(
    "/{activity_id}/services",
    operation_id="list_activity_services",
    summary="The services an activity provides",
    response_model=list[ActivityServiceRead],
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def list_activity_services(
    session: DbSession, actor: CurrentActor, activity_id: ActivityPath
) -> list[ActivityServiceRead]:
    """One line per service, with the time spent, in the order they were added; whoever sees the
    activity sees them."""
    return [_read(line) for line in await services.lines(session, actor, activity_id)]


@services_router.post(
    "/{activity_id}/services",
    operation_id="add_activity_service",
    summary="Record time spent on a service",
    status_code=status.HTTP_201_CREATED,
    response_model=ActivityServiceRead,
    responses=CHANGE,
)
async def add_activity_service(
    session: DbSession,
    actor: CurrentActor,
    activity_id: ActivityPath,
    body: ActivityServiceCreate,
    response: Response,
    if_match: IfMatch = None,
) -> ActivityServiceRead:
    """For whoever may change the activity, while it is not completed or cancelled (409
    `read-only`). A service the activity already has is 409 `service-taken`: change its minutes.
    Each change is a new version of the activity (`If-Match` takes its ETag; the answer's `ETag`
    is the new one)."""
    line, a = await services.add(
        session,
        actor,
        activity_id,
        service_id=body.service_id,
        minutes=body.minutes,
        expected=expected_version(if_match),
    )
    response.headers["ETag"] = etag(a.version)
    return _read(line)


@services_router.patch(
    "/{activity_id}/services/{line_id}",
    operation_id="update_activity_service",
    summary="Change the time spent on a service",
    response_model=ActivityServiceRead,
    responses=CHANGE,
)
async def update_activity_service(
    session: DbSession,
    actor: CurrentActor,
    activity_id: ActivityPath,
    line_id: LinePath,
    body: ActivityServiceUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> ActivityServiceRead:
    line, a = await services.change(
        session, actor, activity_id, line_id, minutes=body.minutes, expected=expected_version(if_match)
    )
    response.headers["ETag"] = etag(a.version)
    return _read(line)


@services_router.delete(
    "/{activity_id}/services/{line_id}",
    operation_id="remove_activity_service",
    summary="Remove a service from an activity",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=CHANGE,
)
async def remove_activity_service(
    session: DbSession,
    actor: CurrentActor,
    activity_id: ActivityPath,
    line_id: LinePath,
    if_match: IfMatch = None,
) -> Response:
    """Automatically added services too."""
    await services.remove(session, actor, activity_id, line_id, expected_version(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
