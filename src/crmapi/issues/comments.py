"""An issue's comments and the work logged on it. Anyone who sees the issue comments (a
customer never on internal ones, nor sees them); staff who see it log work. Each is a step in
the issue's history and an event (`issue.commented`, `issue.work_logged`) its followers hear of."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.problems import StaffOnly
from crmapi.issues import followers
from crmapi.issues.models import Issue, IssueComment, WorkLog
from crmapi.issues.schemas import CommentCreate, WorkLogCreate
from crmapi.kit.errors import Unprocessable
from crmapi.kit.ids import new_id
from crmapi.lifecycle.problems import ReadOnly
from crmapi.records.changes import write

ENTITY = "issue"


def _step(session: AsyncSession, actor: Actor, issue: Issue, action: str, about: dict[str, Any]) -> None:
    write(
        session,
        actor,
        entity=ENTITY,
        entity_id=issue.id,
        action=action,
        changes={key: {"old": None, "new": value} for key, value in about.items()},
        event={"version": issue.version, **about},
        topic=f"{ENTITY}.{action}",
    )


async def comment(
    session: AsyncSession, actor: Actor, issue: Issue, data: CommentCreate, follow_on: list[str]
) -> IssueComment:
    if actor.member_id is None:
        raise StaffOnly("Members comment on issues, not API keys.")
    if data.internal and actor.kind == "customer":
        raise Unprocessable.on("body.internal", "Customers cannot write internal comments.")
    made = IssueComment(
        org_id=actor.org_id,
        id=new_id(),
        issue_id=issue.id,
        author_member_id=actor.member_id,
        body=data.body,
        internal=data.internal,
        created_at=datetime.now(UTC),
    )
    session.add(made)
    await session.flush()
    _step(session, actor, issue, "commented", {"comment_id": str(made.id), "internal": made.internal})
    if "comment" in follow_on:
        await followers.add(session, actor.member_id, issue)
    return made


def comments_of(actor: Actor, issue_id: UUID) -> Any:
    """The issue's comments the actor reads, oldest first (keyset by created_at, id)."""
    stmt = select(IssueComment).where(IssueComment.issue_id == issue_id)
    if actor.kind == "customer":
        stmt = stmt.where(~IssueComment.internal)
    return stmt


async def log_work(session: AsyncSession, actor: Actor, issue: Issue, data: WorkLogCreate) -> WorkLog:
    """Time spent on the issue (locked by the caller); its total and version move with it."""
    if actor.kind != "staff" or actor.member_id is None:
        raise StaffOnly("Staff log work on issues.")
    if issue.state == "cancelled":
        raise ReadOnly("A cancelled issue takes no more work.")
    now = datetime.now(UTC)
    entry = WorkLog(
        org_id=actor.org_id,
        id=new_id(),
        issue_id=issue.id,
        member_id=actor.member_id,
        minutes=data.minutes,
        worked_at=data.worked_at or now,
        note=data.note,
        created_at=now,
    )
    session.add(entry)
    issue.logged_minutes += data.minutes
    issue.updated_at = now
    await session.flush()
    _step(session, actor, issue, "work_logged", {"work_log_id": str(entry.id), "minutes": entry.minutes})
    return entry


async def work_totals(session: AsyncSession, issue_id: UUID) -> tuple[int, dict[str, int]]:
    rows = await session.execute(
        select(WorkLog.member_id, func.sum(WorkLog.minutes))
        .where(WorkLog.issue_id == issue_id)
        .group_by(WorkLog.member_id)
    )
    by_member = {str(member_id): int(minutes) for member_id, minutes in rows}
    return sum(by_member.values()), by_member


async def entries(session: AsyncSession, issue_id: UUID) -> list[WorkLog]:
    rows = await session.execute(
        select(WorkLog)
        .where(WorkLog.issue_id == issue_id)
        .order_by(WorkLog.worked_at.desc(), WorkLog.id.desc())
    )
    return list(rows.scalars())
