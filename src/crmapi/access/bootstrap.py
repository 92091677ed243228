"""The groups a new organisation starts with."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.models import Group, GroupGrant, GroupMember
from crmapi.kit.ids import new_id

ADMINISTRATORS = "Administrators"


async def administrators(session: AsyncSession, org_id: UUID, member_id: UUID) -> UUID:
    """Create the organisation's "Administrators" group (granted org.admin) with one member."""
    group = Group(org_id=org_id, id=new_id(), name=ADMINISTRATORS, description="Administer the organisation.")
    session.add(group)
    await session.flush()
    session.add_all(
        [
            GroupGrant(org_id=org_id, id=new_id(), group_id=group.id, capability="org.admin"),
            GroupMember(org_id=org_id, id=new_id(), group_id=group.id, member_id=member_id),
        ]
    )
    await session.flush()
    return group.id
