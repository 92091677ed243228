"""Sales orders: placed as a draft on an account the placer sees, edited while a draft, submitted
to the ERP (an event webhooks and the change feed carry), then acknowledged, fulfilled or
cancelled by the ERP through the life-cycle engine."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.problems import MissingCapability, NotOwner
from crmapi.accounts import service as accounts
from crmapi.documents.totals import cents
from crmapi.kit.concurrency import check_version
from crmapi.kit.errors import NotFound, Unprocessable
from crmapi.kit.ids import new_id
from crmapi.lifecycle import engine
from crmapi.lifecycle.kinds import SALES_ORDER
from crmapi.lifecycle.problems import ReadOnly
from crmapi.records import history
from crmapi.records.changes import announce, tell
from crmapi.sales_orders import queries
from crmapi.sales_orders.models import SalesOrder, SalesOrderLine
from crmapi.sales_orders.problems import NotEditable
from crmapi.sales_orders.schemas import LineInput, SalesOrderCreate, SalesOrderUpdate

ENTITY = "sales_order"
HUNDRED = Decimal(100)
_DETAILS = ("reference", "delivery_address", "instructions", "requested_on")


def priced(line: LineInput) -> tuple[Decimal, Decimal]:
    """A line's net (quantity times unit price less the discount) and tax, each to the cent:
    exact decimals, rounded half away from zero as PostgreSQL's `round(numeric, 2)`."""
    net = cents(line.quantity * line.unit_price * (HUNDRED - line.discount_percent) / HUNDRED)
    return net, cents(net * line.tax_rate / HUNDRED)


def _lines(order: SalesOrder, lines: list[LineInput]) -> list[SalesOrderLine]:
    made = []
    for position, line in enumerate(lines, 1):
        net, tax = priced(line)
        made.append(
            SalesOrderLine(
                org_id=order.org_id,
                order_id=order.id,
                position=position,
                product_code=line.product_code,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                tax_rate=line.tax_rate,
                net=net,
                tax=tax,
            )
        )
    order.net = sum((line.net for line in made), Decimal(0))
    order.tax = sum((line.tax for line in made), Decimal(0))
    order.gross = order.net + order.tax
    return made


def snapshot(order: SalesOrder, lines: list[SalesOrderLine] | None = None) -> dict[str, Any]:
    values = {
        k: getattr(order, k) for k in (*_DETAILS, "account_id", "type_id", "currency", "net", "tax", "gross")
    }
    if lines is not None:
        values["lines"] = [
            {"product_code": line.product_code, "quantity": str(line.quantity), "net": str(line.net)}
            for line in lines
        ]
    return values


def _may_place(actor: Actor) -> None:
    """Staff and keys need `sales_orders.create`; a customer places orders on its own accounts."""
    if actor.kind != "customer" and not actor.can("sales_orders.create"):
        raise MissingCapability("Placing a sales order needs 'sales_orders.create'.")


async def create(session: AsyncSession, actor: Actor, data: SalesOrderCreate) -> SalesOrder:
    """A draft on an account the actor sees (404 otherwise), in the account's currency; the
    placer owns it."""
    _may_place(actor)
    account = await accounts.get(session, actor, data.account_id)
    loaded = await engine.load_type(session, ENTITY, data.type_id)
    if not loaded.type.active:
        raise Unprocessable.on("body.type_id", "This sales order type is retired.")
    initial = loaded.default_status(SALES_ORDER.initial)
    now = datetime.now(UTC)
    order = SalesOrder(
        org_id=actor.org_id,
        id=new_id(),
        number=(await accounts.next_numbers(session, actor.org_id, ENTITY))[0],
        account_id=account.id,
        type_id=loaded.type.id,
        status_id=initial.id,
        state=initial.state,
        currency=account.credit_limit_currency or await accounts.org_currency(session, actor),
        owner_member_id=actor.member_id,
        created_at=now,
        updated_at=now,
        **{k: getattr(data, k) for k in _DETAILS},
    )
    lines = _lines(order, data.lines)
    session.add(order)
    await session.flush()
    session.add_all(lines)
    await session.flush()
    announce(
        session,
        actor,
        order,
        entity=ENTITY,
        action="created",
        changes=history.diff({}, snapshot(order, lines)),
    )
    return order


async def get_for_change(
    session: AsyncSession, actor: Actor, order_id: UUID, expected: int | None = None
) -> SalesOrder:
    """The order, locked, if the actor may change it: its placer or `sales_orders.manage`."""
    stmt = queries.readable(actor).where(SalesOrder.id == order_id).with_for_update()
    order = (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()
    if order is None:
        raise NotFound("No sales order with this id.")
    mine = actor.member_id is not None and actor.member_id == order.owner_member_id
    if not (mine or actor.can("sales_orders.manage")):
        raise NotOwner("Only the order's placer or 'sales_orders.manage' may change it.")
    check_version(order.version, expected)
    return order


def _draft(order: SalesOrder) -> None:
    if order.state in SALES_ORDER.read_only:
        raise ReadOnly(f"A sales order in state '{order.state}' cannot change.")
    if order.state != "draft":
        raise NotEditable(f"The order was submitted (state '{order.state}'); it can no longer be edited.")


async def update(
    session: AsyncSession, actor: Actor, order_id: UUID, data: SalesOrderUpdate, expected: int | None
) -> SalesOrder:
    """Change a draft; `lines` replaces every line. Nothing is written when nothing changes."""
    order = await get_for_change(session, actor, order_id, expected)
    _draft(order)
    old_lines = await lines_of(session, order)
    before = snapshot(order, old_lines)
    sent = data.model_dump(include=data.model_fields_set - {"lines"})
    for key, value in sent.items():
        setattr(order, key, value)
    new_lines = _lines(order, data.lines) if data.lines is not None else old_lines
    changes = history.diff(before, snapshot(order, new_lines))
    if not changes:
        return order
    order.updated_at = datetime.now(UTC)  # before the DELETE's autoflush: one version a change
    if data.lines is not None:
        await session.execute(
            delete(SalesOrderLine).where(
                SalesOrderLine.org_id == order.org_id, SalesOrderLine.order_id == order.id
            )
        )
        session.add_all(new_lines)
    await session.flush()
    announce(session, actor, order, entity=ENTITY, action="updated", changes=changes)
    return order


async def lines_of(session: AsyncSession, order: SalesOrder) -> list[SalesOrderLine]:
    stmt = (
        select(SalesOrderLine)
        .where(SalesOrderLine.org_id == order.org_id, SalesOrderLine.order_id == order.id)
        .order_by(SalesOrderLine.position)
    )
    return list((await session.execute(stmt)).scalars())


async def move(session: AsyncSession, actor: Actor, order: SalesOrder, state: str, **values: Any) -> None:
    """To the type's default status of `state` through the engine (a refusal is its problem);
    `values` are written with the move and recorded in its history row."""
    loaded = await engine.load_type(session, ENTITY, order.type_id)
    changes = {
        k: {"old": history.jsonable(getattr(order, k)), "new": history.jsonable(v)} for k, v in values.items()
    }
    await engine.move(
        session,
        actor,
        order,
        loaded,
        entity=ENTITY,
        to_status_id=loaded.target(state, None),
        completed="closed_at",
        changes=changes,
    )
    for key, value in values.items():
        setattr(order, key, value)
    await session.flush()


async def submit(session: AsyncSession, actor: Actor, order_id: UUID, expected: int | None) -> SalesOrder:
    """Hand the draft to the ERP: it is no longer editable, and `sales_order.submitted` goes out
    (webhooks, the change feed) with the order's number and account."""
    order = await get_for_change(session, actor, order_id, expected)
    _draft(order)
    await move(session, actor, order, "submitted", submitted_at=datetime.now(UTC))
    tell(
        session,
        actor,
        topic=f"{ENTITY}.submitted",
        entity=ENTITY,
        entity_id=order.id,
        event={"version": order.version, "number": order.number, "account_id": str(order.account_id)},
    )
    return order


async def cancel(session: AsyncSession, actor: Actor, order_id: UUID, expected: int | None) -> SalesOrder:
    """A draft or submitted order withdrawn by its placer (or `sales_orders.manage`); once the ERP
    acknowledged it, only the ERP cancels it."""
    order = await get_for_change(session, actor, order_id, expected)
    if order.state == "acknowledged":
        raise NotEditable("The ERP acknowledged the order; only the ERP can cancel it now.")
    await move(session, actor, order, "cancelled")
    return order
