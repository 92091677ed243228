"""Activities: created from a type's defaults, on their own or for a record the actor can see,
moved through the engine; completing or logging one marks its opportunity's last activity."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi import history, outbox, search
from crmapi.access.actor import Actor
from crmapi.access.units import require_unit
from crmapi.accounts import queries as account_queries
from crmapi.accounts.models import Account
from crmapi.accounts.service import next_numbers
from crmapi.activities import queries
from crmapi.activities.models import Activity
from crmapi.activities.schemas import ActivityCreate, ActivityUpdate
from crmapi.changes import announce, bring_back, soft_delete
from crmapi.concurrency import check_version
from crmapi.contacts import queries as contact_queries
from crmapi.contacts.models import Contact
from crmapi.errors import Conflict, Forbidden, NotFound, Unprocessable
from crmapi.identity.models import Member
from crmapi.ids import new_id
from crmapi.leads import queries as lead_queries
from crmapi.leads.models import Lead
from crmapi.lifecycle import engine, work
from crmapi.lifecycle.dates import expected_completion
from crmapi.lifecycle.kinds import ACTIVITY
from crmapi.lifecycle.work import WorkKind
from crmapi.opportunities import queries as opportunity_queries
from crmapi.opportunities.models import Opportunity
from crmapi.options.models import Category

ENTITY = "activity"
WORK = WorkKind(entity=ENTITY, noun="activity", kind=ACTIVITY, model=Activity, manage="activities.manage")
_SKIP = {"org_id", "id", "created_at", "updated_at", "version", "search_text", "deleted_at"}
FIELDS = tuple(c.key for c in Activity.__table__.columns if c.key not in _SKIP)
# What an activity belongs to: each set once, each checked in the actor's scope of its kind.
PARENTS: dict[str, tuple[Any, Any]] = {
    "contact_id": (Contact, contact_queries.readable),
    "account_id": (Account, account_queries.readable),
    "lead_id": (Lead, lead_queries.readable),
    "opportunity_id": (Opportunity, opportunity_queries.readable),
}


def snapshot(a: Activity) -> dict[str, Any]:
    return {k: getattr(a, k) for k in FIELDS}


def derive(a: Activity) -> None:
    a.search_text = search.search_text(a.subject, str(a.number))


async def _check(
    session: AsyncSession, actor: Actor, a: Activity, changed: set[str], allowed: list[UUID]
) -> None:
    for key, (model, readable) in PARENTS.items():
        if key in changed and getattr(a, key) is not None:
            stmt = readable(actor).with_only_columns(model.id).where(model.id == getattr(a, key))
            await engine.require_row(
                session, stmt, f"body.{key}", f"No {key.removesuffix('_id')} with this id."
            )
    if "category_id" in changed and a.category_id is not None:
        if allowed and a.category_id not in allowed:
            raise Unprocessable.on("body.category_id", "The activity's type does not allow this category.")
        stmt = select(Category.id).where(
            Category.id == a.category_id, Category.kind == "activity", Category.active
        )
        await engine.require_row(
            session, stmt, "body.category_id", "No active activity category with this id."
        )
    if "business_unit_id" in changed:
        await require_unit(session, a.business_unit_id)
    if "assigned_member_id" in changed and a.assigned_member_id is not None:
        stmt = select(Member.id).where(
            Member.id == a.assigned_member_id, Member.kind == "staff", Member.status == "active"
        )
        await engine.require_row(
            session, stmt, "body.assigned_member_id", "No active staff member with this id."
        )


async def touch_opportunity(session: AsyncSession, actor: Actor, a: Activity, at: datetime) -> None:
    """Its opportunity's last activity time moves on (never back), as a change of the
    opportunity: a new version and an event, so ETags and integrations see it."""
    if a.opportunity_id is None:
        return
    touched = await session.execute(
        sql_update(Opportunity)
        .where(Opportunity.id == a.opportunity_id)
        .where((Opportunity.last_activity_at.is_(None)) | (Opportunity.last_activity_at < at))
        .values(last_activity_at=at, updated_at=at, version=Opportunity.version + 1)
        .returning(Opportunity.id, Opportunity.version)
        .execution_options(synchronize_session=False)
    )
    for opportunity_id, version in touched:
        outbox.emit(
            session,
            actor,
            topic="opportunity.updated",
            entity="opportunity",
            entity_id=opportunity_id,
            payload={"version": version, "fields": ["last_activity_at"]},
        )


async def _same_account(session: AsyncSession, a: Activity) -> None:
    """An activity about an opportunity is about its account: filled when empty, 422 when another."""
    if a.opportunity_id is None:
        return
    account_id = await session.scalar(
        select(Opportunity.account_id).where(Opportunity.id == a.opportunity_id)
    )
    if a.account_id is None:
        a.account_id = account_id
    elif a.account_id != account_id:
        raise Unprocessable.on("body.account_id", "Not the account of the activity's opportunity.")


async def create(session: AsyncSession, actor: Actor, data: ActivityCreate) -> Activity:
    """An activity of the given (or default) type in its initial status; the creator owns it."""
    loaded = await engine.load_type(session, "activity", data.type_id)
    kind_type = loaded.type
    if not kind_type.active:
        raise Unprocessable.on("body.type_id", "This activity type is retired.")
    creators = set(kind_type.creating_unit_ids)
    if creators and not actor.can(WORK.manage) and not creators & await work.unit_ids(session, actor):
        raise Forbidden(
            f"Only members of the type's creating units may create '{kind_type.name}' activities.",
            slug="type-not-allowed",
        )
    values = data.model_dump(exclude_unset=True, exclude={"type_id"})
    if "subject" in values and values["subject"] is None:
        raise Unprocessable.on("body.subject", "May not be null.")
    initial = loaded.default_status(ACTIVITY.initial)
    now = datetime.now(UTC)
    a = Activity(
        org_id=actor.org_id,
        id=new_id(),
        type_id=kind_type.id,
        status_id=initial.id,
        state=initial.state,
        category_id=kind_type.default_category_id,
        priority=kind_type.default_priority,
        owner_member_id=actor.member_id,
        created_at=now,
        updated_at=now,
    )
    for key, value in values.items():
        setattr(a, key, value)
    a.start_at = a.start_at or now
    a.expected_completion_at = expected_completion(a.start_at, kind_type.complete_within)
    await _check(session, actor, a, set(values), kind_type.category_ids)
    await _same_account(session, a)
    a.number = (await next_numbers(session, actor.org_id, "activity"))[0]
    derive(a)
    session.add(a)
    await session.flush()
    announce(session, actor, a, entity=ENTITY, action="created", changes=history.diff({}, snapshot(a)))
    await touch_opportunity(session, actor, a, now)  # logging one counts as activity
    return a


async def get(session: AsyncSession, actor: Actor, activity_id: UUID) -> Activity:
    found = (
        await session.execute(queries.readable(actor).where(Activity.id == activity_id))
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("No activity with this id.")
    return found


async def get_for_change(
    session: AsyncSession, actor: Actor, activity_id: UUID, *, deleted: bool = False
) -> Activity:
    """The activity, locked, if the actor may work on it (owner, assignee, unit, activities.manage)."""
    stmt = queries.readable(actor, deleted=deleted).where(Activity.id == activity_id).with_for_update()
    found = (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()
    if found is None:
        raise NotFound("No activity with this id.")
    await work.check_changer(session, actor, WORK, found)
    return found


async def update(
    session: AsyncSession, actor: Actor, activity_id: UUID, data: ActivityUpdate, expected: int | None
) -> Activity:
    a = await get_for_change(session, actor, activity_id)
    WORK.writable(a)
    check_version(a.version, expected)
    sent = data.model_dump(include=data.model_fields_set)
    if "subject" in sent and sent["subject"] is None:
        raise Unprocessable.on("body.subject", "May not be null.")
    if "type_id" in sent and sent.pop("type_id") != a.type_id:
        raise Conflict("An activity's type cannot change.", slug="type-fixed")
    for key in PARENTS:
        current = getattr(a, key)
        if key in sent and current is not None and sent[key] != current:
            raise Conflict(
                f"The activity's {key.removesuffix('_id')} is set and cannot change.",
                slug=f"{key[:-3]}-fixed",
            )
    before = snapshot(a)
    with session.no_autoflush:
        for key, value in sent.items():
            setattr(a, key, value)
        loaded = await engine.load_type(session, "activity", a.type_id)
        if "start_at" in sent:
            if a.start_at is None:
                raise Unprocessable.on("body.start_at", "May not be null.")
            a.expected_completion_at = expected_completion(a.start_at, loaded.type.complete_within)
        if a.reminder_at != before["reminder_at"]:
            a.reminder_closed_at = None  # a new reminder time opens the reminder again
        if "opportunity_id" in sent:
            await _same_account(session, a)
        changes = history.diff(before, snapshot(a))
        if not changes:
            return a
        work.check_assigner(actor, WORK, a, changes)
        await _check(session, actor, a, set(changes), loaded.type.category_ids)
    derive(a)
    a.updated_at = datetime.now(UTC)
    await session.flush()
    announce(session, actor, a, entity=ENTITY, action="updated", changes=changes)
    if "opportunity_id" in changes:
        await touch_opportunity(session, actor, a, a.updated_at)
    return a


async def delete(session: AsyncSession, actor: Actor, activity_id: UUID, expected: int | None) -> None:
    a = await get_for_change(session, actor, activity_id)
    check_version(a.version, expected)
    await soft_delete(session, actor, a, entity=ENTITY)


async def restore(session: AsyncSession, actor: Actor, activity_id: UUID) -> Activity:
    if not actor.can(WORK.manage):
        raise Forbidden("Restoring an activity needs 'activities.manage'.", slug="missing-capability")
    a = await get_for_change(session, actor, activity_id, deleted=True)
    await bring_back(session, actor, a, entity=ENTITY)
    return a


async def accept(session: AsyncSession, actor: Actor, activity_id: UUID) -> Activity:
    a = await get_for_change(session, actor, activity_id)
    await work.accept(session, actor, WORK, a)
    return a


async def close_reminder(session: AsyncSession, actor: Actor, activity_id: UUID) -> Activity:
    a = await get_for_change(session, actor, activity_id)
    await work.close_reminder(session, actor, WORK, a)
    return a


async def move(
    session: AsyncSession,
    actor: Actor,
    activity_id: UUID,
    *,
    state: str | None,
    status_id: UUID | None,
    cancellation_reason_id: UUID | None = None,
) -> Activity:
    """Start (needs an assignee), complete, cancel (pending only) or any move the type allows."""
    a = await get_for_change(session, actor, activity_id)
    WORK.writable(a)
    loaded = await engine.load_type(session, "activity", a.type_id)
    to_status_id = loaded.target(state, status_id)
    target = loaded.status(to_status_id)
    if (
        target is not None
        and target.state == "in_progress"
        and a.state == ACTIVITY.initial
        and a.assigned_member_id is None
    ):
        raise Conflict(
            "Assign the activity to a member (or accept it) before starting it.", slug="not-assigned"
        )
    await engine.move(
        session,
        actor,
        a,
        loaded,
        entity=ENTITY,
        to_status_id=to_status_id,
        cancellation_reason_id=cancellation_reason_id,
        completed="completed_at",
    )
    await session.flush()
    if a.state == "completed":
        await touch_opportunity(session, actor, a, a.updated_at)
    return a
