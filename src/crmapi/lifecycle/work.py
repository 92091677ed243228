"""Work items: records a member or a business unit works on through a life cycle (leads,
activities, and service requests next). Who sees them besides their kind's own paths, who may
change them, who may reassign them, and how a unit member takes one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.models import MemberUnit
from crmapi.changes import announce
from crmapi.errors import Conflict, Forbidden, Unprocessable
from crmapi.lifecycle.kinds import Kind


@dataclass(frozen=True)
class WorkKind:
    entity: str  # history entity: lead, activity
    noun: str  # in messages: "lead", "activity"
    kind: Kind
    model: Any
    manage: str  # the capability that changes any of them: leads.manage

    def writable(self, record: Any) -> None:
        if record.state in self.kind.read_only:
            raise Conflict(f"A {self.noun} in state '{record.state}' cannot change.", slug="read-only")


async def unit_ids(session: AsyncSession, actor: Actor) -> set[UUID]:
    """The business units the member belongs to (directly)."""
    if actor.member_id is None:
        return set()
    rows = await session.execute(
        select(MemberUnit.business_unit_id).where(MemberUnit.member_id == actor.member_id)
    )
    return set(rows.scalars())


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


async def check_changer(session: AsyncSession, actor: Actor, spec: WorkKind, record: Any) -> None:
    """The owner, the assignee, a member of its unit, or `manage` may change a work item."""
    if actor.can(spec.manage) or (
        actor.member_id is not None and actor.member_id in (record.owner_member_id, record.assigned_member_id)
    ):
        return
    if record.business_unit_id is not None and record.business_unit_id in await unit_ids(session, actor):
        return
    raise Forbidden(
        f"Only the {spec.noun}'s owner, assignee, unit or '{spec.manage}' may change it.", slug="not-owner"
    )


def check_assigner(actor: Actor, spec: WorkKind, record: Any, changes: dict[str, Any]) -> None:
    """Who works on an item is the owner's (or `manage`'s) call; the assignee and unit members
    take pending items through `accept`. An item past its initial state keeps an assignee."""
    if not changes.keys() & {"assigned_member_id", "business_unit_id"}:
        return
    if not (actor.can(spec.manage) or (actor.member_id and actor.member_id == record.owner_member_id)):
        raise Forbidden(f"Only the {spec.noun}'s owner or '{spec.manage}' may reassign it.", slug="not-owner")
    if record.assigned_member_id is None and record.state != spec.kind.initial:
        raise Unprocessable.on(
            "body.assigned_member_id", f"A {spec.noun} past {spec.kind.initial} keeps an assignee."
        )


async def accept(session: AsyncSession, actor: Actor, spec: WorkKind, record: Any) -> None:
    """A member of the item's unit (or one with `manage`) takes a pending item nobody is
    assigned yet."""
    spec.writable(record)
    if actor.member_id is None:
        raise Forbidden(f"Only a member can accept a {spec.noun}.", slug="staff-only")
    if record.state != spec.kind.initial:
        raise Conflict(f"Only a {spec.kind.initial} {spec.noun} can be accepted.", slug="not-pending")
    if record.assigned_member_id is not None:
        raise Conflict(f"The {spec.noun} is already assigned.", slug="already-assigned")
    in_unit = record.business_unit_id is not None and record.business_unit_id in await unit_ids(
        session, actor
    )
    if not (in_unit or actor.can(spec.manage)):
        raise Forbidden(
            f"Only a member of the {spec.noun}'s business unit can accept it.", slug="not-unit-member"
        )
    record.assigned_member_id, record.accepted_at = actor.member_id, datetime.now(UTC)
    record.updated_at = record.accepted_at
    await session.flush()
    accepted = {"assigned_member_id": {"old": None, "new": str(actor.member_id)}}
    announce(session, actor, record, entity=spec.entity, action="accepted", changes=accepted)


async def close_reminder(session: AsyncSession, actor: Actor, spec: WorkKind, record: Any) -> None:
    """The item's reminder is dealt with: it leaves the reminders until a new time is set."""
    spec.writable(record)
    if record.reminder_at is None:
        raise Conflict(f"The {spec.noun} has no reminder.", slug="no-reminder")
    if record.reminder_closed_at is None:
        record.reminder_closed_at = record.updated_at = datetime.now(UTC)
        await session.flush()
        closed = {"reminder_closed_at": {"old": None, "new": record.reminder_closed_at.isoformat()}}
        announce(session, actor, record, entity=spec.entity, action="updated", changes=closed)
