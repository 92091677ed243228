"""Sales orders placed by reps and customers, priced exactly, edited only as drafts, submitted
to the ERP and acknowledged by it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from httpx import AsyncClient

from crmapi.kit.db import Database
from crmapi.records.outbox import OutboxEvent
from crmapi.sales_orders.models import SalesOrderLine
from tests.documents.erp import debtors, invoice, outcomes, push
from tests.permissions import api_key, work_as_rep
from tests.support import Member, Tenant, Tenants, assert_problem, error_fields, ok, rows_of

ORDERS = "/v1/sales-orders"
ACKS = "/v1/integrations/erp/sales-orders/acknowledgements"
LINES = [
    {
        "product_code": "BOLT-M8",
        "quantity": "3",
        "unit_price": "12.50",
        "discount_percent": "10",
        "tax_rate": "23",
    },
    {"product_code": "NUT-M8", "quantity": "7", "unit_price": "0.333", "tax_rate": "23"},
    {
        "product_code": "WASHER",
        "description": "Washer",
        "quantity": "1.5",
        "unit_price": "19.99",
        "tax_rate": "8",
    },
]


@pytest.fixture
async def erp(db: Database, tenants: Tenants, acme: Tenant) -> dict[str, str]:
    return await api_key(db, tenants, acme, ["integrations.push"])


@pytest.fixture
async def rep(db: Database, acme: Tenant, staff: Member, client: AsyncClient, erp: dict[str, str]) -> Member:
    """A staff member working as PH01, which account D-1 carries; D-2 is someone else's."""
    await work_as_rep(db, acme, staff, "PH01")
    await push(client, "sales-reps", erp, [{"code": "PH01", "name": "Rep"}])
    await debtors(
        client, erp, "D-1", sales_rep_codes=["PH01"], credit_limit={"amount": "1000", "currency": "EUR"}
    )
    await debtors(client, erp, "D-2")
    return staff


async def account_id(client: AsyncClient, admin: Member, code: str) -> str:
    page = ok(await client.get("/v1/accounts", params={"code": code}, headers=admin.headers))
    return str(page["items"][0]["id"])


async def place(
    client: AsyncClient, who: Member, account: str, lines: list[dict[str, Any]] | None = None
) -> Any:
    return await client.post(
        ORDERS, json={"account_id": account, "lines": lines or LINES}, headers=who.headers
    )


async def test_a_rep_orders_three_lines_priced_to_the_cent_then_submits_and_the_order_stops_changing(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member, rep: Member
) -> None:
    d1 = await account_id(client, admin, "D-1")
    r = await place(client, rep, d1)
    order = ok(r, 201)
    assert r.headers["Location"] == f"{ORDERS}/{order['id']}" and r.headers["ETag"] == '"1"'
    assert (order["state"], order["currency"], order["owner_member_id"]) == ("draft", "EUR", str(rep.id))
    # 33.75 + 2.33 + 29.99 (1.5 x 19.99 = 29.985, half up); tax 7.76 + 0.54 + 2.40
    assert [(line["net"], line["tax"]) for line in order["lines"]] == [
        ("33.7500", "7.7600"),
        ("2.3300", "0.5400"),
        ("29.9900", "2.4000"),
    ]
    assert (order["net"], order["tax"], order["gross"]) == ("66.0700", "10.7000", "76.7700")
    stored = await rows_of(db, acme, SalesOrderLine)
    assert sum(line.net for line in stored) == Decimal("66.07")

    body = {"instructions": "Ring twice.", "lines": LINES[:1]}
    changed = ok(
        await client.patch(f"{ORDERS}/{order['id']}", json=body, headers={**rep.headers, "If-Match": '"1"'})
    )
    assert changed["gross"] == "41.5100" and changed["version"] == 2 and len(changed["lines"]) == 1
    stale = await client.post(f"{ORDERS}/{order['id']}/submit", headers={**rep.headers, "If-Match": '"1"'})
    assert_problem(stale, 412, "stale-version")

    submitted = ok(
        await client.post(f"{ORDERS}/{order['id']}/submit", headers={**rep.headers, "Idempotency-Key": "s-1"})
    )
    assert submitted["state"] == "submitted" and submitted["submitted_at"] is not None
    again = ok(
        await client.post(f"{ORDERS}/{order['id']}/submit", headers={**rep.headers, "Idempotency-Key": "s-1"})
    )
    assert again == submitted, "a retried submit answers as the first did"
    late = await client.patch(f"{ORDERS}/{order['id']}", json={"instructions": "x"}, headers=rep.headers)
    assert_problem(late, 409, "order-not-editable")
    events = [e for e in await rows_of(db, acme, OutboxEvent, entity="sales_order")]
    assert sorted(e.topic for e in events) == [
        "sales_order.created",
        "sales_order.submitted",
        "sales_order.transition",
        "sales_order.updated",
    ]


async def test_a_rep_cannot_order_for_an_account_outside_its_scope_nor_change_anothers_order(
    client: AsyncClient, db: Database, tenants: Tenants, acme: Tenant, admin: Member, rep: Member
) -> None:
    d2 = await account_id(client, admin, "D-2")
    assert_problem(await place(client, rep, d2), 404, "not-found")
    theirs = ok(await place(client, admin, d2), 201)
    assert_problem(await client.get(f"{ORDERS}/{theirs['id']}", headers=rep.headers), 404, "not-found")
    mine_account = await account_id(client, admin, "D-1")
    placed_by_admin = ok(await place(client, admin, mine_account), 201)
    seen = ok(await client.get(f"{ORDERS}/{placed_by_admin['id']}", headers=rep.headers))
    assert seen["id"] == placed_by_admin["id"]
    assert_problem(
        await client.post(f"{ORDERS}/{placed_by_admin['id']}/submit", headers=rep.headers), 403, "not-owner"
    )
    listed = ok(await client.get(ORDERS, headers=rep.headers))
    assert [o["id"] for o in listed["items"]] == [placed_by_admin["id"]]
    key = await api_key(db, tenants, acme, ["accounts.view_any"])
    r = await client.post(ORDERS, json={"account_id": d2, "lines": LINES}, headers=key)
    assert_problem(r, 403, "missing-capability")


async def test_bad_orders_are_refused_with_the_field_named(
    client: AsyncClient, admin: Member, rep: Member
) -> None:
    d1 = await account_id(client, admin, "D-1")
    bad = await place(
        client, rep, d1, [{"product_code": "X", "quantity": "0", "unit_price": "1", "tax_rate": "101"}]
    )
    assert_problem(bad, 422, "validation-error")
    assert error_fields(bad) == {"body.lines.0.quantity", "body.lines.0.tax_rate"}
    empty = await client.post(ORDERS, json={"account_id": d1, "lines": []}, headers=rep.headers)
    assert error_fields(empty) == {"body.lines"}


async def test_a_customer_orders_for_its_own_account_and_sees_only_its_accounts_orders_and_documents(
    client: AsyncClient, admin: Member, customer: Member, rep: Member, erp: dict[str, str]
) -> None:
    d1, d2 = await account_id(client, admin, "D-1"), await account_id(client, admin, "D-2")
    ok(
        await client.post(
            f"/v1/accounts/{d2}/assignments", json={"member_id": str(customer.id)}, headers=admin.headers
        ),
        204,
    )
    own = ok(await place(client, customer, d2), 201)
    assert own["owner_member_id"] == str(customer.id) and own["currency"] == "PLN"
    assert_problem(await place(client, customer, d1), 404, "not-found")
    ok(await place(client, rep, d1), 201)
    ok(await client.post(f"{ORDERS}/{own['id']}/submit", headers=customer.headers))
    assert [o["id"] for o in ok(await client.get(ORDERS, headers=customer.headers))["items"]] == [own["id"]]
    assert [
        o["id"]
        for o in ok(await client.get(f"/v1/accounts/{d2}/sales-orders", headers=customer.headers))["items"]
    ] == [own["id"]]
    assert_problem(
        await client.get(f"/v1/accounts/{d1}/sales-orders", headers=customer.headers), 404, "not-found"
    )
    await push(client, "invoices", erp, [invoice("FV/1", "D-1"), invoice("FV/2", "D-2")])
    assert [
        d["number"]
        for d in ok(await client.get(f"/v1/accounts/{d2}/invoices", headers=customer.headers))["items"]
    ] == ["FV/2"]
    assert_problem(
        await client.get(f"/v1/accounts/{d1}/invoices", headers=customer.headers), 404, "not-found"
    )


async def test_the_erp_acknowledges_fulfils_and_links_its_invoice(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member, rep: Member, erp: dict[str, str]
) -> None:
    d1 = await account_id(client, admin, "D-1")
    orders = [ok(await place(client, rep, d1), 201) for _ in range(3)]
    for order in orders[:2]:
        ok(await client.post(f"{ORDERS}/{order['id']}/submit", headers=rep.headers))
    first, second, draft = (o["number"] for o in orders)
    records = [
        {"number": first, "erp_number": "ZS/1", "erp_status": "accepted"},
        {"number": second, "erp_number": "ZS/2", "state": "fulfilled"},
        {"number": draft, "erp_number": "ZS/3"},
        {"number": 99_999, "erp_number": "ZS/4"},
        {"number": first, "erp_number": "ZS/5"},
    ]
    answer = ok(await client.post(ACKS, json={"records": records}, headers=erp))
    assert outcomes(answer) == ["updated", "updated", "error", "error", "error"]
    assert [r.get("reason") for r in answer["results"]] == [
        None,
        None,
        "not-allowed",
        "unknown-order",
        "duplicate-number",
    ]
    acknowledged = ok(await client.get(f"{ORDERS}/{orders[0]['id']}", headers=rep.headers))
    assert (acknowledged["state"], acknowledged["erp_number"], acknowledged["erp_status"]) == (
        "acknowledged",
        "ZS/1",
        "accepted",
    )
    fulfilled = ok(await client.get(f"{ORDERS}/{orders[1]['id']}", headers=rep.headers))
    assert fulfilled["state"] == "fulfilled" and fulfilled["closed_at"] is not None
    assert ok(await client.get(f"{ORDERS}/{orders[2]['id']}", headers=rep.headers))["state"] == "draft"

    replay = ok(await client.post(ACKS, json={"records": records[:2]}, headers=erp))
    assert outcomes(replay) == ["unchanged", "unchanged"]
    taken = ok(
        await client.post(
            ACKS,
            json={"records": [{"number": second, "erp_number": "ZS/1", "state": "fulfilled"}]},
            headers=erp,
        )
    )
    assert taken["results"][0]["reason"] == "conflict"
    assert_problem(
        await client.post(f"{ORDERS}/{orders[0]['id']}/cancel", headers=rep.headers),
        409,
        "order-not-editable",
    )

    pushed = await push(client, "invoices", erp, [invoice("FV/9", "D-1", sales_order_number="ZS/1")])
    document = ok(await client.get(f"/v1/documents/{pushed['results'][0]['id']}", headers=rep.headers))
    assert document["sales_order_id"] == orders[0]["id"]
    # An invoice pushed before its order was acknowledged links to it when sent again.
    early = invoice("FV/10", "D-1", sales_order_number="ZS/3")
    first_push = await push(client, "invoices", erp, [early])
    assert (
        ok(await client.get(f"/v1/documents/{first_push['results'][0]['id']}", headers=rep.headers))[
            "sales_order_id"
        ]
        is None
    )
    ok(await client.post(f"{ORDERS}/{orders[2]['id']}/submit", headers=rep.headers))
    ok(await client.post(ACKS, json={"records": [{"number": draft, "erp_number": "ZS/3"}]}, headers=erp))
    assert outcomes(await push(client, "invoices", erp, [early])) == ["updated"]
    assert (
        ok(await client.get(f"/v1/documents/{first_push['results'][0]['id']}", headers=rep.headers))[
            "sales_order_id"
        ]
        == orders[2]["id"]
    )
    forbidden = await client.post(ACKS, json={"records": records[:1]}, headers=rep.headers)
    assert_problem(forbidden, 403, "missing-capability")
