"""Outbox events become notifications, in the worker's transaction that marks them delivered
(never in the request): each event of a kind with a notification category tells the category's
subscribers (its members and its groups' members) and the people the record is about (a
service request's assignee, a sales order's placer), except those who muted the category."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.models import GroupMember
from crmapi.config.models import NotificationCategory
from crmapi.identity.models import Member
from crmapi.kit.ids import new_id
from crmapi.notifications.models import Mute, Notification
from crmapi.sales_orders.models import SalesOrder
from crmapi.service_requests.models import ServiceRequest

# The category each kind's events belong to (codes of config.defaults.NOTIFICATION_CATEGORIES),
# and the operations worth telling a person of: a record made, moved, answered by its customer,
# or given to someone (an `updated` naming the assignee); not every edit.
CATEGORY_OF_KIND = {"service_request": "SERVICE_REQUESTS", "sales_order": "SALES_ORDERS"}
TOLD = {
    "service_request": {"created", "transition", "contact_accepted", "rated"},
    "sales_order": {"created", "transition"},
}
ASSIGNED = "assigned_member_id"


def told_of(event: Any) -> bool:
    if event.entity not in CATEGORY_OF_KIND:
        return False
    operation = event.topic.partition(".")[2]
    if operation == "updated":
        return ASSIGNED in (event.payload or {}).get("fields", ())
    return operation in TOLD[event.entity]


# Who a kind's record is about: its table and the member column naming them.
_ABOUT: dict[str, Any] = {
    "service_request": ServiceRequest.assigned_member_id,
    "sales_order": SalesOrder.owner_member_id,
}


async def notify(session: AsyncSession, org_id: UUID, events: Sequence[Any], now: datetime) -> int:
    """Write the notifications of `events` (outbox rows) in the bound organisation; how many."""
    relevant = [e for e in events if told_of(e)]
    if not relevant:
        return 0
    codes = {CATEGORY_OF_KIND[e.entity] for e in relevant}
    subscribed = await _subscribers(session, codes)
    about = await _about(session, relevant)
    mutes = await session.execute(select(Mute.member_id, Mute.category).where(Mute.category.in_(codes)))
    muted = {(member_id, category) for member_id, category in mutes}
    rows = []
    for event in relevant:
        code = CATEGORY_OF_KIND[event.entity]
        if code not in subscribed:
            continue  # retired
        told = set(subscribed[code])
        if (person := about.get(event.entity_id)) is not None:
            told.add(person)
        told.discard(event.actor_member_id)  # nobody is told of what they did
        rows += [
            {
                "org_id": org_id,
                "id": new_id(),
                "member_id": member_id,
                "category": code,
                "event_id": event.id,
                "type": event.topic,
                "kind": event.entity,
                "record_id": event.entity_id,
                "details": event.payload or {},
                "created_at": now,
            }
            for member_id in sorted(told)
            if (member_id, code) not in muted
        ]
    if rows:
        stmt = insert(Notification).on_conflict_do_nothing(index_elements=["org_id", "member_id", "event_id"])
        await session.execute(stmt, rows)
    return len(rows)


async def _subscribers(session: AsyncSession, codes: set[str]) -> dict[str, set[UUID]]:
    """The active categories' subscribed active members, by code."""
    categories = (
        await session.execute(
            select(NotificationCategory).where(
                NotificationCategory.code.in_(codes), NotificationCategory.active
            )
        )
    ).scalars()
    chosen = list(categories)
    # The groups' members, every category's at once.
    groups = {group_id for category in chosen for group_id in category.group_ids}
    in_group: dict[UUID, set[UUID]] = {}
    if groups:
        rows = await session.execute(
            select(GroupMember.group_id, GroupMember.member_id).where(GroupMember.group_id.in_(groups))
        )
        for group_id, member_id in rows:
            in_group.setdefault(group_id, set()).add(member_id)
    found = {
        category.code: set(category.member_ids).union(*(in_group.get(g, set()) for g in category.group_ids))
        for category in chosen
    }
    everyone = set().union(*found.values())
    if everyone:
        active = set(
            (
                await session.execute(
                    select(Member.id).where(Member.id.in_(everyone), Member.status == "active")
                )
            ).scalars()
        )
        found = {code: members & active for code, members in found.items()}
    return found


async def _about(session: AsyncSession, events: Sequence[Any]) -> dict[UUID, UUID | None]:
    """The member each event's record is about, by record id (read now: the current assignee)."""
    found: dict[UUID, UUID | None] = {}
    for kind, column in _ABOUT.items():
        ids = {e.entity_id for e in events if e.entity == kind}
        if ids:
            table = column.class_
            rows = await session.execute(select(table.id, column).where(table.id.in_(ids)))
            found |= {record_id: member_id for record_id, member_id in rows}
    return found
