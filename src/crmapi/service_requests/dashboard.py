"""The service request dashboard: counts by state, and of the open requests the overdue, the
unassigned, per assignee and per priority, in the caller's scope; one grouping-sets query, cheap
enough to poll."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.service_requests import queries
from crmapi.service_requests.models import ServiceRequest

# GROUPING(state, assignee, priority): a bit is set for each column a row is not grouped by.
OVERALL, BY_STATE, BY_ASSIGNEE, BY_PRIORITY = 0b111, 0b011, 0b101, 0b110


async def dashboard(session: AsyncSession, actor: Actor) -> dict[str, Any]:
    dims = (ServiceRequest.state, ServiceRequest.assigned_member_id, ServiceRequest.priority)
    is_open = queries.is_open()
    stmt = (
        select(
            func.grouping(*dims).label("grouped"),
            *dims,
            func.count().label("total"),
            func.count().filter(is_open).label("open"),
            func.count().filter(queries.overdue()).label("overdue"),
            func.count().filter(is_open & ServiceRequest.assigned_member_id.is_(None)).label("unassigned"),
        )
        .where(queries.scope(actor), ServiceRequest.deleted_at.is_(None))
        .group_by(func.grouping_sets(tuple_(), *(tuple_(d) for d in dims)))
    )
    rows = (await session.execute(stmt)).all()
    overall = next((r for r in rows if r.grouped == OVERALL), None)
    return {
        "total": overall.total if overall else 0,
        "open": overall.open if overall else 0,
        "overdue": overall.overdue if overall else 0,
        "unassigned": overall.unassigned if overall else 0,
        "by_state": {r.state: r.total for r in rows if r.grouped == BY_STATE},
        "by_assignee": sorted(
            (
                {"member_id": r.assigned_member_id, "open": r.open}
                for r in rows
                if r.grouped == BY_ASSIGNEE and r.open and r.assigned_member_id is not None
            ),
            key=lambda a: (-a["open"], str(a["member_id"])),
        ),
        "by_priority": sorted(
            ({"priority": r.priority, "open": r.open} for r in rows if r.grouped == BY_PRIORITY and r.open),
            key=lambda p: p["priority"],
        ),
    }
