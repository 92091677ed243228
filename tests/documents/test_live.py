"""Live lookups through the ERP connector, against a real local HTTP server standing in for the
ERP: merged into the stored copy, cached, bounded by the timeout, falling back when asked."""

from __future__ import annotations

import time

import pytest
from httpx import AsyncClient

from crmapi.kit.db import Database
from tests.documents.erp import debtors, invoice, push
from tests.documents.stand_in import erp_stand_in
from tests.permissions import api_key
from tests.support import Member, Tenant, Tenants, assert_problem, error_fields, ok

CONNECTOR = "/v1/integrations/erp/connector"


@pytest.fixture
async def erp(db: Database, tenants: Tenants, acme: Tenant) -> dict[str, str]:
    return await api_key(db, tenants, acme, ["integrations.push"])


async def test_the_connector_is_an_administrators_and_its_secret_is_never_read_back(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    assert_problem(await client.get(CONNECTOR, headers=admin.headers), 404, "not-found")
    body = {"base_url": "https://erp.example.com/api", "header_name": "X-Api-Key", "header_value": "s3cret"}
    assert_problem(await client.put(CONNECTOR, json=body, headers=staff.headers), 403, "missing-capability")
    bad = await client.put(
        CONNECTOR, json={**body, "base_url": "ftp://x", "timeout_seconds": 0}, headers=admin.headers
    )
    assert error_fields(bad) == {"body.base_url", "body.timeout_seconds"}
    made = ok(await client.put(CONNECTOR, json=body, headers=admin.headers))
    assert made["has_header_value"] is True and "header_value" not in made and made["timeout_seconds"] == 5
    assert "s3cret" not in (await client.get(CONNECTOR, headers=admin.headers)).text
    assert (await client.delete(CONNECTOR, headers=admin.headers)).status_code == 204
    assert_problem(await client.get(CONNECTOR, headers=admin.headers), 404, "not-found")


async def test_a_live_list_asks_the_erp_merges_its_answer_and_caches_it(
    client: AsyncClient, admin: Member, erp: dict[str, str]
) -> None:
    accounts = await debtors(client, erp, "D/1")
    path = f"/v1/accounts/{accounts['D/1']}/invoices"
    assert error_fields(await client.get(path, params={"source": "live"}, headers=admin.headers)) == {
        "query.source"
    }
    await push(client, "invoices", erp, [invoice("FV/1", "D/1")])
    with erp_stand_in() as stand_in:
        body = {
            "base_url": stand_in.url,
            "header_name": "X-Api-Key",
            "header_value": "s3cret",
            "cache_seconds": 60,
        }
        ok(await client.put(CONNECTOR, json=body, headers=admin.headers))
        # The ERP knows a newer state of FV/1 and an invoice the CRM has not seen yet.
        answer = {
            "records": [invoice("FV/1", "ignored", outstanding="0", status="paid"), invoice("FV/2", "D/1")]
        }
        stand_in.answers["/erp/debtors/D%2F1/invoices"] = answer
        r = await client.get(path, params={"source": "live"}, headers=admin.headers)
        page = ok(r)
        assert r.headers["Crmapi-Source"] == "live"
        assert {(d["number"], d["status"]) for d in page["items"]} == {("FV/1", "paid"), ("FV/2", "open")}
        ((asked_path, headers),) = stand_in.asked
        assert asked_path == "/erp/debtors/D%2F1/invoices" and headers["X-Api-Key"] == "s3cret"
        stored = ok(await client.get(path, headers=admin.headers))
        assert stored["items"] == page["items"], "the ERP's answer is the stored copy now"

        again = await client.get(path, params={"source": "live", "status": "open"}, headers=admin.headers)
        assert again.headers["Crmapi-Source"] == "cache" and len(stand_in.asked) == 1
        assert [d["number"] for d in ok(again)["items"]] == ["FV/2"]


async def test_a_slow_erp_answers_504_within_the_timeout_or_the_stored_copy_when_asked(
    client: AsyncClient, admin: Member, erp: dict[str, str]
) -> None:
    accounts = await debtors(client, erp, "D-1")
    await push(client, "invoices", erp, [invoice("FV/1", "D-1")])
    path = f"/v1/accounts/{accounts['D-1']}/invoices"
    with erp_stand_in() as stand_in:
        stand_in.delay = 3
        body = {"base_url": stand_in.url, "timeout_seconds": 0.5, "cache_seconds": 0}
        ok(await client.put(CONNECTOR, json=body, headers=admin.headers))
        started = time.monotonic()
        late = await client.get(path, params={"source": "live"}, headers=admin.headers)
        waited = time.monotonic() - started
        problem = assert_problem(late, 504, "erp-timeout")
        assert waited < 1.5, waited
        assert "127.0.0.1" in problem["detail"] and "0.5 s" in problem["detail"]

        r = await client.get(path, params={"source": "live", "fallback": "stored"}, headers=admin.headers)
        assert r.headers["Crmapi-Source"] == "stored" and [d["number"] for d in ok(r)["items"]] == ["FV/1"]

        stand_in.delay, stand_in.status = 0, 500
        assert_problem(
            await client.get(path, params={"source": "live"}, headers=admin.headers), 502, "erp-unavailable"
        )
