"""Groups: who holds which capabilities. Administrators edit them; Casbin reads them (policy.py).

Every change to membership or grants marks the organisation's policy changed in the same
transaction, so every process uses the new grants on its next request. Renaming a group changed
what nobody may do and leaves the policy alone. No change may leave the organisation without
an active administrator (`administrators.ensure_one_remains`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access import administrators, policy
from crmapi.access.actor import Actor
from crmapi.access.groups import queries
from crmapi.access.groups.schemas import GroupCreate, GroupRead, GroupUpdate
from crmapi.access.member_links import MemberLinks
from crmapi.access.models import Group, GroupGrant, GroupMember
from crmapi.access.problems import NameTaken
from crmapi.kit.concurrency import check_version
from crmapi.kit.errors import Conflict, NotFound
from crmapi.kit.ids import new_id
from crmapi.records import changes, history

ENTITY = "group"
# The expression index uq_groups_name: names are unique per organisation ignoring case.
_UNIQUE_NAME: list[Any] = [Group.org_id, func.lower(Group.name)]

MEMBERS = MemberLinks(
    GroupMember,
    "group_id",
    customer_refused="Customers cannot be put in groups: they see only what is assigned to them.",
    not_linked="This member is not in the group.",
)


def _snapshot(group: Group) -> dict[str, Any]:
    return {"name": group.name, "description": group.description}


def _taken(name: str) -> Conflict:
    return NameTaken(f"A group named '{name}' already exists (names ignore case).")


def read(group: Group, capabilities: Sequence[str] | None, member_count: int) -> GroupRead:
    found = GroupRead.model_validate(group)
    return found.model_copy(update={"capabilities": list(capabilities or []), "member_count": member_count})


async def create(session: AsyncSession, actor: Actor, data: GroupCreate) -> GroupRead:
    """Add a group with its grants and no members; 409 when the name is taken in any case."""
    now = datetime.now(UTC)
    stmt = (
        insert(Group)
        .values(
            org_id=actor.org_id,
            id=new_id(),
            name=data.name,
            description=data.description,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=_UNIQUE_NAME)
        .returning(Group)
    )
    group = (await session.execute(stmt)).scalar_one_or_none()
    if group is None:
        raise _taken(data.name)
    session.add_all(
        GroupGrant(org_id=actor.org_id, id=new_id(), group_id=group.id, capability=c)
        for c in data.capabilities
    )
    await session.flush()
    # Nobody is in the group yet, so nobody's capabilities change: the policy stays as it is.
    changes.announce_step(
        session,
        actor,
        group,
        entity=ENTITY,
        action="created",
        changes=history.diff({}, {**_snapshot(group), "capabilities": data.capabilities}),
    )
    return read(group, data.capabilities, 0)


async def get(session: AsyncSession, actor: Actor, group_id: UUID) -> GroupRead:
    """A group of the actor's organisation with its grants and member count; 404 otherwise."""
    row = (await session.execute(queries.readable(actor).where(Group.id == group_id))).one_or_none()
    if row is None:
        raise NotFound("No group with this id.")
    return read(*row)


async def _locked(session: AsyncSession, actor: Actor, group_id: UUID, expected: int | None = None) -> Group:
    """The group, locked, at the `expected` version when one is given (412 otherwise): changes to
    one group (and a delete of it) happen one after another."""
    stmt = select(Group).where(Group.org_id == actor.org_id, Group.id == group_id).with_for_update()
    group = (await session.execute(stmt)).scalar_one_or_none()
    if group is None:
        raise NotFound("No group with this id.")
    check_version(group.version, expected)
    return group


async def _changed(
    session: AsyncSession, actor: Actor, group: Group, action: str, changed: dict[str, Any]
) -> None:
    """After a change of members or grants: a new version (the group's ETag covers what it
    grants and how many are in it), the policy marked changed, history and an event."""
    group.updated_at = datetime.now(UTC)
    await session.flush()
    await policy.changed(session, actor.org_id)
    changes.announce_step(session, actor, group, entity=ENTITY, action=action, changes=changed)


async def update(
    session: AsyncSession, actor: Actor, group_id: UUID, data: GroupUpdate, expected: int | None
) -> GroupRead:
    """Rename a group or change its description."""
    group = await _locked(session, actor, group_id, expected)
    sent = data.model_dump(include=data.model_fields_set)
    before = _snapshot(group)
    for key, value in sent.items():
        setattr(group, key, value)
    if changed := history.diff(before, _snapshot(group)):
        group.updated_at = datetime.now(UTC)
        name = group.name  # a failed flush expires the object: read it before
        try:
            await session.flush()
        except IntegrityError as exc:
            raise _taken(name) from exc
        changes.announce_step(session, actor, group, entity=ENTITY, action="updated", changes=changed)
    return await get(session, actor, group.id)


async def delete(session: AsyncSession, actor: Actor, group_id: UUID, expected: int | None) -> None:
    """Delete a group, its grants and its memberships; 409 when that leaves no administrator."""
    group = await _locked(session, actor, group_id, expected)
    # The cascade takes grants and memberships without a trace: the history row keeps them.
    granted = await session.scalars(
        select(GroupGrant.capability)
        .where(GroupGrant.org_id == actor.org_id, GroupGrant.group_id == group.id)
        .order_by(GroupGrant.capability)
    )
    inside = await session.scalars(
        select(GroupMember.member_id)
        .where(GroupMember.org_id == actor.org_id, GroupMember.group_id == group.id)
        .order_by(GroupMember.member_id)
    )
    last = {**_snapshot(group), "capabilities": list(granted), "member_ids": [str(m) for m in inside]}
    await session.delete(group)  # grants and memberships go with it (ON DELETE CASCADE)
    await session.flush()
    await policy.changed(session, actor.org_id)
    await administrators.ensure_one_remains(session, actor.org_id)
    changes.announce_step(
        session, actor, group, entity=ENTITY, action="deleted", changes=history.diff(last, {})
    )


# --- members ---------------------------------------------------------------------------------


async def add_member(
    session: AsyncSession, actor: Actor, group_id: UUID, member_id: UUID, expected: int | None = None
) -> int:
    """Put a staff member in the group; a member already in it changes nothing. The group's
    version after it."""
    group = await _locked(session, actor, group_id, expected)
    if await MEMBERS.add(session, actor, group.id, member_id):
        await _changed(
            session, actor, group, "member_added", {"member_id": {"old": None, "new": str(member_id)}}
        )
    return group.version


async def remove_member(
    session: AsyncSession, actor: Actor, group_id: UUID, member_id: UUID, expected: int | None = None
) -> int:
    """Take a member out of the group; 404 when it is not in it, 409 when that leaves no
    administrator. The group's version after it."""
    group = await _locked(session, actor, group_id, expected)
    await MEMBERS.remove(session, actor, group.id, member_id)
    await _changed(
        session, actor, group, "member_removed", {"member_id": {"old": str(member_id), "new": None}}
    )
    await administrators.ensure_one_remains(session, actor.org_id)
    return group.version


# --- grants ----------------------------------------------------------------------------------


async def grant(
    session: AsyncSession, actor: Actor, group_id: UUID, capability: str, expected: int | None = None
) -> int:
    """Grant the group a capability; one it already has changes nothing. The group's version
    after it."""
    group = await _locked(session, actor, group_id, expected)
    added = await session.execute(
        insert(GroupGrant)
        .values(org_id=actor.org_id, id=new_id(), group_id=group.id, capability=capability)
        .on_conflict_do_nothing()
        .returning(GroupGrant.id)
    )
    if added.first() is not None:
        await _changed(session, actor, group, "granted", {"capabilities": {"old": None, "new": capability}})
    return group.version


async def revoke(
    session: AsyncSession, actor: Actor, group_id: UUID, capability: str, expected: int | None = None
) -> int:
    """Take a capability from the group; 404 when it does not have it, 409 when that leaves no
    administrator. The group's version after it."""
    group = await _locked(session, actor, group_id, expected)
    removed = await session.execute(
        sql_delete(GroupGrant)
        .where(
            GroupGrant.org_id == actor.org_id,
            GroupGrant.group_id == group.id,
            GroupGrant.capability == capability,
        )
        .returning(GroupGrant.id)
    )
    if removed.first() is None:
        raise NotFound("The group does not have this capability.")
    await _changed(session, actor, group, "revoked", {"capabilities": {"old": capability, "new": None}})
    await administrators.ensure_one_remains(session, actor.org_id)
    return group.version
