"""HTTP for the caller's notification inbox and the categories it muted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from crmapi.access.actor import Actor
from crmapi.access.dependencies import CurrentActor, Idempotent
from crmapi.access.problems import MissingCapability
from crmapi.config.models import NotificationCategory
from crmapi.config.spec import OptionCode
from crmapi.kit.db import DbSession
from crmapi.kit.errors import NotFound, Unprocessable, problem_responses
from crmapi.kit.pagination import Page, Sorting, paginate, render_page, select_fields, sorted_by
from crmapi.kit.routes import CrmRoute
from crmapi.notifications.models import Mute, Notification
from crmapi.notifications.schemas import Marked, MarkRead, Mutes, NotificationQuery, NotificationRead, Unread

router = APIRouter(prefix="/v1/me", tags=["me"], route_class=CrmRoute, dependencies=[Idempotent])
SORTING = Sorting(
    columns={"created_at": Notification.created_at}, id_column=Notification.id, default="-created_at"
)
CategoryPath = Annotated[OptionCode, Path(description="a notification category's code")]


def _member(actor: CurrentActor) -> Actor:
    """Inboxes are members' (staff and customers); an API key has none."""
    if actor.member_id is None:
        raise MissingCapability("An API key has no notifications: sign in as a member.")
    return actor


Member = Annotated[Actor, Depends(_member)]


def _mine(actor: Actor) -> Any:
    return (Notification.org_id == actor.org_id) & (Notification.member_id == actor.member_id)


@router.get(
    "/notifications",
    operation_id="list_my_notifications",
    summary="My notifications, newest first",
    response_model=Page[NotificationRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 422, 503),
)
@sorted_by(SORTING)
async def list_my_notifications(
    request: Request, session: DbSession, actor: Member, query: Annotated[NotificationQuery, Query()]
) -> dict[str, Any]:
    """What the caller was told of: events of the categories it is subscribed to, and of the
    records it is the person of (a service request assigned to it, a sales order it placed),
    written by the worker within moments of the change."""
    select_fields(NotificationRead, query.fields)
    stmt = select(Notification).where(_mine(actor))
    if query.category is not None:
        stmt = stmt.where(Notification.category == query.category)
    if query.unread is not None:
        stmt = stmt.where(
            Notification.read_at.is_(None) if query.unread else Notification.read_at.is_not(None)
        )
    found, cursor, count = await paginate(
        session, stmt, sorting=SORTING, params=query, cursors=request.app.state.cursors
    )
    return render_page(NotificationRead, found, cursor, count, query.fields)


@router.get(
    "/notifications/unread",
    operation_id="count_my_unread_notifications",
    summary="How many of my notifications are unread",
    response_model=Unread,
    responses=problem_responses(401, 403, 503),
)
async def count_my_unread_notifications(session: DbSession, actor: Member) -> dict[str, Any]:
    stmt = (
        select(Notification.category, func.count())
        .where(_mine(actor), Notification.read_at.is_(None))
        .group_by(Notification.category)
    )
    by_category = {category: n for category, n in await session.execute(stmt)}
    return {"total": sum(by_category.values()), "by_category": by_category}


@router.post(
    "/notifications/{notification_id}/read",
    operation_id="read_my_notification",
    summary="Mark one of my notifications read",
    status_code=204,
    responses=problem_responses(401, 403, 404, 503),
)
async def read_my_notification(
    session: DbSession, actor: Member, notification_id: Annotated[UUID, Path(description="notification id")]
) -> Response:
    """Marking a read one again changes nothing; another member's is 404."""
    stmt = (
        update(Notification)
        .where(_mine(actor), Notification.id == notification_id)
        .values(read_at=func.coalesce(Notification.read_at, datetime.now(UTC)))
        .returning(Notification.id)
    )
    if (await session.execute(stmt)).first() is None:
        raise NotFound("No notification of yours with this id.")
    return Response(status_code=204)


@router.post(
    "/notifications/read",
    operation_id="read_my_notifications",
    summary="Mark all my notifications read (of a category)",
    response_model=Marked,
    responses=problem_responses(401, 403, 422, 503),
)
async def read_my_notifications(session: DbSession, actor: Member, body: MarkRead) -> dict[str, int]:
    stmt = update(Notification).where(_mine(actor), Notification.read_at.is_(None))
    if body.category is not None:
        stmt = stmt.where(Notification.category == body.category)
    marked: Any = await session.execute(stmt.values(read_at=datetime.now(UTC)))
    return {"marked": marked.rowcount}


@router.get(
    "/notification-mutes",
    operation_id="list_my_notification_mutes",
    summary="The notification categories I muted",
    response_model=Mutes,
    responses=problem_responses(401, 403, 503),
)
async def list_my_notification_mutes(session: DbSession, actor: Member) -> dict[str, Any]:
    stmt = select(Mute.category).where(Mute.org_id == actor.org_id, Mute.member_id == actor.member_id)
    return {"categories": sorted((await session.execute(stmt)).scalars())}


@router.put(
    "/notification-mutes/{category}",
    operation_id="mute_notification_category",
    summary="Hear nothing more of a notification category",
    status_code=204,
    responses=problem_responses(401, 403, 422, 503),
)
async def mute_notification_category(session: DbSession, actor: Member, category: CategoryPath) -> Response:
    """Muting a muted category changes nothing. The category must be the organisation's (422)."""
    known = select(NotificationCategory.id).where(NotificationCategory.code == category)
    if (await session.execute(known)).first() is None:
        raise Unprocessable.on("path.category", "No notification category has this code.")
    row = {"org_id": actor.org_id, "member_id": actor.member_id, "category": category}
    await session.execute(insert(Mute).values(**row).on_conflict_do_nothing())
    return Response(status_code=204)


@router.delete(
    "/notification-mutes/{category}",
    operation_id="unmute_notification_category",
    summary="Hear a muted notification category again",
    status_code=204,
    responses=problem_responses(401, 403, 404, 503),
)
async def unmute_notification_category(session: DbSession, actor: Member, category: CategoryPath) -> Response:
    stmt = delete(Mute).where(
        Mute.org_id == actor.org_id, Mute.member_id == actor.member_id, Mute.category == category
    )
    if (await session.execute(stmt.returning(Mute.category))).first() is None:
        raise NotFound("This category is not muted.")
    return Response(status_code=204)
