"""Tags through the HTTP API: the catalogue, tagging one record, bulk tagging, and who may do what."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import event, insert

from crmapi.contacts.models import Contact
from crmapi.identity.models import ApiKey
from crmapi.kit.db import Database, bind_org
from crmapi.kit.ids import new_id
from crmapi.records.history import HistoryEntry
from crmapi.records.outbox import OutboxEvent
from tests.factories import account, contact
from tests.support import NOBODY, Member, Tenant, Tenants, assert_problem, error_fields, rows_of


async def create_tag(client: AsyncClient, who: Member, name: str, **fields: Any) -> dict[str, Any]:
    r = await client.post("/v1/tags", json={"name": name, **fields}, headers=who.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def tag_names(client: AsyncClient, who: Member, **params: Any) -> list[str]:
    r = await client.get("/v1/tags", params={"limit": 200, **params}, headers=who.headers)
    assert r.status_code == 200, r.text
    return [t["name"] for t in r.json()["items"]]


async def read(client: AsyncClient, who: Member, path: str) -> dict[str, Any]:
    r = await client.get(path, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def history(client: AsyncClient, who: Member, path: str) -> list[dict[str, Any]]:
    return (await read(client, who, f"{path}/history"))["items"]


async def add(client: AsyncClient, who: Member, path: str, name: str, **headers: str) -> Response:
    return await client.post(f"{path}/tags", json={"name": name}, headers={**who.headers, **headers})


async def remove(client: AsyncClient, who: Member, path: str, name: str) -> Response:
    return await client.delete(f"{path}/tags/{name}", headers=who.headers)


async def bulk(client: AsyncClient, who: Member, kind: str, **body: Any) -> Response:
    return await client.post(f"/v1/{kind}/bulk/tags", json=body, headers=who.headers)


def outcomes(r: Response) -> list[tuple[str, str, str | None]]:
    assert r.status_code == 200, r.text
    return [(o["id"], o["outcome"], o["reason"]) for o in r.json()["results"]]


async def seed_contacts(db: Database, tenant: Tenant, owner: Member, n: int, tags: list[str]) -> list[str]:
    """n contacts written straight to the table: a bulk test needs more than the API makes quickly."""
    rows = [
        {
            "org_id": tenant.org_id,
            "id": new_id(),
            "kind": "person",
            "display_name": f"P{i}",
            "tags": tags,
            "owner_member_id": owner.id,
            "search_text": "",
        }
        for i in range(n)
    ]
    async with db.sessions() as session:
        await bind_org(session, tenant.org_id)
        await session.execute(insert(Contact), rows)
        await session.commit()
    return [str(r["id"]) for r in rows]


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


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements sent while the block runs."""
    sent: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)


# --- the catalogue ---------------------------------------------------------------------------


async def test_create_answers_201_with_location_and_etag(client: AsyncClient, admin: Member) -> None:
    r = await client.post(
        "/v1/tags", json={"name": " targi-2026 ", "colour": "#1e88e5"}, headers=admin.headers
    )
    assert r.status_code == 201, r.text
    tag = r.json()
    assert (tag["name"], tag["colour"], tag["version"]) == ("targi-2026", "#1E88E5", 1)
    assert r.headers["location"] == f"/v1/tags/{tag['id']}"
    assert r.headers["etag"] == '"1"'


async def test_get_returns_the_tag(client: AsyncClient, admin: Member) -> None:
    tag = await create_tag(client, admin, "vip")
    assert await read(client, admin, f"/v1/tags/{tag['id']}") == tag


@pytest.mark.parametrize("name", ["vip", "VIP", " Vip "])
async def test_name_taken_in_any_case_is_409(client: AsyncClient, admin: Member, name: str) -> None:
    await create_tag(client, admin, "vip")
    r = await client.post("/v1/tags", json={"name": name}, headers=admin.headers)
    assert_problem(r, 409, "tag-exists")
    assert await tag_names(client, admin) == ["vip"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"name": "vip", "colour": "red"}, "body.colour", id="colour-word"),
        pytest.param({"name": "vip", "colour": "#FFF"}, "body.colour", id="colour-short"),
        pytest.param({"name": "vip", "colour": "#GGGGGG"}, "body.colour", id="colour-not-hex"),
        pytest.param({"name": " "}, "body.name", id="blank-name"),
        pytest.param({"name": "x" * 65}, "body.name", id="long-name"),
        pytest.param({"name": "a\u0000b"}, "body.name", id="nul"),
        pytest.param({"name": "vip", "count": 3}, "body.count", id="unknown-field"),
    ],
)
async def test_invalid_tag_is_422_naming_the_field(
    client: AsyncClient, admin: Member, body: dict[str, Any], field: str
) -> None:
    assert field in error_fields(await client.post("/v1/tags", json=body, headers=admin.headers))


async def test_staff_cannot_create_tags(client: AsyncClient, staff: Member) -> None:
    r = await client.post("/v1/tags", json={"name": "vip"}, headers=staff.headers)
    assert_problem(r, 403, "missing-capability")


async def test_staff_reads_the_catalogue(client: AsyncClient, admin: Member, staff: Member) -> None:
    tag = await create_tag(client, admin, "vip")
    assert await tag_names(client, staff) == ["vip"]
    assert (await read(client, staff, f"/v1/tags/{tag['id']}"))["name"] == "vip"


async def test_customer_cannot_list_tags(client: AsyncClient, admin: Member, customer: Member) -> None:
    tag = await create_tag(client, admin, "vip")
    assert_problem(await client.get("/v1/tags", headers=customer.headers), 403, "staff-only")
    assert_problem(await client.get(f"/v1/tags/{tag['id']}", headers=customer.headers), 403, "staff-only")


async def test_list_is_by_name_and_pages_by_cursor(client: AsyncClient, admin: Member) -> None:
    for name in ["gamma", "alpha", "delta", "beta"]:
        await create_tag(client, admin, name)
    first = await read(client, admin, "/v1/tags?limit=3")
    rest = (
        await client.get("/v1/tags", params={"cursor": first["next_cursor"]}, headers=admin.headers)
    ).json()
    assert [t["name"] for t in first["items"] + rest["items"]] == ["alpha", "beta", "delta", "gamma"]
    assert rest["next_cursor"] is None


async def test_list_sorts_by_creation(client: AsyncClient, admin: Member) -> None:
    for name in ["gamma", "alpha", "beta"]:
        await create_tag(client, admin, name)
    assert await tag_names(client, admin, sort="-created_at") == ["beta", "alpha", "gamma"]


async def test_q_is_a_prefix_in_any_case(client: AsyncClient, admin: Member) -> None:
    for name in ["Targi-2025", "targi-2026", "po-targach", "t_rgi"]:
        await create_tag(client, admin, name)
    assert await tag_names(client, admin, q="TARGI") == ["Targi-2025", "targi-2026"]
    assert await tag_names(client, admin, q="t_") == ["t_rgi"]


async def test_unsortable_field_is_422(client: AsyncClient, admin: Member) -> None:
    assert error_fields(await client.get("/v1/tags?sort=colour", headers=admin.headers)) == {"query.sort"}


async def test_recolour_keeps_the_name_and_bumps_the_etag(client: AsyncClient, admin: Member) -> None:
    tag = await create_tag(client, admin, "vip", colour="#FF0000")
    r = await client.patch(f"/v1/tags/{tag['id']}", json={"colour": None}, headers=admin.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["colour"], r.headers["etag"]) == ("vip", None, '"2"')


async def test_rename_rewrites_every_contact_carrying_the_tag(client: AsyncClient, admin: Member) -> None:
    tag = await create_tag(client, admin, "vip")
    tagged = await contact(client, admin, tags=["partner", "vip", "pl"])
    other = await contact(client, admin, tags=["partner"])
    r = await client.patch(f"/v1/tags/{tag['id']}", json={"name": "super-klient"}, headers=admin.headers)
    assert r.status_code == 200, r.text
    renamed = await read(client, admin, f"/v1/contacts/{tagged['id']}")
    assert (renamed["tags"], renamed["version"]) == (["partner", "super-klient", "pl"], 2)
    assert await read(client, admin, f"/v1/contacts/{other['id']}") == other
    assert await tag_names(client, admin) == ["partner", "pl", "super-klient"]


async def test_rename_rewrites_accounts_too(client: AsyncClient, admin: Member) -> None:
    tag = await create_tag(client, admin, "vip")
    acc = await account(client, admin)
    await add(client, admin, f"/v1/accounts/{acc['id']}", "vip")
    await client.patch(f"/v1/tags/{tag['id']}", json={"name": "key-account"}, headers=admin.headers)
    assert (await read(client, admin, f"/v1/accounts/{acc['id']}"))["tags"] == ["key-account"]


async def test_rename_writes_one_history_row_on_the_tag(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member
) -> None:
    tag = await create_tag(client, admin, "vip")
    tagged = await contact(client, admin, tags=["vip"])
    await client.patch(f"/v1/tags/{tag['id']}", json={"name": "VIP"}, headers=admin.headers)
    rows = await rows_of(db, acme, HistoryEntry, entity="tag", entity_id=UUID(tag["id"]))
    assert [(h.action, h.changes) for h in rows] == [
        ("created", {"name": {"old": None, "new": "vip"}}),
        ("updated", {"name": {"old": "vip", "new": "VIP"}}),
    ]
    assert [h["action"] for h in await history(client, admin, f"/v1/contacts/{tagged['id']}")] == ["created"]
    assert (await read(client, admin, f"/v1/contacts/{tagged['id']}"))["tags"] == ["VIP"]


async def test_rename_to_a_name_taken_in_any_case_is_409(client: AsyncClient, admin: Member) -> None:
    await create_tag(client, admin, "vip")
    other = await create_tag(client, admin, "partner")
    r = await client.patch(f"/v1/tags/{other['id']}", json={"name": "Vip"}, headers=admin.headers)
    assert_problem(r, 409, "tag-exists")
    assert await tag_names(client, admin) == ["partner", "vip"]


async def test_rename_with_a_stale_if_match_is_412(client: AsyncClient, admin: Member) -> None:
    tag = await create_tag(client, admin, "vip")
    await client.patch(f"/v1/tags/{tag['id']}", json={"colour": "#000000"}, headers=admin.headers)
    r = await client.patch(
        f"/v1/tags/{tag['id']}", json={"name": "gold"}, headers={**admin.headers, "If-Match": '"1"'}
    )
    assert_problem(r, 412, "stale-version")


async def test_null_name_is_422(client: AsyncClient, admin: Member) -> None:
    tag = await create_tag(client, admin, "vip")
    r = await client.patch(f"/v1/tags/{tag['id']}", json={"name": None}, headers=admin.headers)
    assert error_fields(r) == {"body.name"}


async def test_delete_takes_the_tag_off_every_record(client: AsyncClient, admin: Member) -> None:
    tag = await create_tag(client, admin, "vip")
    tagged = await contact(client, admin, tags=["partner", "vip"])
    acc = await account(client, admin)
    await add(client, admin, f"/v1/accounts/{acc['id']}", "vip")
    r = await client.delete(f"/v1/tags/{tag['id']}", headers=admin.headers)
    assert r.status_code == 204, r.text
    assert (await read(client, admin, f"/v1/contacts/{tagged['id']}"))["tags"] == ["partner"]
    assert (await read(client, admin, f"/v1/accounts/{acc['id']}"))["tags"] == []
    assert_problem(await client.get(f"/v1/tags/{tag['id']}", headers=admin.headers), 404, "not-found")
    assert await tag_names(client, admin) == ["partner"]


async def test_deleted_tag_leaves_no_match_for_the_tag_filter(client: AsyncClient, admin: Member) -> None:
    tag = await create_tag(client, admin, "vip")
    await contact(client, admin, tags=["vip"])
    await client.delete(f"/v1/tags/{tag['id']}", headers=admin.headers)
    assert (await read(client, admin, "/v1/contacts?tag=vip"))["items"] == []


@pytest.mark.parametrize(("method", "body"), [("PATCH", {"name": "gold"}), ("DELETE", None)])
async def test_staff_cannot_change_the_catalogue(
    client: AsyncClient, admin: Member, staff: Member, method: str, body: dict[str, Any] | None
) -> None:
    tag = await create_tag(client, admin, "vip")
    r = await client.request(method, f"/v1/tags/{tag['id']}", json=body, headers=staff.headers)
    assert_problem(r, 403, "missing-capability")


@pytest.mark.parametrize(("method", "body"), [("GET", None), ("PATCH", {"name": "gold"}), ("DELETE", None)])
async def test_another_organisations_tag_is_404(
    client: AsyncClient, admin: Member, globex: Tenant, method: str, body: dict[str, Any] | None
) -> None:
    theirs = await create_tag(client, globex.admin, "vip")
    r = await client.request(method, f"/v1/tags/{theirs['id']}", json=body, headers=admin.headers)
    assert_problem(r, 404, "not-found")
    assert await tag_names(client, globex.admin) == ["vip"]


async def test_renaming_leaves_another_organisations_records_alone(
    client: AsyncClient, admin: Member, globex: Tenant
) -> None:
    tag = await create_tag(client, admin, "vip")
    theirs = await contact(client, globex.admin, tags=["vip"])
    await client.patch(f"/v1/tags/{tag['id']}", json={"name": "gold"}, headers=admin.headers)
    assert (await read(client, globex.admin, f"/v1/contacts/{theirs['id']}"))["tags"] == ["vip"]
    assert await tag_names(client, globex.admin) == ["vip"]


async def test_tags_given_on_a_contact_join_the_catalogue(client: AsyncClient, admin: Member) -> None:
    await create_tag(client, admin, "VIP")
    created = await contact(client, admin, tags=["vip", "branża-IT"])
    assert created["tags"] == ["VIP", "branża-IT"]
    assert set(await tag_names(client, admin)) == {"VIP", "branża-IT"}
    r = await client.patch(f"/v1/contacts/{created['id']}", json={"tags": ["nowy"]}, headers=admin.headers)
    assert r.json()["tags"] == ["nowy"]
    assert set(await tag_names(client, admin)) == {"VIP", "branża-IT", "nowy"}


# --- tags on one record ----------------------------------------------------------------------


async def test_add_answers_the_tags_and_the_new_etag(client: AsyncClient, admin: Member) -> None:
    anna = await contact(client, admin, tags=["partner"])
    r = await add(client, admin, f"/v1/contacts/{anna['id']}", " vip ")
    assert r.status_code == 200, r.text
    assert (r.json(), r.headers["etag"]) == ({"tags": ["partner", "vip"]}, '"2"')
    got = await read(client, admin, f"/v1/contacts/{anna['id']}")
    assert got["tags"] == ["partner", "vip"]
    assert got["updated_at"] > anna["updated_at"]


async def test_add_writes_history_and_an_event(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member
) -> None:
    anna = await contact(client, admin)
    await add(client, admin, f"/v1/contacts/{anna['id']}", "vip")
    newest = (await history(client, admin, f"/v1/contacts/{anna['id']}"))[0]
    assert (newest["action"], newest["changes"]) == ("updated", {"tags": {"old": [], "new": ["vip"]}})
    events = await rows_of(db, acme, OutboxEvent, entity="contact", entity_id=UUID(anna["id"]))
    assert [(e.topic, e.payload) for e in events][-1] == (
        "contact.updated",
        {"version": 2, "fields": ["tags"]},
    )


async def test_add_creates_a_missing_catalogue_entry_once(client: AsyncClient, admin: Member) -> None:
    anna = await contact(client, admin)
    await create_tag(client, admin, "Partner")
    await add(client, admin, f"/v1/contacts/{anna['id']}", "nowy-tag")
    r = await add(client, admin, f"/v1/contacts/{anna['id']}", "partner")
    assert r.json()["tags"] == ["nowy-tag", "Partner"]
    assert set(await tag_names(client, admin)) == {"nowy-tag", "Partner"}


async def test_adding_a_carried_tag_changes_nothing(client: AsyncClient, admin: Member) -> None:
    anna = await contact(client, admin, tags=["vip"])
    r = await add(client, admin, f"/v1/contacts/{anna['id']}", "VIP")
    assert (r.status_code, r.json(), r.headers["etag"]) == (200, {"tags": ["vip"]}, '"1"')
    assert [h["action"] for h in await history(client, admin, f"/v1/contacts/{anna['id']}")] == ["created"]


async def test_remove_takes_the_tag_off_with_history(client: AsyncClient, admin: Member) -> None:
    anna = await contact(client, admin, tags=["vip", "partner"])
    r = await remove(client, admin, f"/v1/contacts/{anna['id']}", "VIP")
    assert (r.status_code, r.json(), r.headers["etag"]) == (200, {"tags": ["partner"]}, '"2"')
    newest = (await history(client, admin, f"/v1/contacts/{anna['id']}"))[0]
    assert newest["changes"] == {"tags": {"old": ["vip", "partner"], "new": ["partner"]}}


async def test_removing_a_tag_not_carried_changes_nothing(client: AsyncClient, admin: Member) -> None:
    anna = await contact(client, admin, tags=["partner"])
    r = await remove(client, admin, f"/v1/contacts/{anna['id']}", "vip")
    assert (r.status_code, r.json(), r.headers["etag"]) == (200, {"tags": ["partner"]}, '"1"')


async def test_a_name_with_a_slash_can_be_removed(client: AsyncClient, admin: Member) -> None:
    anna = await contact(client, admin, tags=["B2B/B2C", "vip"])
    r = await remove(client, admin, f"/v1/contacts/{anna['id']}", "B2B%2FB2C")
    assert (r.status_code, r.json()) == (200, {"tags": ["vip"]})


async def test_a_name_with_a_nul_in_the_path_is_422(client: AsyncClient, admin: Member) -> None:
    anna = await contact(client, admin)
    assert error_fields(await remove(client, admin, f"/v1/contacts/{anna['id']}", "a%00b")) == {"path.name"}


async def test_tagged_contact_is_found_by_the_tag_filter(client: AsyncClient, admin: Member) -> None:
    anna = await contact(client, admin)
    await contact(client, admin)
    await add(client, admin, f"/v1/contacts/{anna['id']}", "vip")
    assert [c["id"] for c in (await read(client, admin, "/v1/contacts?tag=vip"))["items"]] == [anna["id"]]


async def test_stale_if_match_on_add_is_412(client: AsyncClient, admin: Member) -> None:
    anna = await contact(client, admin)
    await add(client, admin, f"/v1/contacts/{anna['id']}", "vip")
    r = await add(client, admin, f"/v1/contacts/{anna['id']}", "gold", **{"If-Match": '"1"'})
    assert_problem(r, 412, "stale-version")


@pytest.mark.parametrize("body", [{"name": ""}, {"name": "x" * 65}, {}, {"name": "vip", "colour": "#000000"}])
async def test_invalid_tag_to_add_is_422(client: AsyncClient, admin: Member, body: dict[str, Any]) -> None:
    anna = await contact(client, admin)
    r = await client.post(f"/v1/contacts/{anna['id']}/tags", json=body, headers=admin.headers)
    assert_problem(r, 422, "validation-error")


@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_tagging_another_organisations_contact_is_404(
    client: AsyncClient, admin: Member, globex: Tenant, method: str
) -> None:
    theirs = await contact(client, globex.admin)
    path = f"/v1/contacts/{theirs['id']}/tags" + ("/vip" if method == "DELETE" else "")
    r = await client.request(
        method, path, json={"name": "vip"} if method == "POST" else None, headers=admin.headers
    )
    assert_problem(r, 404, "not-found")
    assert await tag_names(client, admin) == []


async def test_staff_cannot_tag_a_contact_they_cannot_see(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    hidden = await contact(client, admin)
    assert_problem(await add(client, staff, f"/v1/contacts/{hidden['id']}", "vip"), 404, "not-found")


async def test_staff_tags_their_own_contact(client: AsyncClient, staff: Member) -> None:
    own = await contact(client, staff)
    assert (await add(client, staff, f"/v1/contacts/{own['id']}", "vip")).json() == {"tags": ["vip"]}


async def test_reader_who_may_not_change_gets_403(
    client: AsyncClient, tenants: Tenants, acme: Tenant, admin: Member
) -> None:
    anna = await contact(client, admin)
    reader = await api_key(tenants, acme, ["contacts.view_any"])
    assert_problem(await add(client, reader, f"/v1/contacts/{anna['id']}", "vip"), 403, "not-owner")


async def test_account_is_tagged_and_untagged(client: AsyncClient, admin: Member) -> None:
    acc = await account(client, admin)
    path = f"/v1/accounts/{acc['id']}"
    assert (await add(client, admin, path, "key-account")).json() == {"tags": ["key-account"]}
    r = await remove(client, admin, path, "key-account")
    assert (r.json(), r.headers["etag"]) == ({"tags": []}, '"3"')
    assert [h["action"] for h in await history(client, admin, path)][:2] == ["updated", "updated"]
    assert await tag_names(client, admin) == ["key-account"]


async def test_tagging_another_organisations_account_is_404(
    client: AsyncClient, admin: Member, globex: Tenant
) -> None:
    theirs = await account(client, globex.admin)
    assert_problem(await add(client, admin, f"/v1/accounts/{theirs['id']}", "vip"), 404, "not-found")


# --- bulk ------------------------------------------------------------------------------------


async def test_bulk_answers_an_outcome_per_id_in_order(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member, staff: Member, globex: Tenant
) -> None:
    await create_tag(client, admin, "vip")
    fresh = await seed_contacts(db, acme, staff, 90, ["old"])
    tagged = await seed_contacts(db, acme, staff, 6, ["vip"])
    # Seen through an account the staff member is assigned to, but owned by someone else.
    [linked] = await seed_contacts(db, acme, admin, 1, [])
    acc = await account(client, admin, contact_ids=[linked])
    r = await client.post(
        f"/v1/accounts/{acc['id']}/assignments", json={"member_id": str(staff.id)}, headers=admin.headers
    )
    assert r.status_code == 204, r.text
    theirs = await contact(client, globex.admin)
    ids = [*fresh[:50], fresh[0], NOBODY, *tagged, linked, theirs["id"], *fresh[50:]]
    assert len(ids) == 100
    got = outcomes(await bulk(client, staff, "contacts", ids=ids, add=["vip"], remove=["old"]))
    expected = (
        [(i, "updated", None) for i in fresh[:50]]
        + [(fresh[0], "error", "duplicate"), (NOBODY, "error", "not-found")]
        + [(i, "unchanged", None) for i in tagged]
        + [(linked, "error", "forbidden"), (theirs["id"], "error", "not-found")]
        + [(i, "updated", None) for i in fresh[50:]]
    )
    assert got == expected
    assert (await read(client, staff, f"/v1/contacts/{fresh[7]}"))["tags"] == ["vip"]
    assert (await read(client, staff, f"/v1/contacts/{linked}"))["tags"] == []
    assert (await read(client, globex.admin, f"/v1/contacts/{theirs['id']}")) == theirs


async def test_bulk_writes_history_events_and_versions_only_for_changes(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member
) -> None:
    await create_tag(client, admin, "vip")
    changed, same = (
        await seed_contacts(db, acme, admin, 1, []),
        await seed_contacts(db, acme, admin, 1, ["vip"]),
    )
    got = outcomes(await bulk(client, admin, "contacts", ids=[*changed, *same], add=["vip"]))
    assert [o[1] for o in got] == ["updated", "unchanged"]
    assert (await read(client, admin, f"/v1/contacts/{changed[0]}"))["version"] == 2
    assert (await read(client, admin, f"/v1/contacts/{same[0]}"))["version"] == 1
    entries = await history(client, admin, f"/v1/contacts/{changed[0]}")
    assert [(h["action"], h["changes"]) for h in entries] == [
        ("updated", {"tags": {"old": [], "new": ["vip"]}})
    ]
    assert await history(client, admin, f"/v1/contacts/{same[0]}") == []
    events = await rows_of(db, acme, OutboxEvent, topic="contact.updated")
    assert [(str(e.entity_id), e.payload) for e in events] == [
        (changed[0], {"version": 2, "fields": ["tags"]})
    ]


async def test_bulk_removes_tags_in_any_case(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member
) -> None:
    ids = await seed_contacts(db, acme, admin, 3, ["Old", "keep"])
    got = outcomes(await bulk(client, admin, "contacts", ids=ids, remove=["old", "never-there"]))
    assert [o[1] for o in got] == ["updated"] * 3
    assert (await read(client, admin, f"/v1/contacts/{ids[0]}"))["tags"] == ["keep"]


async def test_bulk_adds_the_catalogue_spelling(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member
) -> None:
    await create_tag(client, admin, "Targi-2026")
    ids = await seed_contacts(db, acme, admin, 1, [])
    await bulk(client, admin, "contacts", ids=ids, add=["targi-2026", "TARGI-2026"])
    assert (await read(client, admin, f"/v1/contacts/{ids[0]}"))["tags"] == ["Targi-2026"]


async def test_bulk_with_a_tag_not_in_the_catalogue_is_422_and_changes_nothing(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member
) -> None:
    await create_tag(client, admin, "vip")
    ids = await seed_contacts(db, acme, admin, 2, [])
    r = await bulk(client, admin, "contacts", ids=ids, add=["vip", "nieznany"])
    assert error_fields(r) == {"body.add"}
    assert "nieznany" in r.json()["detail"]
    assert (await read(client, admin, f"/v1/contacts/{ids[0]}"))["tags"] == []
    assert await tag_names(client, admin) == ["vip"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"ids": [NOBODY]}, "body", id="nothing-to-do"),
        pytest.param({"ids": [NOBODY], "add": [], "remove": []}, "body", id="empty-lists"),
        pytest.param({"ids": [NOBODY], "add": ["vip"], "remove": ["VIP"]}, "body", id="add-and-remove"),
        pytest.param({"ids": [], "add": ["vip"]}, "body.ids", id="no-ids"),
        pytest.param({"ids": ["42"], "add": ["vip"]}, "body.ids.0", id="bad-id"),
        pytest.param({"ids": [NOBODY] * 10_001, "add": ["vip"]}, "body.ids", id="too-many-ids"),
        pytest.param({"ids": [NOBODY], "add": [" "]}, "body.add.0", id="blank-tag"),
        pytest.param({"ids": [NOBODY], "add": ["vip"], "colour": "red"}, "body.colour", id="unknown"),
    ],
)
async def test_invalid_bulk_is_422_naming_the_field(
    client: AsyncClient, admin: Member, body: dict[str, Any], field: str
) -> None:
    await create_tag(client, admin, "vip")
    assert field in error_fields(
        await client.post("/v1/contacts/bulk/tags", json=body, headers=admin.headers)
    )


async def test_bulk_takes_10000_ids(client: AsyncClient, db: Database, acme: Tenant, admin: Member) -> None:
    await create_tag(client, admin, "vip")
    ids = await seed_contacts(db, acme, admin, 10_000, [])
    got = outcomes(await bulk(client, admin, "contacts", ids=ids, add=["vip"]))
    assert len(got) == 10_000 and {o[1] for o in got} == {"updated"}
    assert (await read(client, admin, "/v1/contacts?tag=vip&count=true&limit=1"))["count"] == 10_000


async def test_bulk_sends_as_many_statements_for_100_ids_as_for_10(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member
) -> None:
    await create_tag(client, admin, "vip")
    ten, hundred = (
        await seed_contacts(db, acme, admin, 10, ["old"]),
        await seed_contacts(db, acme, admin, 100, []),
    )
    with statements(db) as for_10:
        assert {
            o[1]
            for o in outcomes(await bulk(client, admin, "contacts", ids=ten, add=["vip"], remove=["old"]))
        } == {"updated"}
    with statements(db) as for_100:
        got = outcomes(await bulk(client, admin, "contacts", ids=hundred, add=["vip"], remove=["old"]))
        assert {o[1] for o in got} == {"updated"}
    assert for_10
    assert len(for_100) == len(for_10)


async def test_bulk_as_staff_reaches_only_their_own_contacts(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member, staff: Member
) -> None:
    await create_tag(client, admin, "vip")
    own, hidden = await seed_contacts(db, acme, staff, 2, []), await seed_contacts(db, acme, admin, 1, [])
    got = outcomes(await bulk(client, staff, "contacts", ids=[*own, *hidden], add=["vip"]))
    assert [o[1:] for o in got] == [("updated", None), ("updated", None), ("error", "not-found")]


async def test_an_api_key_that_only_reads_cannot_bulk_tag(
    client: AsyncClient, db: Database, tenants: Tenants, acme: Tenant, admin: Member
) -> None:
    await create_tag(client, admin, "vip")
    ids = await seed_contacts(db, acme, admin, 2, [])
    reader = await api_key(tenants, acme, ["contacts.view_any"])
    r = await bulk(client, reader, "contacts", ids=ids, add=["vip"])
    assert (
        r.status_code == 403
        and r.json()["detail"] == "An API key needs the capability 'contacts.manage' here."
    )
    assert (await read(client, admin, f"/v1/contacts/{ids[0]}"))["tags"] == []


async def test_customers_cannot_bulk_tag(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member, customer: Member
) -> None:
    await create_tag(client, admin, "vip")
    ids = await seed_contacts(db, acme, admin, 2, [])
    r = await bulk(client, customer, "contacts", ids=ids, add=["vip"])
    assert r.status_code == 403 and r.json()["type"].endswith("/staff-only")


async def test_bulk_on_accounts_reports_assigned_accounts_as_forbidden(
    client: AsyncClient, admin: Member, staff: Member, globex: Tenant
) -> None:
    await create_tag(client, admin, "key-account")
    own = [await account(client, staff, name=f"Own {i}") for i in range(3)]
    assigned = await account(client, admin, name="Assigned")
    r = await client.post(
        f"/v1/accounts/{assigned['id']}/assignments", json={"member_id": str(staff.id)}, headers=admin.headers
    )
    assert r.status_code == 204, r.text
    hidden = await account(client, admin, name="Hidden")
    theirs = await account(client, globex.admin, name="Theirs")
    ids = [own[0]["id"], assigned["id"], hidden["id"], theirs["id"], own[1]["id"], own[0]["id"], own[2]["id"]]
    got = outcomes(await bulk(client, staff, "accounts", ids=ids, add=["key-account"]))
    assert [o[1:] for o in got] == [
        ("updated", None),
        ("error", "forbidden"),
        ("error", "not-found"),
        ("error", "not-found"),
        ("updated", None),
        ("error", "duplicate"),
        ("updated", None),
    ]
    assert (await read(client, staff, f"/v1/accounts/{own[0]['id']}"))["tags"] == ["key-account"]
    assert (await read(client, admin, f"/v1/accounts/{assigned['id']}"))["tags"] == []
