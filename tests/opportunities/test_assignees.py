"""Whoever a work item is assigned to sees it and works on it, whatever its account (DESIGN:
"A work item ... is also visible to the member it is assigned to, whatever its account")."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from httpx import AsyncClient
from sqlalchemy.dialects import postgresql

from crmapi.access.actor import Actor
from crmapi.kit.db import libpq_dsn
from crmapi.kit.ids import new_id
from crmapi.opportunities import queries as opportunity_queries
from crmapi.opportunities.models import Opportunity
from crmapi.settings import APP_ROLE
from tests import factories
from tests.support import Member, Tenant, Tenants, assert_problem, ok

# Each kind: its path, a body making one on an account (the rep cannot see it), a change the
# assignee makes, and the move it starts with.
KINDS: dict[str, tuple[str, dict[str, Any], dict[str, Any], str]] = {
    "lead": ("/v1/leads", {"description": "Seats"}, {"notes": "Called."}, "start"),
    "opportunity": ("/v1/opportunities", {"name": "Deal"}, {"probability": 40}, "win"),
    "activity": ("/v1/activities", {"subject": "Visit"}, {"notes": "Went."}, "start"),
    "service_request": (
        "/v1/service-requests",
        {"subject": "Broken", "urgency": 2, "impact": 2},
        {"description": "Looked."},
        "start",
    ),
}


async def _account(client: AsyncClient, admin: Member) -> str:
    return str((await factories.account(client, admin, name="Nowak Trading"))["id"])


async def _listed(client: AsyncClient, path: str, who: Member, record_id: str) -> bool:
    items = (ok(await client.get(path, params={"limit": 200}, headers=who.headers)))["items"]
    return record_id in {item["id"] for item in items}


@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_the_assignee_sees_and_works_an_item_on_an_account_it_cannot_see(
    kind: str, client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    admin, rep = acme.admin, await tenants.member(acme)
    path, body, change, move = KINDS[kind]
    account = await _account(client, admin)
    assert_problem(await client.get(f"/v1/accounts/{account}", headers=rep.headers), 404, "not-found")
    item = ok(
        await client.post(
            path,
            json={**body, "account_id": account, "assigned_member_id": str(rep.id)},
            headers=admin.headers,
        ),
        201,
    )
    one = f"{path}/{item['id']}"
    assert (ok(await client.get(one, headers=rep.headers)))["id"] == item["id"]
    assert await _listed(client, path, rep, item["id"])
    ok(await client.patch(one, json=change, headers=rep.headers))
    ok(await client.post(f"{one}/{move}", headers=rep.headers))
    assert (ok(await client.get(f"{one}/history", headers=rep.headers)))["items"]
    other = await tenants.member(acme)
    if kind == "opportunity":  # decided: it keeps its assignee; a new one is still open
        item = ok(await client.post(path, json={**body, "account_id": account}, headers=admin.headers), 201)
        one = f"{path}/{item['id']}"
        ok(await client.patch(one, json={"assigned_member_id": str(rep.id)}, headers=admin.headers))
        assert await _listed(client, path, rep, item["id"])
    ok(await client.patch(one, json={"assigned_member_id": str(other.id)}, headers=admin.headers))
    assert_problem(await client.get(one, headers=rep.headers), 404, "not-found")
    assert not await _listed(client, path, rep, item["id"])


async def test_a_bulk_assignment_shows_opportunities_to_their_new_assignee(
    client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    admin, rep = acme.admin, await tenants.member(acme)
    account = await _account(client, admin)
    deals = [
        ok(
            await client.post(
                "/v1/opportunities", json={"account_id": account, "name": f"Deal {n}"}, headers=admin.headers
            ),
            201,
        )
        for n in range(3)
    ]
    ids = [deal["id"] for deal in deals]
    for deal_id in ids:
        assert_problem(
            await client.get(f"/v1/opportunities/{deal_id}", headers=rep.headers), 404, "not-found"
        )
    ok(
        await client.post(
            "/v1/opportunities/bulk/assignments",
            json={"ids": ids, "assigned_member_id": str(rep.id)},
            headers=admin.headers,
        )
    )
    board = ok(await client.get("/v1/opportunities/board", headers=rep.headers))
    assert {card["id"] for column in board["columns"] for card in column["cards"]} == set(ids)
    pipeline = ok(await client.get("/v1/opportunities/pipeline", headers=rep.headers))
    assert sum(stage["count"] for stage in pipeline["stages"]) == 3
    moved = ok(
        await client.post(
            "/v1/opportunities/bulk/assignments",
            json={"ids": ids, "assigned_member_id": str(admin.id)},
            headers=rep.headers,
        )
    )
    assert {r["reason"] for r in moved["results"]} == {"not-owner"}  # reassigning is the owner's call
    assert (await client.delete(f"/v1/accounts/{account}", headers=admin.headers)).status_code == 204
    for deal_id in ids:  # a deleted account's opportunities are gone for every caller
        assert_problem(
            await client.get(f"/v1/opportunities/{deal_id}", headers=rep.headers), 404, "not-found"
        )


@pytest.fixture
async def owner(owner_url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(libpq_dsn(owner_url))
    yield conn
    await conn.close()


async def test_each_path_of_the_opportunity_scope_is_served_by_an_index(owner: asyncpg.Connection) -> None:
    """A member's opportunities come from one indexed lookup per path (account, owner, assignee),
    not from testing every opportunity of the organisation."""
    org, members = new_id(), [new_id() for _ in range(200)]
    actor = Actor(org_id=org, kind="staff", member_id=members[3], sales_rep_codes=("R1",))
    stmt = opportunity_queries.readable(actor).with_only_columns(Opportunity.id)
    sql = str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    work = owner.transaction()
    await work.start()
    try:
        await owner.execute("SET LOCAL session_replication_role = replica")  # no foreign keys to fill
        await owner.execute(
            "INSERT INTO organisations (id, name, default_currency, time_zone, settings, policy_version,"
            " created_at, updated_at, version) VALUES ($1, 'Plan', 'EUR', 'UTC', '{}', 1, now(), now(), 1)",
            org,
        )
        await owner.execute(
            "INSERT INTO accounts (org_id, id, number, name, payment_methods, status, is_retail_default,"
            " tags, custom, search_text, created_at, updated_at, version) SELECT $1, gen_random_uuid(), n,"
            " 'a' || n, '{}', 'active', false, '{}', '{}', '', now(), now(), 1"
            " FROM generate_series(1, 5000) AS n",
            org,
        )
        await owner.execute(
            "INSERT INTO opportunities (org_id, id, number, type_id, status_id, state, stage_entered_at,"
            " account_id, name, cost_conscious, tags, search_text, owner_member_id, assigned_member_id,"
            " created_at, updated_at, version) SELECT $1, gen_random_uuid(), n, gen_random_uuid(),"
            " gen_random_uuid(), 'open', now(), a.id, 'o' || n, false, '{}', '', ($2::uuid[])[1 + n % 200],"
            " ($2::uuid[])[1 + (n * 7) % 200], now(), now(), 1 FROM generate_series(1, 20000) AS n"
            " JOIN accounts AS a ON a.org_id = $1 AND a.number = 1 + n % 5000",
            org,
            members,
        )
        await owner.execute("ANALYZE accounts")
        await owner.execute("ANALYZE opportunities")
        await owner.execute("SET LOCAL enable_seqscan = off")
        await owner.execute(f"SET LOCAL ROLE {APP_ROLE}")
        await owner.execute("SELECT set_config('app.org_id', $1, true)", str(org))
        plan = "\n".join(r[0] for r in await owner.fetch(f"EXPLAIN {sql}"))
    finally:
        await work.rollback()
    for index in ("ix_opportunities_account", "ix_opportunities_owner", "ix_opportunities_assignee"):
        assert index in plan, plan
