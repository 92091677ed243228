"""The ERP feed: debtors and sales-rep records pushed in bulk by code, answered record by record."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient, Response

from crmapi.accounts.models import Account, AccountSalesRep
from crmapi.db import Database
from crmapi.history import HistoryEntry
from crmapi.outbox import OutboxEvent
from tests.permissions import api_key
from tests.support import Tenant, Tenants, assert_problem, error_fields, rows_of

DEBTORS = "/v1/integrations/erp/debtors"
SALES_REPS = "/v1/integrations/erp/sales-reps"


@pytest.fixture
async def acme(tenants: Tenants) -> Tenant:
    return await tenants.create("Acme")


@pytest.fixture
async def erp(db: Database, tenants: Tenants, acme: Tenant) -> dict[str, str]:
    return await api_key(db, tenants, acme, ["integrations.push"])


async def push(client: AsyncClient, path: str, headers: dict[str, str], records: list[Any]) -> dict[str, Any]:
    r = await client.post(path, json={"records": records}, headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def outcomes(answer: dict[str, Any]) -> list[str]:
    return [r["outcome"] for r in answer["results"]]


def debtor(code: str, **fields: Any) -> dict[str, Any]:
    return {"code": code, "name": f"Debtor {code}", **fields}


async def reps(client: AsyncClient, erp: dict[str, str], *codes: str) -> None:
    await push(client, SALES_REPS, erp, [{"code": c, "name": f"Rep {c}"} for c in codes])


async def test_debtors_are_created_then_unchanged_when_sent_again(
    client: AsyncClient, db: Database, acme: Tenant, erp: dict[str, str]
) -> None:
    await reps(client, erp, "PH01", "PH02")
    records = [
        debtor("D-1", sales_rep_codes=["PH01"], credit_limit={"amount": "2500.5"}, custom=None),
        debtor("D-2", sales_rep_codes=["PH02", "PH01"], status="on_hold", payment_methods=["card"]),
    ]
    records[0].pop("custom")
    first = await push(client, DEBTORS, erp, records)
    assert outcomes(first) == ["created", "created"]
    assert first["created"] == 2 and first["failed"] == 0
    accounts = {a.code: a for a in await rows_of(db, acme, Account)}
    assert accounts["D-1"].credit_limit_currency == "PLN"
    assert str(accounts["D-1"].credit_limit_amount) == "2500.5000"
    assert accounts["D-2"].status == "on_hold" and accounts["D-2"].payment_methods == ["card"]
    assert accounts["D-1"].number != accounts["D-2"].number
    links = {(link.account_id, link.sales_rep_code) for link in await rows_of(db, acme, AccountSalesRep)}
    assert links == {
        (accounts["D-1"].id, "PH01"),
        (accounts["D-2"].id, "PH01"),
        (accounts["D-2"].id, "PH02"),
    }
    history = await rows_of(db, acme, HistoryEntry, entity="account")
    events = await rows_of(db, acme, OutboxEvent, entity="account")
    assert len(history) == 2 and len(events) == 2
    created = next(h for h in history if h.entity_id == accounts["D-1"].id)
    assert created.action == "created" and created.actor_api_key_id is not None
    assert created.changes["credit_limit"]["new"] == {"amount": "2500.5000", "currency": "PLN"}
    assert created.changes["sales_rep_codes"]["new"] == ["PH01"]

    again = await push(client, DEBTORS, erp, records)
    assert outcomes(again) == ["unchanged", "unchanged"]
    assert [r["id"] for r in again["results"]] == [r["id"] for r in first["results"]]
    assert len(await rows_of(db, acme, HistoryEntry, entity="account")) == 2
    assert len(await rows_of(db, acme, OutboxEvent, entity="account")) == 2
    assert {a.code: a.version for a in await rows_of(db, acme, Account)} == {"D-1": 1, "D-2": 1}


async def test_a_changed_debtor_is_updated_and_fields_left_out_keep_their_value(
    client: AsyncClient, db: Database, acme: Tenant, erp: dict[str, str]
) -> None:
    await reps(client, erp, "PH01", "PH02")
    await push(client, DEBTORS, erp, [debtor("D-1", classification="retail", sales_rep_codes=["PH01"])])
    answer = await push(client, DEBTORS, erp, [debtor("D-1", sales_rep_codes=["PH02"], price_level="B")])
    assert outcomes(answer) == ["updated"]
    [account] = await rows_of(db, acme, Account)
    assert (account.classification, account.price_level, account.version) == ("retail", "B", 2)
    assert [link.sales_rep_code for link in await rows_of(db, acme, AccountSalesRep)] == ["PH02"]
    [_, updated] = sorted(await rows_of(db, acme, HistoryEntry, entity="account"), key=lambda h: h.at)
    assert updated.changes == {
        "price_level": {"old": None, "new": "B"},
        "sales_rep_codes": {"old": ["PH01"], "new": ["PH02"]},
    }
    event = [
        e for e in await rows_of(db, acme, OutboxEvent, entity="account") if e.topic == "account.updated"
    ]
    assert event[0].payload["fields"] == ["price_level", "sales_rep_codes"]


async def test_bad_records_are_answered_and_the_rest_kept(
    client: AsyncClient, db: Database, acme: Tenant, erp: dict[str, str]
) -> None:
    await reps(client, erp, "PH01")
    records = [
        debtor("D-1", sales_rep_codes=["PH01"]),
        debtor("D-2", sales_rep_codes=["PH01", "XX9"]),
        debtor("D-3"),
        debtor("D-1"),
        {"code": "D-4"},
        debtor("D-5", status="bogus"),
        "not an object",
    ]
    answer = await push(client, DEBTORS, erp, records)
    assert outcomes(answer) == ["created", "error", "created", "error", "error", "error", "error"]
    results = answer["results"]
    assert results[1]["reason"] == "unknown-sales-rep"
    assert results[1]["errors"][0]["field"] == "body.records.1.sales_rep_codes.1"
    assert results[3]["reason"] == "duplicate-code" and "records.0" in results[3]["errors"][0]["message"]
    assert results[4]["reason"] == "invalid" and results[4]["errors"][0]["field"] == "body.records.4.name"
    assert results[4]["code"] == "D-4"
    assert results[5]["errors"][0]["field"] == "body.records.5.status"
    assert results[6]["reason"] == "invalid" and "code" not in results[6]
    assert (answer["created"], answer["failed"]) == (2, 5)
    assert sorted(a.code for a in await rows_of(db, acme, Account)) == ["D-1", "D-3"]


async def test_a_pushed_debtor_brings_back_a_deleted_account(
    client: AsyncClient, db: Database, acme: Tenant, erp: dict[str, str]
) -> None:
    [created] = (await push(client, DEBTORS, erp, [debtor("D-1")]))["results"]
    r = await client.delete(f"/v1/accounts/{created['id']}", headers=acme.admin.headers)
    assert r.status_code == 204
    answer = await push(client, DEBTORS, erp, [debtor("D-1")])
    assert outcomes(answer) == ["updated"] and answer["results"][0]["id"] == created["id"]
    r = await client.get(f"/v1/accounts/{created['id']}", headers=acme.admin.headers)
    assert r.status_code == 200 and r.json()["version"] == 3
    actions = [
        h.action for h in sorted(await rows_of(db, acme, HistoryEntry, entity="account"), key=lambda h: h.at)
    ]
    assert actions == ["created", "deleted", "restored"]


async def test_sales_rep_records_are_upserted_by_code(
    client: AsyncClient, db: Database, acme: Tenant, erp: dict[str, str]
) -> None:
    first = await push(
        client,
        SALES_REPS,
        erp,
        [{"code": "PH01", "name": "Anna"}, {"code": "PH02", "name": "Jan", "active": False}],
    )
    assert outcomes(first) == ["created", "created"]
    again = await push(
        client,
        SALES_REPS,
        erp,
        [{"code": "PH01", "name": "Anna"}, {"code": "PH02", "name": "Jan", "active": True}],
    )
    assert outcomes(again) == ["unchanged", "updated"]
    r = await client.get("/v1/sales-reps", params={"active": "true"}, headers=acme.admin.headers)
    assert sorted(i["code"] for i in r.json()["items"]) == ["PH01", "PH02"]


async def test_the_feed_needs_integrations_push(
    client: AsyncClient, tenants: Tenants, acme: Tenant, db: Database
) -> None:
    reader = await api_key(db, tenants, acme, ["accounts.view_any"])
    assert_problem(
        await client.post(DEBTORS, json={"records": [debtor("D-1")]}, headers=reader),
        403,
        "missing-capability",
    )
    staff = await tenants.member(acme)
    assert_problem(
        await client.post(SALES_REPS, json={"records": [{"code": "X", "name": "X"}]}, headers=staff.headers),
        403,
        "missing-capability",
    )


async def test_a_batch_of_the_wrong_shape_is_422(client: AsyncClient, erp: dict[str, str]) -> None:
    assert error_fields(await client.post(DEBTORS, json={"records": []}, headers=erp)) == {"body.records"}
    assert error_fields(await client.post(DEBTORS, json=[debtor("D-1")], headers=erp)) == {"body"}
    r: Response = await client.post(
        DEBTORS, json={"records": [debtor(f"D-{i}") for i in range(10_001)]}, headers=erp
    )
    assert error_fields(r) == {"body.records"}
