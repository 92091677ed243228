"""Who follows an issue, told of its comments, changes and logged work: members who chose to,
those the issue type makes followers (filing it, commenting on it), and those staff added. A
follower is always someone who can see the issue."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.problems import StaffOnly
from crmapi.accounts.models import AccountAssignment
from crmapi.identity.models import Member
from crmapi.issues.models import Issue, IssueFollower
from crmapi.kit.errors import NotFound, Unprocessable


async def add(session: AsyncSession, member_id: UUID, issue: Issue) -> None:
    """The member follows the issue (once)."""
    await session.execute(
        insert(IssueFollower)
        .values(org_id=issue.org_id, issue_id=issue.id, member_id=member_id)
        .on_conflict_do_nothing()
    )


async def listed(session: AsyncSession, issue: Issue) -> list[Any]:
    rows = await session.execute(
        select(IssueFollower.member_id, IssueFollower.created_at)
        .where(IssueFollower.issue_id == issue.id)
        .order_by(IssueFollower.created_at, IssueFollower.member_id)
    )
    return list(rows)


async def follow(session: AsyncSession, actor: Actor, issue: Issue, member_id: UUID | None) -> UUID:
    """The caller follows; staff may add another member: active staff, or a customer assigned to
    the issue's account (as a conversation's participants)."""
    if actor.member_id is None:
        raise StaffOnly("Members follow issues, not API keys.")
    chosen = member_id or actor.member_id
    if chosen != actor.member_id:
        if actor.kind == "customer":
            raise StaffOnly("Customers follow issues themselves only.")
        assigned = select(AccountAssignment.member_id).where(
            AccountAssignment.account_id == issue.account_id, AccountAssignment.member_id == chosen
        )
        stmt = select(Member.id).where(
            Member.id == chosen,
            Member.status == "active",
            or_(Member.kind == "staff", Member.id.in_(assigned)),
        )
        if (await session.execute(stmt)).first() is None:
            raise Unprocessable.on(
                "body.member_id",
                "Not an active staff member, nor a customer assigned to the issue's account.",
            )
    await add(session, chosen, issue)
    return chosen


async def unfollow(session: AsyncSession, actor: Actor, issue: Issue, member_id: UUID) -> None:
    """A member stops following; staff may take anyone off the list."""
    if member_id != actor.member_id and actor.kind != "staff":
        raise StaffOnly("Only staff take others off an issue's followers.")
    gone = await session.execute(
        delete(IssueFollower)
        .where(IssueFollower.issue_id == issue.id, IssueFollower.member_id == member_id)
        .returning(IssueFollower.member_id)
    )
    if gone.first() is None:
        raise NotFound("This member does not follow the issue.")
