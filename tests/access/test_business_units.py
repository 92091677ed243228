"""Business units through the HTTP API: the tree, its members, unit visibility, and who may do what."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select

from crmapi.identity.models import Organisation
from crmapi.kit.db import Database
from crmapi.records.history import HistoryEntry
from crmapi.records.outbox import OutboxEvent
from tests import factories
from tests.support import NOBODY, Member, Tenant, Tenants, assert_problem, error_fields, rows_of


async def unit(client: AsyncClient, who: Member, name: str, parent: str | None = None) -> dict[str, Any]:
    r = await client.post("/v1/business-units", json={"name": name, "parent_id": parent}, headers=who.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def names(client: AsyncClient, who: Member, **params: Any) -> list[str]:
    r = await client.get("/v1/business-units", params={"limit": 200, **params}, headers=who.headers)
    assert r.status_code == 200, r.text
    return [u["name"] for u in r.json()["items"]]


async def put_member(client: AsyncClient, who: Member, unit_id: str, member: Member) -> Response:
    return await client.put(f"/v1/business-units/{unit_id}/members/{member.id}", headers=who.headers)


async def member_ids(client: AsyncClient, who: Member, unit_id: str) -> list[str]:
    r = await client.get(f"/v1/business-units/{unit_id}/members", headers=who.headers)
    assert r.status_code == 200, r.text
    return [m["id"] for m in r.json()["items"]]


async def policy_version(db: Database, tenant: Tenant) -> int:
    async with db.sessions() as session:
        stmt = select(Organisation.policy_version).where(Organisation.id == tenant.org_id)
        return int((await session.execute(stmt)).scalar_one())


async def account(client: AsyncClient, who: Member, name: str, **fields: Any) -> dict[str, Any]:
    return await factories.account(client, who, name=name, **fields)


async def account_names(client: AsyncClient, who: Member) -> list[str]:
    r = await client.get("/v1/accounts", params={"limit": 200, "sort": "name"}, headers=who.headers)
    assert r.status_code == 200, r.text
    return [a["name"] for a in r.json()["items"]]


# --- the tree --------------------------------------------------------------------------------


async def test_create_answers_201_with_location_and_etag(client: AsyncClient, admin: Member) -> None:
    r = await client.post("/v1/business-units", json={"name": " Sprzedaż "}, headers=admin.headers)
    assert r.status_code == 201, r.text
    created = r.json()
    assert (created["name"], created["parent_id"], created["version"]) == ("Sprzedaż", None, 1)
    assert r.headers["location"] == f"/v1/business-units/{created['id']}"
    assert r.headers["etag"] == '"1"'
    got = await client.get(r.headers["location"], headers=admin.headers)
    assert got.json() == created


async def test_create_writes_history_and_an_event(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member
) -> None:
    created = await unit(client, admin, "Sprzedaż")
    [entry] = await rows_of(db, acme, HistoryEntry, entity="business_unit", entity_id=created["id"])
    assert (entry.action, entry.changes["name"]) == ("created", {"old": None, "new": "Sprzedaż"})
    [event] = await rows_of(db, acme, OutboxEvent, entity="business_unit", entity_id=created["id"])
    assert event.topic == "business_unit.created"


async def test_units_form_a_tree_through_parent_id(client: AsyncClient, admin: Member) -> None:
    sales = await unit(client, admin, "Sprzedaż")
    north = await unit(client, admin, "Północ", sales["id"])
    await unit(client, admin, "Gdańsk", north["id"])
    assert north["parent_id"] == sales["id"]
    assert await names(client, admin) == ["Gdańsk", "Północ", "Sprzedaż"]
    assert await names(client, admin, parent_id=sales["id"]) == ["Północ"]


async def test_list_is_paged_and_filtered_by_name_prefix(client: AsyncClient, admin: Member) -> None:
    for name in ("Wschód", "Zachód", "Południe", "Północ"):
        await unit(client, admin, name)
    first = await client.get("/v1/business-units", params={"limit": 2}, headers=admin.headers)
    page = first.json()
    assert [u["name"] for u in page["items"]] == ["Południe", "Północ"]
    rest = await client.get(
        "/v1/business-units", params={"limit": 2, "cursor": page["next_cursor"]}, headers=admin.headers
    )
    assert [u["name"] for u in rest.json()["items"]] == ["Wschód", "Zachód"]
    assert await names(client, admin, q="pół") == ["Północ"]


async def test_a_bad_cursor_is_400(client: AsyncClient, admin: Member) -> None:
    r = await client.get("/v1/business-units", params={"cursor": "nonsense"}, headers=admin.headers)
    assert_problem(r, 400, "invalid-cursor")


@pytest.mark.parametrize("name", ["Północ", "PÓŁNOC", " północ "])
async def test_a_name_taken_in_any_case_is_409(client: AsyncClient, admin: Member, name: str) -> None:
    await unit(client, admin, "Północ")
    r = await client.post("/v1/business-units", json={"name": name}, headers=admin.headers)
    assert_problem(r, 409, "name-taken")


async def test_the_same_name_in_another_organisation_is_fine(
    client: AsyncClient, admin: Member, globex: Tenant
) -> None:
    await unit(client, admin, "Północ")
    await unit(client, globex.admin, "Północ")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body.name"),
        ({"name": "  "}, "body.name"),
        ({"name": "x" * 201}, "body.name"),
        ({"name": "Północ", "colour": "red"}, "body.colour"),
        ({"name": "Północ", "parent_id": "north"}, "body.parent_id"),
        ({"name": "Północ", "parent_id": NOBODY}, "body.parent_id"),
    ],
)
async def test_bad_input_is_422_naming_the_field(
    client: AsyncClient, admin: Member, body: dict[str, Any], field: str
) -> None:
    r = await client.post("/v1/business-units", json=body, headers=admin.headers)
    assert field in error_fields(r)


async def test_a_parent_of_another_organisation_is_unknown(
    client: AsyncClient, admin: Member, globex: Tenant
) -> None:
    theirs = await unit(client, globex.admin, "Globex HQ")
    r = await client.post(
        "/v1/business-units", json={"name": "Północ", "parent_id": theirs["id"]}, headers=admin.headers
    )
    assert error_fields(r) == {"body.parent_id"}


async def test_staff_read_the_tree_but_only_administrators_change_it(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    north = await unit(client, admin, "Północ")
    assert await names(client, staff) == ["Północ"]
    assert (await client.get(f"/v1/business-units/{north['id']}", headers=staff.headers)).status_code == 200
    path = f"/v1/business-units/{north['id']}"
    create = await client.post("/v1/business-units", json={"name": "Południe"}, headers=staff.headers)
    assert_problem(create, 403, "missing-capability")
    patch = await client.patch(path, json={"name": "Nord"}, headers=staff.headers)
    assert_problem(patch, 403, "missing-capability")
    assert_problem(await client.delete(path, headers=staff.headers), 403, "missing-capability")
    assert await names(client, admin) == ["Północ"]


async def test_customers_cannot_read_or_change_units(
    client: AsyncClient, admin: Member, customer: Member
) -> None:
    north = await unit(client, admin, "Północ")
    path = f"/v1/business-units/{north['id']}"
    assert_problem(await client.get("/v1/business-units", headers=customer.headers), 403, "staff-only")
    assert_problem(await client.get(path, headers=customer.headers), 403, "staff-only")
    create = await client.post("/v1/business-units", json={"name": "Południe"}, headers=customer.headers)
    assert_problem(create, 403, "missing-capability")
    patch = await client.patch(path, json={"name": "Nord"}, headers=customer.headers)
    assert_problem(patch, 403, "missing-capability")
    assert_problem(await client.delete(path, headers=customer.headers), 403, "missing-capability")


async def test_another_organisations_unit_is_not_found(
    client: AsyncClient, admin: Member, globex: Tenant
) -> None:
    theirs = await unit(client, globex.admin, "Globex HQ")
    path = f"/v1/business-units/{theirs['id']}"
    assert_problem(await client.get(path, headers=admin.headers), 404, "not-found")
    assert_problem(await client.patch(path, json={"name": "Mine"}, headers=admin.headers), 404, "not-found")
    assert_problem(await client.delete(path, headers=admin.headers), 404, "not-found")
    assert_problem(await client.get(f"{path}/members", headers=admin.headers), 404, "not-found")
    assert await names(client, admin) == []


# --- changing the tree -----------------------------------------------------------------------


async def test_rename_answers_the_unit_with_a_new_etag(client: AsyncClient, admin: Member) -> None:
    north = await unit(client, admin, "Północ")
    r = await client.patch(
        f"/v1/business-units/{north['id']}",
        json={"name": "Pomorze"},
        headers={**admin.headers, "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["version"], r.headers["etag"]) == ("Pomorze", 2, '"2"')


async def test_a_stale_etag_is_412(client: AsyncClient, admin: Member) -> None:
    north = await unit(client, admin, "Północ")
    path = f"/v1/business-units/{north['id']}"
    await client.patch(path, json={"name": "Pomorze"}, headers=admin.headers)
    r = await client.patch(path, json={"name": "Kaszuby"}, headers={**admin.headers, "If-Match": '"1"'})
    assert_problem(r, 412, "stale-version")
    r = await client.delete(path, headers={**admin.headers, "If-Match": '"1"'})
    assert_problem(r, 412, "stale-version")


async def test_renaming_to_a_taken_name_is_409(client: AsyncClient, admin: Member) -> None:
    await unit(client, admin, "Północ")
    south = await unit(client, admin, "Południe")
    r = await client.patch(
        f"/v1/business-units/{south['id']}", json={"name": "PÓŁNOC"}, headers=admin.headers
    )
    assert_problem(r, 409, "name-taken")


async def test_a_null_name_is_422(client: AsyncClient, admin: Member) -> None:
    north = await unit(client, admin, "Północ")
    r = await client.patch(f"/v1/business-units/{north['id']}", json={"name": None}, headers=admin.headers)
    assert error_fields(r) == {"body.name"}


async def test_a_unit_moves_under_another_and_back_to_the_top(client: AsyncClient, admin: Member) -> None:
    sales = await unit(client, admin, "Sprzedaż")
    north = await unit(client, admin, "Północ")
    path = f"/v1/business-units/{north['id']}"
    moved = await client.patch(path, json={"parent_id": sales["id"]}, headers=admin.headers)
    assert moved.json()["parent_id"] == sales["id"]
    top = await client.patch(path, json={"parent_id": None}, headers=admin.headers)
    assert top.json()["parent_id"] is None


async def test_a_unit_cannot_be_its_own_parent(client: AsyncClient, admin: Member) -> None:
    north = await unit(client, admin, "Północ")
    r = await client.patch(
        f"/v1/business-units/{north['id']}", json={"parent_id": north["id"]}, headers=admin.headers
    )
    assert error_fields(r) == {"body.parent_id"}


async def test_a_unit_cannot_move_below_itself(client: AsyncClient, admin: Member) -> None:
    sales = await unit(client, admin, "Sprzedaż")
    north = await unit(client, admin, "Północ", sales["id"])
    gdansk = await unit(client, admin, "Gdańsk", north["id"])
    for below in (north, gdansk):
        r = await client.patch(
            f"/v1/business-units/{sales['id']}", json={"parent_id": below["id"]}, headers=admin.headers
        )
        assert error_fields(r) == {"body.parent_id"}
        assert "cycle" in r.json()["detail"]
    assert (await client.get(f"/v1/business-units/{sales['id']}", headers=admin.headers)).json()[
        "parent_id"
    ] is None


async def test_moving_under_an_unknown_unit_is_422(client: AsyncClient, admin: Member) -> None:
    north = await unit(client, admin, "Północ")
    r = await client.patch(
        f"/v1/business-units/{north['id']}", json={"parent_id": NOBODY}, headers=admin.headers
    )
    assert error_fields(r) == {"body.parent_id"}


async def test_delete_removes_a_unit_nothing_depends_on(client: AsyncClient, admin: Member) -> None:
    north = await unit(client, admin, "Północ")
    path = f"/v1/business-units/{north['id']}"
    r = await client.delete(path, headers={**admin.headers, "If-Match": '"1"'})
    assert r.status_code == 204, r.text
    assert_problem(await client.get(path, headers=admin.headers), 404, "not-found")
    assert_problem(await client.delete(path, headers=admin.headers), 404, "not-found")


async def test_a_unit_with_units_below_it_is_not_deleted(client: AsyncClient, admin: Member) -> None:
    sales = await unit(client, admin, "Sprzedaż")
    await unit(client, admin, "Północ", sales["id"])
    r = await client.delete(f"/v1/business-units/{sales['id']}", headers=admin.headers)
    assert_problem(r, 409, "unit-has-children")


async def test_a_unit_with_members_is_not_deleted(client: AsyncClient, admin: Member, staff: Member) -> None:
    north = await unit(client, admin, "Północ")
    await put_member(client, admin, north["id"], staff)
    r = await client.delete(f"/v1/business-units/{north['id']}", headers=admin.headers)
    assert_problem(r, 409, "unit-has-members")


@pytest.mark.parametrize("kind", ["accounts", "contacts"])
async def test_a_unit_holding_records_is_not_deleted_even_deleted_ones(
    client: AsyncClient, admin: Member, kind: str
) -> None:
    north = await unit(client, admin, "Północ")
    body: dict[str, Any] = (
        {"name": "Hurtownia"} if kind == "accounts" else {"kind": "person", "last_name": "Nowak"}
    )
    r = await client.post(
        f"/v1/{kind}", json={**body, "business_unit_id": north["id"]}, headers=admin.headers
    )
    assert r.status_code == 201, r.text
    await client.delete(f"/v1/{kind}/{r.json()['id']}", headers=admin.headers)
    r = await client.delete(f"/v1/business-units/{north['id']}", headers=admin.headers)
    assert_problem(r, 409, "unit-has-records")


# --- members of a unit -----------------------------------------------------------------------


async def test_putting_a_member_in_a_unit_is_idempotent(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member, staff: Member
) -> None:
    north = await unit(client, admin, "Północ")
    for _ in range(2):
        r = await put_member(client, admin, north["id"], staff)
        assert r.status_code == 204, r.text
    r = await client.get(f"/v1/business-units/{north['id']}/members", headers=admin.headers)
    [listed] = r.json()["items"]
    assert (listed["id"], listed["email"], listed["kind"]) == (str(staff.id), staff.email, "staff")
    entries = await rows_of(db, acme, HistoryEntry, entity="business_unit", entity_id=north["id"])
    assert [e.action for e in entries].count("member_added") == 1


async def test_unit_members_are_paged(
    client: AsyncClient, tenants: Tenants, acme: Tenant, admin: Member
) -> None:
    north = await unit(client, admin, "Północ")
    people = [await tenants.member(acme) for _ in range(3)]
    for person in people:
        await put_member(client, admin, north["id"], person)
    path = f"/v1/business-units/{north['id']}/members"
    first = (await client.get(path, params={"limit": 2}, headers=admin.headers)).json()
    rest = await client.get(path, params={"limit": 2, "cursor": first["next_cursor"]}, headers=admin.headers)
    seen = [m["id"] for m in first["items"] + rest.json()["items"]]
    assert seen == [str(p.id) for p in people]
    assert rest.json()["next_cursor"] is None


async def test_a_customer_cannot_be_in_a_unit(client: AsyncClient, admin: Member, customer: Member) -> None:
    north = await unit(client, admin, "Północ")
    r = await put_member(client, admin, north["id"], customer)
    assert error_fields(r) == {"path.member_id"}
    assert await member_ids(client, admin, north["id"]) == []


async def test_an_unknown_member_or_unit_is_404(
    client: AsyncClient, admin: Member, staff: Member, globex: Tenant
) -> None:
    north = await unit(client, admin, "Północ")
    r = await client.put(f"/v1/business-units/{north['id']}/members/{NOBODY}", headers=admin.headers)
    assert_problem(r, 404, "not-found")
    r = await client.put(f"/v1/business-units/{north['id']}/members/{globex.admin.id}", headers=admin.headers)
    assert_problem(r, 404, "not-found")
    assert_problem(await put_member(client, admin, NOBODY, staff), 404, "not-found")
    r = await client.put(f"/v1/business-units/{north['id']}/members/nobody", headers=admin.headers)
    assert error_fields(r) == {"path.member_id"}


async def test_removing_a_member_takes_it_out_once(client: AsyncClient, admin: Member, staff: Member) -> None:
    north = await unit(client, admin, "Północ")
    await put_member(client, admin, north["id"], staff)
    path = f"/v1/business-units/{north['id']}/members/{staff.id}"
    assert (await client.delete(path, headers=admin.headers)).status_code == 204
    assert await member_ids(client, admin, north["id"]) == []
    assert_problem(await client.delete(path, headers=admin.headers), 404, "not-found")


async def test_only_administrators_change_unit_members(
    client: AsyncClient, admin: Member, staff: Member, customer: Member
) -> None:
    north = await unit(client, admin, "Północ")
    for who in (staff, customer):
        assert_problem(await put_member(client, who, north["id"], staff), 403, "missing-capability")
        r = await client.delete(f"/v1/business-units/{north['id']}/members/{staff.id}", headers=who.headers)
        assert_problem(r, 403, "missing-capability")
    assert await member_ids(client, staff, north["id"]) == []
    r = await client.get(f"/v1/business-units/{north['id']}/members", headers=customer.headers)
    assert_problem(r, 403, "staff-only")


async def test_another_organisation_cannot_touch_a_units_members(
    client: AsyncClient, admin: Member, staff: Member, globex: Tenant
) -> None:
    north = await unit(client, admin, "Północ")
    await put_member(client, admin, north["id"], staff)
    path = f"/v1/business-units/{north['id']}/members/{staff.id}"
    assert_problem(await client.put(path, headers=globex.admin.headers), 404, "not-found")
    assert_problem(await client.delete(path, headers=globex.admin.headers), 404, "not-found")
    assert await member_ids(client, admin, north["id"]) == [str(staff.id)]


# --- the policy and unit visibility ----------------------------------------------------------


async def test_tree_and_membership_changes_mark_the_policy_changed(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member, staff: Member
) -> None:
    async def bumped(answer: Any) -> bool:
        before = await policy_version(db, acme)
        r = await answer
        assert r.status_code < 300, r.text
        return await policy_version(db, acme) > before

    sales = await unit(client, admin, "Sprzedaż")
    path = f"/v1/business-units/{sales['id']}"
    h = admin.headers
    assert await bumped(client.post("/v1/business-units", json={"name": "Północ"}, headers=h))
    north = (await client.get("/v1/business-units", params={"q": "Pół"}, headers=h)).json()["items"][0]
    north_path = f"/v1/business-units/{north['id']}"
    assert not await bumped(client.patch(north_path, json={"name": "Pomorze"}, headers=h))
    assert await bumped(client.patch(north_path, json={"parent_id": sales["id"]}, headers=h))
    assert not await bumped(client.patch(north_path, json={"parent_id": sales["id"]}, headers=h))
    assert await bumped(client.put(f"{path}/members/{staff.id}", headers=h))
    assert not await bumped(client.put(f"{path}/members/{staff.id}", headers=h))
    assert await bumped(client.delete(f"{path}/members/{staff.id}", headers=h))
    assert await bumped(client.delete(north_path, headers=h))


async def test_unit_visibility_is_an_organisation_setting(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member
) -> None:
    before = await policy_version(db, acme)
    r = await client.patch("/v1/organisation", json={"unit_visibility": True}, headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["settings"]["unit_visibility"] is True
    assert await policy_version(db, acme) == before + 1
    again = await client.patch("/v1/organisation", json={"unit_visibility": True}, headers=admin.headers)
    assert again.json()["version"] == r.json()["version"]
    assert await policy_version(db, acme) == before + 1
    off = await client.patch("/v1/organisation", json={"unit_visibility": False}, headers=admin.headers)
    assert off.json()["settings"]["unit_visibility"] is False
    assert await policy_version(db, acme) == before + 2


@pytest.mark.parametrize("value", [None, "yes", 1])
async def test_unit_visibility_must_be_a_boolean(client: AsyncClient, admin: Member, value: Any) -> None:
    r = await client.patch("/v1/organisation", json={"unit_visibility": value}, headers=admin.headers)
    assert error_fields(r) == {"body.unit_visibility"}


async def test_only_administrators_turn_unit_visibility_on(client: AsyncClient, staff: Member) -> None:
    r = await client.patch("/v1/organisation", json={"unit_visibility": True}, headers=staff.headers)
    assert_problem(r, 403, "missing-capability")


async def test_a_unit_member_sees_its_units_records_once_visibility_is_on(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    sales = await unit(client, admin, "Sprzedaż")
    north = await unit(client, admin, "Północ", sales["id"])
    south = await unit(client, admin, "Południe", sales["id"])
    await account(client, admin, "In North", business_unit_id=north["id"])
    await account(client, admin, "In South", business_unit_id=south["id"])
    await put_member(client, admin, north["id"], staff)
    assert await account_names(client, staff) == []
    await client.patch("/v1/organisation", json={"unit_visibility": True}, headers=admin.headers)
    assert await account_names(client, staff) == ["In North"]
    # Moving the staff member's unit above South's puts South's records in sight too.
    await client.patch(
        f"/v1/business-units/{south['id']}", json={"parent_id": north["id"]}, headers=admin.headers
    )
    assert await account_names(client, staff) == ["In North", "In South"]
    await client.delete(f"/v1/business-units/{north['id']}/members/{staff.id}", headers=admin.headers)
    assert await account_names(client, staff) == []


@pytest.mark.committed
async def test_crossed_moves_take_turns_one_is_refused_as_a_cycle(
    committed_client: AsyncClient, committed_tenants: Tenants
) -> None:
    acme = await committed_tenants.create("Acme")
    headers = acme.admin.headers
    for attempt in range(6):
        a, b = [
            (
                await committed_client.post(
                    "/v1/business-units", json={"name": f"{n}{attempt}"}, headers=headers
                )
            ).json()["id"]
            for n in "AB"
        ]
        answers = await asyncio.gather(
            committed_client.patch(f"/v1/business-units/{a}", json={"parent_id": b}, headers=headers),
            committed_client.patch(f"/v1/business-units/{b}", json={"parent_id": a}, headers=headers),
        )
        # One moves, the other would close a loop: never both, never a deadlock.
        assert sorted(r.status_code for r in answers) == [200, 422], [r.text for r in answers]
