"""Services provided through an activity, with the time spent on each: one line per service, at
least the service's minimum, among those the activity's type allows. A line is part of its
activity: changing one is a change of the activity (a new version, history, an event)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.activities import service
from crmapi.activities.models import Activity, ActivityService
from crmapi.activities.problems import ServiceTaken
from crmapi.config.models import Service
from crmapi.kit.concurrency import check_version
from crmapi.kit.errors import NotFound, Unprocessable
from crmapi.kit.ids import new_id
from crmapi.lifecycle.models import LifecycleType
from crmapi.records.changes import announce


def _line(line: ActivityService) -> dict[str, Any]:
    """A line as its activity's history shows it."""
    return {
        "id": str(line.id),
        "service_id": str(line.service_id),
        "minutes": line.minutes,
        "automatic": line.automatic,
    }


async def _changed(
    session: AsyncSession, actor: Actor, a: Activity, old: dict[str, Any] | None, new: dict[str, Any] | None
) -> None:
    """The activity moves to a new version and says which line changed how."""
    a.updated_at = datetime.now(UTC)
    await session.flush()
    announce(
        session,
        actor,
        a,
        entity=service.ENTITY,
        action="updated",
        changes={"services": {"old": old, "new": new}},
    )


async def _minimum(session: AsyncSession, service_id: UUID, *, active: bool) -> int:
    """The service's least time; 422 on `body.service_id` when there is no such (active) service."""
    stmt = select(Service.minimum_minutes).where(Service.id == service_id)
    minimum = await session.scalar(stmt.where(Service.active) if active else stmt)
    if minimum is None:
        raise Unprocessable.on("body.service_id", "No active service with this id.")
    return minimum


def _at_least(minutes: int, minimum: int) -> None:
    if minutes < minimum:
        raise Unprocessable.on("body.minutes", f"The service takes at least {minimum} minutes.")


async def _allowed(session: AsyncSession, a: Activity, service_id: UUID) -> None:
    allowed = await session.scalar(select(LifecycleType.service_ids).where(LifecycleType.id == a.type_id))
    if allowed and service_id not in allowed:
        raise Unprocessable.on("body.service_id", "The activity's type does not provide this service.")


async def _get_line(session: AsyncSession, a: Activity, line_id: UUID) -> ActivityService:
    stmt = select(ActivityService).where(ActivityService.id == line_id, ActivityService.activity_id == a.id)
    line = await session.scalar(stmt)  # the activity is locked: so are its lines
    if line is None:
        raise NotFound("No service line with this id on the activity.")
    return line


async def lines(session: AsyncSession, actor: Actor, activity_id: UUID) -> list[ActivityService]:
    """The service lines of an activity the actor can see, in the order they were added."""
    await service.get(session, actor, activity_id)
    stmt = (
        select(ActivityService)
        .where(ActivityService.activity_id == activity_id)
        .order_by(ActivityService.created_at, ActivityService.id)
    )
    return list((await session.execute(stmt)).scalars())


async def _changeable(
    session: AsyncSession, actor: Actor, activity_id: UUID, expected: int | None
) -> Activity:
    """The activity, locked, writable, at the version the caller last saw (`If-Match`)."""
    a = await service.get_for_change(session, actor, activity_id)
    service.WORK.writable(a)
    check_version(a.version, expected)
    return a


async def add(
    session: AsyncSession,
    actor: Actor,
    activity_id: UUID,
    *,
    service_id: UUID,
    minutes: int,
    expected: int | None = None,
) -> tuple[ActivityService, Activity]:
    """Record time spent on a service the activity's type allows; one line per service."""
    a = await _changeable(session, actor, activity_id, expected)
    minimum = await _minimum(session, service_id, active=True)
    await _allowed(session, a, service_id)
    _at_least(minutes, minimum)
    taken = select(ActivityService.id).where(
        ActivityService.activity_id == a.id, ActivityService.service_id == service_id
    )
    # The activity is locked, so no concurrent request adds the same service in between.
    if await session.scalar(taken) is not None:
        raise ServiceTaken("The activity already has this service; change its minutes.")
    line = ActivityService(
        org_id=actor.org_id,
        id=new_id(),
        activity_id=a.id,
        service_id=service_id,
        minutes=minutes,
        automatic=False,
    )
    session.add(line)
    await _changed(session, actor, a, None, _line(line))
    return line, a


async def change(
    session: AsyncSession,
    actor: Actor,
    activity_id: UUID,
    line_id: UUID,
    *,
    minutes: int,
    expected: int | None = None,
) -> tuple[ActivityService, Activity]:
    """The time spent on a service, still at least its minimum."""
    a = await _changeable(session, actor, activity_id, expected)
    line = await _get_line(session, a, line_id)
    _at_least(minutes, await _minimum(session, line.service_id, active=False))
    if minutes == line.minutes:
        return line, a
    before = _line(line)
    line.minutes, line.updated_at = minutes, datetime.now(UTC)
    await _changed(session, actor, a, before, _line(line))
    return line, a


async def remove(
    session: AsyncSession, actor: Actor, activity_id: UUID, line_id: UUID, expected: int | None = None
) -> None:
    """The activity no longer provides the service (automatic lines too)."""
    a = await _changeable(session, actor, activity_id, expected)
    line = await _get_line(session, a, line_id)
    before = _line(line)
    await session.delete(line)
    await _changed(session, actor, a, before, None)
