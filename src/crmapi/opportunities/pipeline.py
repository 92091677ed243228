"""The pipeline summary: per stage, how many opportunities and how much, per currency, plain and
weighted by probability, in the list's scope and filters."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.accounts.service import FOUR_PLACES
from crmapi.lifecycle import engine
from crmapi.lifecycle.models import LifecycleStatus
from crmapi.opportunities import queries
from crmapi.opportunities.schemas import OpportunityBoardQuery


async def stage_ids(session: AsyncSession, query: OpportunityBoardQuery) -> list[UUID] | None:
    """With `type_id`, the columns are that type's statuses; otherwise every active one."""
    if query.type_id is None:
        return None
    return (await engine.load_type(session, "opportunity", query.type_id, "query.type_id")).type.status_ids


async def summary(session: AsyncSession, actor: Actor, query: OpportunityBoardQuery) -> dict[str, Any]:
    limited = await stage_ids(session, query)
    matching = queries.narrowed(queries.readable(actor), query)
    counts: dict[UUID, int] = defaultdict(int)
    amounts: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    for row in await session.execute(queries.stage_sums(matching)):
        counts[row.status_id] += row.count
        if row.amount_currency is not None:
            amounts[row.status_id].append(
                {
                    "currency": row.amount_currency,
                    "amount": Decimal(row.amount).quantize(FOUR_PLACES),
                    "weighted": Decimal(row.weighted).quantize(FOUR_PLACES),
                }
            )
    stages = select(LifecycleStatus).where(LifecycleStatus.kind == "opportunity", LifecycleStatus.active)
    if limited is not None:
        stages = stages.where(LifecycleStatus.id.in_(limited))
    ordered = await session.execute(stages.order_by(LifecycleStatus.position, LifecycleStatus.id))
    return {
        "stages": [
            {
                "status_id": s.id,
                "code": s.code,
                "name": s.name,
                "state": s.state,
                "position": s.position,
                "count": counts[s.id],
                "amounts": sorted(amounts[s.id], key=lambda a: a["currency"]),
            }
            for s in ordered.scalars()
        ]
    }
