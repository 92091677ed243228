"""The feedback summary: count, average and distribution overall and by request type, category,
assignee and month (in the caller's time zone), in one grouping-sets query over the caller's
scope."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.config.models import Category
from crmapi.feedback import service
from crmapi.feedback.models import Feedback
from crmapi.feedback.schemas import SummaryQuery
from crmapi.lifecycle.models import LifecycleType
from crmapi.service_requests.models import ServiceRequest

RATINGS = range(1, 6)
# GROUPING(type, category, assignee, month): a bit is set for each column a row is not grouped by.
OVERALL, BY_TYPE, BY_CATEGORY, BY_ASSIGNEE, BY_MONTH = 0b1111, 0b0111, 0b1011, 0b1101, 0b1110


async def summary(session: AsyncSession, actor: Actor, f: SummaryQuery) -> dict[str, Any]:
    rated = (
        select(
            Feedback.rating,
            ServiceRequest.type_id,
            ServiceRequest.category_id,
            ServiceRequest.assigned_member_id,
            func.to_char(func.timezone(actor.time_zone, Feedback.created_at), "YYYY-MM").label("month"),
        )
        .join(
            ServiceRequest,
            (ServiceRequest.org_id == Feedback.org_id) & (ServiceRequest.id == Feedback.service_request_id),
        )
        .where(service.scope(actor))
    )
    if f.created_from:
        rated = rated.where(Feedback.created_at >= f.created_from)
    if f.created_to:
        rated = rated.where(Feedback.created_at < f.created_to)
    r = rated.subquery()
    dims = (r.c.type_id, r.c.category_id, r.c.assigned_member_id, r.c.month)
    stmt = select(
        func.grouping(*dims).label("grouped"),
        *dims,
        func.count().label("count"),
        func.round(func.avg(r.c.rating), 2).label("average"),
        *(func.count().filter(r.c.rating == n).label(f"r{n}") for n in RATINGS),
    ).group_by(func.grouping_sets(tuple_(), *(tuple_(d) for d in dims)))
    rows = (await session.execute(stmt)).all()
    names = await _names(session, rows)
    found: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        stats = {
            "count": row.count,
            "average": float(row.average) if row.average is not None else None,
            "distribution": {str(n): getattr(row, f"r{n}") for n in RATINGS},
        }
        label = {
            BY_TYPE: {"type_id": row.type_id, "name": names.get(row.type_id, "")},
            BY_CATEGORY: {"category_id": row.category_id, "name": names.get(row.category_id)},
            BY_ASSIGNEE: {"member_id": row.assigned_member_id},
            BY_MONTH: {"month": row.month},
        }.get(row.grouped, {})
        found.setdefault(row.grouped, []).append(stats | label)
    empty = {"count": 0, "average": None, "distribution": {str(n): 0 for n in RATINGS}}
    return {
        "time_zone": actor.time_zone,
        "overall": (found.get(OVERALL) or [empty])[0],
        "by_type": sorted(found.get(BY_TYPE, []), key=lambda s: s["name"]),
        "by_category": sorted(found.get(BY_CATEGORY, []), key=lambda s: s["name"] or ""),
        "by_assignee": sorted(found.get(BY_ASSIGNEE, []), key=lambda s: str(s["member_id"])),
        "by_month": sorted(found.get(BY_MONTH, []), key=lambda s: s["month"]),
    }


async def _names(session: AsyncSession, rows: Sequence[Any]) -> dict[Any, str]:
    ids = {row.type_id for row in rows} | {row.category_id for row in rows}
    ids.discard(None)
    if not ids:
        return {}
    types = select(LifecycleType.id, LifecycleType.name).where(LifecycleType.id.in_(ids))
    categories = select(Category.id, Category.name).where(Category.id.in_(ids))
    return {row.id: row.name for row in await session.execute(types.union_all(categories))}
