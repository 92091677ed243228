"""Custom fields: definitions, checked values on contacts and accounts, filters and columns."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import pytest
from httpx import AsyncClient
from sqlalchemy import event

from crmapi.kit.db import Database
from crmapi.records.history import HistoryEntry
from crmapi.records.outbox import OutboxEvent
from tests.factories import account, contact
from tests.support import Member, Tenant, Tenants, error_fields, rows_of


async def define(
    client: AsyncClient, who: Member, kind: str, key: str, type_: str, **more: Any
) -> dict[str, Any]:
    body = {"kind": kind, "key": key, "label": key.title(), "type": type_, **more}
    r = await client.post("/v1/custom-fields", json=body, headers=who.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def listed(client: AsyncClient, who: Member, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    r = await client.get(path, params=params, headers=who.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    sent: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)


# --- definitions -----------------------------------------------------------------------------


async def test_a_definition_is_created_read_changed_and_deleted(client: AsyncClient, admin: Member) -> None:
    created = await client.post(
        "/v1/custom-fields",
        json={"kind": "account", "key": "region", "label": "Region", "type": "select", "options": ["north"]},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    field = created.json()
    assert created.headers["location"] == f"/v1/custom-fields/{field['id']}"
    assert (field["position"], field["required"], field["version"]) == (0, False, 1)
    got = await client.get(f"/v1/custom-fields/{field['id']}", headers=admin.headers)
    assert got.json() == field
    changed = await client.patch(
        f"/v1/custom-fields/{field['id']}",
        json={"label": "Sales region", "options": ["north", "south"]},
        headers={**admin.headers, "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["label"], changed.json()["options"], changed.headers["etag"]) == (
        "Sales region",
        ["north", "south"],
        '"2"',
    )
    assert (await client.delete(f"/v1/custom-fields/{field['id']}", headers=admin.headers)).status_code == 204
    assert (await client.get(f"/v1/custom-fields/{field['id']}", headers=admin.headers)).status_code == 404


async def test_the_list_is_by_kind_position_and_key_and_pages(client: AsyncClient, admin: Member) -> None:
    await define(client, admin, "contact", "b_second", "text", position=1)
    await define(client, admin, "account", "zone", "text")
    await define(client, admin, "contact", "a_first", "text", position=1)
    await define(client, admin, "contact", "z_top", "text", position=0)
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/v1/custom-fields", params=params, headers=admin.headers)
        assert r.status_code == 200, r.text
        seen += [(f["kind"], f["key"]) for f in r.json()["items"]]
        if (cursor := r.json()["next_cursor"]) is None:
            break
    assert seen == [
        ("account", "zone"),
        ("contact", "z_top"),
        ("contact", "a_first"),
        ("contact", "b_second"),
    ]
    contacts = await listed(client, admin, "/v1/custom-fields", {"kind": "contact", "fields": "key"})
    assert contacts == [{"id": f["id"], "key": f["key"]} for f in contacts] and len(contacts) == 3


async def test_a_new_field_goes_after_the_kinds_last(client: AsyncClient, admin: Member) -> None:
    await define(client, admin, "contact", "first", "text", position=7)
    assert (await define(client, admin, "contact", "second", "text"))["position"] == 8
    assert (await define(client, admin, "account", "other", "text"))["position"] == 0


async def test_a_key_the_kind_already_has_is_409(client: AsyncClient, admin: Member) -> None:
    await define(client, admin, "account", "region", "text")
    again = await client.post(
        "/v1/custom-fields",
        json={"kind": "account", "key": "region", "label": "Again", "type": "number"},
        headers=admin.headers,
    )
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/custom-field-exists"
    await define(client, admin, "contact", "region", "text")


@pytest.mark.parametrize("key", ["Region", "1st", "sales-region", "", "x" * 51, "region "])
async def test_a_bad_key_is_422(client: AsyncClient, admin: Member, key: str) -> None:
    body = {"kind": "account", "key": key, "label": "Region", "type": "text"}
    r = await client.post("/v1/custom-fields", json=body, headers=admin.headers)
    assert error_fields(r) == {"body.key"}


@pytest.mark.parametrize(
    "body",
    [
        {"type": "select"},
        {"type": "select", "options": []},
        {"type": "text", "options": ["a"]},
        {"type": "select", "options": ["a", "a"]},
    ],
)
async def test_options_are_for_select_fields_only(
    client: AsyncClient, admin: Member, body: dict[str, Any]
) -> None:
    r = await client.post(
        "/v1/custom-fields", json={"kind": "contact", "key": "k", "label": "K", **body}, headers=admin.headers
    )
    assert error_fields(r) == {"body.options"}


@pytest.mark.parametrize("body", [{"key": "other"}, {"kind": "contact"}, {"type": "number"}])
async def test_kind_key_and_type_never_change(
    client: AsyncClient, admin: Member, body: dict[str, Any]
) -> None:
    field = await define(client, admin, "account", "region", "text")
    r = await client.patch(f"/v1/custom-fields/{field['id']}", json=body, headers=admin.headers)
    assert error_fields(r) == {f"body.{next(iter(body))}"}


async def test_a_select_keeps_at_least_one_option(client: AsyncClient, admin: Member) -> None:
    field = await define(client, admin, "account", "region", "select", options=["north"])
    r = await client.patch(f"/v1/custom-fields/{field['id']}", json={"options": []}, headers=admin.headers)
    assert error_fields(r) == {"body.options"}


async def test_staff_read_definitions_but_need_config_manage_to_write(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    field = await define(client, admin, "account", "region", "text")
    assert [f["id"] for f in await listed(client, staff, "/v1/custom-fields", {})] == [field["id"]]
    body = {"kind": "account", "key": "size", "label": "Size", "type": "number"}
    created = await client.post("/v1/custom-fields", json=body, headers=staff.headers)
    assert created.status_code == 403
    assert created.json()["type"] == "/problems/missing-capability"
    patched = await client.patch(
        f"/v1/custom-fields/{field['id']}", json={"label": "x"}, headers=staff.headers
    )
    assert patched.status_code == 403
    assert (await client.delete(f"/v1/custom-fields/{field['id']}", headers=staff.headers)).status_code == 403


async def test_customers_cannot_list_definitions(client: AsyncClient, tenants: Tenants, acme: Tenant) -> None:
    customer = await tenants.member(acme, kind="customer")
    assert (await client.get("/v1/custom-fields", headers=customer.headers)).status_code == 403


async def test_another_organisation_gets_404(client: AsyncClient, tenants: Tenants, admin: Member) -> None:
    field = await define(client, admin, "account", "region", "text")
    other = (await tenants.create("Globex")).admin
    path = f"/v1/custom-fields/{field['id']}"
    assert (await client.get(path, headers=other.headers)).status_code == 404
    assert (await client.patch(path, json={"label": "x"}, headers=other.headers)).status_code == 404
    assert (await client.delete(path, headers=other.headers)).status_code == 404
    assert await listed(client, other, "/v1/custom-fields", {}) == []


async def test_writes_record_history_and_events(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member
) -> None:
    field = await define(client, admin, "account", "region", "text")
    await client.patch(f"/v1/custom-fields/{field['id']}", json={"label": "Area"}, headers=admin.headers)
    await client.delete(f"/v1/custom-fields/{field['id']}", headers=admin.headers)
    entries = await rows_of(db, acme, HistoryEntry, entity="custom_field", entity_id=UUID(field["id"]))
    assert [h.action for h in entries] == ["created", "updated", "deleted"]
    assert entries[1].changes == {"label": {"old": "Region", "new": "Area"}}
    events = await rows_of(db, acme, OutboxEvent, entity="custom_field", entity_id=UUID(field["id"]))
    assert sorted(e.topic for e in events) == [
        "custom_field.created",
        "custom_field.deleted",
        "custom_field.updated",
    ]


# --- values on contacts and accounts ---------------------------------------------------------


@pytest.fixture
async def account_fields(client: AsyncClient, admin: Member) -> None:
    await define(client, admin, "account", "region", "select", options=["north", "south"])
    await define(client, admin, "account", "size", "number")
    await define(client, admin, "account", "since", "date")
    await define(client, admin, "account", "vat_payer", "bool")
    await define(client, admin, "account", "note", "text")


async def test_values_of_every_type_are_stored(
    client: AsyncClient, admin: Member, account_fields: None
) -> None:
    custom = {"region": "north", "size": 10.5, "since": "2026-01-31", "vat_payer": False, "note": "Kraków"}
    created = await account(client, admin, custom=custom)
    assert created["custom"] == custom
    got = await client.get(f"/v1/accounts/{created['id']}", headers=admin.headers)
    assert got.json()["custom"] == custom


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("region", "west"),
        ("region", 1),
        ("size", "10"),
        ("size", True),
        ("since", "31.01.2026"),
        ("since", "2026-02-30"),
        ("since", 20260131),
        ("vat_payer", "true"),
        ("vat_payer", 1),
        ("note", 5),
        ("note", "x" * 2001),
        ("unknown", "x"),
    ],
)
async def test_a_value_that_does_not_fit_is_422_naming_the_key(
    client: AsyncClient, admin: Member, account_fields: None, key: str, value: Any
) -> None:
    r = await client.post("/v1/accounts", json={"name": "X", "custom": {key: value}}, headers=admin.headers)
    assert error_fields(r) == {f"body.custom.{key}"}


async def test_contact_values_are_checked_too(client: AsyncClient, admin: Member) -> None:
    await define(client, admin, "contact", "employees", "number")
    await define(client, admin, "account", "region", "text")
    unknown = await client.post(
        "/v1/contacts",
        json={"kind": "person", "first_name": "A", "custom": {"region": "north"}},
        headers=admin.headers,
    )
    assert error_fields(unknown) == {"body.custom.region"}
    person = await contact(client, admin, custom={"employees": 12})
    bad = await client.patch(
        f"/v1/contacts/{person['id']}", json={"custom": {"employees": "many"}}, headers=admin.headers
    )
    assert error_fields(bad) == {"body.custom.employees"}


async def test_a_required_field_is_needed_on_create_and_stays(client: AsyncClient, admin: Member) -> None:
    await define(client, admin, "contact", "source", "text", required=True)
    missing = await client.post(
        "/v1/contacts", json={"kind": "person", "first_name": "A"}, headers=admin.headers
    )
    assert error_fields(missing) == {"body.custom.source"}
    person = await contact(client, admin, custom={"source": "fair"})
    removed = await client.patch(
        f"/v1/contacts/{person['id']}", json={"custom": {"source": None}}, headers=admin.headers
    )
    assert error_fields(removed) == {"body.custom.source"}
    other = await client.patch(
        f"/v1/contacts/{person['id']}", json={"job_title": "CFO"}, headers=admin.headers
    )
    assert other.status_code == 200, other.text


async def test_patch_merges_custom_and_null_removes_a_key(
    client: AsyncClient, admin: Member, account_fields: None
) -> None:
    created = await account(client, admin, custom={"region": "north", "size": 10})
    r = await client.patch(
        f"/v1/accounts/{created['id']}", json={"custom": {"size": None, "note": "x"}}, headers=admin.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["custom"] == {"region": "north", "note": "x"}
    same = await client.patch(
        f"/v1/accounts/{created['id']}", json={"custom": {"region": "north"}}, headers=admin.headers
    )
    assert same.json()["version"] == r.json()["version"]


async def test_null_custom_clears_a_contacts_values(client: AsyncClient, admin: Member) -> None:
    await define(client, admin, "contact", "source", "text")
    person = await contact(client, admin, custom={"source": "fair"})
    r = await client.patch(f"/v1/contacts/{person['id']}", json={"custom": None}, headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["custom"] == {}


async def test_deleting_a_field_removes_its_values_from_records(
    client: AsyncClient, admin: Member, account_fields: None
) -> None:
    created = await account(client, admin, custom={"region": "north", "size": 10})
    fields = await listed(client, admin, "/v1/custom-fields", {"kind": "account"})
    size = next(f for f in fields if f["key"] == "size")
    assert (await client.delete(f"/v1/custom-fields/{size['id']}", headers=admin.headers)).status_code == 204
    got = (await client.get(f"/v1/accounts/{created['id']}", headers=admin.headers)).json()
    assert (got["custom"], got["version"]) == ({"region": "north"}, created["version"] + 1)
    await define(client, admin, "account", "size", "text")
    assert (await listed(client, admin, "/v1/accounts", {"custom.size": "10"})) == []


# --- filters ---------------------------------------------------------------------------------


async def test_custom_filter_keeps_matching_accounts(
    client: AsyncClient, admin: Member, account_fields: None
) -> None:
    north = await account(client, admin, name="North", custom={"region": "north", "size": 10})
    await account(client, admin, name="South", custom={"region": "south", "size": 10})
    await account(client, admin, name="Plain")
    found = await listed(client, admin, "/v1/accounts", {"custom.region": "north"})
    assert [a["id"] for a in found] == [north["id"]]
    by_size = await listed(client, admin, "/v1/accounts", {"custom.size": "10", "sort": "name"})
    assert [a["name"] for a in by_size] == ["North", "South"]
    both = await listed(client, admin, "/v1/accounts", {"custom.size": "10.0", "custom.region": "north"})
    assert [a["id"] for a in both] == [north["id"]]


async def test_custom_filter_keeps_matching_contacts(client: AsyncClient, admin: Member) -> None:
    await define(client, admin, "contact", "newsletter", "bool")
    await define(client, admin, "contact", "since", "date")
    yes = await contact(client, admin, custom={"newsletter": True, "since": "2025-03-01"})
    await contact(client, admin, custom={"newsletter": False})
    assert [c["id"] for c in await listed(client, admin, "/v1/contacts", {"custom.newsletter": "true"})] == [
        yes["id"]
    ]
    assert [c["id"] for c in await listed(client, admin, "/v1/contacts", {"custom.since": "2025-03-01"})] == [
        yes["id"]
    ]


async def test_search_body_takes_custom_values(
    client: AsyncClient, admin: Member, account_fields: None
) -> None:
    north = await account(client, admin, custom={"region": "north", "size": 10})
    await account(client, admin, custom={"region": "north", "size": 11})
    r = await client.post(
        "/v1/accounts/search", json={"custom": {"region": "north", "size": 10}}, headers=admin.headers
    )
    assert [a["id"] for a in r.json()["items"]] == [north["id"]]
    bad = await client.post("/v1/accounts/search", json={"custom": {"size": "10"}}, headers=admin.headers)
    assert error_fields(bad) == {"body.custom.size"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"custom.colour": "red"}, "query.custom.colour"),
        ({"custom.size": "ten"}, "query.custom.size"),
        ({"custom.size": "nan"}, "query.custom.size"),
        ({"custom.vat_payer": "yes"}, "query.custom.vat_payer"),
        ({"custom.region": "west"}, "query.custom.region"),
        ({"custom.since": "yesterday"}, "query.custom.since"),
        ({"custom.note": "a\u0000b"}, "query.custom.note"),
        ({"custom.region": ["north", "south"]}, "query.custom.region"),
    ],
)
async def test_a_bad_custom_filter_is_422(
    client: AsyncClient, admin: Member, account_fields: None, params: dict[str, Any], field: str
) -> None:
    r = await client.get("/v1/accounts", params=params, headers=admin.headers)
    assert error_fields(r) == {field}


async def test_other_unknown_parameters_are_still_422(client: AsyncClient, admin: Member) -> None:
    r = await client.get("/v1/contacts", params={"customer.x": "1"}, headers=admin.headers)
    assert "query.customer.x" in error_fields(r)


# --- columns ---------------------------------------------------------------------------------


async def test_fields_choose_custom_keys_as_columns(
    client: AsyncClient, admin: Member, account_fields: None
) -> None:
    created = await account(client, admin, name="North", code="D-1", custom={"region": "north", "size": 10})
    items = await listed(client, admin, "/v1/accounts", {"fields": "name,code,custom.region"})
    assert items == [{"id": created["id"], "name": "North", "code": "D-1", "custom": {"region": "north"}}]
    got = await client.get(
        f"/v1/accounts/{created['id']}", params={"fields": "custom.size,custom.since"}, headers=admin.headers
    )
    assert got.json() == {"id": created["id"], "custom": {"size": 10}}
    whole = await listed(client, admin, "/v1/accounts", {"fields": "custom,custom.region"})
    assert whole[0]["custom"] == {"region": "north", "size": 10}


async def test_fields_choose_custom_keys_of_contacts(client: AsyncClient, admin: Member) -> None:
    await define(client, admin, "contact", "source", "text")
    await define(client, admin, "contact", "segment", "text")
    person = await contact(client, admin, custom={"source": "fair", "segment": "smb"})
    items = await listed(client, admin, "/v1/contacts", {"fields": "display_name,custom.source"})
    assert items == [{"id": person["id"], "display_name": "Anna Nowak", "custom": {"source": "fair"}}]
    got = await client.get(
        f"/v1/contacts/{person['id']}", params={"fields": "custom.segment"}, headers=admin.headers
    )
    assert got.json() == {"id": person["id"], "custom": {"segment": "smb"}}


@pytest.mark.parametrize("fields", ["custom.", "custom.Region", "name.first", "custom.a.b"])
async def test_a_malformed_custom_column_is_422(client: AsyncClient, admin: Member, fields: str) -> None:
    r = await client.get("/v1/accounts", params={"fields": fields}, headers=admin.headers)
    assert error_fields(r) == {"query.fields"}


async def test_the_list_sends_as_many_statements_for_12_accounts_as_for_2(
    client: AsyncClient, db: Database, admin: Member, account_fields: None
) -> None:
    for i in range(12):
        await account(client, admin, name=f"A{i}", custom={"region": "north", "size": i})
    params = {"custom.region": "north", "fields": "name,custom.size"}
    with statements(db) as few:
        assert len(await listed(client, admin, "/v1/accounts", {**params, "limit": 2})) == 2
    with statements(db) as many:
        assert len(await listed(client, admin, "/v1/accounts", {**params, "limit": 12})) == 12
    assert few and len(many) == len(few)
