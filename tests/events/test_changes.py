"""The change feed as an integrator pages it: every change once, in commit order, deletions
included, and only what the caller may see."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from httpx import AsyncClient
from sqlalchemy import text

from crmapi.kit.db import Database, libpq_dsn
from tests import factories
from tests.permissions import api_key, grant, work_as_rep
from tests.support import Tenant, Tenants, assert_problem, error_fields, ok

CHANGES = "/v1/changes"
DEBTORS = "/v1/integrations/erp/debtors"


async def relay_orders(db: Database) -> None:
    """What the relay's ticks do first: put the committed changes in order, a batch of 5,000 a
    statement as the relay claims them (no queue here)."""
    claimed = 1
    while claimed:
        async with db.sessions() as session, session.begin():
            claimed = await session.scalar(
                text("SELECT count(*) FROM crmapi_outbox_claim(5000, interval '5 minutes')")
            )


async def read_all(
    client: AsyncClient, who: dict[str, str], after: int = 0, **params: Any
) -> tuple[list[dict[str, Any]], int]:
    """Every change after `after`, page by page; and the last `next_after`."""
    changes: list[dict[str, Any]] = []
    while True:
        page = ok(await client.get(CHANGES, params={"after": after, **params}, headers=who))
        changes += page["items"]
        assert page["next_after"] >= after
        after = page["next_after"]
        if not page["has_more"]:
            return changes, after


@pytest.mark.committed
async def test_a_push_of_10_000_debtors_is_paged_whole_in_commit_order_and_a_rep_sees_its_own(
    committed_client: AsyncClient, committed_db: Database, committed_tenants: Tenants, owner_url: str
) -> None:
    # Committed, and the tables analysed after the push, as autovacuum would: inside a test's
    # rolled-back transaction the 10,000 accounts had only the statistics earlier tests left
    # behind, and the rep's page was now and then planned as if they were one row (a 15 s
    # statement timeout, in about one full run in eight).
    client, db, tenants = committed_client, committed_db, committed_tenants
    acme = await tenants.create()
    erp = await api_key(db, tenants, acme, ["integrations.push"])
    admin = acme.admin.headers
    rep = await tenants.member(acme)
    await work_as_rep(db, acme, rep, "PH01")
    await work_as_rep(db, acme, await tenants.member(acme), "PH02")
    await relay_orders(db)
    _, start = await read_all(client, admin)
    records = [
        {"code": f"D-{n:05}", "name": f"Debtor {n}", "sales_rep_codes": ["PH01" if n % 4 == 0 else "PH02"]}
        for n in range(10_000)
    ]
    pushed = ok(await client.post(DEBTORS, json={"records": records}, headers=erp))
    accounts = [r["id"] for r in pushed["results"]]
    gone = accounts[8]  # a PH01 account
    assert (await client.delete(f"/v1/accounts/{gone}", headers=admin)).status_code == 204
    await relay_orders(db)
    owner = await asyncpg.connect(libpq_dsn(owner_url))
    try:
        await owner.execute("ANALYZE accounts, account_sales_reps, outbox")
    finally:
        await owner.close()

    changes, end = await read_all(client, admin, after=start, limit=1000)
    seqs = [c["seq"] for c in changes]
    assert seqs == sorted(set(seqs)), "every change once, in order"
    assert end == seqs[-1]
    created = [c for c in changes if c["type"] == "account.created"]
    assert sorted(c["record_id"] for c in created) == sorted(accounts)
    assert all(c["version"] == 1 and c["kind"] == "account" for c in created)
    [deleted] = [c for c in changes if c["operation"] == "deleted"]
    assert (deleted["record_id"], deleted["version"]) == (gone, 2)
    assert deleted["seq"] > max(c["seq"] for c in created)
    # Asked again from the end: nothing new, and the same place to ask from.
    again = ok(await client.get(CHANGES, params={"after": end}, headers=admin))
    assert (again["items"], again["next_after"], again["has_more"]) == ([], end, False)

    # The PH01 rep hears of its accounts' changes only, the deleted one's included.
    theirs, _ = await read_all(client, rep.headers, after=start, limit=1000)
    assert {c["record_id"] for c in theirs} == set(accounts[::4])
    assert [c["operation"] for c in theirs if c["record_id"] == gone] == ["created", "deleted"]


async def test_a_change_names_the_fields_and_the_version_it_wrote(
    client: AsyncClient, db: Database, acme: Tenant
) -> None:
    admin = acme.admin
    await relay_orders(db)
    _, start = await read_all(client, admin.headers)
    contact = await factories.contact(client, admin, last_name="Nowak")
    ok(await client.patch(f"/v1/contacts/{contact['id']}", json={"job_title": "CFO"}, headers=admin.headers))
    lead = await factories.lead(client, admin, assigned_member_id=str(admin.id))
    ok(await client.post(f"/v1/leads/{lead['id']}/start", headers=admin.headers))
    await relay_orders(db)
    changes, _ = await read_all(client, admin.headers, after=start, kinds="contact,lead")
    mine = [c for c in changes if c["record_id"] in (contact["id"], lead["id"])]
    assert [(c["type"], c["version"]) for c in mine] == [
        ("contact.created", 1),
        ("contact.updated", 2),
        ("lead.created", 1),
        ("lead.transition", 2),
    ]
    assert mine[1]["fields"] == ["job_title"]
    assert mine[3]["fields"] == ["state", "status_id"]
    assert {c["kind"] for c in changes} <= {"contact", "lead"}


async def test_a_members_feed_holds_only_what_it_may_see(
    client: AsyncClient, db: Database, tenants: Tenants, acme: Tenant, globex: Tenant
) -> None:
    seller = await tenants.member(acme)
    theirs = await factories.contact(client, acme.admin, last_name="Admin's")
    mine = await factories.contact(client, seller, last_name="Seller's")
    other_org = await factories.contact(client, globex.admin, last_name="Globex's")
    ok(await client.post("/v1/tags", json={"name": "vip"}, headers=acme.admin.headers), 201)
    await relay_orders(db)

    seen, _ = await read_all(client, seller.headers)
    assert mine["id"] in {c["record_id"] for c in seen}
    assert not {theirs["id"], other_org["id"]} & {c["record_id"] for c in seen}
    assert {c["kind"] for c in seen} <= {"contact"}, "no configuration or access events for a member"
    everything, _ = await read_all(client, acme.admin.headers)
    assert {mine["id"], theirs["id"]} <= {c["record_id"] for c in everything}
    assert other_org["id"] not in {c["record_id"] for c in everything}
    assert "tag" in {c["kind"] for c in everything}
    # A member granted every contact hears of every contact.
    await grant(db, acme, seller, ("contacts.view_any",))
    widened, _ = await read_all(client, seller.headers, kinds="contact")
    assert {mine["id"], theirs["id"]} <= {c["record_id"] for c in widened}


async def test_bad_feed_parameters_are_422_and_strangers_401(client: AsyncClient, acme: Tenant) -> None:
    h = acme.admin.headers
    assert error_fields(await client.get(CHANGES, params={"kinds": "contact,spaceship"}, headers=h)) == {
        "query.kinds"
    }
    assert error_fields(await client.get(CHANGES, params={"after": -1}, headers=h)) == {"query.after"}
    assert error_fields(await client.get(CHANGES, params={"limit": 1001}, headers=h)) == {"query.limit"}
    assert_problem(await client.get(CHANGES), 401, "unauthorized")


async def test_an_api_key_hears_only_of_the_kinds_its_capabilities_see(
    client: AsyncClient, db: Database, tenants: Tenants, acme: Tenant
) -> None:
    await factories.contact(client, acme.admin, last_name="Kowalski")
    await factories.account(client, acme.admin, name="Kowalski Trading")
    key = await api_key(db, tenants, acme, ["accounts.view_any"])
    await relay_orders(db)
    seen, _ = await read_all(client, key)
    assert seen and {c["kind"] for c in seen} == {"account"}
