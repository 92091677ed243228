"""`GET /v1/me/reminders`: what the caller should see to today — its activity and lead reminders
falling due, and its open tasks — each linking to its record."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, or_
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.dependencies import StaffActor
from crmapi.activities import queries as activity_queries
from crmapi.activities.models import Activity
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.routes import CrmRoute
from crmapi.kit.scalars import Input, Timestamp
from crmapi.leads import queries as lead_queries
from crmapi.leads.models import Lead

LIMIT = 200


class RemindersQuery(Input):
    model_config = ConfigDict(extra="forbid")
    until: Timestamp | None = Field(
        None,
        description="Due on or before this moment; the end of today in the caller's time zone when left out.",
    )
    limit: int = Field(100, ge=1, le=LIMIT, description=f"At most this many of each kind (at most {LIMIT}).")


class Reminder(BaseModel):
    kind: Literal["activity_reminder", "lead_reminder", "task"]
    record: Literal["activity", "lead"]
    id: UUID
    number: int
    title: str = Field(description="The activity's subject or the lead's description.")
    state: str
    due_at: datetime | None = Field(description="The reminder's time; for a task, its expected completion.")
    link: str = Field(examples=["/v1/activities/0192f0a8-0000-7000-8000-000000000001"])


class Reminders(BaseModel):
    until: datetime
    items: list[Reminder] = Field(description="Reminders by time, then open tasks by expected completion.")


def end_of_today(time_zone: str, now: datetime) -> datetime:
    """The last moment (UTC) of the caller's today in its time zone (DESIGN: "today" is the
    actor's). Worked out from the start of tomorrow in UTC: wall-clock arithmetic picks the wrong
    one of a repeated hour where clocks go back at midnight."""
    zone = ZoneInfo(time_zone)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time.min, tzinfo=zone).astimezone(UTC) - timedelta(microseconds=1)


def _mine(model: Any, actor: Actor) -> Any:
    """The caller's: assigned to it, or owned by it while nobody is assigned."""
    return or_(
        model.assigned_member_id == actor.member_id,
        (model.assigned_member_id.is_(None)) & (model.owner_member_id == actor.member_id),
    )


def _due(stmt: Select[Any], model: Any, actor: Actor, until: datetime, limit: int) -> Select[Any]:
    return (
        stmt.where(
            _mine(model, actor),
            model.reminder_at.is_not(None),
            model.reminder_at <= until,
            model.reminder_closed_at.is_(None),
        )
        .order_by(model.reminder_at, model.id)
        .limit(limit)
    )


async def due(session: AsyncSession, actor: Actor, until: datetime, limit: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    open_activities = activity_queries.readable(actor).where(Activity.state.in_(("pending", "in_progress")))
    for a in (await session.execute(_due(open_activities, Activity, actor, until, limit))).scalars():
        items.append(
            _item("activity_reminder", "activity", a.id, a.number, a.subject, a.state, a.reminder_at)
        )
    open_leads = lead_queries.readable(actor).where(Lead.state.in_(("pending", "in_progress")))
    for lead in (await session.execute(_due(open_leads, Lead, actor, until, limit))).scalars():
        items.append(
            _item(
                "lead_reminder", "lead", lead.id, lead.number, lead.description, lead.state, lead.reminder_at
            )
        )
    items.sort(key=lambda i: (i["due_at"], str(i["id"])))
    reminded = [i["id"] for i in items if i["record"] == "activity"]
    tasks = (
        open_activities.where(
            _mine(Activity, actor),
            Activity.id.not_in(reminded),
            Activity.start_at <= until,
            # One whose reminder is set for later comes up then, not now.
            or_(
                Activity.reminder_at.is_(None),
                Activity.reminder_at <= until,
                Activity.reminder_closed_at.is_not(None),
            ),
        )
        .order_by(Activity.expected_completion_at.asc().nulls_last(), Activity.id)
        .limit(limit)
    )
    for a in (await session.execute(tasks)).scalars():
        if a.id not in reminded:
            items.append(
                _item("task", "activity", a.id, a.number, a.subject, a.state, a.expected_completion_at)
            )
    return items


def _item(
    kind: str, record: str, record_id: UUID, number: int, title: str, state: str, at: datetime | None
) -> dict[str, Any]:
    plural = "activities" if record == "activity" else "leads"
    return {
        "kind": kind,
        "record": record,
        "id": record_id,
        "number": number,
        "title": title,
        "state": state,
        "due_at": at,
        "link": f"/v1/{plural}/{record_id}",
    }


router = APIRouter(prefix="/v1/me", tags=["me"], route_class=CrmRoute)


@router.get(
    "/reminders",
    operation_id="list_my_reminders",
    summary="My reminders and open tasks",
    response_model=Reminders,
    responses=problem_responses(401, 403, 422, 503),
)
async def list_my_reminders(
    session: DbSession, actor: StaffActor, query: Annotated[RemindersQuery, Query()]
) -> dict[str, Any]:
    """Staff only. The caller's open activities and leads (assigned to it, or owned while
    nobody is) whose reminder falls due by `until` and is not closed, by time; then its open
    activities (assigned to it, or owned while nobody is) that have started by then, as tasks
    (one whose reminder is set for later comes up then). `until` defaults to the end of today in
    the caller's time zone. Close a reminder with `POST /v1/{activities,leads}/{id}/reminder/close`."""
    until = (query.until or end_of_today(actor.time_zone, datetime.now(UTC))).astimezone(UTC)
    return {"until": until, "items": await due(session, actor, until, query.limit)}
