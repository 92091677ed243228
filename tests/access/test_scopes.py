"""Which accounts and contacts a member sees: sales-rep records, business units, customers.

Reps, units and the unit-visibility setting are set up directly in the database here (their
own endpoints have their own tests); everything a member sees is asked through the API.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from httpx import AsyncClient
from sqlalchemy import delete, update

from crmapi.access import actor as actor_module
from crmapi.access import policy
from crmapi.access.dependencies import member_actor
from crmapi.access.models import BusinessUnit, MemberUnit, SalesRep, SalesRepMember
from crmapi.accounts import queries as account_queries
from crmapi.identity.models import Organisation
from crmapi.kit.db import Database, bind_org
from crmapi.kit.ids import new_id
from tests import factories
from tests.support import Member, Tenant, Tenants


async def _write(db: Database, tenant: Tenant, *rows: Any) -> None:
    async with db.sessions() as session:
        await bind_org(session, tenant.org_id)
        for row in rows:
            session.add(row)
            await session.flush()
        await policy.changed(session, tenant.org_id)
        await session.commit()


async def rep(db: Database, tenant: Tenant, member: Member, code: str, *, active: bool = True) -> UUID:
    record = SalesRep(org_id=tenant.org_id, id=new_id(), code=code, name=f"Rep {code}", active=active)
    link = SalesRepMember(org_id=tenant.org_id, id=new_id(), sales_rep_id=record.id, member_id=member.id)
    await _write(db, tenant, record, link)
    return record.id


async def unit(db: Database, tenant: Tenant, name: str, parent: UUID | None = None) -> UUID:
    row = BusinessUnit(org_id=tenant.org_id, id=new_id(), name=name, parent_id=parent)
    await _write(db, tenant, row)
    return row.id


async def join_unit(db: Database, tenant: Tenant, member: Member, unit_id: UUID) -> None:
    await _write(
        db,
        tenant,
        MemberUnit(org_id=tenant.org_id, id=new_id(), member_id=member.id, business_unit_id=unit_id),
    )


async def unit_visibility(db: Database, tenant: Tenant, on: bool) -> None:
    async with db.sessions() as session:
        await session.execute(
            update(Organisation)
            .where(Organisation.id == tenant.org_id)
            .values(settings={"unit_visibility": on})
        )
        await policy.changed(session, tenant.org_id)
        await session.commit()


async def account(client: AsyncClient, tenant: Tenant, name: str, **fields: Any) -> str:
    return str((await factories.account(client, tenant.admin, name=name, **fields))["id"])


async def contact(client: AsyncClient, tenant: Tenant, last_name: str, **fields: Any) -> str:
    made = await factories.contact(client, tenant.admin, first_name="Jan", last_name=last_name, **fields)
    return str(made["id"])


async def names(client: AsyncClient, member: Member, path: str = "/v1/accounts") -> list[str]:
    r = await client.get(path, params={"limit": 200, "sort": "created_at"}, headers=member.headers)
    assert r.status_code == 200, r.text
    key = "name" if path == "/v1/accounts" else "display_name"
    return [item[key] for item in r.json()["items"]]


async def test_a_sales_rep_sees_the_accounts_carrying_its_code(
    client: AsyncClient, tenants: Tenants, db: Database
) -> None:
    acme = await tenants.create()
    anna = await tenants.member(acme)
    await rep(db, acme, anna, "R1")
    mine = await account(client, acme, "Mine", sales_rep_codes=["R1"])
    theirs = await account(client, acme, "Theirs", sales_rep_codes=["R2"])
    assert await names(client, anna) == ["Mine"]
    assert (await client.get(f"/v1/accounts/{mine}", headers=anna.headers)).status_code == 200
    assert (await client.get(f"/v1/accounts/{theirs}", headers=anna.headers)).status_code == 404
    patch = await client.patch(f"/v1/accounts/{theirs}", json={"name": "x"}, headers=anna.headers)
    assert patch.status_code == 404


async def test_a_rep_sees_the_contacts_of_its_accounts_only(
    client: AsyncClient, tenants: Tenants, db: Database
) -> None:
    acme = await tenants.create()
    anna = await tenants.member(acme)
    await rep(db, acme, anna, "R1")
    buyer = await contact(client, acme, "Buyer")
    await contact(client, acme, "Stranger")
    await account(client, acme, "Mine", sales_rep_codes=["R1"], contact_ids=[buyer])
    assert await names(client, anna, "/v1/contacts") == ["Jan Buyer"]


async def test_an_inactive_rep_record_shows_nothing(
    client: AsyncClient, tenants: Tenants, db: Database
) -> None:
    acme = await tenants.create()
    anna = await tenants.member(acme)
    await rep(db, acme, anna, "R1", active=False)
    await account(client, acme, "Mine", sales_rep_codes=["R1"])
    assert await names(client, anna) == []


async def test_unlinking_a_rep_hides_its_accounts_on_the_next_request(
    client: AsyncClient, tenants: Tenants, db: Database
) -> None:
    acme = await tenants.create()
    anna = await tenants.member(acme)
    rep_id = await rep(db, acme, anna, "R1")
    await account(client, acme, "Mine", sales_rep_codes=["R1"])
    assert await names(client, anna) == ["Mine"]
    async with db.sessions() as session:
        await bind_org(session, acme.org_id)
        await session.execute(delete(SalesRepMember).where(SalesRepMember.sales_rep_id == rep_id))
        await policy.changed(session, acme.org_id)
        await session.commit()
    assert await names(client, anna) == []


async def test_units_show_their_records_and_those_below_when_the_organisation_says_so(
    client: AsyncClient, tenants: Tenants, db: Database
) -> None:
    acme = await tenants.create()
    anna = await tenants.member(acme)
    north = await unit(db, acme, "North")
    gdansk = await unit(db, acme, "Gdańsk", parent=north)
    south = await unit(db, acme, "South")
    await join_unit(db, acme, anna, north)
    await account(client, acme, "In North", business_unit_id=str(north))
    await account(client, acme, "In Gdańsk", business_unit_id=str(gdansk))
    await account(client, acme, "In South", business_unit_id=str(south))
    await contact(client, acme, "Northman", business_unit_id=str(north))
    assert await names(client, anna) == []
    await unit_visibility(db, acme, True)
    assert await names(client, anna) == ["In North", "In Gdańsk"]
    assert await names(client, anna, "/v1/contacts") == ["Jan Northman"]
    await unit_visibility(db, acme, False)
    assert await names(client, anna) == []


async def test_a_customer_sees_its_assigned_account_and_its_contacts_only(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme = await tenants.create()
    buyer = await tenants.member(acme, kind="customer")
    person = await contact(client, acme, "Buyer")
    await contact(client, acme, "Stranger")
    assigned = await account(client, acme, "Assigned", contact_ids=[person])
    other = await account(client, acme, "Other")
    r = await client.post(
        f"/v1/accounts/{assigned}/assignments", json={"member_id": str(buyer.id)}, headers=acme.admin.headers
    )
    assert r.status_code == 204, r.text
    assert await names(client, buyer) == ["Assigned"]
    assert await names(client, buyer, "/v1/contacts") == ["Jan Buyer"]
    assert (await client.get(f"/v1/accounts/{other}", headers=buyer.headers)).status_code == 404
    assert (await client.get(f"/v1/accounts/{assigned}", headers=buyer.headers)).status_code == 200


async def test_a_customer_in_a_unit_with_a_rep_record_still_sees_only_its_assignments(
    client: AsyncClient, tenants: Tenants, db: Database
) -> None:
    acme = await tenants.create()
    buyer = await tenants.member(acme, kind="customer")
    north = await unit(db, acme, "North")
    await join_unit(db, acme, buyer, north)
    await rep(db, acme, buyer, "R1")
    await unit_visibility(db, acme, True)
    await account(client, acme, "Rep's", sales_rep_codes=["R1"])
    await account(client, acme, "Unit's", business_unit_id=str(north))
    assert await names(client, buyer) == []


async def test_another_organisations_rep_code_shows_nothing(
    client: AsyncClient, tenants: Tenants, db: Database
) -> None:
    acme, globex = await tenants.create("Acme"), await tenants.create("Globex")
    anna = await tenants.member(acme)
    await rep(db, acme, anna, "R1")
    await account(client, globex, "Globex's", sales_rep_codes=["R1"])
    assert await names(client, anna) == []


def test_a_members_scope_is_built_once_and_again_when_its_grants_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    org, anna = new_id(), new_id()
    grants = policy.Grants(sales_rep_codes=("R1",))
    first = member_actor(org, anna, new_id(), "staff", "UTC", grants)
    second_session = member_actor(org, anna, new_id(), "staff", "UTC", grants)
    assert account_queries.scope(first) is account_queries.scope(second_session)
    # A policy change loads new grants, and with them a new predicate.
    relinked = member_actor(org, anna, new_id(), "staff", "UTC", policy.Grants(sales_rep_codes=("R2",)))
    sql = str(account_queries.scope(relinked).compile(compile_kwargs={"literal_binds": True}))
    assert "'R2'" in sql and "'R1'" not in sql
    # Kept for the most recent actors only: memory stays bounded however many members call.
    monkeypatch.setattr(actor_module, "BUILT_MAX", 3)
    for _ in range(10):
        account_queries.scope(member_actor(org, new_id(), new_id(), "staff", "UTC", grants))
    assert len(actor_module._BUILT) <= 3
    assert account_queries.scope(first) is not account_queries.scope(relinked)


async def _walk(client: AsyncClient, member: Member, path: str, sort: str) -> list[str]:
    """Every item of a list, page by page (2 a page), following the cursors."""
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2, "sort": sort}
    while True:
        r = await client.get(path, params=params, headers=member.headers)
        assert r.status_code == 200, r.text
        seen += [item["id"] for item in r.json()["items"]]
        if not r.json()["next_cursor"]:
            return seen
        params["cursor"] = r.json()["next_cursor"]


async def test_a_reps_pages_hold_its_records_once_each_in_every_order(
    client: AsyncClient, tenants: Tenants, db: Database
) -> None:
    acme = await tenants.create()
    anna = await tenants.member(acme)
    await rep(db, acme, anna, "R1")
    # Two of the same name: a tie in the sort key, broken by id across the pages.
    buyers = [await contact(client, acme, name) for name in ("Cichy", "Adamski", "Bury", "Cichy", "Dudek")]
    await contact(client, acme, "Obcy")
    mine = [
        await account(client, acme, f"Mine {n}", sales_rep_codes=["R1"], contact_ids=buyers) for n in "CAEBD"
    ]
    await account(client, acme, "Theirs", sales_rep_codes=["R2"])
    gone = await account(client, acme, "Gone", sales_rep_codes=["R1"])
    assert (await client.delete(f"/v1/accounts/{gone}", headers=acme.admin.headers)).status_code == 204
    for path, ids, sorts in (
        (
            "/v1/contacts",
            buyers,
            ("created_at", "-created_at", "display_name", "-display_name", "-updated_at"),
        ),
        ("/v1/accounts", mine, ("created_at", "-created_at", "name", "-name", "number", "-number")),
    ):
        for sort in sorts:
            # The rep's pages, found by id first, match the administrator's filtered to the same rows.
            everything = await _walk(client, acme.admin, path, sort)
            assert await _walk(client, anna, path, sort) == [i for i in everything if i in ids], (path, sort)
