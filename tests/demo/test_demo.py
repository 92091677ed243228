"""`crmapi demo-data`: a realistic organisation, seen through the API as its members see it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest_asyncio
from httpx import AsyncClient
from sqlalchemy import func, or_, select

from crmapi.access.actor import Actor
from crmapi.access.models import MemberUnit
from crmapi.accounts.models import Account, AccountSalesRep, Counter
from crmapi.accounts.schemas import AccountCreate
from crmapi.contacts.models import Contact
from crmapi.contacts.schemas import ContactCreate
from crmapi.custom_fields import service as custom_fields
from crmapi.demo.data import PASSWORD, Demo, load
from crmapi.kit.db import Database, bind_org
from crmapi.kit.search import fold
from crmapi.notes.models import Note
from crmapi.records.history import HistoryEntry


async def _load(db: Database, seed: int = 7) -> Demo:
    async with db.sessions() as session:
        demo = await load(session, seed=seed, contacts=60, accounts=20)
        await session.commit()
    return demo


@pytest_asyncio.fixture(loop_scope="session")
async def demo(db: Database) -> Demo:
    return await _load(db)


async def _sign_in(client: AsyncClient, email: str) -> dict[str, str]:
    r = await client.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def _every(
    client: AsyncClient, path: str, headers: dict[str, str], **params: str
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = {"limit": "200", **params, **({"cursor": cursor} if cursor else {})}
        r = await client.get(path, params=page, headers=headers)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items


async def _count(db: Database, org_id: UUID, column: Any, *where: Any) -> int:
    async with db.sessions() as session:
        await bind_org(session, org_id)
        return int((await session.execute(select(func.count(column)).where(*where))).scalar_one())


async def test_the_admin_sees_every_account_and_contact(client: AsyncClient, demo: Demo) -> None:
    admin = await _sign_in(client, demo.admin.email)
    accounts = await _every(client, "/v1/accounts", admin)
    contacts = await _every(client, "/v1/contacts", admin)
    assert len(accounts) == demo.counts["accounts"] == 20
    assert len(contacts) == demo.counts["contacts"] == 60
    assert sorted(a["number"] for a in accounts) == list(range(1, 21))
    assert [a["name"] for a in accounts if a["is_retail_default"]] == ["Klienci detaliczni"]
    assert len({a["code"] for a in accounts if a["code"]}) == len([a for a in accounts if a["code"]])
    assert {c["kind"] for c in contacts} == {"person", "organisation"}


async def test_every_record_is_one_the_api_would_accept(
    client: AsyncClient, demo: Demo, db: Database
) -> None:
    admin = await _sign_in(client, demo.admin.email)
    actor = Actor(org_id=demo.organisation_id, kind="staff", member_id=demo.admin.member_id)
    async with db.sessions() as session:
        await bind_org(session, demo.organisation_id)
        kinds = (("contact", "/v1/contacts", ContactCreate), ("account", "/v1/accounts", AccountCreate))
        for kind, path, schema in kinds:
            for item in await _every(client, path, admin):
                schema.model_validate(
                    {k: v for k, v in item.items() if k in schema.model_fields and v is not None}
                )
                custom = item["custom"]
                assert (
                    await custom_fields.validate_values(
                        session, actor, kind, custom, creating=True, current=None
                    )
                    == custom
                )


async def test_the_counts_match_the_rows(demo: Demo, db: Database) -> None:
    org = demo.organisation_id
    assert await _count(db, org, Note.id) == demo.counts["notes"] == 60 // 2 + 20 * 6 // 5
    assert await _count(db, org, HistoryEntry.id) == demo.counts["history"]
    assert await _count(db, org, HistoryEntry.id, HistoryEntry.entity == "contact") == 60
    assert await _count(db, org, Contact.id, Contact.search_text == "") == 0
    async with db.sessions() as session:
        await bind_org(session, org)
        counter = (await session.execute(select(Counter.value).where(Counter.name == "account"))).scalar_one()
        highest = (await session.execute(select(func.max(Account.number)))).scalar_one()
    assert counter == highest == 20
    assert demo.counts["staff"] == 12 and demo.counts["customers"] == 4


async def test_a_customer_sees_exactly_their_assigned_accounts(client: AsyncClient, demo: Demo) -> None:
    assert len(demo.customers) == 4
    for customer in demo.customers:
        headers = await _sign_in(client, customer.email)
        seen = {UUID(a["id"]) for a in await _every(client, "/v1/accounts", headers)}
        assert seen == set(demo.assigned[customer.member_id])
        assert 1 <= len(seen) <= 3


async def test_sales_reps_sign_in_and_see_the_accounts_they_own_or_carry_their_code(
    client: AsyncClient, demo: Demo, db: Database
) -> None:
    sizes = []
    for index, staff in enumerate(demo.staff[:3]):
        headers = await _sign_in(client, staff.email)
        seen = {UUID(a["id"]) for a in await _every(client, "/v1/accounts", headers)}
        carrying = select(AccountSalesRep.account_id).where(
            AccountSalesRep.sales_rep_code == f"PH{index + 1:02d}"
        )
        async with db.sessions() as session:
            await bind_org(session, demo.organisation_id)
            expected = set(
                (
                    await session.execute(
                        select(Account.id).where(
                            or_(Account.owner_member_id == staff.member_id, Account.id.in_(carrying))
                        )
                    )
                ).scalars()
            )
        assert seen == expected
        sizes.append(len(seen))
    assert sum(sizes) > 0 and max(sizes) < demo.counts["accounts"]


async def test_a_surname_prefix_finds_a_contact(client: AsyncClient, demo: Demo) -> None:
    admin = await _sign_in(client, demo.admin.email)
    persons = await _every(client, "/v1/contacts", admin, kind="person")
    # Prefer a surname whose first letters carry a diacritic: `q` is typed without it.
    person = next((p for p in persons if not p["last_name"][:4].isascii()), persons[0])
    prefix = fold(person["last_name"])[:4]
    found = await _every(client, "/v1/contacts", admin, q=prefix)
    assert person["id"] in {c["id"] for c in found}


async def test_two_runs_make_two_organisations_of_the_same_shape(db: Database, demo: Demo) -> None:
    again = await _load(db)
    assert again.organisation_id != demo.organisation_id
    assert again.name != demo.name
    assert again.counts == demo.counts
    assert again.admin.email != demo.admin.email

    async def names(org_id: UUID) -> list[str]:
        async with db.sessions() as session:
            await bind_org(session, org_id)
            rows = await session.execute(select(Contact.display_name).order_by(Contact.display_name))
            return list(rows.scalars())

    assert await names(again.organisation_id) == await names(demo.organisation_id)


async def test_a_regional_manager_sees_the_accounts_of_their_region(
    client: AsyncClient, demo: Demo, db: Database
) -> None:
    manager = demo.staff[9]
    headers = await _sign_in(client, manager.email)
    seen = {UUID(a["id"]) for a in await _every(client, "/v1/accounts", headers)}
    async with db.sessions() as session:
        await bind_org(session, demo.organisation_id)
        units = select(MemberUnit.business_unit_id).where(MemberUnit.member_id == manager.member_id)
        expected = set(
            (
                await session.execute(
                    select(Account.id).where(
                        or_(Account.owner_member_id == manager.member_id, Account.business_unit_id.in_(units))
                    )
                )
            ).scalars()
        )
    assert seen == expected and 0 < len(seen) < demo.counts["accounts"]


async def test_the_sales_side_fills_every_board_column(client: AsyncClient, demo: Demo) -> None:
    admin = await _sign_in(client, demo.admin.email)
    board = (await client.get("/v1/leads/board", headers=admin)).json()
    assert [c["code"] for c in board["columns"]] == ["PENDING", "IN_PROGRESS", "WON", "LOST", "CANCELLED"]
    assert all(c["cards"] for c in board["columns"])
    assert sum(len(c["cards"]) for c in board["columns"]) == demo.counts["leads"] == 10
    leads = await _every(client, "/v1/leads", admin)
    assert {lead["state"] for lead in leads} == {"pending", "in_progress", "won", "lost", "cancelled"}
    assert all(lead["lost_reason_id"] for lead in leads if lead["state"] == "lost")
    stages = (await client.get("/v1/opportunities/pipeline", headers=admin)).json()["stages"]
    assert sum(s["count"] for s in stages) == demo.counts["opportunities"] == 10
    assert stages[0]["code"] == "OPEN" and stages[0]["amounts"][0]["currency"] == "PLN"
    made = await client.post("/v1/leads", json={"description": "After the demo"}, headers=admin)
    assert made.status_code == 201 and made.json()["number"] == 11


async def test_the_service_side_fills_the_dashboard_and_the_summary(client: AsyncClient, demo: Demo) -> None:
    admin = await _sign_in(client, demo.admin.email)
    board = (await client.get("/v1/service-requests/dashboard", headers=admin)).json()
    assert board["total"] == demo.counts["service_requests"] == 10
    assert set(board["by_state"]) == {
        "pending",
        "in_progress",
        "responded",
        "finally_resolved",
        "completed",
        "cancelled",
    }
    summary = (await client.get("/v1/feedback/summary", headers=admin)).json()
    assert summary["overall"]["count"] == demo.counts["feedback"]
    account = next(iter(demo.assigned.values()))[0]
    body = {"subject": "After the demo", "account_id": str(account), "urgency": 3, "impact": 3}
    made = await client.post("/v1/service-requests", json=body, headers=admin)
    assert made.status_code == 201 and made.json()["number"] == 11
