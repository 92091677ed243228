"""Activities: created from a type's defaults, on their own or for a record the actor can see,
moved through the engine; completing or logging one marks its opportunity's last activity."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.accounts.service import next_numbers
from crmapi.activities import queries
from crmapi.activities.models import Activity, ActivityService
from crmapi.activities.schemas import ActivityCreate, ActivitySchedule, ActivityUpdate
from crmapi.config.models import Service
from crmapi.contacts import queries as contact_queries
from crmapi.kit import search
from crmapi.kit.concurrency import check_version
from crmapi.kit.errors import NotFound, Unprocessable
from crmapi.kit.ids import new_id
from crmapi.leads import service as lead_service
from crmapi.lifecycle import engine, work
from crmapi.lifecycle.dates import expected_completion
from crmapi.lifecycle.kinds import ACTIVITY
from crmapi.lifecycle.models import LifecycleType
from crmapi.lifecycle.problems import FIXED, NotAssigned, TypeFixed
from crmapi.lifecycle.work import WorkKind
from crmapi.opportunities import queries as opportunity_queries
from crmapi.opportunities.models import Opportunity
from crmapi.records import history
from crmapi.records.changes import announce, tell, versioned
from crmapi.service_requests import service as request_service
from crmapi.service_requests.models import ServiceRequest

ENTITY = "activity"
WORK = WorkKind(
    entity=ENTITY,
    noun="activity",
    kind=ACTIVITY,
    model=Activity,
    manage="activities.manage",
    readable=queries.readable,
)
# The worker's bookkeeping (`reminder_notified_at`) is not a change anyone made.
_SKIP = {
    "org_id",
    "id",
    "created_at",
    "updated_at",
    "version",
    "search_text",
    "deleted_at",
    "reminder_notified_at",
}
FIELDS = tuple(c.key for c in Activity.__table__.columns if c.key not in _SKIP)
# What an activity belongs to: each set once, each checked in the actor's scope of its kind.
PARENTS: dict[str, tuple[Any, Any]] = {
    **contact_queries.CUSTOMER_REFERENCES,
    "opportunity_id": (Opportunity, opportunity_queries.readable),
}
# Work items an activity is planned for (the seed's "Schedule an activity"): only by who may
# change the item, while it is writable, of an activity type the item's type allows.
PLANNED_FOR: dict[str, WorkKind[Any]] = {
    "lead_id": lead_service.WORK,
    "service_request_id": request_service.WORK,
}
BELONGS_TO = (*PARENTS, *PLANNED_FOR)


def snapshot(a: Activity) -> dict[str, Any]:
    return {k: getattr(a, k) for k in FIELDS}


def derive(a: Activity) -> None:
    a.search_text = search.search_text(a.subject, str(a.number))


async def _check(
    session: AsyncSession, actor: Actor, a: Activity, changed: set[str], allowed: list[UUID]
) -> None:
    await work.check_in_scope(session, actor, a, changed, PARENTS)
    for key in PLANNED_FOR.keys() & changed:
        if getattr(a, key) is not None:
            await _planned_for(session, actor, a, key)
    await work.check_references(session, WORK, a, changed, allowed)


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
        tell(
            session,
            actor,
            topic="opportunity.updated",
            entity="opportunity",
            entity_id=opportunity_id,
            event=versioned(version, {"last_activity_at": None}),
        )


async def _same_account(session: AsyncSession, a: Activity) -> None:
    """An activity about an opportunity or a service request is about its account: filled when
    empty, 422 when another."""
    for key, model in (("opportunity_id", Opportunity), ("service_request_id", ServiceRequest)):
        parent_id = getattr(a, key)
        if parent_id is None:
            continue
        account_id = await session.scalar(select(model.account_id).where(model.id == parent_id))
        if a.account_id is None:
            a.account_id = account_id
        elif a.account_id != account_id:
            noun = key.removesuffix("_id").replace("_", " ")
            raise Unprocessable.on("body.account_id", f"Not the account of the activity's {noun}.")


async def create(
    session: AsyncSession, actor: Actor, data: ActivityCreate, carried: dict[str, Any] | None = None
) -> Activity:
    """An activity of the given (or default) type in its initial status; the creator owns it.
    `carried` are references taken from the record it is scheduled for, not checked again."""
    loaded = await work.creatable_type(session, actor, WORK, data.type_id)
    kind_type = loaded.type
    values = data.model_dump(exclude_unset=True, exclude={"type_id"})
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
    for key, value in (values | (carried or {})).items():
        setattr(a, key, value)
    a.start_at = a.start_at or now
    a.expected_completion_at = expected_completion(a.start_at, kind_type.complete_within)
    await _check(session, actor, a, set(values), kind_type.category_ids)
    await _same_account(session, a)
    a.number = (await next_numbers(session, actor.org_id, "activity"))[0]
    derive(a)
    session.add(a)
    await session.flush()
    await _add_automatic_services(session, actor, a, kind_type)
    announce(session, actor, a, entity=ENTITY, action="created", changes=history.diff({}, snapshot(a)))
    await touch_opportunity(session, actor, a, now)  # logging one counts as activity
    return a


async def _planned_for(session: AsyncSession, actor: Actor, a: Activity, key: str) -> None:
    spec = PLANNED_FOR[key]
    try:
        item = await work.for_change(session, actor, spec, getattr(a, key))
    except NotFound as exc:
        raise Unprocessable.on(f"body.{key}", f"No {spec.noun} with this id.") from exc
    spec.writable(item)
    allowed = await _activity_types(session, item)
    if allowed and a.type_id not in allowed:
        raise Unprocessable.on("body.type_id", f"The {spec.noun}'s type does not allow this activity type.")


async def _activity_types(session: AsyncSession, item: Any) -> list[UUID]:
    found = await session.scalar(
        select(LifecycleType.activity_type_ids).where(LifecycleType.id == item.type_id)
    )
    return list(found or [])


async def _first_allowed(session: AsyncSession, item: Any, noun: str) -> UUID | None:
    """The activity type a scheduled activity gets when it names none: the default, when the
    item's type allows it, else the first active one it allows."""
    allowed = await _activity_types(session, item)
    if not allowed:
        return None
    found = await session.scalar(
        select(LifecycleType.id)
        .where(LifecycleType.id.in_(allowed), LifecycleType.active)
        .order_by(LifecycleType.is_default.desc(), LifecycleType.position, LifecycleType.id)
        .limit(1)
    )
    if found is None:
        raise Unprocessable.on(
            "body.type_id", f"None of the activity types the {noun}'s type allows is active."
        )
    return found


async def schedule(
    session: AsyncSession, actor: Actor, data: ActivitySchedule, key: str, item_id: UUID
) -> Activity:
    """An activity for a lead or a service request the actor works on, carrying its contact,
    account and reference (the contact and account as they are, not checked again)."""
    spec = PLANNED_FOR[key]
    item: Any = await work.for_change(session, actor, spec, item_id)
    spec.writable(item)
    type_id = data.type_id or await _first_allowed(session, item, spec.noun)
    values = data.model_dump(exclude_unset=True) | {"type_id": type_id, key: item.id}
    carried = {"contact_id": item.contact_id, "account_id": item.account_id}
    return await create(session, actor, ActivityCreate.model_validate(values), carried)


async def get(session: AsyncSession, actor: Actor, activity_id: UUID) -> Activity:
    return await work.fetch(session, actor, WORK, activity_id)


async def get_for_change(
    session: AsyncSession,
    actor: Actor,
    activity_id: UUID,
    *,
    deleted: bool = False,
    expected: int | None = None,
) -> Activity:
    """The activity, locked, if the actor may work on it: its owner, its assignee, a member of its
    unit, or `manage`; at the `expected` version when one is given (412 otherwise)."""
    return await work.for_change(session, actor, WORK, activity_id, deleted=deleted, expected=expected)


async def update(
    session: AsyncSession, actor: Actor, activity_id: UUID, data: ActivityUpdate, expected: int | None
) -> Activity:
    a = await get_for_change(session, actor, activity_id)
    WORK.writable(a)
    check_version(a.version, expected)
    sent = data.model_dump(include=data.model_fields_set)
    if "type_id" in sent and sent.pop("type_id") != a.type_id:
        raise TypeFixed("An activity's type cannot change.")
    for key in BELONGS_TO:
        current = getattr(a, key)
        if key in sent and current is not None and sent[key] != current:
            raise FIXED[key](f"The activity's {key.removesuffix('_id')} is set and cannot change.")
    before = snapshot(a)
    with session.no_autoflush:
        for key, value in sent.items():
            setattr(a, key, value)
        loaded = await engine.load_type(session, "activity", a.type_id)
        if "start_at" in sent:
            a.expected_completion_at = expected_completion(a.start_at, loaded.type.complete_within)
        if a.reminder_at != before["reminder_at"]:
            a.reminder_closed_at = None  # a new reminder time opens the reminder again
            a.reminder_notified_at = None  # ...and it is announced again when it falls due
        if sent.keys() & {"opportunity_id", "service_request_id"}:
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


async def move(
    session: AsyncSession,
    actor: Actor,
    activity_id: UUID,
    *,
    state: str | None,
    status_id: UUID | None,
    cancellation_reason_id: UUID | None = None,
    expected: int | None = None,
) -> Activity:
    """Start (needs an assignee), complete, cancel (pending only) or any move the type allows."""
    a = await get_for_change(session, actor, activity_id, expected=expected)
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
        raise NotAssigned("Assign the activity to a member (or accept it) before starting it.")
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


async def _add_automatic_services(
    session: AsyncSession, actor: Actor, a: Activity, kind_type: LifecycleType
) -> None:
    """A new activity starts with its type's automatic services still active, at their minimum
    time; part of its creation, so no history of their own."""
    if not kind_type.automatic_service_ids:
        return
    found = await session.execute(
        select(Service.id, Service.minimum_minutes).where(
            Service.id.in_(kind_type.automatic_service_ids), Service.active
        )
    )
    session.add_all(
        ActivityService(
            org_id=actor.org_id, activity_id=a.id, service_id=service_id, minutes=minimum, automatic=True
        )
        for service_id, minimum in found
    )
