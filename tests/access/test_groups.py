"""Groups through the HTTP API: the capability catalogue, groups, their members and grants, the
policy every process sees change on its next request, and the last administrator kept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import select

from crmapi.access.capabilities import CATALOGUE
from crmapi.app import create_app
from crmapi.identity.models import Organisation
from crmapi.kit.db import Database, bind_org
from crmapi.records.history import HistoryEntry
from crmapi.records.outbox import OutboxEvent
from crmapi.settings import Settings
from tests import factories
from tests.support import NOBODY, Member, Tenant, Tenants, assert_problem, error_fields, rows_of


async def group(client: AsyncClient, who: Member, name: str, *capabilities: str) -> dict[str, Any]:
    body = {"name": name, "capabilities": list(capabilities)}
    r = await client.post("/v1/groups", json=body, headers=who.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def put_in(client: AsyncClient, who: Member, group_id: str, member: Member) -> Response:
    return await client.put(f"/v1/groups/{group_id}/members/{member.id}", headers=who.headers)


async def administrators(client: AsyncClient, admin: Member) -> dict[str, Any]:
    r = await client.get("/v1/groups", params={"capability": "org.admin"}, headers=admin.headers)
    assert r.status_code == 200, r.text
    [found] = r.json()["items"]
    return found


async def account_names(client: AsyncClient, who: Member) -> set[str]:
    r = await client.get("/v1/accounts", params={"limit": 200}, headers=who.headers)
    assert r.status_code == 200, r.text
    return {a["name"] for a in r.json()["items"]}


async def policy_version(db: Database, tenant: Tenant) -> int:
    async with db.sessions() as session:
        found = await session.scalar(
            select(Organisation.policy_version).where(Organisation.id == tenant.org_id)
        )
        return int(found or 0)


async def new_account(client: AsyncClient, admin: Member, name: str) -> str:
    return str((await factories.account(client, admin, name=name))["id"])


# --- the catalogue ---------------------------------------------------------------------------


async def test_the_catalogue_lists_every_capability_and_what_the_caller_holds(
    client: AsyncClient, admin: Member, staff: Member, tenants: Tenants, acme: Tenant
) -> None:
    customer = await tenants.member(acme, kind="customer")
    answers = {}
    for name, who in (("admin", admin), ("staff", staff), ("customer", customer)):
        r = await client.get("/v1/capabilities", headers=who.headers)
        assert r.status_code == 200, r.text
        answers[name] = {c["name"]: c for c in r.json()["items"]}
    assert set(answers["admin"]) == set(CATALOGUE)
    assert all(c["description"] for c in answers["admin"].values())
    assert answers["admin"]["accounts.manage"]["implies"] == ["accounts.view_any"]
    assert set(answers["admin"]["org.admin"]["implies"]) == set(CATALOGUE) - {"org.admin"}
    assert all(c["held"] for c in answers["admin"].values())
    held = {n for n, c in answers["staff"].items() if c["held"]}
    assert held == {
        "contacts.create",
        "accounts.create",
        "leads.create",
        "opportunities.create",
        "activities.create",
        "service_requests.create",
        "sales_orders.create",
    }
    assert not any(c["held"] for c in answers["customer"].values())


async def test_the_catalogue_needs_a_caller(client: AsyncClient) -> None:
    assert_problem(await client.get("/v1/capabilities"), 401, "unauthorized")


# --- groups ----------------------------------------------------------------------------------


async def test_create_returns_the_group_with_its_grants_and_records_it(
    client: AsyncClient, admin: Member, db: Database, acme: Tenant
) -> None:
    body = {"name": "Kierownicy", "description": "Sales managers", "capabilities": ["contacts.view_any"] * 2}
    r = await client.post("/v1/groups", json=body, headers=admin.headers)
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["Location"] == f"/v1/groups/{created['id']}"
    assert created["capabilities"] == ["contacts.view_any"]
    assert (created["member_count"], created["version"]) == (0, 1)
    fetched = await client.get(f"/v1/groups/{created['id']}", headers=admin.headers)
    assert fetched.json() == created
    [entry] = await rows_of(db, acme, HistoryEntry, entity="group", entity_id=created["id"])
    assert entry.changes["capabilities"] == {"old": None, "new": ["contacts.view_any"]}
    [event] = await rows_of(db, acme, OutboxEvent, entity="group", entity_id=created["id"])
    assert event.topic == "group.created"


async def test_a_name_taken_in_any_case_is_409(client: AsyncClient, admin: Member) -> None:
    await group(client, admin, "Back office")
    r = await client.post("/v1/groups", json={"name": "BACK OFFICE"}, headers=admin.headers)
    assert_problem(r, 409, "name-taken")
    other = await group(client, admin, "Front office")
    r = await client.patch(f"/v1/groups/{other['id']}", json={"name": "back office"}, headers=admin.headers)
    assert_problem(r, 409, "name-taken")


async def test_bad_input_names_the_field(client: AsyncClient, admin: Member) -> None:
    r = await client.post(
        "/v1/groups", json={"name": "X", "capabilities": ["accounts.fly"]}, headers=admin.headers
    )
    assert error_fields(r) == {"body.capabilities.0"}
    assert error_fields(await client.post("/v1/groups", json={"name": ""}, headers=admin.headers)) == {
        "body.name"
    }
    created = await group(client, admin, "Y")
    r = await client.patch(f"/v1/groups/{created['id']}", json={"name": None}, headers=admin.headers)
    assert error_fields(r) == {"body.name"}
    r = await client.put(f"/v1/groups/{created['id']}/grants/accounts.fly", headers=admin.headers)
    assert error_fields(r) == {"path.capability"}


async def test_rename_follows_if_match(client: AsyncClient, admin: Member) -> None:
    created = await group(client, admin, "Sales")
    stale = {**admin.headers, "If-Match": '"0"'}
    r = await client.patch(f"/v1/groups/{created['id']}", json={"name": "Sprzedaż"}, headers=stale)
    assert_problem(r, 412, "stale-version")
    fresh = {**admin.headers, "If-Match": '"1"'}
    r = await client.patch(f"/v1/groups/{created['id']}", json={"name": "Sprzedaż"}, headers=fresh)
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["version"], r.headers["ETag"]) == ("Sprzedaż", 2, '"2"')


async def test_list_filters_by_member_capability_and_name(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    managers = await group(client, admin, "Managers", "accounts.view_any")
    await group(client, admin, "Taggers", "tags.manage")
    assert (await put_in(client, admin, managers["id"], staff)).status_code == 204

    async def names(**params: Any) -> list[str]:
        r = await client.get("/v1/groups", params=params, headers=admin.headers)
        assert r.status_code == 200, r.text
        return [g["name"] for g in r.json()["items"]]

    assert await names() == ["Administrators", "Managers", "Taggers"]
    assert await names(member_id=str(staff.id)) == ["Managers"]
    assert await names(member_id=str(admin.id)) == ["Administrators"]
    assert await names(capability="tags.manage") == ["Taggers"]
    assert await names(q="AGER") == ["Managers"]
    assert await names(limit=1, sort="-name") == ["Taggers"]


async def test_members_join_once_and_customers_never(
    client: AsyncClient, admin: Member, staff: Member, tenants: Tenants, acme: Tenant, db: Database
) -> None:
    created = await group(client, admin, "Managers")
    assert (await put_in(client, admin, created["id"], staff)).status_code == 204
    policy_after_first = await policy_version(db, acme)
    assert (await put_in(client, admin, created["id"], staff)).status_code == 204
    # The repeat changed nothing: no policy change, one history row and one event for the join.
    assert await policy_version(db, acme) == policy_after_first
    joined = await rows_of(
        db, acme, HistoryEntry, entity="group", entity_id=created["id"], action="member_added"
    )
    assert len(joined) == 1
    events = await rows_of(
        db, acme, OutboxEvent, entity="group", entity_id=created["id"], topic="group.updated"
    )
    assert len(events) == 1
    r = await client.get(f"/v1/groups/{created['id']}/members", headers=admin.headers)
    assert [m["id"] for m in r.json()["items"]] == [str(staff.id)]
    r = await client.get(f"/v1/groups/{created['id']}", headers=admin.headers)
    assert (r.json()["member_count"], r.json()["version"]) == (1, 2)
    customer = await tenants.member(acme, kind="customer")
    assert error_fields(await put_in(client, admin, created["id"], customer)) == {"path.member_id"}
    r = await client.put(f"/v1/groups/{created['id']}/members/{NOBODY}", headers=admin.headers)
    assert_problem(r, 404, "not-found")
    r = await client.delete(f"/v1/groups/{created['id']}/members/{customer.id}", headers=admin.headers)
    assert_problem(r, 404, "not-found")


async def test_only_administrators_see_or_change_groups(
    client: AsyncClient, admin: Member, staff: Member, tenants: Tenants
) -> None:
    created = await group(client, admin, "Managers")
    for method, path in (
        ("GET", "/v1/groups"),
        ("POST", "/v1/groups"),
        ("GET", f"/v1/groups/{created['id']}"),
        ("PUT", f"/v1/groups/{created['id']}/members/{staff.id}"),
        ("PUT", f"/v1/groups/{created['id']}/grants/org.admin"),
    ):
        r = await client.request(method, path, json={"name": "Mine"}, headers=staff.headers)
        assert_problem(r, 403, "missing-capability")
    globex = await tenants.create("Globex")
    r = await client.get(f"/v1/groups/{created['id']}", headers=globex.admin.headers)
    assert_problem(r, 404, "not-found")
    r = await client.put(f"/v1/groups/{created['id']}/grants/org.admin", headers=globex.admin.headers)
    assert_problem(r, 404, "not-found")


# --- grants change what members see, on their next request ------------------------------------


async def test_a_grant_shows_every_account_and_revoking_hides_them_again(
    client: AsyncClient, admin: Member, staff: Member, db: Database, acme: Tenant
) -> None:
    hidden = await new_account(client, admin, "Nobody's account")
    managers = await group(client, admin, "Managers")
    await put_in(client, admin, managers["id"], staff)
    assert "Nobody's account" not in await account_names(client, staff)
    assert (await client.get(f"/v1/accounts/{hidden}", headers=staff.headers)).status_code == 404

    r = await client.put(f"/v1/groups/{managers['id']}/grants/accounts.view_any", headers=admin.headers)
    assert r.status_code == 204, r.text
    assert "Nobody's account" in await account_names(client, staff)
    assert (await client.get(f"/v1/accounts/{hidden}", headers=staff.headers)).status_code == 200

    r = await client.delete(f"/v1/groups/{managers['id']}/grants/accounts.view_any", headers=admin.headers)
    assert r.status_code == 204, r.text
    assert "Nobody's account" not in await account_names(client, staff)
    r = await client.delete(f"/v1/groups/{managers['id']}/grants/accounts.view_any", headers=admin.headers)
    assert_problem(r, 404, "not-found")
    entries = await rows_of(db, acme, HistoryEntry, entity="group", entity_id=managers["id"])
    assert [e.action for e in entries if e.action in ("granted", "revoked")] == ["granted", "revoked"]


async def test_leaving_or_deleting_the_group_takes_its_capabilities_away(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    await new_account(client, admin, "Nobody's account")
    managers = await group(client, admin, "Managers", "accounts.view_any")
    await put_in(client, admin, managers["id"], staff)
    assert "Nobody's account" in await account_names(client, staff)
    r = await client.delete(f"/v1/groups/{managers['id']}/members/{staff.id}", headers=admin.headers)
    assert r.status_code == 204, r.text
    assert "Nobody's account" not in await account_names(client, staff)

    await put_in(client, admin, managers["id"], staff)
    assert "Nobody's account" in await account_names(client, staff)
    assert (await client.delete(f"/v1/groups/{managers['id']}", headers=admin.headers)).status_code == 204
    assert "Nobody's account" not in await account_names(client, staff)
    r = await client.get(f"/v1/groups/{managers['id']}", headers=admin.headers)
    assert_problem(r, 404, "not-found")


async def test_a_deleted_groups_history_keeps_what_it_granted_and_who_was_in_it(
    client: AsyncClient, admin: Member, staff: Member, db: Database, acme: Tenant
) -> None:
    managers = await group(client, admin, "Managers", "contacts.view_any", "accounts.view_any")
    await put_in(client, admin, managers["id"], staff)
    assert (await client.delete(f"/v1/groups/{managers['id']}", headers=admin.headers)).status_code == 204
    [entry] = await rows_of(
        db, acme, HistoryEntry, entity="group", entity_id=managers["id"], action="deleted"
    )
    assert entry.changes["capabilities"] == {"old": ["accounts.view_any", "contacts.view_any"], "new": None}
    assert entry.changes["member_ids"] == {"old": [str(staff.id)], "new": None}


@pytest_asyncio.fixture(loop_scope="session")
async def second_app(committed_db: Database, settings: Settings) -> AsyncIterator[AsyncClient]:
    """Another server process, as far as the policy goes: its own app and its own policy cache."""
    app = create_app(settings, db=committed_db, background=False)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://second") as c:
        yield c


async def test_a_grant_made_in_one_process_holds_in_another_on_its_next_request(
    committed_client: AsyncClient, second_app: AsyncClient, committed_tenants: Tenants
) -> None:
    acme = await committed_tenants.create("Acme")
    admin, staff = acme.admin, await committed_tenants.member(acme)
    await new_account(committed_client, admin, "Nobody's account")
    managers = await group(committed_client, admin, "Managers")
    await put_in(committed_client, admin, managers["id"], staff)
    # Both processes have the member's policy cached before the change.
    for process in (committed_client, second_app):
        assert "Nobody's account" not in await account_names(process, staff)

    grant = f"/v1/groups/{managers['id']}/grants/accounts.view_any"
    assert (await committed_client.put(grant, headers=admin.headers)).status_code == 204
    assert "Nobody's account" in await account_names(second_app, staff)
    assert "Nobody's account" in await account_names(committed_client, staff)

    assert (await second_app.delete(grant, headers=admin.headers)).status_code == 204
    assert "Nobody's account" not in await account_names(committed_client, staff)
    assert "Nobody's account" not in await account_names(second_app, staff)


# --- the last administrator ------------------------------------------------------------------


async def test_the_last_administrator_cannot_be_removed(client: AsyncClient, admin: Member) -> None:
    admins = await administrators(client, admin)
    path = f"/v1/groups/{admins['id']}"
    assert_problem(
        await client.delete(f"{path}/members/{admin.id}", headers=admin.headers), 409, "last-administrator"
    )
    assert_problem(
        await client.delete(f"{path}/grants/org.admin", headers=admin.headers), 409, "last-administrator"
    )
    assert_problem(await client.delete(path, headers=admin.headers), 409, "last-administrator")
    # Nothing changed: the administrator still administers.
    r = await client.get(path, headers=admin.headers)
    assert (r.json()["capabilities"], r.json()["member_count"]) == (["org.admin"], 1)


async def test_an_administrator_may_leave_once_another_remains(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    admins = await administrators(client, admin)
    await put_in(client, admin, admins["id"], staff)
    r = await client.delete(f"/v1/groups/{admins['id']}/members/{admin.id}", headers=admin.headers)
    assert r.status_code == 204, r.text
    assert_problem(await client.get("/v1/groups", headers=admin.headers), 403, "missing-capability")
    assert (await client.get("/v1/groups", headers=staff.headers)).status_code == 200
    r = await client.delete(f"/v1/groups/{admins['id']}/members/{staff.id}", headers=staff.headers)
    assert_problem(r, 409, "last-administrator")


async def test_a_suspended_administrator_does_not_count(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    admins = await administrators(client, admin)
    await put_in(client, admin, admins["id"], staff)
    r = await client.patch(f"/v1/members/{staff.id}", json={"status": "suspended"}, headers=admin.headers)
    assert r.status_code == 200, r.text
    r = await client.delete(f"/v1/groups/{admins['id']}/members/{admin.id}", headers=admin.headers)
    assert_problem(r, 409, "last-administrator")


@pytest.mark.committed
async def test_the_administrator_check_does_not_wait_for_other_writes_of_the_organisation(
    committed_client: AsyncClient, committed_tenants: Tenants, committed_db: Database
) -> None:
    acme = await committed_tenants.create("Acme")
    admin, staff = acme.admin, await committed_tenants.member(acme)
    admins = await administrators(committed_client, admin)
    await put_in(committed_client, admin, admins["id"], staff)
    async with committed_db.sessions() as other:
        # What any insert of a tenant row holds on its organisation (the foreign key's lock),
        # kept open: an ordinary write of someone else, still in flight.
        await bind_org(other, acme.org_id)
        await other.execute(
            select(Organisation.id)
            .where(Organisation.id == acme.org_id)
            .with_for_update(key_share=True, read=True)
        )
        leave = committed_client.delete(
            f"/v1/groups/{admins['id']}/members/{staff.id}", headers=admin.headers
        )
        r = await asyncio.wait_for(leave, timeout=10)
        assert r.status_code == 204, r.text
        await other.rollback()
