"""An account's documents and balance, read under the account's scope."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from httpx import AsyncClient

from crmapi.documents.models import Document
from crmapi.kit.db import Database
from tests.documents.erp import debtors, invoice, payment, push
from tests.permissions import api_key, work_as_rep
from tests.support import Member, Tenant, Tenants, assert_problem, error_fields, ok, rows_of


@pytest.fixture
async def erp(db: Database, tenants: Tenants, acme: Tenant) -> dict[str, str]:
    return await api_key(db, tenants, acme, ["integrations.push"])


def days_ago(n: int) -> date:
    return date.today() - timedelta(days=n)


async def test_an_accounts_invoices_page_by_issue_date_with_filters(
    client: AsyncClient, admin: Member, erp: dict[str, str]
) -> None:
    accounts = await debtors(client, erp, "D-1", "D-2")
    await push(
        client,
        "invoices",
        erp,
        [
            invoice("FV/1", "D-1", due=days_ago(100)),
            invoice("FV/2", "D-1", due=days_ago(45), outstanding="0", status="paid"),
            invoice("FV/3", "D-1", due=days_ago(10), outstanding="5.00"),
            invoice("FV/4", "D-2", due=days_ago(200)),
        ],
    )
    path = f"/v1/accounts/{accounts['D-1']}/invoices"
    first = ok(await client.get(path, params={"limit": 2}, headers=admin.headers))
    assert [d["number"] for d in first["items"]] == ["FV/3", "FV/2"]
    rest = ok(
        await client.get(path, params={"limit": 2, "cursor": first["next_cursor"]}, headers=admin.headers)
    )
    assert [d["number"] for d in rest["items"]] == ["FV/1"] and rest["next_cursor"] is None
    fv1 = rest["items"][0]
    assert fv1["days_overdue"] == 100 and fv1["gross"] == "24.6000" and fv1["kind"] == "invoice"
    assert fv1["lines"][0] == {
        "position": 1,
        "product_code": "P-0",
        "description": "Product 0",
        "quantity": "2.0000",
        "quantity_outstanding": None,
        "unit_price": "10.0000",
        "net": "20.0000",
        "tax": "4.6000",
    }

    async def listed(**params: object) -> list[str]:
        return [
            d["number"] for d in ok(await client.get(path, params=params, headers=admin.headers))["items"]
        ]

    assert await listed(outstanding="true") == ["FV/3", "FV/1"]
    assert await listed(overdue_days_gt=30) == ["FV/1"]
    assert await listed(status="paid") == ["FV/2"]
    assert await listed(due_from=days_ago(50).isoformat(), due_to=days_ago(40).isoformat()) == ["FV/2"]
    assert await listed(sort="number") == ["FV/1", "FV/2", "FV/3"]
    slim = ok(
        await client.get(path, params={"fields": "number,outstanding", "limit": 1}, headers=admin.headers)
    )
    assert [{k: v for k, v in d.items() if k != "id"} for d in slim["items"]] == [
        {"number": "FV/3", "outstanding": "5.0000"}
    ]

    bad = await client.get(path, params={"overdue_days_gt": "-1", "sort": "colour"}, headers=admin.headers)
    assert_problem(bad, 422, "validation-error")
    assert error_fields(bad) == {"query.overdue_days_gt"}


async def test_the_balance_matches_a_direct_sum_and_the_overdue_filter_lists_exactly_the_late_accounts(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member, erp: dict[str, str]
) -> None:
    accounts = await debtors(client, erp, "D-1", "D-2", "D-3")
    await push(
        client,
        "invoices",
        erp,
        [
            invoice("FV/1", "D-1", due=days_ago(95)),
            invoice("FV/2", "D-1", due=days_ago(61), outstanding="3.00"),
            invoice("FV/3", "D-1", due=days_ago(30)),
            invoice("FV/4", "D-1", due=days_ago(-5)),
            invoice("FV/5", "D-2", due=days_ago(20)),
            invoice("FV/6", "D-3", due=days_ago(300), outstanding="0"),
        ],
    )
    await push(client, "payments", erp, [payment("KP/1", "D-1", "50.00", {"FV/3": "24.60"})])
    balance = ok(await client.get(f"/v1/accounts/{accounts['D-1']}/balance", headers=admin.headers))
    (pln,) = balance["currencies"]
    assert balance["as_of"] == date.today().isoformat()
    assert pln["buckets"] == {
        "not_due": "24.6000",
        "days_1_30": "24.6000",
        "days_31_60": "0",
        "days_61_90": "3.0000",
        "days_over_90": "24.6000",
    }
    direct = sum(
        d.outstanding
        for d in await rows_of(db, acme, Document, kind="invoice")
        if str(d.account_id) == accounts["D-1"]
    )
    assert Decimal(pln["outstanding"]) == direct == Decimal("76.80")
    assert pln["overdue"] == "52.2000" and pln["open_invoices"] == 4
    assert pln["unallocated_payments"] == "25.4000" and pln["unallocated_credits"] == "0"
    assert balance["last_payment"]["number"] == "KP/1" and balance["last_payment"]["amount"] == "50.0000"

    async def owing(**params: object) -> set[str]:
        page = ok(
            await client.get("/v1/accounts", params={**params, "fields": "code"}, headers=admin.headers)
        )
        return {a["code"] for a in page["items"]}

    assert await owing(overdue_days_gt=60) == {"D-1"}
    assert await owing(overdue_days_gt=10) == {"D-1", "D-2"}
    assert await owing(outstanding_gt="50") == {"D-1"}
    # Paid off: the account leaves the list.
    await push(
        client,
        "invoices",
        erp,
        [
            invoice("FV/1", "D-1", due=days_ago(95), outstanding="0"),
            invoice("FV/2", "D-1", due=days_ago(61), outstanding="0"),
        ],
    )
    assert await owing(overdue_days_gt=60) == set()
    empty = ok(await client.get(f"/v1/accounts/{accounts['D-3']}/balance", headers=admin.headers))
    assert empty["currencies"][0]["outstanding"] == "0" and empty["last_payment"] is None


async def test_a_rep_reads_its_accounts_documents_and_a_customer_its_own_accounts_only(
    client: AsyncClient,
    db: Database,
    tenants: Tenants,
    acme: Tenant,
    admin: Member,
    staff: Member,
    customer: Member,
    erp: dict[str, str],
) -> None:
    await work_as_rep(db, acme, staff, "PH01")
    await push(client, "sales-reps", erp, [{"code": "PH01", "name": "Rep"}])
    mine = await debtors(client, erp, "D-1", sales_rep_codes=["PH01"])
    other = await debtors(client, erp, "D-2")
    answer = await push(client, "invoices", erp, [invoice("FV/1", "D-1"), invoice("FV/2", "D-2")])
    mine_id, other_id = (r["id"] for r in answer["results"])
    r = await client.post(
        f"/v1/accounts/{other['D-2']}/assignments",
        json={"member_id": str(customer.id)},
        headers=admin.headers,
    )
    assert r.status_code == 204, r.text

    assert [
        d["number"]
        for d in ok(await client.get(f"/v1/accounts/{mine['D-1']}/invoices", headers=staff.headers))["items"]
    ] == ["FV/1"]
    assert_problem(
        await client.get(f"/v1/accounts/{other['D-2']}/invoices", headers=staff.headers), 404, "not-found"
    )
    assert_problem(
        await client.get(f"/v1/accounts/{other['D-2']}/balance", headers=staff.headers), 404, "not-found"
    )
    assert ok(await client.get(f"/v1/documents/{mine_id}", headers=staff.headers))["number"] == "FV/1"
    assert_problem(await client.get(f"/v1/documents/{other_id}", headers=staff.headers), 404, "not-found")

    assert ok(await client.get(f"/v1/documents/{other_id}", headers=customer.headers))["number"] == "FV/2"
    assert_problem(await client.get(f"/v1/documents/{mine_id}", headers=customer.headers), 404, "not-found")
    assert_problem(
        await client.get(f"/v1/accounts/{mine['D-1']}/payments", headers=customer.headers), 404, "not-found"
    )
    globex = await tenants.create("Globex")
    assert_problem(
        await client.get(f"/v1/documents/{mine_id}", headers=globex.admin.headers), 404, "not-found"
    )
