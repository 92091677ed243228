"""The service request dashboard: counts by state, and of the open requests the overdue, the
unassigned, those customers submitted, per assignee and per priority, in the caller's scope.
One query grouping by state, assignee and priority together (a single hash aggregate: a few
hundred rows at most), summed into the views here; cheap enough to poll."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.service_requests import queries
from crmapi.service_requests.models import ServiceRequest


async def dashboard(session: AsyncSession, actor: Actor) -> dict[str, Any]:
    stmt = (
        select(
            ServiceRequest.state,
            ServiceRequest.assigned_member_id,
            ServiceRequest.priority,
            func.count().label("total"),
            func.count().filter(queries.overdue()).label("overdue"),
            func.count().filter(ServiceRequest.submitted_by_member_id.is_not(None)).label("submitted"),
        )
        .where(queries.scope(actor), ServiceRequest.deleted_at.is_(None))
        .group_by(ServiceRequest.state, ServiceRequest.assigned_member_id, ServiceRequest.priority)
    )
    by_state: Counter[str] = Counter()
    by_assignee: Counter[Any] = Counter()
    by_priority: Counter[int] = Counter()
    overdue = unassigned = from_customers = 0
    for row in await session.execute(stmt):
        by_state[row.state] += row.total
        overdue += row.overdue
        if row.state in queries.CLOSED:
            continue
        by_priority[row.priority] += row.total
        from_customers += row.submitted
        if row.assigned_member_id is None:
            unassigned += row.total
        else:
            by_assignee[row.assigned_member_id] += row.total
    return {
        "total": sum(by_state.values()),
        "open": sum(by_priority.values()),
        "overdue": overdue,
        "unassigned": unassigned,
        "from_customers": from_customers,
        "by_state": dict(by_state),
        "by_assignee": [
            {"member_id": member, "open": n}
            for member, n in sorted(by_assignee.items(), key=lambda a: (-a[1], str(a[0])))
        ],
        "by_priority": [{"priority": p, "open": n} for p, n in sorted(by_priority.items())],
    }
