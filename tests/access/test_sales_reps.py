"""Sales-rep records through the HTTP API: the records, their codes on accounts, the staff members
working as them, and who may do what."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select

from crmapi.access import policy
from crmapi.access.models import Group, GroupGrant, GroupMember
from crmapi.identity.models import ApiKey, Organisation
from crmapi.kit.db import Database, bind_org
from crmapi.kit.ids import new_id
from crmapi.records.history import HistoryEntry
from crmapi.records.outbox import OutboxEvent
from tests import factories
from tests.support import NOBODY, Member, Tenant, Tenants, assert_problem, error_fields, rows_of


async def rep(client: AsyncClient, who: Member, code: str, **fields: Any) -> dict[str, Any]:
    body = {"code": code, "name": f"Rep {code}", **fields}
    r = await client.post("/v1/sales-reps", json=body, headers=who.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def codes(client: AsyncClient, who: Member, **params: Any) -> list[str]:
    r = await client.get("/v1/sales-reps", params={"limit": 200, **params}, headers=who.headers)
    assert r.status_code == 200, r.text
    return [item["code"] for item in r.json()["items"]]


async def link(client: AsyncClient, who: Member, rep_id: str, member: Member) -> Response:
    return await client.put(f"/v1/sales-reps/{rep_id}/members/{member.id}", headers=who.headers)


async def linked(client: AsyncClient, who: Member, rep_id: str) -> list[str]:
    r = await client.get(f"/v1/sales-reps/{rep_id}/members", headers=who.headers)
    assert r.status_code == 200, r.text
    return [m["id"] for m in r.json()["items"]]


async def account(client: AsyncClient, who: Member, name: str, **fields: Any) -> dict[str, Any]:
    return await factories.account(client, who, name=name, **fields)


async def account_names(client: AsyncClient, who: Member) -> list[str]:
    r = await client.get("/v1/accounts", params={"limit": 200, "sort": "name"}, headers=who.headers)
    assert r.status_code == 200, r.text
    return [a["name"] for a in r.json()["items"]]


async def policy_version(db: Database, tenant: Tenant) -> int:
    async with db.sessions() as session:
        stmt = select(Organisation.policy_version).where(Organisation.id == tenant.org_id)
        return int((await session.execute(stmt)).scalar_one())


async def api_key(tenants: Tenants, tenant: Tenant, capabilities: list[str]) -> Member:
    """An API key of the tenant, as a Member whose headers carry it."""
    key_id, secret = new_id(), "s3cret-" + new_id().hex
    async with tenants.db.sessions() as session:
        session.add(
            ApiKey(
                id=key_id,
                organisation_id=tenant.org_id,
                name="erp",
                secret_hash=tenants.keys.secret_hash(secret),
                capabilities=capabilities,
            )
        )
        await session.commit()
    return Member(key_id, "erp", {"Authorization": f"Bearer crm_{key_id.hex}_{secret}"})


async def grant(db: Database, tenant: Tenant, member: Member, capability: str) -> None:
    """Put the member in a new group granted the capability (groups have no endpoints here)."""
    async with db.sessions() as session:
        await bind_org(session, tenant.org_id)
        group = Group(org_id=tenant.org_id, id=new_id(), name=f"Granted {new_id().hex[-6:]}")
        session.add(group)
        await session.flush()
        session.add_all(
            [
                GroupMember(org_id=tenant.org_id, id=new_id(), group_id=group.id, member_id=member.id),
                GroupGrant(org_id=tenant.org_id, id=new_id(), group_id=group.id, capability=capability),
            ]
        )
        await policy.changed(session, tenant.org_id)
        await session.commit()


# --- the records -----------------------------------------------------------------------------


async def test_create_answers_201_with_location_and_etag(client: AsyncClient, admin: Member) -> None:
    body = {"code": " PH01 ", "name": "Anna Kowalska", "email": "Anna@Example.com"}
    r = await client.post("/v1/sales-reps", json=body, headers=admin.headers)
    assert r.status_code == 201, r.text
    created = r.json()
    assert {k: created[k] for k in ("code", "name", "email", "active", "version")} == {
        "code": "PH01",
        "name": "Anna Kowalska",
        "email": "anna@example.com",
        "active": True,
        "version": 1,
    }
    assert r.headers["location"] == f"/v1/sales-reps/{created['id']}"
    assert r.headers["etag"] == '"1"'
    assert (await client.get(r.headers["location"], headers=admin.headers)).json() == created


async def test_create_writes_history_and_an_event(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member
) -> None:
    created = await rep(client, admin, "PH01")
    [entry] = await rows_of(db, acme, HistoryEntry, entity="sales_rep", entity_id=created["id"])
    assert (entry.action, entry.changes["code"]) == ("created", {"old": None, "new": "PH01"})
    [event] = await rows_of(db, acme, OutboxEvent, entity="sales_rep", entity_id=created["id"])
    assert event.topic == "sales_rep.created"


async def test_a_taken_code_is_409_but_codes_compare_exactly(client: AsyncClient, admin: Member) -> None:
    await rep(client, admin, "PH01")
    r = await client.post("/v1/sales-reps", json={"code": "PH01", "name": "Other"}, headers=admin.headers)
    assert_problem(r, 409, "code-taken")
    # Accounts' sales_rep_codes compare exactly too: "ph01" is another ERP code.
    await rep(client, admin, "ph01")
    assert await codes(client, admin) == ["PH01", "ph01"]


async def test_the_same_code_in_another_organisation_is_fine(
    client: AsyncClient, admin: Member, globex: Tenant
) -> None:
    await rep(client, admin, "PH01")
    await rep(client, globex.admin, "PH01")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Anna"}, "body.code"),
        ({"code": " ", "name": "Anna"}, "body.code"),
        ({"code": "x" * 65, "name": "Anna"}, "body.code"),
        ({"code": "PH01"}, "body.name"),
        ({"code": "PH01", "name": "Anna", "email": "anna"}, "body.email"),
        ({"code": "PH01", "name": "Anna", "active": "yes"}, "body.active"),
        ({"code": "PH01", "name": "Anna", "active": 0}, "body.active"),
        ({"code": "PH01", "name": "Anna", "region": "north"}, "body.region"),
    ],
)
async def test_bad_input_is_422_naming_the_field(
    client: AsyncClient, admin: Member, body: dict[str, Any], field: str
) -> None:
    r = await client.post("/v1/sales-reps", json=body, headers=admin.headers)
    assert field in error_fields(r)


async def test_list_filters_by_active_and_by_part_of_code_or_name(client: AsyncClient, admin: Member) -> None:
    await rep(client, admin, "PH01", name="Anna Kowalska")
    await rep(client, admin, "PH02", name="Jan Nowak", active=False)
    await rep(client, admin, "KR01", name="Ewa Kowalczyk")
    assert await codes(client, admin) == ["KR01", "PH01", "PH02"]
    assert await codes(client, admin, active="false") == ["PH02"]
    assert await codes(client, admin, active="true") == ["KR01", "PH01"]
    assert await codes(client, admin, q="kowal") == ["KR01", "PH01"]
    assert await codes(client, admin, q="ph") == ["PH01", "PH02"]
    assert await codes(client, admin, q="100%") == []
    assert await codes(client, admin, sort="-name") == ["PH02", "KR01", "PH01"]


async def test_list_is_paged(client: AsyncClient, admin: Member) -> None:
    for code in ("PH01", "PH02", "PH03"):
        await rep(client, admin, code)
    first = (await client.get("/v1/sales-reps", params={"limit": 2}, headers=admin.headers)).json()
    rest = await client.get(
        "/v1/sales-reps", params={"limit": 2, "cursor": first["next_cursor"]}, headers=admin.headers
    )
    assert [r["code"] for r in first["items"] + rest.json()["items"]] == ["PH01", "PH02", "PH03"]
    assert rest.json()["next_cursor"] is None


@pytest.mark.parametrize("params", [{"active": "maybe"}, {"sort": "email"}, {"limit": 0}])
async def test_bad_list_parameters_are_422(
    client: AsyncClient, admin: Member, params: dict[str, Any]
) -> None:
    r = await client.get("/v1/sales-reps", params=params, headers=admin.headers)
    assert error_fields(r) == {f"query.{next(iter(params))}"}


async def test_staff_read_records_but_do_not_change_them(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    created = await rep(client, admin, "PH01")
    path = f"/v1/sales-reps/{created['id']}"
    assert await codes(client, staff) == ["PH01"]
    assert (await client.get(path, headers=staff.headers)).status_code == 200
    r = await client.post("/v1/sales-reps", json={"code": "PH02", "name": "X"}, headers=staff.headers)
    assert_problem(r, 403, "missing-capability")
    assert_problem(
        await client.patch(path, json={"name": "X"}, headers=staff.headers), 403, "missing-capability"
    )
    assert_problem(await client.delete(path, headers=staff.headers), 403, "missing-capability")


async def test_customers_cannot_read_or_change_records(
    client: AsyncClient, admin: Member, customer: Member
) -> None:
    created = await rep(client, admin, "PH01")
    path = f"/v1/sales-reps/{created['id']}"
    assert_problem(await client.get("/v1/sales-reps", headers=customer.headers), 403, "staff-only")
    assert_problem(await client.get(path, headers=customer.headers), 403, "staff-only")
    assert_problem(await client.get(f"{path}/members", headers=customer.headers), 403, "staff-only")
    r = await client.post("/v1/sales-reps", json={"code": "PH02", "name": "X"}, headers=customer.headers)
    assert_problem(r, 403, "missing-capability")
    r = await client.patch(path, json={"name": "X"}, headers=customer.headers)
    assert_problem(r, 403, "missing-capability")
    assert_problem(await client.delete(path, headers=customer.headers), 403, "missing-capability")


async def test_an_erp_key_with_sales_reps_manage_pushes_records(
    client: AsyncClient, tenants: Tenants, acme: Tenant, admin: Member, staff: Member
) -> None:
    erp = await api_key(tenants, acme, ["sales_reps.manage"])
    created = await rep(client, erp, "PH01")
    assert await codes(client, erp) == ["PH01"]
    # Linking people is not the ERP's business.
    assert_problem(await link(client, erp, created["id"], staff), 403, "missing-capability")
    other = await api_key(tenants, acme, ["accounts.view_any"])
    assert_problem(await client.get("/v1/sales-reps", headers=other.headers), 403, "missing-capability")


async def test_a_group_granted_sales_reps_manage_changes_records_but_not_links(
    client: AsyncClient, db: Database, acme: Tenant, staff: Member
) -> None:
    await grant(db, acme, staff, "sales_reps.manage")
    created = await rep(client, staff, "PH01")
    r = await client.patch(f"/v1/sales-reps/{created['id']}", json={"name": "Anna"}, headers=staff.headers)
    assert r.status_code == 200, r.text
    assert_problem(await link(client, staff, created["id"], staff), 403, "missing-capability")


async def test_another_organisations_record_is_not_found(
    client: AsyncClient, admin: Member, staff: Member, globex: Tenant
) -> None:
    theirs = await rep(client, globex.admin, "GX01")
    path = f"/v1/sales-reps/{theirs['id']}"
    assert_problem(await client.get(path, headers=admin.headers), 404, "not-found")
    assert_problem(await client.patch(path, json={"name": "Mine"}, headers=admin.headers), 404, "not-found")
    assert_problem(await client.delete(path, headers=admin.headers), 404, "not-found")
    assert_problem(await client.get(f"{path}/members", headers=admin.headers), 404, "not-found")
    assert_problem(await link(client, admin, theirs["id"], staff), 404, "not-found")
    assert await codes(client, admin) == []


# --- changing a record -----------------------------------------------------------------------


async def test_patch_merges_and_answers_a_new_etag(client: AsyncClient, admin: Member) -> None:
    created = await rep(client, admin, "PH01", email="anna@example.com")
    path = f"/v1/sales-reps/{created['id']}"
    r = await client.patch(path, json={"name": "Anna Nowak"}, headers={**admin.headers, "If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["email"], r.json()["version"]) == ("Anna Nowak", "anna@example.com", 2)
    assert r.headers["etag"] == '"2"'
    cleared = await client.patch(path, json={"email": None}, headers=admin.headers)
    assert cleared.json()["email"] is None


async def test_a_stale_etag_is_412(client: AsyncClient, admin: Member) -> None:
    created = await rep(client, admin, "PH01")
    path = f"/v1/sales-reps/{created['id']}"
    await client.patch(path, json={"name": "Anna"}, headers=admin.headers)
    r = await client.patch(path, json={"name": "Ewa"}, headers={**admin.headers, "If-Match": '"1"'})
    assert_problem(r, 412, "stale-version")
    assert_problem(
        await client.delete(path, headers={**admin.headers, "If-Match": '"1"'}), 412, "stale-version"
    )


@pytest.mark.parametrize("field", ["code", "name", "active"])
async def test_a_null_for_a_required_field_is_422(client: AsyncClient, admin: Member, field: str) -> None:
    created = await rep(client, admin, "PH01")
    r = await client.patch(f"/v1/sales-reps/{created['id']}", json={field: None}, headers=admin.headers)
    assert error_fields(r) == {f"body.{field}"}


async def test_changing_to_a_taken_code_is_409(client: AsyncClient, admin: Member) -> None:
    await rep(client, admin, "PH01")
    second = await rep(client, admin, "PH02")
    r = await client.patch(f"/v1/sales-reps/{second['id']}", json={"code": "PH01"}, headers=admin.headers)
    assert_problem(r, 409, "code-taken")


async def test_a_new_code_is_written_on_the_accounts_carrying_the_old_one(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member
) -> None:
    created = await rep(client, admin, "PH01")
    mine = await account(client, admin, "Mine", sales_rep_codes=["KR09", "PH01"])
    both = await account(client, admin, "Both", sales_rep_codes=["PH01", "PH99"])
    other = await account(client, admin, "Other", sales_rep_codes=["KR09"])
    r = await client.patch(f"/v1/sales-reps/{created['id']}", json={"code": "PH99"}, headers=admin.headers)
    assert r.status_code == 200, r.text

    async def carried(a: dict[str, Any]) -> tuple[list[str], str]:
        got = await client.get(f"/v1/accounts/{a['id']}", headers=admin.headers)
        return got.json()["sales_rep_codes"], got.headers["etag"]

    assert await carried(mine) == (["KR09", "PH99"], '"2"')
    assert await carried(both) == (["PH99"], '"2"')
    assert await carried(other) == (["KR09"], '"1"')
    [event] = await rows_of(db, acme, OutboxEvent, topic="sales_rep.updated", entity_id=created["id"])
    assert event.payload["accounts"] == 2


async def test_delete_removes_the_record_and_leaves_the_codes_on_accounts(
    client: AsyncClient, admin: Member
) -> None:
    created = await rep(client, admin, "PH01")
    carrying = await account(client, admin, "Mine", sales_rep_codes=["PH01"])
    path = f"/v1/sales-reps/{created['id']}"
    assert (await client.delete(path, headers={**admin.headers, "If-Match": '"1"'})).status_code == 204
    assert_problem(await client.get(path, headers=admin.headers), 404, "not-found")
    assert_problem(await client.delete(path, headers=admin.headers), 404, "not-found")
    got = await client.get(f"/v1/accounts/{carrying['id']}", headers=admin.headers)
    assert got.json()["sales_rep_codes"] == ["PH01"]
    await rep(client, admin, "PH01")  # the code is free again


# --- members working as a record -------------------------------------------------------------


async def test_linking_a_staff_member_is_idempotent(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member, staff: Member
) -> None:
    created = await rep(client, admin, "PH01")
    for _ in range(2):
        r = await link(client, admin, created["id"], staff)
        assert r.status_code == 204, r.text
    r = await client.get(f"/v1/sales-reps/{created['id']}/members", headers=staff.headers)
    [listed] = r.json()["items"]
    assert (listed["id"], listed["email"], listed["kind"]) == (str(staff.id), staff.email, "staff")
    entries = await rows_of(db, acme, HistoryEntry, entity="sales_rep", entity_id=created["id"])
    assert [e.action for e in entries].count("member_added") == 1


async def test_a_customer_cannot_work_as_a_sales_rep(
    client: AsyncClient, admin: Member, customer: Member
) -> None:
    created = await rep(client, admin, "PH01")
    assert error_fields(await link(client, admin, created["id"], customer)) == {"path.member_id"}
    assert await linked(client, admin, created["id"]) == []


async def test_an_unknown_member_or_record_is_404(
    client: AsyncClient, admin: Member, staff: Member, globex: Tenant
) -> None:
    created = await rep(client, admin, "PH01")
    r = await client.put(f"/v1/sales-reps/{created['id']}/members/{NOBODY}", headers=admin.headers)
    assert_problem(r, 404, "not-found")
    r = await client.put(f"/v1/sales-reps/{created['id']}/members/{globex.admin.id}", headers=admin.headers)
    assert_problem(r, 404, "not-found")
    assert_problem(await link(client, admin, NOBODY, staff), 404, "not-found")


async def test_unlinking_takes_the_member_off_once(client: AsyncClient, admin: Member, staff: Member) -> None:
    created = await rep(client, admin, "PH01")
    await link(client, admin, created["id"], staff)
    path = f"/v1/sales-reps/{created['id']}/members/{staff.id}"
    assert (await client.delete(path, headers=admin.headers)).status_code == 204
    assert await linked(client, admin, created["id"]) == []
    assert_problem(await client.delete(path, headers=admin.headers), 404, "not-found")


async def test_only_administrators_link_members(
    client: AsyncClient, admin: Member, staff: Member, customer: Member, globex: Tenant
) -> None:
    created = await rep(client, admin, "PH01")
    for who in (staff, customer):
        assert_problem(await link(client, who, created["id"], staff), 403, "missing-capability")
    await link(client, admin, created["id"], staff)
    path = f"/v1/sales-reps/{created['id']}/members/{staff.id}"
    for who in (staff, customer):
        assert_problem(await client.delete(path, headers=who.headers), 403, "missing-capability")
    assert_problem(await client.delete(path, headers=globex.admin.headers), 404, "not-found")
    assert await linked(client, admin, created["id"]) == [str(staff.id)]


# --- the policy, and what a linked member sees ------------------------------------------------


async def test_access_changes_mark_the_policy_changed_and_others_do_not(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member, staff: Member
) -> None:
    async def bumped(answer: Any) -> bool:
        before = await policy_version(db, acme)
        r = await answer
        assert r.status_code < 300, r.text
        return await policy_version(db, acme) > before

    h = admin.headers
    assert not await bumped(client.post("/v1/sales-reps", json={"code": "PH01", "name": "Anna"}, headers=h))
    [created] = (await client.get("/v1/sales-reps", headers=h)).json()["items"]
    path = f"/v1/sales-reps/{created['id']}"
    assert not await bumped(client.patch(path, json={"name": "Anna K."}, headers=h))
    assert await bumped(client.put(f"{path}/members/{staff.id}", headers=h))
    assert not await bumped(client.put(f"{path}/members/{staff.id}", headers=h))
    assert await bumped(client.patch(path, json={"active": False}, headers=h))
    assert await bumped(client.patch(path, json={"code": "PH02"}, headers=h))
    assert await bumped(client.delete(f"{path}/members/{staff.id}", headers=h))
    assert await bumped(client.delete(path, headers=h))


async def test_a_linked_staff_member_sees_the_accounts_carrying_the_code(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    created = await rep(client, admin, "PH01")
    path = f"/v1/sales-reps/{created['id']}"
    await account(client, admin, "Mine", sales_rep_codes=["PH01"])
    await account(client, admin, "Theirs", sales_rep_codes=["PH02"])
    assert await account_names(client, staff) == []
    assert (await link(client, admin, created["id"], staff)).status_code == 204
    assert await account_names(client, staff) == ["Mine"]
    await client.patch(path, json={"active": False}, headers=admin.headers)
    assert await account_names(client, staff) == []
    await client.patch(path, json={"active": True}, headers=admin.headers)
    # A new code travels with the accounts, so the member keeps them.
    await client.patch(path, json={"code": "PH07"}, headers=admin.headers)
    assert await account_names(client, staff) == ["Mine"]
    await client.delete(f"{path}/members/{staff.id}", headers=admin.headers)
    assert await account_names(client, staff) == []


async def test_a_new_code_for_a_record_members_work_as_needs_org_admin(
    client: AsyncClient, admin: Member, staff: Member, db: Database, acme: Tenant
) -> None:
    await grant(db, acme, staff, "sales_reps.manage")
    mine = await rep(client, admin, "S1")
    await rep(client, admin, "B1")
    assert (await link(client, admin, mine["id"], staff)).status_code == 204
    await account(client, admin, "Big customer", sales_rep_codes=["B1"])
    await account(client, admin, "Sam's", sales_rep_codes=["S1"])
    # Taking over B1's accounts by recoding its own record: refused, nothing moved.
    r = await client.patch(f"/v1/sales-reps/{mine['id']}", json={"code": "B9"}, headers=staff.headers)
    assert_problem(r, 403, "missing-capability")
    assert await account_names(client, staff) == ["Sam's"]
    # A record nobody works as may still be recoded by the feed; an administrator may do both.
    unlinked = await rep(client, admin, "U1")
    r = await client.patch(f"/v1/sales-reps/{unlinked['id']}", json={"code": "U2"}, headers=staff.headers)
    assert r.status_code == 200, r.text
    r = await client.patch(f"/v1/sales-reps/{mine['id']}", json={"code": "S2"}, headers=admin.headers)
    assert r.status_code == 200, r.text
    assert await account_names(client, staff) == ["Sam's"]
