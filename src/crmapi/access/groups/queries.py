"""Groups as administrators read them: each with its grants and member count in the same row."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

from crmapi.access.actor import Actor
from crmapi.access.groups.schemas import GroupListQuery
from crmapi.access.models import Group, GroupGrant, GroupMember
from crmapi.identity import pages
from crmapi.kit.pagination import Sorting
from crmapi.kit.search import escape_like

SORTING = Sorting(
    columns={"name": Group.name, "created_at": Group.created_at}, id_column=Group.id, default="name"
)

_GRANTED = (
    select(func.array_agg(aggregate_order_by(GroupGrant.capability, GroupGrant.capability)))
    .where(GroupGrant.org_id == Group.org_id, GroupGrant.group_id == Group.id)
    .scalar_subquery()
)
_MEMBERS = (
    select(func.count())
    .where(GroupMember.org_id == Group.org_id, GroupMember.group_id == Group.id)
    .scalar_subquery()
)


def readable(actor: Actor) -> Select[Any]:
    """(Group, capabilities, member count) rows of the organisation."""
    return select(Group, _GRANTED.label("capabilities"), _MEMBERS.label("member_count")).where(
        Group.org_id == actor.org_id
    )


def filtered(actor: Actor, f: GroupListQuery) -> Select[Any]:
    stmt = readable(actor)
    if f.q:
        # Tens of groups per organisation: a scan is fine.
        part = "%" + escape_like(f.q) + "%"
        stmt = stmt.where(Group.name.ilike(part, escape="\\"))
    if f.member_id is not None:
        stmt = stmt.where(
            Group.id.in_(
                select(GroupMember.group_id).where(
                    GroupMember.org_id == actor.org_id, GroupMember.member_id == f.member_id
                )
            )
        )
    if f.capability is not None:
        stmt = stmt.where(
            Group.id.in_(
                select(GroupGrant.group_id).where(
                    GroupGrant.org_id == actor.org_id, GroupGrant.capability == f.capability
                )
            )
        )
    return stmt


def members(actor: Actor, group_id: UUID) -> Select[Any]:
    """(Member, email) rows of the group's members."""
    inside = select(GroupMember.member_id).where(
        GroupMember.org_id == actor.org_id, GroupMember.group_id == group_id
    )
    return pages.linked(actor, inside)
