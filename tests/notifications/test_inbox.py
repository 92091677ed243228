"""The notification inbox: written by the worker from outbox events for a category's
subscribers and the record's person, read and marked read by its member, muted by category."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient

from crmapi.kit.db import Database
from tests.events.test_webhooks import api, eventually, fast, running
from tests.permissions import api_key, work_as_rep
from tests.support import Member, Tenant, Tenants, assert_problem, error_fields, ok

__all__ = ["api", "fast", "running"]  # fixtures this module uses from the webhooks' tests
INBOX = "/v1/me/notifications"
CATEGORIES = "/v1/config/notification-categories"


async def category(client: AsyncClient, admin: Member, code: str) -> dict[str, Any]:
    page = ok(await client.get(CATEGORIES, params={"limit": 200}, headers=admin.headers))
    return next(c for c in page["items"] if c["code"] == code)


async def test_a_new_organisation_has_the_categories_and_subscribers_are_its_staff(
    client: AsyncClient, tenants: Tenants, acme: Tenant, admin: Member, staff: Member, customer: Member
) -> None:
    page = ok(await client.get(CATEGORIES, headers=admin.headers))
    assert [c["code"] for c in page["items"]] == [
        "CONVERSATIONS",
        "ANNOUNCEMENTS",
        "SERVICE_REQUESTS",
        "SALES_ORDERS",
        "ISSUES",
    ]
    orders = await category(client, admin, "SALES_ORDERS")
    path = f"{CATEGORIES}/{orders['id']}"
    changed = ok(
        await client.patch(path, json={"member_ids": [str(staff.id), str(staff.id)]}, headers=admin.headers)
    )
    assert changed["member_ids"] == [str(staff.id)]
    bad = await client.patch(path, json={"member_ids": [str(customer.id)]}, headers=admin.headers)
    assert error_fields(bad) == {"body.member_ids"}
    assert_problem(
        await client.patch(path, json={"name": "x"}, headers=staff.headers), 403, "missing-capability"
    )
    assert_problem(
        await client.post(CATEGORIES, json={"name": "Mine"}, headers=admin.headers), 405, "method-not-allowed"
    )


async def test_muting_needs_a_known_category_and_a_member(
    client: AsyncClient, db: Database, tenants: Tenants, acme: Tenant, staff: Member
) -> None:
    assert ok(await client.get("/v1/me/notification-mutes", headers=staff.headers)) == {"categories": []}
    r = await client.put("/v1/me/notification-mutes/SALES_ORDERS", headers=staff.headers)
    assert r.status_code == 204
    assert (
        await client.put("/v1/me/notification-mutes/SALES_ORDERS", headers=staff.headers)
    ).status_code == 204
    assert ok(await client.get("/v1/me/notification-mutes", headers=staff.headers)) == {
        "categories": ["SALES_ORDERS"]
    }
    assert error_fields(await client.put("/v1/me/notification-mutes/NOPE", headers=staff.headers)) == {
        "path.category"
    }
    assert (
        await client.delete("/v1/me/notification-mutes/SALES_ORDERS", headers=staff.headers)
    ).status_code == 204
    assert_problem(
        await client.delete("/v1/me/notification-mutes/SALES_ORDERS", headers=staff.headers), 404, "not-found"
    )
    key = await api_key(db, tenants, acme, ["accounts.view_any"])
    assert_problem(await client.get(INBOX, headers=key), 403, "missing-capability")
    assert_problem(
        await client.get(INBOX, params={"unread": "maybe"}, headers=staff.headers), 422, "validation-error"
    )


@pytest.mark.committed
async def test_the_worker_tells_subscribers_and_the_placer_and_not_those_who_muted(
    api: AsyncClient, committed_tenants: Tenants, committed_db: Database, running: None
) -> None:
    acme = await committed_tenants.create()
    admin = acme.admin
    rep, manager, quiet, outsider, grouped = [await committed_tenants.member(acme) for _ in range(5)]
    await work_as_rep(committed_db, acme, rep, "PH01")
    erp = await api_key(committed_db, committed_tenants, acme, ["integrations.push"])
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
    orders = await category(api, admin, "SALES_ORDERS")
    group = ok(await api.post("/v1/groups", json={"name": "Order desk"}, headers=admin.headers), 201)
    joined = await api.put(f"/v1/groups/{group['id']}/members/{grouped.id}", headers=admin.headers)
    assert joined.status_code == 204, joined.text
    subscribers = {"member_ids": [str(manager.id), str(quiet.id)], "group_ids": [group["id"]]}
    ok(await api.patch(f"{CATEGORIES}/{orders['id']}", json=subscribers, headers=admin.headers))
    assert (await api.put("/v1/me/notification-mutes/SALES_ORDERS", headers=quiet.headers)).status_code == 204

    line = {"product_code": "A", "quantity": "1", "unit_price": "5.00"}
    order = ok(
        await api.post(
            "/v1/sales-orders", json={"account_id": account_id, "lines": [line]}, headers=rep.headers
        ),
        201,
    )
    ok(await api.post(f"/v1/sales-orders/{order['id']}/submit", headers=rep.headers))

    async def told(who: Member, count: int) -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = ok(await api.get(INBOX, headers=who.headers))["items"]
        return items if len(items) >= count else None

    inbox = await eventually(lambda: told(manager, 2))
    assert [(n["type"], n["record_id"]) for n in inbox] == [
        ("sales_order.transition", order["id"]),
        ("sales_order.created", order["id"]),
    ]
    assert inbox[0]["details"]["to"] == "submitted" and inbox[0]["read_at"] is None
    # The placer is the order's person, but nobody is told of what they did themselves; the
    # ERP's acknowledgement reaches it.
    ack = {"number": order["number"], "erp_number": "ZS/1"}
    ok(
        await api.post(
            "/v1/integrations/erp/sales-orders/acknowledgements", json={"records": [ack]}, headers=erp
        )
    )
    [acknowledged] = await eventually(lambda: told(rep, 1))
    assert (acknowledged["type"], acknowledged["details"]["to"]) == ("sales_order.transition", "acknowledged")
    inbox = await eventually(lambda: told(manager, 3))
    told_by_group = await eventually(lambda: told(grouped, 3))
    assert told_by_group is not None and len(told_by_group) == 3, "a subscribed group's member is told"
    await asyncio.sleep(0.5)
    assert len(ok(await api.get(INBOX, headers=rep.headers))["items"]) == 1
    assert ok(await api.get(INBOX, headers=quiet.headers))["items"] == []
    assert ok(await api.get(INBOX, headers=outsider.headers))["items"] == []

    assert ok(await api.get(f"{INBOX}/unread", headers=manager.headers)) == {
        "total": 3,
        "by_category": {"SALES_ORDERS": 3},
    }
    assert (await api.post(f"{INBOX}/{inbox[0]['id']}/read", headers=manager.headers)).status_code == 204
    assert ok(await api.get(f"{INBOX}/unread", headers=manager.headers))["total"] == 2
    assert_problem(await api.post(f"{INBOX}/{inbox[0]['id']}/read", headers=rep.headers), 404, "not-found")
    assert ok(
        await api.post(f"{INBOX}/read", json={"category": "SALES_ORDERS"}, headers=manager.headers)
    ) == {"marked": 2}
    assert ok(await api.get(f"{INBOX}/unread", headers=manager.headers)) == {"total": 0, "by_category": {}}
    assert [
        n["id"]
        for n in ok(await api.get(INBOX, params={"unread": "false"}, headers=manager.headers))["items"]
    ] == [n["id"] for n in inbox]
