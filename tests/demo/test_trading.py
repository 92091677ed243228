"""The demo's trading record and sales orders: documents that add up as a push checks them,
balances that are their open invoices summed, and orders in every state linked to the ERP's
documents."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest_asyncio
from httpx import AsyncClient
from sqlalchemy import func, select

from crmapi.accounts.models import Account
from crmapi.demo.data import Demo, load
from crmapi.documents import totals
from crmapi.documents.models import AccountBalance, Allocation, Document, DocumentLine
from crmapi.documents.schemas import RECORDS
from crmapi.identity.calendar import today
from crmapi.kit.db import Database, bind_org
from crmapi.sales_orders import service
from crmapi.sales_orders.models import SalesOrder, SalesOrderLine
from crmapi.sales_orders.schemas import LineInput
from tests.demo.test_demo import _every, _sign_in

STATES = ("draft", "submitted", "acknowledged", "fulfilled", "cancelled")


@pytest_asyncio.fixture(loop_scope="session")
async def demo(db: Database) -> Demo:
    async with db.sessions() as session:
        demo = await load(session, seed=7, contacts=60, accounts=20)
        await session.commit()
    return demo


async def _rows(db: Database, org_id: UUID, *columns: Any) -> list[Any]:
    async with db.sessions() as session:
        await bind_org(session, org_id)
        return list(await session.execute(select(*columns)))


async def test_the_counts_match_the_rows_and_every_coded_account_trades(demo: Demo, db: Database) -> None:
    org = demo.organisation_id
    kinds = Counter(kind for (kind,) in await _rows(db, org, Document.kind))
    assert {k: demo.counts[k] for k in ("invoices", "credits", "back_orders", "payments")} == {
        "invoices": kinds["invoice"],
        "credits": kinds["credit"],
        "back_orders": kinds["back_order"],
        "payments": kinds["payment"],
    }
    assert all(kinds[k] for k in ("invoice", "credit", "back_order", "payment"))
    for key, column in (
        ("document_lines", DocumentLine.position),
        ("allocations", Allocation.amount),
        ("account_balances", AccountBalance.outstanding),
        ("sales_orders", SalesOrder.id),
    ):
        assert len(await _rows(db, org, column)) == demo.counts[key], key
    states = Counter(state for (state,) in await _rows(db, org, SalesOrder.state))
    assert states == dict.fromkeys(STATES, 5)
    coded = {account_id for account_id, code in await _rows(db, org, Account.id, Account.code) if code}
    invoiced = Counter(a for (a,) in await _rows(db, org, Document.account_id) if a)
    assert set(invoiced) == coded
    per_account = Counter(
        a for a, kind in await _rows(db, org, Document.account_id, Document.kind) if kind == "invoice"
    )
    assert 9 <= sum(per_account.values()) / len(per_account) <= 13  # about one a month for a year


async def test_every_document_adds_up_as_a_push_checks_it(demo: Demo, db: Database) -> None:
    org = demo.organisation_id
    codes = dict(await _rows(db, org, Account.id, Account.code))
    lines: dict[UUID, list[Any]] = defaultdict(list)
    for line in await _rows(db, org, DocumentLine):
        lines[line[0].document_id].append(line[0])
    documents = {d.id: d for (d,) in await _rows(db, org, Document)}
    allocations: dict[UUID, list[Allocation]] = defaultdict(list)
    allocated: dict[UUID, Decimal] = defaultdict(Decimal)
    for (allocation,) in await _rows(db, org, Allocation):
        allocations[allocation.document_id].append(allocation)
        allocated[allocation.invoice_id] += allocation.amount
        assert documents[allocation.invoice_id].kind == "invoice"
        assert documents[allocation.invoice_id].account_id == documents[allocation.document_id].account_id
        assert documents[allocation.invoice_id].issued_on <= documents[allocation.document_id].issued_on
    for index, document in enumerate(sorted(documents.values(), key=lambda d: d.number)):
        record = RECORDS[document.kind].model_validate(
            _record(document, codes, lines, allocations, documents)
        )
        figures = totals.figures(index, record)
        assert isinstance(figures, totals.Figures), f"{document.number}: {figures}"
        assert (figures.net, figures.tax, figures.gross, figures.outstanding) == (
            document.net,
            document.tax,
            document.gross,
            document.outstanding,
        ), document.number
        assert document.line_count == len(lines[document.id]) and len(document.fingerprint) == 96
        if document.kind == "invoice":
            assert document.outstanding == document.gross - allocated[document.id], document.number
            assert (document.due_on - document.issued_on).days == 30
            assert {line.tax for line in lines[document.id]} == {
                totals.cents(line.net * 23 / Decimal(100)) for line in lines[document.id]
            }


def _record(
    document: Document,
    codes: dict[UUID, str],
    lines: dict[UUID, list[Any]],
    allocations: dict[UUID, list[Allocation]],
    documents: dict[UUID, Document],
) -> dict[str, Any]:
    """The document as its ERP would push it."""
    record: dict[str, Any] = {
        "number": document.number,
        "account_code": codes[document.account_id],
        "currency": document.currency,
        "status": document.status,
        "reference": document.reference,
    }
    line_fields = ["product_code", "description", "quantity", "unit_price", "net", "tax"]
    if document.kind == "back_order":
        line_fields.append("quantity_outstanding")
    record["lines"] = [{f: getattr(line, f) for f in line_fields} for line in lines[document.id]]
    record["allocations"] = [
        {"invoice_number": documents[a.invoice_id].number, "amount": a.amount}
        for a in allocations[document.id]
    ]
    if document.kind == "invoice":
        record |= {
            "issued_on": document.issued_on,
            "due_on": document.due_on,
            "net": document.net,
            "tax": document.tax,
            "gross": document.gross,
            "outstanding": document.outstanding,
            "sales_order_number": document.sales_order_number,
        }
        del record["allocations"]
    elif document.kind == "credit":
        record |= {
            "issued_on": document.issued_on,
            "net": document.net,
            "tax": document.tax,
            "gross": document.gross,
        }
    elif document.kind == "back_order":
        record |= {
            "ordered_on": document.issued_on,
            "expected_on": document.due_on,
            "sales_order_number": document.sales_order_number,
        }
        del record["allocations"]
    else:
        del record["lines"]
        record |= {"paid_on": document.issued_on, "amount": document.gross, "method": document.method}
    return record


async def test_the_balances_are_the_open_invoices_summed(
    client: AsyncClient, demo: Demo, db: Database
) -> None:
    org = demo.organisation_id
    open_invoices: dict[tuple[UUID, str], list[Document]] = defaultdict(list)
    for (document,) in await _rows(db, org, Document):
        if document.kind == "invoice" and document.outstanding > 0:
            open_invoices[(document.account_id, document.currency)].append(document)
    balances = {(b.account_id, b.currency): b for (b,) in await _rows(db, org, AccountBalance)}
    assert set(balances) == set(open_invoices)
    for key, invoices in open_invoices.items():
        assert balances[key].outstanding == sum(i.outstanding for i in invoices)
        assert balances[key].oldest_due_on == min(i.due_on for i in invoices)

    admin = await _sign_in(client, demo.admin.email)
    [(as_of,)] = await _rows(db, org, today(org))
    late = {account_id for (account_id, _), b in balances.items() if (as_of - b.oldest_due_on).days > 60}
    overdue = await _every(client, "/v1/accounts", admin, overdue_days_gt="60")
    assert {UUID(a["id"]) for a in overdue} == late and late
    buckets: Counter[str] = Counter()
    for account_id, currency in balances:
        r = await client.get(f"/v1/accounts/{account_id}/balance", headers=admin)
        assert r.status_code == 200, r.text
        [figures] = r.json()["currencies"]
        assert Decimal(figures["outstanding"]) == balances[(account_id, currency)].outstanding
        buckets.update(name for name, value in figures["buckets"].items() if Decimal(value) > 0)
    assert set(buckets) == {"not_due", "days_1_30", "days_31_60", "days_61_90", "days_over_90"}


async def test_sales_orders_fill_every_state_and_the_erp_documents_name_them(
    client: AsyncClient, demo: Demo, db: Database
) -> None:
    admin = await _sign_in(client, demo.admin.email)
    orders = await _every(client, "/v1/sales-orders", admin)
    now = datetime.now(UTC)
    assert Counter(o["state"] for o in orders) == dict.fromkeys(STATES, 5)
    for order in orders:
        state = order["state"]
        assert (order["erp_number"] is not None) == (state in ("acknowledged", "fulfilled"))
        assert (order["acknowledged_at"] is not None) == (state in ("acknowledged", "fulfilled"))
        assert (order["closed_at"] is not None) == (state in ("fulfilled", "cancelled"))
        assert (order["submitted_at"] is None) == (state == "draft") or state == "cancelled"
        assert order["currency"] == "PLN" and 1 <= len(order["lines"]) <= 4
        moments = [
            datetime.fromisoformat(order[k])
            for k in ("created_at", "submitted_at", "acknowledged_at", "closed_at")
            if order[k]
        ]
        assert moments == sorted(moments) and moments[-1] == datetime.fromisoformat(order["updated_at"]) < now
        assert Decimal(order["gross"]) == Decimal(order["net"]) + Decimal(order["tax"]) > 0
        for line in order["lines"]:  # priced as the service prices a line
            priced = service.priced(LineInput.model_validate({k: line[k] for k in LineInput.model_fields}))
            assert priced == (Decimal(line["net"]), Decimal(line["tax"])), order["number"]
        assert Decimal(order["net"]) == sum(Decimal(line["net"]) for line in order["lines"])
        assert Decimal(order["tax"]) == sum(Decimal(line["tax"]) for line in order["lines"])
        kind = {"fulfilled": "invoices", "acknowledged": "back-orders"}.get(state)
        if kind is not None:
            documents = await _every(client, f"/v1/accounts/{order['account_id']}/{kind}", admin)
            named = [d for d in documents if d["sales_order_id"] == order["id"]]
            assert [d["sales_order_number"] for d in named] == [order["erp_number"]]
    org = demo.organisation_id
    [(lines,)] = await _rows(db, org, func.count(SalesOrderLine.position))
    assert lines == sum(len(o["lines"]) for o in orders)

    # The series goes on after the demo's orders.
    body = {
        "account_id": orders[0]["account_id"],
        "lines": [{"product_code": "PAL-EUR", "quantity": "2", "unit_price": "48.00", "tax_rate": "23"}],
    }
    made = await client.post("/v1/sales-orders", json=body, headers=admin)
    assert made.status_code == 201, made.text
    assert made.json()["number"] == 26
