"""Reading an account's documents, its balance, and the accounts filtered by what they owe.

Documents are seen with their account: whoever may read the account reads its documents (a rep
its accounts', a customer its own account's). Answers are rendered by PostgreSQL (`kit.rendered`):
amounts as text, lines and allocations as arrays of the document's row.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Select, and_, bindparam, case, func, literal_column, null, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from crmapi.access.actor import Actor
from crmapi.accounts import queries as accounts
from crmapi.documents.models import Allocation, Document, DocumentLine
from crmapi.documents.schemas import DocumentListQuery, DocumentRead
from crmapi.identity.calendar import today
from crmapi.kit import rendered
from crmapi.kit.pagination import Sorting


def _lines() -> ColumnElement[Any]:
    line = DocumentLine
    item = rendered.build(
        position=line.position,
        product_code=line.product_code,
        description=line.description,
        quantity=rendered.amount(line.quantity),
        quantity_outstanding=rendered.amount(line.quantity_outstanding),
        unit_price=rendered.amount(line.unit_price),
        net=rendered.amount(line.net),
        tax=rendered.amount(line.tax),
    )
    found = (
        select(func.json_agg(aggregate_order_by(item, line.position)))
        .where(line.org_id == Document.org_id, line.document_id == Document.id)
        .scalar_subquery()
    )
    return func.coalesce(found, literal_column("'[]'::json"))


def _allocations() -> ColumnElement[Any]:
    invoice = Document.__table__.alias("invoice")
    item = rendered.build(
        invoice_id=Allocation.invoice_id,
        invoice_number=invoice.c.number,
        amount=rendered.amount(Allocation.amount),
    )
    found = (
        select(func.json_agg(aggregate_order_by(item, invoice.c.number)))
        .select_from(Allocation)
        .join(invoice, and_(invoice.c.org_id == Allocation.org_id, invoice.c.id == Allocation.invoice_id))
        .where(Allocation.org_id == Document.org_id, Allocation.document_id == Document.id)
        .scalar_subquery()
    )
    return func.coalesce(found, literal_column("'[]'::json"))


KINDS = ("invoice", "credit", "back_order", "payment")


def _columns() -> dict[str, ColumnElement[Any]]:
    # Days overdue count from the document's organisation's today: the same expression serves a
    # request and the worker rendering events of any organisation.
    as_of = today(Document.org_id)
    overdue = (Document.kind == "invoice") & (Document.outstanding > 0) & (Document.due_on < as_of)
    return {
        **rendered.columns(DocumentRead, Document),
        **{name: rendered.amount(getattr(Document, name)) for name in ("net", "tax", "gross", "outstanding")},
        "days_overdue": case((overdue, as_of - Document.due_on), else_=null()),
        "lines": _lines(),
        "allocations": _allocations(),
    }


COLUMNS = _columns()
RENDERED = rendered.json_object(DocumentRead, COLUMNS)


def rendered_as(fields: set[str] | None) -> ColumnElement[str]:
    return RENDERED if fields is None else rendered.json_object(DocumentRead, COLUMNS, fields)


SORTING = Sorting(
    columns={"issued_on": Document.issued_on, "number": Document.number, "updated_at": Document.updated_at},
    id_column=Document.id,
    default="-issued_on",
)


def filtered(actor: Actor, account_id: UUID, kind: str, f: DocumentListQuery) -> Select[Any]:
    """An account's documents of a kind matching the filter (the account is already known to be
    in the actor's scope)."""
    stmt = select(Document).where(
        Document.org_id == actor.org_id, Document.account_id == account_id, Document.kind == kind
    )
    if f.status is not None:
        stmt = stmt.where(Document.status == f.status)
    if f.issued_from is not None:
        stmt = stmt.where(Document.issued_on >= f.issued_from)
    if f.issued_to is not None:
        stmt = stmt.where(Document.issued_on <= f.issued_to)
    if f.due_from is not None:
        stmt = stmt.where(Document.due_on >= f.due_from)
    if f.due_to is not None:
        stmt = stmt.where(Document.due_on <= f.due_to)
    if f.outstanding is not None:
        stmt = stmt.where(Document.outstanding > 0 if f.outstanding else Document.outstanding == 0)
    if f.overdue_days_gt is not None:
        stmt = stmt.where(Document.outstanding > 0, Document.due_on < today(actor.org_id) - f.overdue_days_gt)
    return stmt


def scope(actor: Actor) -> Any:
    """Documents are seen with their account: those of the live accounts the actor sees."""
    return (Document.org_id == actor.org_id) & Document.account_id.in_(accounts.visible_ids(actor))


def answer(actor: Actor, fields: set[str] | None) -> Select[str, int]:
    """A document in the actor's scope (`:record_id`) as its answer's JSON text, and its version
    (records.answers.by_id)."""
    return select(rendered_as(fields), Document.version).where(
        scope(actor), Document.id == bindparam("record_id")
    )


_BUCKETS = (("days_1_30", 1, 30), ("days_31_60", 31, 60), ("days_61_90", 61, 90), ("days_over_90", 91, None))


async def balance(session: AsyncSession, actor: Actor, account_id: UUID) -> dict[str, Any]:
    """The account's balance per currency and its last payment, from its documents, in one
    round trip."""
    as_of = today(actor.org_id)
    mine = (Document.org_id == actor.org_id) & (Document.account_id == account_id)
    open_invoice = (Document.kind == "invoice") & (Document.outstanding > 0)
    late = as_of - Document.due_on

    def total(condition: Any) -> ColumnElement[Any]:
        return rendered.amount(func.coalesce(func.sum(case((condition, Document.outstanding), else_=0)), 0))

    def bucket(low: int, high: int | None) -> ColumnElement[Any]:
        within = late >= low if high is None else late.between(low, high)
        return total(open_invoice & within)

    buckets = rendered.build(
        not_due=total(open_invoice & (late <= 0)),
        **{name: bucket(low, high) for name, low, high in _BUCKETS},
    )
    per_currency = (
        select(
            rendered.build(
                currency=Document.currency,
                outstanding=total(open_invoice),
                overdue=total(open_invoice & (late > 0)),
                buckets=buckets,
                unallocated_credits=total(Document.kind == "credit"),
                unallocated_payments=total(Document.kind == "payment"),
                open_invoices=func.count().filter(open_invoice),
            ).label("item"),
            Document.currency,
        )
        .where(mine, Document.kind != "back_order")
        .group_by(Document.currency)
        .subquery()
    )
    last = (
        select(
            rendered.build(
                id=Document.id,
                number=Document.number,
                paid_on=Document.issued_on,
                amount=rendered.amount(Document.gross),
                currency=Document.currency,
            )
        )
        .where(mine, Document.kind == "payment")
        .order_by(Document.issued_on.desc(), Document.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    stmt = select(
        as_of,
        select(
            func.coalesce(
                func.json_agg(aggregate_order_by(per_currency.c.item, per_currency.c.currency)),
                literal_column("'[]'::json"),
            )
        ).scalar_subquery(),
        last,
    )
    row = (await session.execute(stmt)).one()
    return {"as_of": row[0], "currencies": row[1], "last_payment": row[2]}
