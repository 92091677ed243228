"""The ERP's answers to submitted orders, in bulk: its number for each, and how far it got.

Each record is decided on its own, in a savepoint: a refused move (a draft acknowledged, a
fulfilled order cancelled) is that record's error and leaves the order as it was. A record that
says what the order already says writes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.integrations import feed
from crmapi.integrations.feed import at
from crmapi.kit.errors import FieldError, ProblemError
from crmapi.lifecycle.problems import NoSuchTransition
from crmapi.records.changes import announce
from crmapi.sales_orders.models import SalesOrder
from crmapi.sales_orders.schemas import Acknowledgement
from crmapi.sales_orders.service import ENTITY, move

# The steps from where an order is to where the ERP says it got.
_PATHS: dict[tuple[str, str], tuple[str, ...]] = {
    ("submitted", "acknowledged"): ("acknowledged",),
    ("submitted", "fulfilled"): ("acknowledged", "fulfilled"),
    ("acknowledged", "fulfilled"): ("fulfilled",),
    ("submitted", "cancelled"): ("cancelled",),
    ("acknowledged", "cancelled"): ("cancelled",),
}


async def acknowledge(session: AsyncSession, actor: Actor, records: list[Any]) -> dict[str, Any]:
    batch = feed.parse(records, Acknowledgement, key="number")
    numbers = [r.number for _, r in batch.valid]
    stmt = select(SalesOrder).where(SalesOrder.org_id == actor.org_id, SalesOrder.number.in_(numbers))
    orders = {
        o.number: o for o in (await session.execute(stmt.order_by(SalesOrder.id).with_for_update())).scalars()
    }
    erp_numbers = [r.erp_number for _, r in batch.valid]
    found = await session.execute(
        select(SalesOrder.erp_number, SalesOrder.number).where(
            SalesOrder.org_id == actor.org_id, SalesOrder.erp_number.in_(erp_numbers)
        )
    )
    taken: dict[str | None, int] = {erp_number: number for erp_number, number in found}
    for index, record in batch.valid:
        order = orders.get(record.number)
        if order is None:
            message = f"No sales order has the number {record.number}."
            batch.fail(
                index,
                record.number,
                "unknown-order",
                [FieldError(field=at(index, "number"), message=message)],
            )
            continue
        owner = taken.get(record.erp_number, record.number)
        if owner != record.number or (order.erp_number not in (None, record.erp_number)):
            message = (
                f"The ERP number '{record.erp_number}' belongs to another order, or this order has another."
            )
            batch.fail(
                index, record.number, "conflict", [FieldError(field=at(index, "erp_number"), message=message)]
            )
            continue
        try:
            async with session.begin_nested():
                changed = await _apply(session, actor, order, record)
        except ProblemError as refused:
            errors = [FieldError(field=at(index, "state"), message=refused.detail or refused.title)]
            batch.fail(index, record.number, "not-allowed", errors)
            await session.refresh(order)
            continue
        taken[record.erp_number] = record.number
        batch.decide(index, record.number, "updated" if changed else "unchanged", order.id)
    return batch.answer()


async def _apply(session: AsyncSession, actor: Actor, order: SalesOrder, record: Acknowledgement) -> bool:
    """Move the order along its path with the ERP's number and status; False when it already
    says all this."""
    if order.state == record.state:
        if (order.erp_number, order.erp_status) == (record.erp_number, record.erp_status):
            return False
        changes = {
            k: {"old": getattr(order, k), "new": getattr(record, k)}
            for k in ("erp_number", "erp_status")
            if getattr(order, k) != getattr(record, k)
        }
        order.erp_number, order.erp_status = record.erp_number, record.erp_status
        order.updated_at = datetime.now(UTC)
        await session.flush()
        announce(session, actor, order, entity=ENTITY, action="updated", changes=changes)
        return True
    path = _PATHS.get((order.state, record.state))
    if path is None:
        raise NoSuchTransition(f"An order in state '{order.state}' cannot become '{record.state}'.")
    for step in path:
        values: dict[str, Any] = {"erp_status": record.erp_status}
        if step == "acknowledged":
            values |= {"erp_number": record.erp_number, "acknowledged_at": datetime.now(UTC)}
        await move(session, actor, order, step, **{k: v for k, v in values.items() if getattr(order, k) != v})
    return True
