"""Outbox events become notifications, in the worker's transaction that marks them delivered
(never in the request): each event of a kind with a notification category tells the people the
record concerns (a service request's assignee, a sales order's placer, a conversation's
participants, a feed's members) and, for some, the category's subscribers (its members and its
groups' members), except those who muted the category and the member who made the change."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.models import GroupMember
from crmapi.accounts.models import AccountAssignment
from crmapi.config.models import NotificationCategory
from crmapi.conversations.models import Conversation, Participant
from crmapi.feeds.models import FeedMember
from crmapi.identity.models import Member
from crmapi.issues.models import Issue, IssueFollower
from crmapi.kit.ids import new_id
from crmapi.notifications.models import Mute, Notification
from crmapi.sales_orders.models import SalesOrder
from crmapi.service_requests.models import ServiceRequest

# The members an event's record concerns, by event id.
People = Callable[[AsyncSession, Sequence[Any]], Awaitable[dict[UUID, set[UUID]]]]


@dataclass(frozen=True)
class Rule:
    """How one kind's events tell people: the category they belong to (codes of
    config.catalogue.NOTIFICATION_CATEGORIES), which operations are worth telling (`told_of`,
    given the operation and the payload), which of them the category's subscribers hear of
    (`subscribers`, given the operation), and the people the record concerns (`people`: by
    event id, read when the event is delivered)."""

    category: str
    told_of: Callable[[str, dict[str, Any]], bool]
    subscribers: Callable[[str], bool]
    people: People


ASSIGNED = "assigned_member_id"


def _work(operations: set[str]) -> Callable[[str, dict[str, Any]], bool]:
    """A record made, moved, answered by its customer, or given to someone (an `updated` naming
    the assignee); not every edit."""
    return lambda operation, payload: (
        operation in operations or (operation == "updated" and ASSIGNED in payload.get("fields", ()))
    )


def _person(column: Any) -> People:
    """The member a record's `column` names (a request's assignee, an order's placer)."""

    async def found(session: AsyncSession, events: Sequence[Any]) -> dict[UUID, set[UUID]]:
        table = column.class_
        ids = {e.entity_id for e in events}
        rows = await session.execute(select(table.id, column).where(table.id.in_(ids)))
        person = {record_id: member_id for record_id, member_id in rows}
        return {e.id: {person[e.entity_id]} for e in events if person.get(e.entity_id) is not None}

    return found


def _members_of(pairs: Select[UUID, UUID], owner: Any, owner_of: Callable[[Any], UUID]) -> People:
    """The members `pairs` (owner id, member id) names for each event's owner (`owner_of(event)`:
    a conversation, a feed)."""

    async def found(session: AsyncSession, events: Sequence[Any]) -> dict[UUID, set[UUID]]:
        owners = {e.id: owner_of(e) for e in events}
        rows = await session.execute(pairs.where(owner.in_(set(owners.values()))))
        by_owner: dict[UUID, set[UUID]] = {}
        for owner_id, member_id in rows:
            by_owner.setdefault(owner_id, set()).add(member_id)
        return {event_id: by_owner.get(owner_id, set()) for event_id, owner_id in owners.items()}

    return found


async def _added(session: AsyncSession, events: Sequence[Any]) -> dict[UUID, set[UUID]]:
    """The member a conversation's step added."""
    return {e.id: {UUID(e.payload["member_id"])} for e in events if e.payload.get("member_id")}


async def _conversation_people(session: AsyncSession, events: Sequence[Any]) -> dict[UUID, set[UUID]]:
    """A new conversation's participants; the member a step added."""
    created = [e for e in events if e.topic == "conversation.created"]
    found = await _participants(session, created) if created else {}
    return found | await _added(session, [e for e in events if e.topic != "conversation.created"])


# A conversation's participants who may still read it: staff, and customers still assigned to
# its account (a customer unassigned keeps its participant row, and hears nothing more).
_READERS = (
    select(Participant.conversation_id, Participant.member_id)
    .join(
        Conversation,
        (Conversation.org_id == Participant.org_id) & (Conversation.id == Participant.conversation_id),
    )
    .join(Member, (Member.org_id == Participant.org_id) & (Member.id == Participant.member_id))
    .where(
        or_(
            Member.kind == "staff",
            exists().where(
                AccountAssignment.org_id == Participant.org_id,
                AccountAssignment.account_id == Conversation.account_id,
                AccountAssignment.member_id == Participant.member_id,
            ),
        )
    )
)
_participants = _members_of(_READERS, Participant.conversation_id, lambda e: e.entity_id)


async def _issue_people(session: AsyncSession, events: Sequence[Any]) -> dict[UUID, set[UUID]]:
    """An issue's assignee; for all but its filing, its followers who may still read it (staff,
    and customers still assigned to its account; staff only when the event is an internal
    comment)."""
    ids = {e.entity_id for e in events}
    assigned = dict(
        (await session.execute(select(Issue.id, Issue.assigned_member_id).where(Issue.id.in_(ids)))).all()
    )
    following: dict[UUID, list[tuple[UUID, str]]] = {}
    still_assigned = exists().where(
        AccountAssignment.org_id == IssueFollower.org_id,
        AccountAssignment.account_id == Issue.account_id,
        AccountAssignment.member_id == IssueFollower.member_id,
    )
    rows = await session.execute(
        select(IssueFollower.issue_id, IssueFollower.member_id, Member.kind)
        .join(Member, (Member.org_id == IssueFollower.org_id) & (Member.id == IssueFollower.member_id))
        .join(Issue, (Issue.org_id == IssueFollower.org_id) & (Issue.id == IssueFollower.issue_id))
        .where(IssueFollower.issue_id.in_(ids), or_(Member.kind == "staff", still_assigned))
    )
    for issue_id, member_id, kind in rows:
        following.setdefault(issue_id, []).append((member_id, kind))
    found: dict[UUID, set[UUID]] = {}
    for e in events:
        assignee = assigned.get(e.entity_id)
        people: set[UUID] = {assignee} if assignee else set()
        if e.topic != "issue.created":
            staff_only = bool((e.payload or {}).get("internal"))
            people |= {m for m, kind in following.get(e.entity_id, ()) if kind == "staff" or not staff_only}
        found[e.id] = people
    return found


_ALWAYS: Callable[[str], bool] = lambda _: True  # noqa: E731
_NEVER: Callable[[str], bool] = lambda _: False  # noqa: E731
RULES: dict[str, Rule] = {
    "service_request": Rule(
        "SERVICE_REQUESTS",
        _work({"created", "transition", "contact_accepted", "rated"}),
        _ALWAYS,
        _person(ServiceRequest.assigned_member_id),
    ),
    "sales_order": Rule(
        "SALES_ORDERS", _work({"created", "transition"}), _ALWAYS, _person(SalesOrder.owner_member_id)
    ),
    # A new issue tells its assignee and the category; its changes, moves, comments and logged
    # work tell the assignee and its followers.
    "issue": Rule(
        "ISSUES",
        lambda operation, payload: (
            operation in ("created", "updated", "transition", "commented", "work_logged")
        ),
        lambda operation: operation == "created",
        _issue_people,
    ),
    # A new conversation tells its participants and the category; a member added, that member.
    "conversation": Rule(
        "CONVERSATIONS",
        lambda operation, payload: operation == "created" or payload.get("action") == "participant_added",
        lambda operation: operation == "created",
        _conversation_people,
    ),
    # A message tells the conversation's participants (the members it mentions among them); the
    # one a conversation opens with is told of by `conversation.created`.
    "message": Rule(
        "CONVERSATIONS",
        lambda operation, payload: operation == "created" and not payload.get("opening"),
        _NEVER,
        _members_of(_READERS, Participant.conversation_id, lambda e: UUID(e.payload["conversation_id"])),
    ),
    # An announcement tells the feed's members, and nobody else: feeds are exclusive.
    "feed_post": Rule(
        "ANNOUNCEMENTS",
        lambda operation, payload: operation == "created" and bool(payload.get("announcement")),
        _NEVER,
        _members_of(
            select(FeedMember.feed_id, FeedMember.member_id),
            FeedMember.feed_id,
            lambda e: UUID(e.payload["feed_id"]),
        ),
    ),
}
CATEGORY_OF_KIND = {kind: rule.category for kind, rule in RULES.items()}


def _heard_by_all(event: Any) -> bool:
    """Whether the category's subscribers hear of the event."""
    return RULES[event.entity].subscribers(event.topic.partition(".")[2])


def told_of(event: Any) -> bool:
    rule = RULES.get(event.entity)
    return rule is not None and rule.told_of(event.topic.partition(".")[2], event.payload or {})


async def notify(session: AsyncSession, org_id: UUID, events: Sequence[Any], now: datetime) -> int:
    """Write the notifications of `events` (outbox rows) in the bound organisation; how many."""
    relevant = [e for e in events if told_of(e)]
    if not relevant:
        return 0
    codes = {CATEGORY_OF_KIND[e.entity] for e in relevant}
    subscribed = await _subscribers(session, {RULES[e.entity].category for e in relevant if _heard_by_all(e)})
    people: dict[UUID, set[UUID]] = {}
    for kind in {e.entity for e in relevant}:
        people |= await RULES[kind].people(session, [e for e in relevant if e.entity == kind])
    active = await _active(session, set().union(*people.values()) if people else set())
    retired = await _retired(session, codes)
    mutes = await session.execute(select(Mute.member_id, Mute.category).where(Mute.category.in_(codes)))
    muted = {(member_id, category) for member_id, category in mutes}
    rows = []
    for event in relevant:
        rule = RULES[event.entity]
        if rule.category in retired:
            continue
        told = (subscribed.get(rule.category, set()) if _heard_by_all(event) else set()) | (
            people.get(event.id, set()) & active
        )
        told.discard(event.actor_member_id)  # nobody is told of what they did
        rows += [
            {
                "org_id": org_id,
                "id": new_id(),
                "member_id": member_id,
                "category": rule.category,
                "event_id": event.id,
                "type": event.topic,
                "kind": event.entity,
                "record_id": event.entity_id,
                "details": event.payload or {},
                "created_at": now,
            }
            for member_id in sorted(told)
            if (member_id, rule.category) not in muted
        ]
    if rows:
        stmt = insert(Notification).on_conflict_do_nothing(index_elements=["org_id", "member_id", "event_id"])
        await session.execute(stmt, rows)
    return len(rows)


async def _retired(session: AsyncSession, codes: set[str]) -> set[str]:
    stmt = select(NotificationCategory.code).where(
        NotificationCategory.code.in_(codes), NotificationCategory.active.is_(False)
    )
    return set((await session.execute(stmt)).scalars())


async def _active(session: AsyncSession, members: set[UUID]) -> set[UUID]:
    if not members:
        return set()
    stmt = select(Member.id).where(Member.id.in_(members), Member.status == "active")
    return set((await session.execute(stmt)).scalars())


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
    active = await _active(session, set().union(*found.values()))
    return {code: members & active for code, members in found.items()}
