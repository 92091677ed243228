"""The rule no change may break: an organisation keeps at least one active administrator.

An administrator is an active staff member in a group granted `org.admin`. Every change that
could take the last one away (leaving or deleting a group, revoking the grant, suspending a
member) calls `ensure_one_remains` before its transaction commits.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.models import GroupGrant, GroupMember
from crmapi.access.problems import LastAdministrator
from crmapi.identity.models import Member, Organisation


async def ensure_one_remains(session: AsyncSession, org_id: UUID) -> None:
    """409 `last-administrator` when, with this transaction's changes, nobody holds org.admin.

    The organisation row is locked first: two administrators removing each other at the same
    time are serialised, and the second sees the first's change (READ COMMITTED re-reads). The
    lock is FOR NO KEY UPDATE, the one the policy bump takes: it does not wait for (or block)
    the key-share locks every insert of the organisation's rows holds through its foreign key."""
    await session.execute(
        select(Organisation.id).where(Organisation.id == org_id).with_for_update(key_share=True)
    )
    holder = (
        select(GroupMember.member_id)
        .join(
            GroupGrant,
            (GroupGrant.org_id == GroupMember.org_id) & (GroupGrant.group_id == GroupMember.group_id),
        )
        .join(Member, (Member.org_id == GroupMember.org_id) & (Member.id == GroupMember.member_id))
        .where(
            GroupMember.org_id == org_id,
            GroupGrant.capability == "org.admin",
            Member.kind == "staff",
            Member.status == "active",
        )
        .limit(1)
    )
    if (await session.execute(holder)).first() is None:
        raise LastAdministrator(
            "This would leave the organisation without an administrator: keep at least one active "
            "staff member in a group granted org.admin.",
        )
