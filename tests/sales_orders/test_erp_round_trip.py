"""An order's round trip as a rep and an ERP live it: placed and submitted in the CRM, delivered
to the ERP's webhook receiver and listed in the change feed, acknowledged by the ERP, invoiced."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from bench.receiver import receiving
from httpx import AsyncClient

from crmapi.kit.db import Database
from tests.events.test_webhooks import api, eventually, fast, running, subscribe
from tests.permissions import api_key, work_as_rep
from tests.support import Tenants, ok

pytestmark = pytest.mark.committed
__all__ = ["api", "fast", "running"]  # fixtures this module uses from the webhooks' tests


async def test_a_submitted_order_reaches_the_erp_which_acknowledges_and_invoices_it(
    api: AsyncClient, committed_tenants: Tenants, committed_db: Database, running: None
) -> None:
    acme = await committed_tenants.create()
    rep = await committed_tenants.member(acme)
    await work_as_rep(committed_db, acme, rep, "PH01")
    erp = await api_key(committed_db, committed_tenants, acme, ["integrations.push", "accounts.view_any"])
    ok(
        await api.post(
            "/v1/integrations/erp/sales-reps",
            json={"records": [{"code": "PH01", "name": "Rep"}]},
            headers=erp,
        )
    )
    debtor = {"code": "D-1", "name": "Hurtownia", "sales_rep_codes": ["PH01"]}
    account_id = ok(await api.post("/v1/integrations/erp/debtors", json={"records": [debtor]}, headers=erp))[
        "results"
    ][0]["id"]

    with receiving() as receiver:
        await subscribe(api, acme, receiver.url, event_types=["sales_order.submitted"])
        lines = [
            {"product_code": "A", "quantity": "2", "unit_price": "10.00", "tax_rate": "23"},
            {
                "product_code": "B",
                "quantity": "1",
                "unit_price": "0.99",
                "discount_percent": "50",
                "tax_rate": "23",
            },
            {"product_code": "C", "quantity": "3", "unit_price": "4.10", "tax_rate": "8"},
        ]
        order = ok(
            await api.post(
                "/v1/sales-orders", json={"account_id": account_id, "lines": lines}, headers=rep.headers
            ),
            201,
        )
        # 20.00 + 0.50 (0.495 half up) + 12.30; tax 4.60 + 0.12 + 0.98
        assert (order["net"], order["tax"], order["gross"]) == ("32.8000", "5.7000", "38.5000")
        submitted = ok(await api.post(f"/v1/sales-orders/{order['id']}/submit", headers=rep.headers))

        [got] = await asyncio.to_thread(receiver.wait_for, 1)
        assert got.event["type"] == "sales_order.submitted" and got.event["record_id"] == order["id"]
        assert got.event["data"] == submitted, "the ERP receives the order as GET answers it"

        async def in_feed() -> list[dict[str, Any]]:
            page = ok(await api.get("/v1/changes", params={"kinds": "sales_order"}, headers=erp))
            return [c for c in page["items"] if c["type"] == "sales_order.submitted"]

        [change] = await eventually(in_feed)
        assert change["record_id"] == order["id"]

    ack = {"number": order["number"], "erp_number": "ZS/2026/0981", "erp_status": "accepted"}
    answer = ok(
        await api.post(
            "/v1/integrations/erp/sales-orders/acknowledgements", json={"records": [ack]}, headers=erp
        )
    )
    assert answer["results"][0]["outcome"] == "updated"
    seen = ok(await api.get(f"/v1/sales-orders/{order['id']}", headers=rep.headers))
    assert (seen["state"], seen["erp_number"]) == ("acknowledged", "ZS/2026/0981")
