"""Work items: records a member or a business unit works on through a life cycle (leads,
activities, service requests). Who may create one of a type, the references every kind checks
alike, who sees them besides their kind's own paths, who may change them, who may reassign them,
and how a unit member takes one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.models import MemberUnit
from crmapi.access.problems import MissingCapability, NotOwner, StaffOnly
from crmapi.access.units import require_unit
from crmapi.config.models import Category
from crmapi.identity.models import Member
from crmapi.kit.concurrency import check_version
from crmapi.kit.errors import FieldError, NotFound, Unprocessable
from crmapi.kit.words import a
from crmapi.lifecycle import engine
from crmapi.lifecycle.kinds import Kind
from crmapi.lifecycle.models import LifecycleType
from crmapi.lifecycle.problems import (
    AlreadyAssigned,
    NoReminder,
    NotPending,
    NotUnitMember,
    ReadOnly,
    TypeNotAllowed,
)
from crmapi.records.changes import announce, bring_back, soft_delete

T = TypeVar("T")


@dataclass(frozen=True)
class WorkKind(Generic[T]):
    entity: str  # history entity: lead, activity
    noun: str  # in messages: "lead", "activity"
    kind: Kind
    model: type[T]
    manage: str  # the capability that changes any of them: leads.manage
    readable: Callable[..., Any]  # the kind's `queries.readable(actor, deleted=False)`

    def writable(self, record: Any) -> None:
        if record.state in self.kind.read_only:
            raise ReadOnly(f"{a(self.noun, start=True)} in state '{record.state}' cannot change.")


async def fetch(session: AsyncSession, actor: Actor, spec: WorkKind[T], record_id: UUID) -> T:
    """A live item in the actor's scope; 404 otherwise."""
    stmt = spec.readable(actor).where(spec.model.id == record_id)  # type: ignore[attr-defined]
    found: T | None = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"No {spec.noun} with this id.")
    return found


async def locked(
    session: AsyncSession, actor: Actor, spec: WorkKind[T], record_id: UUID, *, deleted: bool = False
) -> T:
    """The item in the actor's scope, locked; refreshed if the session read it before (a bulk
    step)."""
    stmt = spec.readable(actor, deleted=deleted).where(spec.model.id == record_id)  # type: ignore[attr-defined]
    found: T | None = (
        await session.execute(stmt.with_for_update().execution_options(populate_existing=True))
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"No {spec.noun} with this id.")
    return found


async def for_change(
    session: AsyncSession,
    actor: Actor,
    spec: WorkKind[T],
    record_id: UUID,
    *,
    deleted: bool = False,
    expected: int | None = None,
) -> T:
    """The item, locked, if the actor may work on it (`check_changer`), at the `expected`
    version when one is given: every change of an item, moves included, answers a stale
    If-Match with 412 after the 404 and 403 it would answer anyway (RFC 9110 §13.2.2)."""
    found = await locked(session, actor, spec, record_id, deleted=deleted)
    await check_changer(session, actor, spec, found)
    check_version(found.version, expected)  # type: ignore[attr-defined]
    return found


async def remove(
    session: AsyncSession, actor: Actor, spec: WorkKind[T], record_id: UUID, expected: int | None
) -> None:
    """Soft remove (the seed's IsRemoved): gone from reads until `manage` restores it."""
    found: Any = await for_change(session, actor, spec, record_id, expected=expected)
    await soft_delete(session, actor, found, entity=spec.entity)


async def restore(
    session: AsyncSession, actor: Actor, spec: WorkKind[T], record_id: UUID, expected: int | None = None
) -> T:
    if not actor.can(spec.manage):
        raise MissingCapability(f"Restoring {a(spec.noun)} needs '{spec.manage}'.")
    found = await for_change(session, actor, spec, record_id, deleted=True, expected=expected)
    await bring_back(session, actor, found, entity=spec.entity)
    return found


async def take(
    session: AsyncSession, actor: Actor, spec: WorkKind[T], record_id: UUID, expected: int | None = None
) -> T:
    """`accept`, by id."""
    found = await for_change(session, actor, spec, record_id, expected=expected)
    await accept(session, actor, spec, found)
    return found


async def close_reminder_of(
    session: AsyncSession, actor: Actor, spec: WorkKind[T], record_id: UUID, expected: int | None = None
) -> T:
    """`close_reminder`, by id."""
    found = await for_change(session, actor, spec, record_id, expected=expected)
    await close_reminder(session, actor, spec, found)
    return found


async def unit_ids(session: AsyncSession, actor: Actor) -> set[UUID]:
    """The business units the member belongs to (directly)."""
    if actor.member_id is None:
        return set()
    rows = await session.execute(
        select(MemberUnit.business_unit_id).where(MemberUnit.member_id == actor.member_id)
    )
    return set(rows.scalars())


async def creatable_type(
    session: AsyncSession, actor: Actor, spec: WorkKind[Any], type_id: UUID | None
) -> engine.Loaded:
    """The type a new item gets (the kind's default when None): active, and when it names
    creating units, one the actor belongs to (or `manage`)."""
    loaded = await engine.load_type(session, spec.kind.name, type_id)
    kind_type = loaded.type
    if not kind_type.active:
        raise Unprocessable.on("body.type_id", f"This {spec.noun} type is retired.")
    creators = set(kind_type.creating_unit_ids)
    if creators and not actor.can(spec.manage) and not creators & await unit_ids(session, actor):
        raise TypeNotAllowed(
            f"Only members of the type's creating units may create a '{kind_type.name}' {spec.noun}.",
        )
    return loaded


async def check_references(
    session: AsyncSession, spec: WorkKind[Any], record: Any, changed: set[str], allowed: list[UUID]
) -> None:
    """The category (of the kind, active, one the type allows when it lists any), the business
    unit and the assignee (an active staff member) a changed field names."""
    if "category_id" in changed and record.category_id is not None:
        if allowed and record.category_id not in allowed:
            raise Unprocessable.on(
                "body.category_id", f"The {spec.noun}'s type does not allow this category."
            )
        stmt = select(Category.id).where(
            Category.id == record.category_id, Category.kind == spec.kind.name, Category.active
        )
        await engine.require_row(
            session, stmt, "body.category_id", f"No active {spec.noun} category with this id."
        )
    if "business_unit_id" in changed:
        await require_unit(session, record.business_unit_id)
    if "assigned_member_id" in changed and record.assigned_member_id is not None:
        await require_staff(session, record.assigned_member_id, "body.assigned_member_id")


async def require_staff(session: AsyncSession, member_id: UUID, field: str) -> None:
    """422 naming `field` unless the member is active staff (who may own or work on an item)."""
    stmt = select(Member.id).where(Member.id == member_id, Member.kind == "staff", Member.status == "active")
    await engine.require_row(session, stmt, field, "No active staff member with this id.")


async def check_in_scope(
    session: AsyncSession,
    actor: Actor,
    record: Any,
    changed: set[str],
    references: dict[str, tuple[Any, Callable[..., Any]]],
) -> None:
    """Each changed reference (field: the model and the query of what the actor may read)
    names a live record the actor can see (422 naming the field)."""
    for key, (model, readable) in references.items():
        if key in changed and getattr(record, key) is not None:
            stmt = readable(actor).with_only_columns(model.id).where(model.id == getattr(record, key))
            await engine.require_row(
                session, stmt, f"body.{key}", f"No {key.removesuffix('_id')} with this id."
            )


async def hand_on(session: AsyncSession, record: Any, kind_type: LifecycleType, sent: set[str]) -> None:
    """A new record its filer gave nobody goes to its type's default assignee (while still active
    staff) and default unit."""
    if "assigned_member_id" not in sent and kind_type.default_assignee_id is not None:
        active = select(Member.id).where(
            Member.id == kind_type.default_assignee_id, Member.kind == "staff", Member.status == "active"
        )
        if (await session.execute(active)).first() is not None:
            record.assigned_member_id = kind_type.default_assignee_id
    if "business_unit_id" not in sent:
        record.business_unit_id = kind_type.default_business_unit_id


def customer_may_file(actor: Actor, kind_type: LifecycleType, noun: str) -> None:
    """A customer files only records of the types customers may file (422 naming the type)."""
    if actor.kind == "customer" and not kind_type.customer_submittable:
        raise Unprocessable.on("body.type_id", f"Customers cannot file {noun}s of this type.")


def staff_fields(actor: Actor, sent: set[str], fields: tuple[str, ...], noun: str) -> None:
    """What only staff set on a record a customer files (422 naming each)."""
    if actor.kind == "customer" and (chosen := [f for f in fields if f in sent]):
        raise Unprocessable(
            f"Staff set these fields of {a(noun)}.",
            errors=[FieldError(field=f"body.{f}", message="Set by staff only.") for f in chosen],
        )


def paths(actor: Actor, model: Any) -> list[Any]:
    """A member's own work: what it owns or is assigned, what waits in its units (so their
    members can accept it), and with unit visibility on, what belongs to the units below."""
    own_units = select(MemberUnit.business_unit_id).where(MemberUnit.member_id == actor.member_id)
    found = [
        model.owner_member_id == actor.member_id,
        model.assigned_member_id == actor.member_id,
        model.business_unit_id.in_(own_units),
    ]
    if actor.unit_ids:
        found.append(model.business_unit_id.in_(actor.unit_ids))
    return found


async def check_changer(session: AsyncSession, actor: Actor, spec: WorkKind[Any], record: Any) -> None:
    """The owner, the assignee, a member of its unit, or `manage` may change a work item."""
    if actor.can(spec.manage) or (
        actor.member_id is not None and actor.member_id in (record.owner_member_id, record.assigned_member_id)
    ):
        return
    if record.business_unit_id is not None and record.business_unit_id in await unit_ids(session, actor):
        return
    raise NotOwner(f"Only the {spec.noun}'s owner, assignee, unit or '{spec.manage}' may change it.")


def check_assigner(actor: Actor, spec: WorkKind[Any], record: Any, changes: dict[str, Any]) -> None:
    """Who works on an item is the owner's (or `manage`'s) call; the assignee and unit members
    take pending items through `accept`. An item past its initial state keeps an assignee."""
    if not changes.keys() & {"assigned_member_id", "business_unit_id"}:
        return
    if not (actor.can(spec.manage) or (actor.member_id and actor.member_id == record.owner_member_id)):
        raise NotOwner(f"Only the {spec.noun}'s owner or '{spec.manage}' may reassign it.")
    if record.assigned_member_id is None and record.state != spec.kind.initial:
        raise Unprocessable.on(
            "body.assigned_member_id",
            f"{a(spec.noun, start=True)} past {spec.kind.initial} keeps an assignee.",
        )


async def accept(session: AsyncSession, actor: Actor, spec: WorkKind[Any], record: Any) -> None:
    """A member of the item's unit (or one with `manage`) takes a pending item nobody is
    assigned yet."""
    spec.writable(record)
    if actor.member_id is None:
        raise StaffOnly(f"Only a member can accept {a(spec.noun)}.")
    if record.state != spec.kind.initial:
        raise NotPending(f"Only a {spec.kind.initial} {spec.noun} can be accepted.")
    if record.assigned_member_id is not None:
        raise AlreadyAssigned(f"The {spec.noun} is already assigned.")
    in_unit = record.business_unit_id is not None and record.business_unit_id in await unit_ids(
        session, actor
    )
    if not (in_unit or actor.can(spec.manage)):
        raise NotUnitMember(f"Only a member of the {spec.noun}'s business unit can accept it.")
    record.assigned_member_id, record.accepted_at = actor.member_id, datetime.now(UTC)
    record.updated_at = record.accepted_at
    await session.flush()
    accepted = {"assigned_member_id": {"old": None, "new": str(actor.member_id)}}
    announce(session, actor, record, entity=spec.entity, action="accepted", changes=accepted)


async def close_reminder(session: AsyncSession, actor: Actor, spec: WorkKind[Any], record: Any) -> None:
    """The item's reminder is dealt with: it leaves the reminders until a new time is set."""
    spec.writable(record)
    if record.reminder_at is None:
        raise NoReminder(f"The {spec.noun} has no reminder.")
    if record.reminder_closed_at is None:
        record.reminder_closed_at = record.updated_at = datetime.now(UTC)
        await session.flush()
        closed = {"reminder_closed_at": {"old": None, "new": record.reminder_closed_at.isoformat()}}
        announce(session, actor, record, entity=spec.entity, action="updated", changes=closed)
