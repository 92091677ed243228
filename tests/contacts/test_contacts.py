"""Contacts through the HTTP API: create, read, list, change, delete, history and who may do what."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import text

from crmapi.kit.db import Database, bind_org
from crmapi.kit.ids import new_id
from tests.support import NOBODY, Member, Tenant, assert_problem, error_fields, statements

READ_ONLY = {"id", "display_name", "created_at", "updated_at", "deleted_at", "version"}


def person(**fields: Any) -> dict[str, Any]:
    return {"kind": "person", "first_name": "Anna", "last_name": "Nowak", **fields}


def organisation(**fields: Any) -> dict[str, Any]:
    return {"kind": "organisation", "name": "Globex Sp. z o.o.", **fields}


async def create(client: AsyncClient, who: Member, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post("/v1/contacts", json=body, headers=who.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def patch(client: AsyncClient, who: Member, contact: dict[str, Any], **fields: Any) -> Response:
    return await client.patch(f"/v1/contacts/{contact['id']}", json=fields, headers=who.headers)


async def delete(client: AsyncClient, who: Member, contact: dict[str, Any]) -> None:
    r = await client.delete(f"/v1/contacts/{contact['id']}", headers=who.headers)
    assert r.status_code == 204, r.text


async def listed(client: AsyncClient, who: Member, **params: Any) -> dict[str, Any]:
    r = await client.get("/v1/contacts", params=params, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def ids(client: AsyncClient, who: Member, **params: Any) -> list[str]:
    return [c["id"] for c in (await listed(client, who, **params))["items"]]


async def searched(client: AsyncClient, who: Member, **body: Any) -> list[str]:
    r = await client.post("/v1/contacts/search", json=body, headers=who.headers)
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


async def walk(client: AsyncClient, who: Member, **params: Any) -> list[str]:
    """Every id, following next_cursor page by page."""
    seen: list[str] = []
    cursor = None
    for _ in range(100):
        page = await listed(client, who, **params, **({"cursor": cursor} if cursor else {}))
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("next_cursor never ran out")


async def history(client: AsyncClient, who: Member, contact: dict[str, Any]) -> list[dict[str, Any]]:
    r = await client.get(f"/v1/contacts/{contact['id']}/history", headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def forge(cursor: str, **changes: Any) -> str:
    """The cursor with its payload changed and the old signature kept."""
    body, mac = cursor.split(".", 1)
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**payload, **changes}).encode()).rstrip(b"=")
    return f"{forged.decode()}.{mac}"


# --- create and read -------------------------------------------------------------------------


async def test_create_answers_201_with_location_and_etag(client: AsyncClient, admin: Member) -> None:
    r = await client.post("/v1/contacts", json=person(), headers=admin.headers)
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/v1/contacts/{r.json()['id']}"
    assert r.headers["etag"] == '"1"'
    assert r.json()["version"] == 1


async def test_creator_owns_a_new_contact(client: AsyncClient, staff: Member) -> None:
    contact = await create(client, staff, person())
    assert contact["owner_member_id"] == str(staff.id)


async def test_new_contact_is_a_prospect(client: AsyncClient, admin: Member) -> None:
    assert (await create(client, admin, person()))["lifecycle_state"] == "prospect"


@pytest.mark.parametrize(
    ("names", "display_name"),
    [
        ({"first_name": "Anna", "last_name": "Nowak"}, "Anna Nowak"),
        ({"first_name": "Anna"}, "Anna"),
        ({"last_name": "Nowak"}, "Nowak"),
    ],
)
async def test_person_is_displayed_by_first_and_last_name(
    client: AsyncClient, admin: Member, names: dict[str, str], display_name: str
) -> None:
    contact = await create(client, admin, {"kind": "person", **names})
    assert contact["display_name"] == display_name


async def test_organisation_is_displayed_by_its_name(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, organisation(name="Globex"))
    assert contact["display_name"] == "Globex"


async def test_tags_are_trimmed_and_kept_once(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person(tags=[" vip ", "vip", "partner"]))
    assert contact["tags"] == ["vip", "partner"]


async def test_get_returns_the_contact_with_its_etag(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person(job_title="CFO"))
    r = await client.get(f"/v1/contacts/{contact['id']}", headers=admin.headers)
    assert r.status_code == 200
    assert r.json() == contact
    assert r.headers["etag"] == '"1"'


async def test_unknown_contact_is_404(client: AsyncClient, admin: Member) -> None:
    r = await client.get(f"/v1/contacts/{NOBODY}", headers=admin.headers)
    assert_problem(r, 404, "not-found")


async def test_malformed_contact_id_is_422(client: AsyncClient, admin: Member) -> None:
    r = await client.get("/v1/contacts/not-an-id", headers=admin.headers)
    assert "path.contact_id" in error_fields(r)


async def test_list_answers_items_next_cursor_and_count(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person())
    assert await listed(client, admin) == {"items": [contact], "next_cursor": None, "count": None}


async def test_contact_reads_the_same_created_got_and_listed(client: AsyncClient, admin: Member) -> None:
    contact = await create(
        client,
        admin,
        person(
            emails=[{"address": "anna@example.com"}],
            phones=[{"number": "+48 600 100 200"}],
            addresses=[{"city": "Warszawa", "country": "PL"}],
        ),
    )
    got = await client.get(f"/v1/contacts/{contact['id']}", headers=admin.headers)
    assert got.json() == contact
    assert (await listed(client, admin))["items"] == [contact]


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(person(emails=[{"address": "not-an-email"}]), "body.emails.0.address", id="email"),
        pytest.param({"kind": "person"}, "body.last_name", id="person-without-names"),
        pytest.param({"kind": "organisation", "first_name": "Anna"}, "body.name", id="organisation-no-name"),
        pytest.param(person(nickname="Ania"), "body.nickname", id="unknown-field"),
        pytest.param(person(emails=[{"address": "a@b.co", "x": 1}]), "body.emails.0.x", id="unknown-nested"),
        pytest.param(person(addresses=[{"country": "Poland"}]), "body.addresses.0.country", id="country"),
        pytest.param(person(addresses=[{"country": "pl"}]), "body.addresses.0.country", id="country-case"),
        pytest.param(person(time_zone="Mars/Olympus_Mons"), "body.time_zone", id="time-zone"),
        pytest.param({"kind": "robot", "first_name": "R2"}, "body.kind", id="kind"),
        pytest.param(person(phones=[{"number": "call me"}]), "body.phones.0.number", id="phone"),
        pytest.param(person(website="example.com"), "body.website", id="website"),
        pytest.param(person(web_domain="localhost"), "body.web_domain", id="web-domain"),
        pytest.param(person(lifecycle_state="customer"), "body.lifecycle_state", id="lifecycle-state"),
        pytest.param(person(owner_member_id="42"), "body.owner_member_id", id="owner-id"),
        pytest.param(person(tags=[" "]), "body.tags.0", id="blank-tag"),
        pytest.param(person(tags=[f"t{i}" for i in range(51)]), "body.tags", id="too-many-tags"),
        pytest.param(person(first_name="An\u0000na"), "body.first_name", id="nul-in-name"),
        pytest.param(person(custom={"note": "a\u0000b"}), "body.custom", id="nul-in-custom"),
        pytest.param(person(first_name="x" * 201), "body.first_name", id="name-too-long"),
    ],
)
async def test_invalid_contact_is_422_naming_the_field(
    client: AsyncClient, admin: Member, body: dict[str, Any], field: str
) -> None:
    r = await client.post("/v1/contacts", json=body, headers=admin.headers)
    assert field in error_fields(r)


async def test_person_without_names_points_at_both_name_fields(client: AsyncClient, admin: Member) -> None:
    r = await client.post("/v1/contacts", json={"kind": "person"}, headers=admin.headers)
    assert error_fields(r) == {"body.first_name", "body.last_name"}


async def test_body_that_is_not_an_object_is_422(client: AsyncClient, admin: Member) -> None:
    r = await client.post("/v1/contacts", json=[person()], headers=admin.headers)
    assert_problem(r, 422, "validation-error")


async def test_owner_must_be_a_staff_member(client: AsyncClient, admin: Member, customer: Member) -> None:
    r = await client.post(
        "/v1/contacts", json=person(owner_member_id=str(customer.id)), headers=admin.headers
    )
    assert error_fields(r) == {"body.owner_member_id"}


async def test_owner_must_belong_to_the_organisation(
    client: AsyncClient, admin: Member, globex: Tenant
) -> None:
    body = person(owner_member_id=str(globex.admin.id))
    r = await client.post("/v1/contacts", json=body, headers=admin.headers)
    assert error_fields(r) == {"body.owner_member_id"}


async def test_another_staff_member_can_be_made_owner(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    contact = await create(client, admin, person(owner_member_id=str(staff.id)))
    assert await ids(client, staff) == [contact["id"]]


# --- filters ---------------------------------------------------------------------------------


async def test_filter_by_kind(client: AsyncClient, admin: Member) -> None:
    await create(client, admin, person())
    globex = await create(client, admin, organisation())
    assert await ids(client, admin, kind="organisation") == [globex["id"]]


async def test_filter_by_tags_needs_every_tag(client: AsyncClient, admin: Member) -> None:
    both = await create(client, admin, person(tags=["vip", "partner", "pl"]))
    await create(client, admin, person(tags=["vip"]))
    await create(client, admin, person(tags=["partner"]))
    assert await ids(client, admin, tag=["vip", "partner"]) == [both["id"]]


async def test_filter_by_owner(client: AsyncClient, admin: Member, staff: Member) -> None:
    await create(client, admin, person())
    theirs = await create(client, admin, person(owner_member_id=str(staff.id)))
    assert await ids(client, admin, owner_member_id=str(staff.id)) == [theirs["id"]]


async def test_filter_by_lifecycle_state(client: AsyncClient, admin: Member) -> None:
    await create(client, admin, person())
    debtor = await create(client, admin, organisation(lifecycle_state="financial"))
    assert await ids(client, admin, lifecycle_state="financial") == [debtor["id"]]


async def test_filter_by_parent_payer(client: AsyncClient, admin: Member) -> None:
    payer = await create(client, admin, organisation())
    paid_for = await create(client, admin, person(parent_payer_id=payer["id"]))
    await create(client, admin, person())
    assert await ids(client, admin, parent_payer_id=payer["id"]) == [paid_for["id"]]


async def test_created_from_includes_that_moment(client: AsyncClient, admin: Member) -> None:
    await create(client, admin, person())
    second = await create(client, admin, person())
    third = await create(client, admin, person())
    assert await ids(client, admin, created_from=second["created_at"]) == [second["id"], third["id"]]


async def test_created_to_excludes_that_moment(client: AsyncClient, admin: Member) -> None:
    first = await create(client, admin, person())
    second = await create(client, admin, person())
    assert await ids(client, admin, created_to=second["created_at"]) == [first["id"]]


async def test_q_finds_part_of_a_name_in_any_case(client: AsyncClient, admin: Member) -> None:
    anna = await create(client, admin, person(first_name="Anna", last_name="Kowalska"))
    globex = await create(client, admin, organisation(name="Kowalski Trading"))
    await create(client, admin, person(first_name="Jan", last_name="Nowak"))
    assert sorted(await ids(client, admin, q="kOWALs")) == sorted([anna["id"], globex["id"]])


async def test_q_finds_part_of_an_email_address(client: AsyncClient, admin: Member) -> None:
    anna = await create(client, admin, person(emails=[{"address": "Anna.N@Example.com"}]))
    await create(client, admin, person(emails=[{"address": "jan@other.org"}]))
    assert await ids(client, admin, q="@EXAMPLE.") == [anna["id"]]


async def test_q_treats_percent_and_underscore_as_text(client: AsyncClient, admin: Member) -> None:
    await create(client, admin, organisation(name="Fifty Percent"))
    await create(client, admin, organisation(name="AxB"))
    sale = await create(client, admin, organisation(name="50% off_B"))
    assert await ids(client, admin, q="%") == [sale["id"]]
    assert await ids(client, admin, q="_b") == [sale["id"]]


async def test_q_follows_a_changed_email(client: AsyncClient, admin: Member) -> None:
    anna = await create(client, admin, person(emails=[{"address": "old@example.com"}]))
    await patch(client, admin, anna, emails=[{"address": "new@example.com"}])
    assert await ids(client, admin, q="new@") == [anna["id"]]
    assert await ids(client, admin, q="old@") == []


async def test_q_follows_a_changed_name(client: AsyncClient, admin: Member) -> None:
    anna = await create(client, admin, person(last_name="Nowak"))
    await patch(client, admin, anna, last_name="Kowalska")
    assert await ids(client, admin, q="kowalska") == [anna["id"]]
    assert await ids(client, admin, q="nowak") == []


async def test_search_takes_the_filters_as_a_body(client: AsyncClient, admin: Member) -> None:
    email = [{"address": "anna@example.com"}]
    vip = await create(client, admin, person(tags=["vip"], emails=email))
    await create(client, admin, organisation(tags=["vip"], emails=email))
    await create(client, admin, person(emails=email))
    await create(client, admin, person(tags=["vip"]))
    assert await searched(client, admin, kind="person", tag=["vip"], q="example.com") == [vip["id"]]


async def test_search_pages_with_the_cursor_in_the_body(client: AsyncClient, admin: Member) -> None:
    created = [(await create(client, admin, person()))["id"] for _ in range(3)]
    first = await client.post("/v1/contacts/search", json={"limit": 2}, headers=admin.headers)
    cursor = first.json()["next_cursor"]
    rest = await searched(client, admin, limit=2, cursor=cursor)
    assert [c["id"] for c in first.json()["items"]] + rest == created


async def test_search_with_unknown_filter_is_422(client: AsyncClient, admin: Member) -> None:
    r = await client.post("/v1/contacts/search", json={"colour": "red"}, headers=admin.headers)
    assert error_fields(r) == {"body.colour"}


async def test_unknown_query_parameter_is_422(client: AsyncClient, admin: Member) -> None:
    r = await client.get("/v1/contacts", params={"colour": "red"}, headers=admin.headers)
    assert "query.colour" in error_fields(r)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "robot"}, "query.kind"),
        ({"created_from": "yesterday"}, "query.created_from"),
        ({"owner_member_id": "42"}, "query.owner_member_id"),
        ({"q": "a\u0000b"}, "query.q"),
        ({"tag": "a\u0000b"}, "query.tag"),
    ],
)
async def test_invalid_filter_is_422(
    client: AsyncClient, admin: Member, params: dict[str, str], field: str
) -> None:
    r = await client.get("/v1/contacts", params=params, headers=admin.headers)
    assert field in error_fields(r)


# --- sorting, paging, count, fields ----------------------------------------------------------


async def test_limit_cuts_the_page_and_gives_a_cursor(client: AsyncClient, admin: Member) -> None:
    for _ in range(3):
        await create(client, admin, person())
    page = await listed(client, admin, limit=2)
    assert len(page["items"]) == 2
    assert page["next_cursor"]


async def test_last_page_has_no_cursor(client: AsyncClient, admin: Member) -> None:
    for _ in range(2):
        await create(client, admin, person())
    assert (await listed(client, admin, limit=2))["next_cursor"] is None


@pytest.mark.parametrize("sort", ["created_at", "-created_at", "display_name", "-display_name", "updated_at"])
async def test_cursor_walks_every_contact_once(client: AsyncClient, admin: Member, sort: str) -> None:
    for name in ["Cara", "Anna", "Bob", "Anna", "Cara", "Anna", "Bob"]:
        await create(client, admin, person(first_name=name))
    walked = await walk(client, admin, sort=sort, limit=2)
    assert len(set(walked)) == 7
    assert walked == await ids(client, admin, sort=sort, limit=200)


async def test_created_at_sort_follows_creation_order(client: AsyncClient, admin: Member) -> None:
    created = [(await create(client, admin, person()))["id"] for _ in range(5)]
    assert await walk(client, admin, sort="created_at", limit=2) == created
    assert await walk(client, admin, sort="-created_at", limit=2) == created[::-1]


async def test_display_name_sort_is_alphabetical(client: AsyncClient, admin: Member) -> None:
    for name in ["Cara", "Anna", "Bob", "Anna"]:
        await create(client, admin, person(first_name=name, last_name=None))
    page = await listed(client, admin, sort="display_name")
    assert [c["display_name"] for c in page["items"]] == ["Anna", "Anna", "Bob", "Cara"]


async def test_forged_cursor_is_400(client: AsyncClient, admin: Member) -> None:
    for _ in range(3):
        await create(client, admin, person())
    cursor = (await listed(client, admin, limit=1))["next_cursor"]
    r = await client.get("/v1/contacts", params={"cursor": forge(cursor, i=NOBODY)}, headers=admin.headers)
    assert_problem(r, 400, "invalid-cursor")


async def test_garbage_cursor_is_400(client: AsyncClient, admin: Member) -> None:
    r = await client.get("/v1/contacts", params={"cursor": "not-a-cursor"}, headers=admin.headers)
    assert_problem(r, 400, "invalid-cursor")


async def test_cursor_of_another_sort_is_400(client: AsyncClient, admin: Member) -> None:
    for _ in range(3):
        await create(client, admin, person())
    cursor = (await listed(client, admin, limit=1, sort="created_at"))["next_cursor"]
    r = await client.get(
        "/v1/contacts", params={"cursor": cursor, "sort": "-created_at"}, headers=admin.headers
    )
    assert_problem(r, 400, "invalid-cursor")


@pytest.mark.parametrize("sort", ["search_text", "-owner_member_id", "-", "id"])
async def test_unsortable_field_is_422(client: AsyncClient, admin: Member, sort: str) -> None:
    r = await client.get("/v1/contacts", params={"sort": sort}, headers=admin.headers)
    assert error_fields(r) == {"query.sort"}


@pytest.mark.parametrize("limit", [0, 201, -1])
async def test_limit_outside_1_to_200_is_422(client: AsyncClient, admin: Member, limit: int) -> None:
    r = await client.get("/v1/contacts", params={"limit": limit}, headers=admin.headers)
    assert error_fields(r) == {"query.limit"}


async def test_count_is_exact_beyond_the_page(client: AsyncClient, admin: Member) -> None:
    for _ in range(3):
        await create(client, admin, person())
    assert (await listed(client, admin, limit=1, count=True))["count"] == 3


async def test_count_follows_the_filters(client: AsyncClient, admin: Member) -> None:
    await create(client, admin, person(tags=["vip"]))
    await create(client, admin, person())
    assert (await listed(client, admin, tag="vip", count=True))["count"] == 1


async def test_count_is_capped_at_10000(client: AsyncClient, db: Database, acme: Tenant) -> None:
    async with db.sessions() as session:
        await bind_org(session, acme.org_id)
        await session.execute(
            text(
                "INSERT INTO contacts (org_id, id, kind, display_name, emails, phones, addresses, tags,"
                " custom, lifecycle_state, search_text, created_at, updated_at, version)"
                " SELECT :org, gen_random_uuid(), 'person', 'P' || n, '[]', '[]', '[]', '{}', '{}',"
                " 'prospect', '', now(), now(), 1 FROM generate_series(1, 10001) n"
            ),
            {"org": acme.org_id},
        )
        await session.commit()
    assert (await listed(client, acme.admin, limit=1, count=True))["count"] == 10_000


async def test_fields_choose_the_keys_of_list_items(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person())
    page = await listed(client, admin, fields="id,display_name")
    assert page["items"] == [{"id": contact["id"], "display_name": "Anna Nowak"}]


async def test_fields_always_include_id(client: AsyncClient, admin: Member) -> None:
    await create(client, admin, person())
    page = await listed(client, admin, fields="tags")
    assert set(page["items"][0]) == {"id", "tags"}


async def test_unknown_field_in_fields_is_422(client: AsyncClient, admin: Member) -> None:
    r = await client.get("/v1/contacts", params={"fields": "id,search_text"}, headers=admin.headers)
    assert error_fields(r) == {"query.fields"}


async def test_fields_on_get_by_id(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person(job_title="CFO"))
    r = await client.get(
        f"/v1/contacts/{contact['id']}", params={"fields": "job_title"}, headers=admin.headers
    )
    assert r.json() == {"id": contact["id"], "job_title": "CFO"}


async def test_unknown_field_on_get_by_id_is_422(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person())
    r = await client.get(f"/v1/contacts/{contact['id']}", params={"fields": "salary"}, headers=admin.headers)
    assert error_fields(r) == {"query.fields"}


async def test_listing_sends_as_many_statements_for_50_contacts_as_for_5(
    client: AsyncClient, db: Database, admin: Member
) -> None:
    for _ in range(5):
        await create(client, admin, person(emails=[{"address": "a@example.com"}], tags=["vip"]))
    with statements(db) as for_5:
        assert len((await listed(client, admin, limit=200, count=True))["items"]) == 5
    for _ in range(45):
        await create(client, admin, person(emails=[{"address": "a@example.com"}], tags=["vip"]))
    with statements(db) as for_50:
        assert len((await listed(client, admin, limit=200, count=True))["items"]) == 50
    assert for_5
    assert len(for_50) == len(for_5)


# --- changes ---------------------------------------------------------------------------------


async def test_patch_changes_only_the_fields_sent(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person(tags=["vip"], emails=[{"address": "anna@example.com"}]))
    r = await patch(client, admin, contact, job_title="CFO")
    assert r.status_code == 200, r.text
    unchanged = {k: v for k, v in contact.items() if k not in {"job_title", "version", "updated_at"}}
    assert r.json() == {**unchanged, "job_title": "CFO", "version": 2, "updated_at": r.json()["updated_at"]}


async def test_patch_null_clears_an_optional_field(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person(job_title="CFO", tags=["vip"]))
    r = await patch(client, admin, contact, job_title=None, tags=None)
    assert (r.json()["job_title"], r.json()["tags"]) == (None, [])


async def test_patch_updates_display_name(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person())
    r = await patch(client, admin, contact, last_name="Kowalska")
    assert r.json()["display_name"] == "Anna Kowalska"


async def test_person_can_become_an_organisation(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person())
    r = await patch(client, admin, contact, kind="organisation", name="Nowak Consulting")
    assert (r.json()["kind"], r.json()["display_name"]) == ("organisation", "Nowak Consulting")


async def test_patch_moves_updated_at(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person())
    r = await patch(client, admin, contact, job_title="CFO")
    assert r.json()["updated_at"] > contact["updated_at"]
    assert r.json()["created_at"] == contact["created_at"]


async def test_each_change_bumps_the_etag_by_one(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person())
    etags = [(await patch(client, admin, contact, job_title=t)).headers["etag"] for t in ("CFO", "CEO")]
    got = await client.get(f"/v1/contacts/{contact['id']}", headers=admin.headers)
    assert [*etags, got.headers["etag"]] == ['"2"', '"3"', '"3"']
    assert got.json()["version"] == 3


async def test_patch_that_changes_nothing_keeps_the_version(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person(job_title="CFO"))
    r = await patch(client, admin, contact, job_title="CFO", first_name="Anna")
    assert r.headers["etag"] == '"1"'
    assert [h["action"] for h in await history(client, admin, contact)] == ["created"]


async def test_sending_back_what_the_api_returned_changes_nothing(client: AsyncClient, admin: Member) -> None:
    segment = {"kind": "contact", "key": "segment", "label": "Segment", "type": "text"}
    assert (await client.post("/v1/custom-fields", json=segment, headers=admin.headers)).status_code == 201
    contact = await create(
        client,
        admin,
        person(
            emails=[{"address": "anna@example.com"}],
            phones=[{"number": "+48 600 100 200", "label": "mobile"}],
            addresses=[{"city": "Warszawa", "country": "PL"}],
            tags=["vip"],
            custom={"segment": "smb"},
        ),
    )
    r = await patch(client, admin, contact, **{k: v for k, v in contact.items() if k not in READ_ONLY})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"1"'


async def test_stale_if_match_is_412_and_changes_nothing(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person())
    await patch(client, admin, contact, job_title="CFO")
    r = await client.patch(
        f"/v1/contacts/{contact['id']}",
        json={"job_title": "CEO"},
        headers={**admin.headers, "If-Match": '"1"'},
    )
    assert_problem(r, 412, "stale-version")
    got = await client.get(f"/v1/contacts/{contact['id']}", headers=admin.headers)
    assert got.json()["job_title"] == "CFO"


@pytest.mark.parametrize("if_match", ['"1"', 'W/"1"', "*"])
async def test_current_if_match_is_accepted(client: AsyncClient, admin: Member, if_match: str) -> None:
    contact = await create(client, admin, person())
    r = await client.patch(
        f"/v1/contacts/{contact['id']}",
        json={"job_title": "CFO"},
        headers={**admin.headers, "If-Match": if_match},
    )
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'


@pytest.mark.parametrize("if_match", ["1", '"one"', '"1", "2"'])
async def test_malformed_if_match_is_412(client: AsyncClient, admin: Member, if_match: str) -> None:
    contact = await create(client, admin, person())
    r = await client.patch(
        f"/v1/contacts/{contact['id']}",
        json={"job_title": "CFO"},
        headers={**admin.headers, "If-Match": if_match},
    )
    assert_problem(r, 412, "invalid-if-match")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"kind": None}, "body.kind", id="kind-null"),
        pytest.param({"lifecycle_state": None}, "body.lifecycle_state", id="lifecycle-null"),
        pytest.param({"kind": "organisation"}, "body.name", id="organisation-without-name"),
        pytest.param({"first_name": None, "last_name": None}, "body.last_name", id="person-without-names"),
        pytest.param({"emails": [{"address": "nope"}]}, "body.emails.0.address", id="email"),
        pytest.param({"id": NOBODY}, "body.id", id="read-only-field"),
        pytest.param({"version": 7}, "body.version", id="version"),
    ],
)
async def test_invalid_change_is_422_naming_the_field(
    client: AsyncClient, admin: Member, change: dict[str, Any], field: str
) -> None:
    contact = await create(client, admin, person())
    assert field in error_fields(await patch(client, admin, contact, **change))


async def test_patch_of_unknown_contact_is_404(client: AsyncClient, admin: Member) -> None:
    r = await patch(client, admin, {"id": NOBODY}, job_title="CFO")
    assert_problem(r, 404, "not-found")


# --- parent payer ----------------------------------------------------------------------------


async def test_payer_from_another_organisation_is_422(
    client: AsyncClient, admin: Member, globex: Tenant
) -> None:
    theirs = await create(client, globex.admin, organisation())
    r = await client.post("/v1/contacts", json=person(parent_payer_id=theirs["id"]), headers=admin.headers)
    assert error_fields(r) == {"body.parent_payer_id"}


async def test_contact_cannot_be_its_own_payer(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person())
    assert error_fields(await patch(client, admin, contact, parent_payer_id=contact["id"])) == {
        "body.parent_payer_id"
    }


async def test_deleted_payer_is_422(client: AsyncClient, admin: Member) -> None:
    payer = await create(client, admin, organisation())
    await delete(client, admin, payer)
    r = await client.post("/v1/contacts", json=person(parent_payer_id=payer["id"]), headers=admin.headers)
    assert error_fields(r) == {"body.parent_payer_id"}


async def test_payer_can_be_set_and_cleared(client: AsyncClient, admin: Member) -> None:
    payer = await create(client, admin, organisation())
    contact = await create(client, admin, person())
    assert (await patch(client, admin, contact, parent_payer_id=payer["id"])).json()[
        "parent_payer_id"
    ] == payer["id"]
    assert (await patch(client, admin, contact, parent_payer_id=None)).json()["parent_payer_id"] is None


async def test_staff_cannot_name_a_payer_they_cannot_see(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    hidden = await create(client, admin, organisation())
    r = await client.post("/v1/contacts", json=person(parent_payer_id=hidden["id"]), headers=staff.headers)
    assert error_fields(r) == {"body.parent_payer_id"}


# --- delete and restore ----------------------------------------------------------------------


async def test_deleted_contact_answers_404(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person())
    r = await client.delete(f"/v1/contacts/{contact['id']}", headers=admin.headers)
    assert r.status_code == 204
    assert_problem(await client.get(f"/v1/contacts/{contact['id']}", headers=admin.headers), 404, "not-found")


async def test_deleted_contact_leaves_the_list(client: AsyncClient, admin: Member) -> None:
    gone = await create(client, admin, person())
    kept = await create(client, admin, person())
    await delete(client, admin, gone)
    assert await ids(client, admin) == [kept["id"]]


async def test_deleted_contact_cannot_be_changed_or_deleted_again(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person())
    await delete(client, admin, contact)
    assert_problem(await patch(client, admin, contact, job_title="CFO"), 404, "not-found")
    assert_problem(
        await client.delete(f"/v1/contacts/{contact['id']}", headers=admin.headers), 404, "not-found"
    )


async def test_deleted_only_lists_the_deleted_for_an_admin(client: AsyncClient, admin: Member) -> None:
    gone = await create(client, admin, person())
    await create(client, admin, person())
    await delete(client, admin, gone)
    assert await ids(client, admin, deleted="only") == [gone["id"]]


async def test_deleted_only_is_403_for_plain_staff(client: AsyncClient, staff: Member) -> None:
    r = await client.get("/v1/contacts", params={"deleted": "only"}, headers=staff.headers)
    assert_problem(r, 403, "missing-capability")


async def test_restore_brings_the_contact_back(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person())
    await delete(client, admin, contact)
    r = await client.post(f"/v1/contacts/{contact['id']}/restore", headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["deleted_at"] is None
    assert await ids(client, admin) == [contact["id"]]


async def test_delete_and_restore_each_bump_the_etag(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person())
    await delete(client, admin, contact)
    r = await client.post(f"/v1/contacts/{contact['id']}/restore", headers=admin.headers)
    assert r.headers["etag"] == '"3"'


async def test_restore_by_plain_staff_is_403(client: AsyncClient, staff: Member) -> None:
    contact = await create(client, staff, person())
    await delete(client, staff, contact)
    r = await client.post(f"/v1/contacts/{contact['id']}/restore", headers=staff.headers)
    assert_problem(r, 403, "missing-capability")


async def test_restore_of_a_live_contact_is_404(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person())
    r = await client.post(f"/v1/contacts/{contact['id']}/restore", headers=admin.headers)
    assert_problem(r, 404, "not-found")


async def test_delete_with_stale_if_match_is_412_and_keeps_it(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person())
    await patch(client, admin, contact, job_title="CFO")
    r = await client.delete(f"/v1/contacts/{contact['id']}", headers={**admin.headers, "If-Match": '"1"'})
    assert_problem(r, 412, "stale-version")
    assert await ids(client, admin) == [contact["id"]]


# --- history ---------------------------------------------------------------------------------


async def test_history_lists_every_change_newest_first(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person())
    await patch(client, admin, contact, job_title="CFO")
    await delete(client, admin, contact)
    await client.post(f"/v1/contacts/{contact['id']}/restore", headers=admin.headers)
    actions = [h["action"] for h in await history(client, admin, contact)]
    assert actions == ["restored", "deleted", "updated", "created"]


async def test_history_keeps_old_and_new_values(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person(job_title="CFO"))
    await patch(client, admin, contact, job_title="CEO", tags=["vip"])
    newest = (await history(client, admin, contact))[0]
    assert newest["changes"] == {
        "job_title": {"old": "CFO", "new": "CEO"},
        "tags": {"old": [], "new": ["vip"]},
    }


async def test_history_of_creation_holds_the_values_given(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person(job_title="CFO"))
    created = (await history(client, admin, contact))[0]
    assert created["changes"]["job_title"] == {"old": None, "new": "CFO"}
    assert created["changes"]["first_name"] == {"old": None, "new": "Anna"}


async def test_history_names_who_acted(client: AsyncClient, admin: Member, staff: Member) -> None:
    contact = await create(client, staff, person())
    await patch(client, admin, contact, job_title="CFO")
    actors = [(h["action"], h["actor_member_id"]) for h in await history(client, admin, contact)]
    assert actors == [("updated", str(admin.id)), ("created", str(staff.id))]


async def test_history_pages_by_cursor(client: AsyncClient, admin: Member) -> None:
    contact = await create(client, admin, person())
    for title in ("CFO", "CEO", "CTO"):
        await patch(client, admin, contact, job_title=title)
    path = f"/v1/contacts/{contact['id']}/history"
    first = (await client.get(path, params={"limit": 3}, headers=admin.headers)).json()
    rest = (await client.get(path, params={"cursor": first["next_cursor"]}, headers=admin.headers)).json()
    assert [h["action"] for h in first["items"] + rest["items"]] == ["updated"] * 3 + ["created"]


# --- who may see and change what -------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"job_title": "Spy"}),
        ("DELETE", "", None),
        ("GET", "/history", None),
        ("POST", "/restore", None),
    ],
)
async def test_another_organisations_contact_is_404(
    client: AsyncClient,
    admin: Member,
    globex: Tenant,
    method: str,
    suffix: str,
    body: dict[str, Any] | None,
) -> None:
    theirs = await create(client, globex.admin, person())
    r = await client.request(method, f"/v1/contacts/{theirs['id']}{suffix}", json=body, headers=admin.headers)
    assert_problem(r, 404, "not-found")


async def test_another_organisations_deleted_contact_cannot_be_restored(
    client: AsyncClient, admin: Member, globex: Tenant
) -> None:
    theirs = await create(client, globex.admin, person())
    await delete(client, globex.admin, theirs)
    r = await client.post(f"/v1/contacts/{theirs['id']}/restore", headers=admin.headers)
    assert_problem(r, 404, "not-found")
    assert await ids(client, globex.admin, deleted="only") == [theirs["id"]]


async def test_another_organisations_contacts_never_appear_in_lists(
    client: AsyncClient, admin: Member, globex: Tenant
) -> None:
    ours = await create(client, admin, person(tags=["vip"]))
    theirs = await create(client, globex.admin, person(tags=["vip"]))
    await delete(client, globex.admin, await create(client, globex.admin, person()))
    assert await ids(client, admin, tag="vip", q="anna") == [ours["id"]]
    assert await searched(client, admin) == [ours["id"]]
    assert await ids(client, admin, deleted="only") == []
    assert await ids(client, admin, parent_payer_id=theirs["id"]) == []
    assert (await listed(client, admin, count=True))["count"] == 1


async def test_staff_sees_only_the_contacts_they_own(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    await create(client, admin, person())
    own = await create(client, staff, person())
    assert await ids(client, staff) == [own["id"]]
    assert (await listed(client, staff, count=True))["count"] == 1


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [("GET", "", None), ("PATCH", "", {"job_title": "Spy"}), ("DELETE", "", None), ("GET", "/history", None)],
)
async def test_staff_gets_404_for_a_contact_they_do_not_own(
    client: AsyncClient,
    admin: Member,
    staff: Member,
    method: str,
    suffix: str,
    body: dict[str, Any] | None,
) -> None:
    contact = await create(client, admin, person())
    r = await client.request(
        method, f"/v1/contacts/{contact['id']}{suffix}", json=body, headers=staff.headers
    )
    assert_problem(r, 404, "not-found")


async def test_staff_can_edit_their_own_contact(client: AsyncClient, staff: Member) -> None:
    contact = await create(client, staff, person())
    r = await patch(client, staff, contact, job_title="CFO")
    assert r.status_code == 200, r.text
    assert r.json()["job_title"] == "CFO"


async def test_staff_can_delete_their_own_contact(client: AsyncClient, staff: Member) -> None:
    contact = await create(client, staff, person())
    await delete(client, staff, contact)
    assert await ids(client, staff) == []


async def test_admin_can_edit_a_staff_members_contact(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    contact = await create(client, staff, person())
    r = await patch(client, admin, contact, job_title="CFO")
    assert r.status_code == 200, r.text
    assert r.json()["owner_member_id"] == str(staff.id)


async def test_customer_cannot_create_contacts(client: AsyncClient, customer: Member) -> None:
    r = await client.post("/v1/contacts", json=person(), headers=customer.headers)
    assert_problem(r, 403, "missing-capability")


async def test_customer_lists_no_contacts(client: AsyncClient, admin: Member, customer: Member) -> None:
    await create(client, admin, person())
    assert await listed(client, customer, count=True) == {"items": [], "next_cursor": None, "count": 0}


async def test_request_without_token_is_401(client: AsyncClient) -> None:
    r = await client.get("/v1/contacts")
    assert_problem(r, 401, "unauthorized")
    assert r.headers["www-authenticate"] == "Bearer"


async def test_request_with_a_forged_token_is_401(client: AsyncClient) -> None:
    r = await client.get("/v1/contacts", headers={"Authorization": "Bearer not.a.token"})
    assert_problem(r, 401, "invalid-token")


# --- idempotent create -----------------------------------------------------------------------


async def test_retried_create_with_the_same_key_makes_one_contact(client: AsyncClient, admin: Member) -> None:
    headers = {**admin.headers, "Idempotency-Key": "create-anna-1"}
    first = await client.post("/v1/contacts", json=person(), headers=headers)
    again = await client.post("/v1/contacts", json=person(), headers=headers)
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["idempotent-replayed"] == "true"
    assert await ids(client, admin) == [first.json()["id"]]


async def test_same_idempotency_key_with_another_body_is_409(client: AsyncClient, admin: Member) -> None:
    headers = {**admin.headers, "Idempotency-Key": "create-anna-2"}
    await client.post("/v1/contacts", json=person(), headers=headers)
    r = await client.post("/v1/contacts", json=person(first_name="Jan"), headers=headers)
    assert_problem(r, 409, "idempotency-key-reused")


@pytest.mark.parametrize("field", ["parent_payer_id", "business_unit_id", "owner_member_id"])
async def test_a_change_to_a_reference_that_is_not_there_is_422_naming_it(
    client: AsyncClient, admin: Member, globex: Tenant, field: str
) -> None:
    contact = await create(client, admin, person())
    # Unknown, or another organisation's (its administrator is a member there, not here).
    for missing in (str(new_id()), str(globex.admin.id)):
        r = await client.patch(f"/v1/contacts/{contact['id']}", json={field: missing}, headers=admin.headers)
        assert r.status_code == 422, r.text
        assert {e["field"] for e in r.json()["errors"]} == {f"body.{field}"}


async def test_an_edit_does_not_recheck_a_payer_it_leaves_alone(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    payer = await create(client, admin, organisation())
    body = person(parent_payer_id=payer["id"], owner_member_id=str(staff.id))
    child = await create(client, admin, body)
    # The owner cannot see the payer, yet may still edit what it owns.
    r = await client.patch(f"/v1/contacts/{child['id']}", json={"job_title": "CFO"}, headers=staff.headers)
    assert r.status_code == 200, r.text
    # Nor does a deleted payer stop edits of the contacts it paid for.
    assert (await client.delete(f"/v1/contacts/{payer['id']}", headers=admin.headers)).status_code == 204
    r = await client.patch(f"/v1/contacts/{child['id']}", json={"job_title": "CEO"}, headers=admin.headers)
    assert r.status_code == 200, r.text
    # Naming a payer is a change, and is checked: the deleted one is refused.
    cleared = {"parent_payer_id": None}
    assert (
        await client.patch(f"/v1/contacts/{child['id']}", json=cleared, headers=admin.headers)
    ).status_code == 200
    again = {"parent_payer_id": payer["id"]}
    r = await client.patch(f"/v1/contacts/{child['id']}", json=again, headers=admin.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.parent_payer_id", r.text


async def test_payers_cannot_go_round_in_a_circle(client: AsyncClient, admin: Member) -> None:
    top = await create(client, admin, organisation(name="Holding"))
    middle = await create(client, admin, organisation(name="Spółka", parent_payer_id=top["id"]))
    bottom = await create(client, admin, person(parent_payer_id=middle["id"]))
    r = await client.patch(
        f"/v1/contacts/{top['id']}", json={"parent_payer_id": bottom["id"]}, headers=admin.headers
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "body.parent_payer_id"
    # A payer elsewhere in the tree is fine.
    other = await create(client, admin, organisation(name="Inna"))
    r = await client.patch(
        f"/v1/contacts/{top['id']}", json={"parent_payer_id": other["id"]}, headers=admin.headers
    )
    assert r.status_code == 200, r.text
