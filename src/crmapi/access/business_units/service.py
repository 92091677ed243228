"""Business units: the organisation's unit tree and the staff members in each unit.

Units decide what a member sees when the organisation turns unit visibility on (its units and
every unit below them), so every change to the tree or to who is in a unit marks the
organisation's policy changed in the same transaction. Renaming a unit changes nothing anyone
sees and leaves the policy alone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access import policy
from crmapi.access.actor import Actor
from crmapi.access.business_units import queries
from crmapi.access.business_units.schemas import BusinessUnitCreate, BusinessUnitUpdate
from crmapi.access.member_links import MemberLinks
from crmapi.access.models import BusinessUnit, MemberUnit
from crmapi.access.problems import NameTaken, UnitHasChildren, UnitHasMembers, UnitHasRecords
from crmapi.accounts.models import Account
from crmapi.contacts.models import Contact
from crmapi.kit.concurrency import check_version
from crmapi.kit.errors import Conflict, NotFound, Unprocessable
from crmapi.kit.ids import new_id
from crmapi.records import changes, history

Lock = Literal["update", "share"] | None
ENTITY = "business_unit"
PARENT = "body.parent_id"
# The expression index uq_business_units_name: names are unique per organisation ignoring case.
_UNIQUE_NAME: list[Any] = [BusinessUnit.org_id, func.lower(BusinessUnit.name)]

MEMBERS = MemberLinks(
    MemberUnit,
    "business_unit_id",
    customer_refused="Only staff members can be in a business unit; this member is a customer.",
    not_linked="This member is not in the business unit.",
)


def _snapshot(unit: BusinessUnit) -> dict[str, Any]:
    return {"name": unit.name, "parent_id": unit.parent_id}


def _taken(name: str) -> Conflict:
    return NameTaken(f"A business unit named '{name}' already exists (names ignore case).")


async def create(session: AsyncSession, actor: Actor, data: BusinessUnitCreate) -> BusinessUnit:
    """Add a unit, at the top or below an existing one; 409 when the name is taken in any case."""
    if data.parent_id is not None:
        await _lock_parent(session, actor, data.parent_id)
    now = datetime.now(UTC)
    stmt = (
        insert(BusinessUnit)
        .values(
            org_id=actor.org_id,
            id=new_id(),
            name=data.name,
            parent_id=data.parent_id,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=_UNIQUE_NAME)
        .returning(BusinessUnit)
    )
    unit = (await session.execute(stmt)).scalar_one_or_none()
    if unit is None:
        raise _taken(data.name)
    # A new unit below another widens what the members of the units above it see.
    await policy.changed(session, actor.org_id)
    changes.announce_step(
        session, actor, unit, entity=ENTITY, action="created", changes=history.diff({}, _snapshot(unit))
    )
    return unit


async def get(session: AsyncSession, actor: Actor, unit_id: UUID, *, lock: Lock = None) -> BusinessUnit:
    """A unit of the actor's organisation, optionally locked (`update` or `share`); 404 otherwise."""
    stmt = queries.readable(actor).where(BusinessUnit.id == unit_id)
    if lock:
        stmt = stmt.with_for_update(read=lock == "share")
    unit = (await session.execute(stmt)).scalar_one_or_none()
    if unit is None:
        raise NotFound("No business unit with this id.")
    return unit


async def _lock_parent(session: AsyncSession, actor: Actor, parent_id: UUID) -> None:
    """422 on `body.parent_id` for an unknown unit. The parent is share-locked, so a concurrent
    delete of it waits for this transaction and then finds the child (or is seen as gone)."""
    stmt = queries.readable(actor).where(BusinessUnit.id == parent_id).with_for_update(read=True)
    if (await session.execute(stmt.with_only_columns(BusinessUnit.id))).first() is None:
        raise Unprocessable.on(PARENT, "No business unit with this id.")


async def _check_parent(session: AsyncSession, actor: Actor, unit: BusinessUnit, parent_id: UUID) -> None:
    """422 on `body.parent_id` for an unknown parent, or one that is the unit or below it."""
    if parent_id == unit.id:
        raise Unprocessable.on(PARENT, "A business unit cannot be its own parent.")
    await _lock_parent(session, actor, parent_id)
    if await session.scalar(queries.is_at_or_above(actor, unit.id, parent_id)):
        raise Unprocessable.on(PARENT, "This unit is below the one being moved: the tree would have a cycle.")


async def update(
    session: AsyncSession, actor: Actor, unit_id: UUID, data: BusinessUnitUpdate, expected: int | None
) -> BusinessUnit:
    """Rename a unit or move it (with everything below it) under another parent."""
    target = data.parent_id if "parent_id" in data.model_fields_set else None
    if target is not None and target < unit_id:
        # Units are locked in id order, all before the organisation's row: two crossed moves
        # (A under B, B under A) then take turns instead of deadlocking.
        await session.execute(
            queries.readable(actor)
            .where(BusinessUnit.id == target)
            .with_for_update(read=True)
            .with_only_columns(BusinessUnit.id)
        )
    unit = await get(session, actor, unit_id, lock="update")
    check_version(unit.version, expected)
    sent = data.model_dump(include=data.model_fields_set)
    moved = "parent_id" in sent and sent["parent_id"] != unit.parent_id
    if moved:
        # Bump first: the update locks the organisation's row until commit, so two moves in one
        # organisation take turns and cannot each pass the cycle check and together make a loop.
        await policy.changed(session, actor.org_id)
        if sent["parent_id"] is not None:
            await _check_parent(session, actor, unit, sent["parent_id"])
    before = _snapshot(unit)
    for key, value in sent.items():
        setattr(unit, key, value)
    changed = history.diff(before, _snapshot(unit))
    if not changed:
        return unit
    unit.updated_at = datetime.now(UTC)
    try:
        await session.flush()
    except IntegrityError as exc:
        # Another unit has this name in some case: the unique index decides, so a race cannot slip by.
        raise _taken(str(sent.get("name"))) from exc
    changes.announce_step(session, actor, unit, entity=ENTITY, action="updated", changes=changed)
    return unit


async def delete(session: AsyncSession, actor: Actor, unit_id: UUID, expected: int | None) -> None:
    """Delete a unit nothing depends on: no units below it, no members, no records in it."""
    unit = await get(session, actor, unit_id, lock="update")
    check_version(unit.version, expected)
    children = exists().where(BusinessUnit.org_id == actor.org_id, BusinessUnit.parent_id == unit.id)
    if await session.scalar(select(children)):
        raise UnitHasChildren("Other business units are below this one: move or delete them first.")
    members = exists().where(MemberUnit.org_id == actor.org_id, MemberUnit.business_unit_id == unit.id)
    if await session.scalar(select(members)):
        raise UnitHasMembers("Members are in this business unit: remove them first.")
    for model in (Account, Contact):
        # Deleted records too: their foreign key still names the unit, and a restore needs it.
        held = exists().where(model.org_id == actor.org_id, model.business_unit_id == unit.id)
        if await session.scalar(select(held)):
            raise _has_records()
    await session.delete(unit)
    try:
        await session.flush()
    except IntegrityError as exc:
        # A record put into the unit meanwhile, or a kind of record this check does not know yet.
        raise _has_records() from exc
    await policy.changed(session, actor.org_id)
    changes.announce_step(
        session, actor, unit, entity=ENTITY, action="deleted", changes=history.diff(_snapshot(unit), {})
    )


def _has_records() -> Conflict:
    return UnitHasRecords(
        "Records (accounts or contacts, deleted ones included) are in this business unit: "
        "move them to another unit first.",
    )


# --- members of a unit -----------------------------------------------------------------------


async def add_member(session: AsyncSession, actor: Actor, unit_id: UUID, member_id: UUID) -> None:
    """Put a staff member into a unit; a member already in it changes nothing."""
    # A shared lock: a concurrent delete of the unit either waits for this or is seen as gone.
    unit = await get(session, actor, unit_id, lock="share")
    await MEMBERS.join(session, actor, unit, member_id, entity=ENTITY)


async def remove_member(session: AsyncSession, actor: Actor, unit_id: UUID, member_id: UUID) -> None:
    """Take a member out of a unit; 404 when the member is not in it."""
    unit = await get(session, actor, unit_id)
    await MEMBERS.leave(session, actor, unit, member_id, entity=ENTITY)
