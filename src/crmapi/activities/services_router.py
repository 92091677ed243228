"""HTTP for the services an activity provides and the time spent on each."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel, ConfigDict, Field

from crmapi.access.dependencies import CurrentActor, Idempotent
from crmapi.activities import services
from crmapi.activities.models import ActivityService
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.routes import CrmRoute
from crmapi.kit.scalars import Input

router = APIRouter(
    prefix="/v1/activities", tags=["activities"], route_class=CrmRoute, dependencies=[Idempotent]
)

ActivityPath = Annotated[UUID, Path(description="activity id")]
LinePath = Annotated[UUID, Path(description="service line id")]
CHANGE = problem_responses(401, 403, 404, 409, 412, 422, 503)
LINE = "0192f0a8-0000-7000-8000-000000000031"
SERVICE = "0192f0a8-0000-7000-8000-000000000021"
Minutes = Annotated[
    int,
    Field(
        ge=0,
        le=100_000,
        strict=True,
        description="Time spent, in minutes: at least the service's `minimum_minutes`.",
    ),
]


class ActivityServiceCreate(Input):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"service_id": SERVICE, "minutes": 45}]}
    )
    service_id: UUID = Field(
        description="An active service the activity's type allows (any, when it lists none)."
    )
    minutes: Minutes


class ActivityServiceUpdate(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"minutes": 60}]})
    minutes: Minutes


class ActivityServiceRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": LINE,
                    "activity_id": "0192f0a8-0000-7000-8000-000000000011",
                    "service_id": SERVICE,
                    "minutes": 45,
                    "automatic": False,
                    "created_at": "2026-11-30T09:00:00Z",
                    "updated_at": "2026-11-30T09:30:00Z",
                }
            ]
        },
    )
    id: UUID
    activity_id: UUID
    service_id: UUID
    minutes: int
    automatic: bool = Field(description="Added because the activity's type starts with the service.")
    created_at: datetime
    updated_at: datetime


def _read(line: ActivityService) -> ActivityServiceRead:
    return ActivityServiceRead.model_validate(line)


@router.get(
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


@router.post(
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


@router.patch(
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


@router.delete(
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
