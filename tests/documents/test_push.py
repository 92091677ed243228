"""ERP documents pushed by number: answered record by record, replays write nothing, totals are
checked against the lines, allocations name the account's invoices."""

from __future__ import annotations

from datetime import date

import pytest
from httpx import AsyncClient

from crmapi.documents.models import Allocation, Document, DocumentLine
from crmapi.kit.db import Database
from crmapi.records.history import HistoryEntry
from crmapi.records.outbox import OutboxEvent
from tests.documents.erp import debtors, invoice, outcomes, payment, push
from tests.permissions import api_key
from tests.support import Tenant, Tenants, rows_of


@pytest.fixture
async def erp(db: Database, tenants: Tenants, acme: Tenant) -> dict[str, str]:
    return await api_key(db, tenants, acme, ["integrations.push"])


async def test_invoices_are_created_with_their_lines_then_unchanged_when_sent_again(
    client: AsyncClient, db: Database, acme: Tenant, erp: dict[str, str]
) -> None:
    accounts = await debtors(client, erp, "D-1", "D-2")
    records = [
        invoice("FV/1", "D-1", lines=[("3", "12.50", "8.63"), ("1", "0.333", "0.08")]),
        invoice("FV/2", "D-2", reference="PO-7"),
    ]
    first = await push(client, "invoices", erp, records)
    assert outcomes(first) == ["created", "created"] and first["results"][0]["number"] == "FV/1"
    stored = {d.number: d for d in await rows_of(db, acme, Document)}
    assert str(stored["FV/1"].account_id) == accounts["D-1"]
    # 3 x 12.50 + 0.333 rounded to the cent
    assert str(stored["FV/1"].net) == "37.8300" and str(stored["FV/1"].gross) == "46.5400"
    lines = sorted(
        (line.position, str(line.net))
        for line in await rows_of(db, acme, DocumentLine)
        if line.document_id == stored["FV/1"].id
    )
    assert lines == [(1, "37.5000"), (2, "0.3300")]
    assert len(await rows_of(db, acme, HistoryEntry, entity="invoice")) == 2
    events = await rows_of(db, acme, OutboxEvent, entity="invoice")
    assert {e.topic for e in events} == {"invoice.created"}
    assert {e.payload["number"] for e in events} == {"FV/1", "FV/2"}

    # Amounts spelled differently are the same amounts: nothing is written.
    records[1]["net"] = records[1]["net"] + "0"
    records[1]["lines"][0]["unit_price"] = "10.0"
    again = await push(client, "invoices", erp, records)
    assert outcomes(again) == ["unchanged", "unchanged"]
    assert [r["id"] for r in again["results"]] == [r["id"] for r in first["results"]]
    assert len(await rows_of(db, acme, HistoryEntry, entity="invoice")) == 2

    records[0]["outstanding"] = "10.00"
    records[0]["status"] = "part-paid"
    changed = await push(client, "invoices", erp, records)
    assert outcomes(changed) == ["updated", "unchanged"]
    history = [h for h in await rows_of(db, acme, HistoryEntry, entity="invoice") if h.action == "updated"]
    assert history[0].changes == {
        "outstanding": {"old": "46.5400", "new": "10.00"},
        "status": {"old": "open", "new": "part-paid"},
    }
    assert len(await rows_of(db, acme, DocumentLine)) == 3  # lines unchanged, not rewritten twice


async def test_each_bad_record_is_its_own_error_and_the_rest_are_written(
    client: AsyncClient, db: Database, acme: Tenant, erp: dict[str, str]
) -> None:
    await debtors(client, erp, "D-1")
    wrong_net = invoice("FV/3", "D-1")
    wrong_net["net"] = "21.00"
    unstorable = invoice("FV/7", "D-1", reference="PO\x00")
    unstorable["lines"][0]["description"] = "Bolt\x00"
    wrong_gross = invoice("FV/4", "D-1")
    wrong_gross["gross"] = wrong_gross["outstanding"] = "1.00"
    answer = await push(
        client,
        "invoices",
        erp,
        [
            invoice("FV/1", "D-1"),
            invoice("FV/2", "D-404"),
            wrong_net,
            wrong_gross,
            invoice("FV/1", "D-1"),
            {"number": "FV/5", "account_code": "D-1"},
            invoice("FV/6", "D-1", outstanding="999.00"),
            unstorable,
        ],
    )
    assert outcomes(answer) == ["created", "error", "error", "error", "error", "error", "error", "error"]
    reasons = [r.get("reason") for r in answer["results"]]
    assert reasons == [
        None,
        "unknown-account",
        "totals-mismatch",
        "totals-mismatch",
        "duplicate-number",
        "invalid",
        "totals-mismatch",
        "invalid",
    ]
    errors = {r["index"]: {e["field"]: e["message"] for e in r["errors"]} for r in answer["results"][1:]}
    assert errors[2] == {
        "body.records.2.net": "The lines' net adds up to 20.00.",
        "body.records.2.gross": "net + tax is 25.60.",
    }
    assert errors[3] == {"body.records.3.gross": "net + tax is 24.60."}
    assert "body.records.1.account_code" in errors[1]
    assert "body.records.5.issued_on" in errors[5]
    assert set(errors[7]) == {"body.records.7.reference", "body.records.7.lines.0.description"}
    assert [d.number for d in await rows_of(db, acme, Document)] == ["FV/1"]


async def test_payments_allocate_to_the_accounts_invoices_only(
    client: AsyncClient, db: Database, acme: Tenant, erp: dict[str, str]
) -> None:
    await debtors(client, erp, "D-1", "D-2")
    await push(client, "invoices", erp, [invoice("FV/1", "D-1"), invoice("FV/2", "D-2")])
    answer = await push(
        client,
        "payments",
        erp,
        [
            payment("KP/1", "D-1", "30.00", {"FV/1": "24.60"}),
            payment("KP/2", "D-1", "10.00", {"FV/2": "5.00"}),
            payment("KP/3", "D-1", "10.00", {"FV/1": "11.00"}),
        ],
    )
    assert outcomes(answer) == ["created", "error", "error"]
    assert answer["results"][1]["reason"] == "unknown-invoice"
    assert answer["results"][2]["reason"] == "totals-mismatch"
    paid = next(d for d in await rows_of(db, acme, Document) if d.number == "KP/1")
    assert paid.kind == "payment" and str(paid.outstanding) == "5.4000" and paid.issued_on == date.today()
    (allocation,) = await rows_of(db, acme, Allocation)
    assert allocation.document_id == paid.id and str(allocation.amount) == "24.6000"

    moved = await push(client, "payments", erp, [payment("KP/1", "D-1", "30.00", {"FV/1": "20.00"})])
    assert outcomes(moved) == ["updated"]
    (allocation,) = await rows_of(db, acme, Allocation)
    assert str(allocation.amount) == "20.0000"
    history = [h for h in await rows_of(db, acme, HistoryEntry, entity="payment") if h.action == "updated"]
    assert history[0].changes == {
        "outstanding": {"old": "5.4000", "new": "10.00"},
        "allocations": {"old": None, "new": 1},
    }


async def test_pushing_documents_needs_the_capability(
    client: AsyncClient, db: Database, tenants: Tenants, acme: Tenant
) -> None:
    reader = await api_key(db, tenants, acme, ["accounts.view_any"])
    r = await client.post(
        "/v1/integrations/erp/invoices", json={"records": [invoice("FV/1", "D-1")]}, headers=reader
    )
    assert r.status_code == 403
