"""The ERP feed: debtors and sales-rep records pushed in bulk by code, answered record by record."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import event

from crmapi.accounts.models import Account, AccountSalesRep
from crmapi.integrations import feed
from crmapi.kit.db import Database
from crmapi.records.history import HistoryEntry
from crmapi.records.outbox import OutboxEvent
from tests.permissions import api_key, grant
from tests.support import Tenant, Tenants, assert_problem, error_fields, rows_of

DEBTORS = "/v1/integrations/erp/debtors"
SALES_REPS = "/v1/integrations/erp/sales-reps"


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


async def test_a_member_linked_to_a_pushed_code_sees_exactly_its_accounts(
    client: AsyncClient, tenants: Tenants, acme: Tenant, erp: dict[str, str]
) -> None:
    await reps(client, erp, "PH01", "PH02")
    staff = await tenants.member(acme)
    r = await client.get("/v1/sales-reps", params={"q": "PH01"}, headers=acme.admin.headers)
    [record] = r.json()["items"]
    r = await client.put(f"/v1/sales-reps/{record['id']}/members/{staff.id}", headers=acme.admin.headers)
    assert r.status_code == 204, r.text
    records = [
        debtor("D-1", sales_rep_codes=["PH01"]),
        debtor("D-2", sales_rep_codes=["PH02"]),
        debtor("D-3", sales_rep_codes=["PH02", "PH01"]),
        debtor("D-4"),
    ]
    await push(client, DEBTORS, erp, records)
    r = await client.get("/v1/accounts", params={"limit": 100}, headers=staff.headers)
    assert sorted(a["code"] for a in r.json()["items"]) == ["D-1", "D-3"]
    # The ERP moves D-1 to the other rep: it leaves the member's list at once.
    await push(client, DEBTORS, erp, [debtor("D-1", sales_rep_codes=["PH02"])])
    r = await client.get("/v1/accounts", params={"limit": 100}, headers=staff.headers)
    assert [a["code"] for a in r.json()["items"]] == ["D-3"]
    # A rep record made inactive by the feed stops giving its members the accounts.
    answer = await push(client, SALES_REPS, erp, [{"code": "PH01", "name": "Rep PH01", "active": False}])
    assert outcomes(answer) == ["updated"]
    r = await client.get("/v1/accounts", params={"limit": 100}, headers=staff.headers)
    assert r.json()["items"] == []


async def test_pushed_accounts_are_found_by_name_and_a_new_name_replaces_the_old(
    client: AsyncClient, acme: Tenant, erp: dict[str, str]
) -> None:
    await push(
        client, DEBTORS, erp, [{"code": "D-1", "name": "Hurtownia Żuraw", "classification": "pharmacy"}]
    )
    found = await client.get("/v1/accounts", params={"q": "zuraw"}, headers=acme.admin.headers)
    assert [a["code"] for a in found.json()["items"]] == ["D-1"]
    await push(client, DEBTORS, erp, [{"code": "D-1", "name": "Hurtownia Bocian"}])
    old = await client.get("/v1/accounts", params={"q": "zuraw"}, headers=acme.admin.headers)
    new = await client.get("/v1/accounts", params={"q": "bocian pharm"}, headers=acme.admin.headers)
    assert old.json()["items"] == [] and [a["code"] for a in new.json()["items"]] == ["D-1"]


async def test_custom_values_are_checked_per_record_and_merged_key_by_key(
    client: AsyncClient, db: Database, acme: Tenant, erp: dict[str, str]
) -> None:
    for key, required in (("region", True), ("segment", False)):
        body = {"kind": "account", "key": key, "label": key, "type": "text", "required": required}
        r = await client.post("/v1/custom-fields", json=body, headers=acme.admin.headers)
        assert r.status_code == 201, r.text
    answer = await push(
        client,
        DEBTORS,
        erp,
        [
            debtor("D-1", custom={"region": "east", "segment": "b2b"}),
            debtor("D-2"),
            debtor("D-3", custom={"region": 5}),
            debtor("D-4", custom={"region": "west", "colour": "red"}),
        ],
    )
    assert outcomes(answer) == ["created", "error", "error", "error"]
    assert {e["field"] for e in answer["results"][1]["errors"]} == {"body.records.1.custom.region"}
    assert {e["field"] for e in answer["results"][2]["errors"]} == {"body.records.2.custom.region"}
    assert {e["field"] for e in answer["results"][3]["errors"]} == {"body.records.3.custom.colour"}
    # An existing account needs no required value again; null removes a key, unless required.
    answer = await push(client, DEBTORS, erp, [debtor("D-1", custom={"segment": None})])
    assert outcomes(answer) == ["updated"]
    [account] = await rows_of(db, acme, Account)
    assert account.custom == {"region": "east"}
    answer = await push(client, DEBTORS, erp, [debtor("D-1", custom={"region": None})])
    assert answer["results"][0]["reason"] == "invalid"


async def test_the_same_idempotency_key_replays_the_answer(
    client: AsyncClient, db: Database, acme: Tenant, erp: dict[str, str]
) -> None:
    headers = {**erp, "Idempotency-Key": "erp-batch-1"}
    body = {"records": [debtor("D-1"), debtor("D-2")]}
    first = await client.post(DEBTORS, json=body, headers=headers)
    again = await client.post(DEBTORS, json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json() and outcomes(first.json()) == ["created", "created"]
    assert len(await rows_of(db, acme, HistoryEntry, entity="account")) == 2
    other = await client.post(DEBTORS, json={"records": [debtor("D-3")]}, headers=headers)
    assert_problem(other, 409, "idempotency-key-reused")


async def test_a_body_over_20_mb_is_413(client: AsyncClient, erp: dict[str, str]) -> None:
    filler = "x" * 2000
    body = {"records": [debtor(f"D-{i}", payment_terms=filler) for i in range(10_500)]}
    r = await client.post(DEBTORS, json=body, headers=erp)
    assert_problem(r, 413, "payload-too-large")


async def test_another_organisation_with_the_same_code_gets_its_own_account(
    client: AsyncClient, db: Database, tenants: Tenants, acme: Tenant, erp: dict[str, str]
) -> None:
    globex = await tenants.create("Globex")
    globex_erp = await api_key(db, tenants, globex, ["integrations.push"])
    ours = await push(client, DEBTORS, erp, [debtor("D-1")])
    theirs = await push(client, DEBTORS, globex_erp, [debtor("D-1", name="Globex debtor")])
    assert outcomes(theirs) == ["created"] and theirs["results"][0]["id"] != ours["results"][0]["id"]
    [account] = await rows_of(db, acme, Account)
    assert account.name == "Debtor D-1"


async def test_a_push_costs_the_same_statements_for_5_or_300_records(
    client: AsyncClient, db: Database, erp: dict[str, str]
) -> None:
    await reps(client, erp, "PH01")
    sent: list[str] = []

    def log(record: Any) -> None:
        sent.append(record.query)

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    async with db.sessions() as session:
        driver = (await (await session.connection()).get_raw_connection()).driver_connection
    driver.add_query_logger(log)
    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        seen = []
        for size, prefix in ((5, "A"), (300, "B"), (300, "B")):
            sent.clear()
            await push(
                client, DEBTORS, erp, [debtor(f"{prefix}-{i}", sales_rep_codes=["PH01"]) for i in range(size)]
            )
            seen.append(len(sent))
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
        driver.remove_query_logger(log)
    assert seen[0] == seen[1] and seen[2] <= seen[1], seen


@pytest.mark.committed
async def test_two_pushes_of_the_same_codes_at_once_take_turns(
    committed_client: AsyncClient, committed_db: Database, committed_tenants: Tenants
) -> None:
    acme = await committed_tenants.create("Acme")
    key = await api_key(committed_db, committed_tenants, acme, ["integrations.push"])
    codes = [f"D-{i:03d}" for i in range(300)]
    await push(committed_client, DEBTORS, key, [debtor(c) for c in codes])
    forwards = [debtor(c, classification="a") for c in codes]
    backwards = [debtor(c, classification="b") for c in reversed(codes)]
    answers = await asyncio.gather(
        committed_client.post(DEBTORS, json={"records": forwards}, headers=key),
        committed_client.post(DEBTORS, json={"records": backwards}, headers=key),
    )
    # Both lock the rows in id order, so neither deadlocks (a 503 would say so); the second waits
    # and then sees the first's values.
    assert [a.status_code for a in answers] == [200, 200], [a.text[:300] for a in answers]
    assert sorted(a.json()["updated"] for a in answers) == [300, 300]
    rows = await rows_of(committed_db, acme, Account)
    assert len({a.classification for a in rows}) == 1 and all(a.version == 3 for a in rows)


async def test_a_code_created_meanwhile_is_that_records_conflict(
    client: AsyncClient, db: Database, acme: Tenant, erp: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    await push(client, DEBTORS, erp, [debtor("D-1")])
    real = feed.lock_existing

    async def blind(conn: Any, actor: Any, spec: Any, columns: str, codes: list[str]) -> list[Any]:
        # What a push sees when another request inserts D-1 right after its lock.
        return [row for row in await real(conn, actor, spec, columns, codes) if row["code"] != "D-1"]

    monkeypatch.setattr(feed, "lock_existing", blind)
    answer = await push(client, DEBTORS, erp, [debtor("D-1", name="Renamed"), debtor("D-2")])
    assert outcomes(answer) == ["error", "created"]
    assert answer["results"][0]["reason"] == "conflict"
    assert {a.code: a.name for a in await rows_of(db, acme, Account)} == {
        "D-1": "Debtor D-1",
        "D-2": "Debtor D-2",
    }


async def test_a_member_with_integrations_push_is_named_in_history(
    client: AsyncClient, db: Database, tenants: Tenants, acme: Tenant
) -> None:
    staff = await tenants.member(acme)
    await grant(db, acme, staff, ("integrations.push",))
    answer = await push(client, DEBTORS, staff.headers, [debtor("D-1")])
    assert outcomes(answer) == ["created"]
    [entry] = await rows_of(db, acme, HistoryEntry, entity="account")
    assert (entry.actor_member_id, entry.actor_api_key_id) == (staff.id, None)
    [account] = await rows_of(db, acme, Account)
    assert account.owner_member_id is None
