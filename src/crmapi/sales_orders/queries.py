"""What an actor may read of sales orders: those of the accounts it sees (a customer: its own
account's), or every one with `sales_orders.view_any`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Select, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement

from crmapi.access.actor import Actor
from crmapi.accounts import queries as accounts
from crmapi.kit import rendered
from crmapi.kit.pagination import Sorting
from crmapi.sales_orders.models import SalesOrder, SalesOrderLine
from crmapi.sales_orders.schemas import SalesOrderListQuery, SalesOrderRead

_AMOUNTS = ("quantity", "unit_price", "discount_percent", "tax_rate", "net", "tax")


def _lines() -> ColumnElement[Any]:
    line = SalesOrderLine
    item = rendered.build(
        position=line.position,
        product_code=line.product_code,
        description=line.description,
        **{name: rendered.amount(getattr(line, name)) for name in _AMOUNTS},
    )
    found = (
        select(func.json_agg(aggregate_order_by(item, line.position)))
        .where(line.org_id == SalesOrder.org_id, line.order_id == SalesOrder.id)
        .scalar_subquery()
    )
    return func.coalesce(found, literal_column("'[]'::json"))


COLUMNS = {
    **rendered.columns(SalesOrderRead, SalesOrder),
    **{name: rendered.amount(getattr(SalesOrder, name)) for name in ("net", "tax", "gross")},
    "lines": _lines(),
}


def rendered_as(fields: set[str] | None) -> ColumnElement[str]:
    return rendered.json_object(SalesOrderRead, COLUMNS, fields)


SORTING = Sorting(
    columns={
        "created_at": SalesOrder.created_at,
        "number": SalesOrder.number,
        "updated_at": SalesOrder.updated_at,
    },
    id_column=SalesOrder.id,
    default="-created_at",
)


def scope(actor: Actor) -> Any:
    if actor.can("sales_orders.view_any"):
        return SalesOrder.org_id == actor.org_id
    return (SalesOrder.org_id == actor.org_id) & SalesOrder.account_id.in_(accounts.visible_ids(actor))


def readable(actor: Actor) -> Select[SalesOrder]:
    return select(SalesOrder).where(scope(actor))


def answer(actor: Actor, fields: set[str] | None) -> Select[str, int]:
    """An order in the actor's scope (`:record_id`) as its answer's JSON text, and its version
    (records.answers.by_id)."""
    by_id = readable(actor).where(SalesOrder.id == bindparam("record_id"))
    return by_id.with_only_columns(rendered_as(fields), SalesOrder.version)


def filtered(actor: Actor, f: SalesOrderListQuery, account_id: UUID | None = None) -> Select[SalesOrder]:
    stmt = readable(actor)
    for column, value in (
        (SalesOrder.account_id, account_id or f.account_id),
        (SalesOrder.state, f.state),
        (SalesOrder.status_id, f.status_id),
        (SalesOrder.owner_member_id, f.owner_member_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    return stmt
