"""Records that name a business unit must name one of the organisation's."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.models import BusinessUnit
from crmapi.kit.errors import Unprocessable


async def require_unit(
    session: AsyncSession, unit_id: UUID | None, field: str = "body.business_unit_id"
) -> None:
    if unit_id is None:
        return
    found = await session.execute(select(BusinessUnit.id).where(BusinessUnit.id == unit_id))
    if found.first() is None:
        raise Unprocessable.on(field, "No business unit with this id.")
