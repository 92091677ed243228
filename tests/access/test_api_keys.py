"""API keys through the HTTP API: made by an administrator, shown once, held to their capabilities,
revoked for good."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from httpx import AsyncClient
from sqlalchemy import select

from crmapi.identity.models import ApiKey
from crmapi.kit.db import Database
from crmapi.kit.ids import new_id
from crmapi.records.history import HistoryEntry
from crmapi.records.outbox import OutboxEvent
from tests.support import NOBODY, Member, Tenant, Tenants, assert_problem, error_fields, rows_of


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def make_key(
    client: AsyncClient, who: Member, capabilities: list[str], name: str = "ERP feed"
) -> dict[str, Any]:
    r = await client.post(
        "/v1/api-keys", json={"name": name, "capabilities": capabilities}, headers=who.headers
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def key_row(db: Database, key_id: str) -> ApiKey:
    async with db.sessions() as session:
        return (await session.execute(select(ApiKey).where(ApiKey.id == UUID(key_id)))).scalar_one()


# --- making a key -----------------------------------------------------------------------------


async def test_an_administrator_makes_a_key_and_gets_its_token(client: AsyncClient, admin: Member) -> None:
    r = await client.post(
        "/v1/api-keys",
        json={
            "name": "ERP feed",
            "capabilities": ["integrations.push", "contacts.view_any", "integrations.push"],
        },
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    key = r.json()
    assert r.headers["location"] == f"/v1/api-keys/{key['id']}"
    assert r.headers["cache-control"] == "no-store"
    assert key["name"] == "ERP feed"
    assert key["capabilities"] == ["contacts.view_any", "integrations.push"]
    assert key["revoked_at"] is None
    prefix = f"crm_{key['id'].replace('-', '')}_"
    assert key["token"].startswith(prefix) and len(key["token"]) > len(prefix) + 30


async def test_the_token_works_at_once_as_the_key(client: AsyncClient, admin: Member) -> None:
    key = await make_key(client, admin, ["integrations.push"])
    r = await client.get("/v1/me", headers=bearer(key["token"]))
    assert r.status_code == 200, r.text
    me = r.json()
    assert (me["kind"], me["api_key_id"], me["member_id"]) == ("api_key", key["id"], None)
    assert me["capabilities"] == ["integrations.push"]


async def test_the_token_is_shown_only_once(client: AsyncClient, admin: Member) -> None:
    key = await make_key(client, admin, ["integrations.push"])
    secret = key["token"].rsplit("_", 1)[1]
    one = await client.get(f"/v1/api-keys/{key['id']}", headers=admin.headers)
    listed = await client.get("/v1/api-keys", headers=admin.headers)
    assert one.status_code == listed.status_code == 200
    assert "token" not in one.json() and secret not in one.text
    assert [k["id"] for k in listed.json()["items"]] == [key["id"]]
    assert "token" not in listed.json()["items"][0] and secret not in listed.text


async def test_only_an_hmac_of_the_secret_is_kept(
    client: AsyncClient, db: Database, tenants: Tenants, acme: Tenant, admin: Member
) -> None:
    key = await make_key(client, admin, ["integrations.push"])
    secret = key["token"].split("_", 2)[2]
    row = await key_row(db, key["id"])
    assert row.secret_hash == tenants.keys.secret_hash(secret)
    assert secret.encode() not in row.secret_hash
    # Nor does the secret travel into history or events.
    entries = await rows_of(db, acme, HistoryEntry, entity="api_key")
    events = await rows_of(db, acme, OutboxEvent, entity="api_key")
    assert [e.action for e in entries] == ["created"] and [e.topic for e in events] == ["api_key.created"]
    assert secret not in repr([e.changes for e in entries] + [e.payload for e in events])
    assert entries[0].actor_member_id == admin.id and entries[0].actor_api_key_id is None


async def test_an_idempotency_key_is_refused_because_a_replay_would_need_the_secret(
    client: AsyncClient, admin: Member
) -> None:
    r = await client.post(
        "/v1/api-keys",
        json={"name": "ERP", "capabilities": ["integrations.push"]},
        headers={**admin.headers, "Idempotency-Key": "k-1"},
    )
    assert error_fields(r) == {"header.Idempotency-Key"}
    assert (await client.get("/v1/api-keys", headers=admin.headers)).json()["items"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "ERP", "capabilities": ["contacts.fly"]}, "body.capabilities"),
        ({"name": "ERP", "capabilities": ["org.admin"]}, "body.capabilities"),
        ({"name": "ERP", "capabilities": ["org.admin", "contacts.view_any"]}, "body.capabilities"),
        ({"name": "ERP", "capabilities": []}, "body.capabilities"),
        ({"name": "ERP", "capabilities": "integrations.push"}, "body.capabilities"),
        ({"name": "ERP"}, "body.capabilities"),
        ({"name": "  ", "capabilities": ["integrations.push"]}, "body.name"),
        ({"capabilities": ["integrations.push"]}, "body.name"),
        ({"name": "ERP", "capabilities": ["integrations.push"], "secret": "mine"}, "body.secret"),
    ],
)
async def test_bad_input_is_422_naming_the_field(
    client: AsyncClient, admin: Member, body: dict[str, Any], field: str
) -> None:
    r = await client.post("/v1/api-keys", json=body, headers=admin.headers)
    assert field in error_fields(r)


async def test_org_admin_is_refused_with_a_reason(client: AsyncClient, admin: Member) -> None:
    r = await client.post(
        "/v1/api-keys", json={"name": "ERP", "capabilities": ["org.admin"]}, headers=admin.headers
    )
    assert "org.admin cannot be given to an API key" in assert_problem(r, 422, "validation-error")["detail"]


# --- who may manage keys ----------------------------------------------------------------------


async def test_staff_without_org_admin_are_refused(client: AsyncClient, admin: Member, staff: Member) -> None:
    key = await make_key(client, admin, ["integrations.push"])
    body = {"name": "Mine", "capabilities": ["integrations.push"]}
    path = f"/v1/api-keys/{key['id']}"
    assert_problem(
        await client.post("/v1/api-keys", json=body, headers=staff.headers), 403, "missing-capability"
    )
    assert_problem(await client.get("/v1/api-keys", headers=staff.headers), 403, "missing-capability")
    assert_problem(await client.get(path, headers=staff.headers), 403, "missing-capability")
    assert_problem(
        await client.patch(path, json={"name": "X"}, headers=staff.headers), 403, "missing-capability"
    )
    assert_problem(await client.delete(path, headers=staff.headers), 403, "missing-capability")


async def test_customers_are_refused(client: AsyncClient, admin: Member, customer: Member) -> None:
    key = await make_key(client, admin, ["integrations.push"])
    body = {"name": "Mine", "capabilities": ["integrations.push"]}
    assert_problem(
        await client.post("/v1/api-keys", json=body, headers=customer.headers), 403, "missing-capability"
    )
    assert_problem(await client.get("/v1/api-keys", headers=customer.headers), 403, "missing-capability")
    assert_problem(
        await client.delete(f"/v1/api-keys/{key['id']}", headers=customer.headers), 403, "missing-capability"
    )


async def test_a_key_never_manages_keys_even_holding_org_admin(
    client: AsyncClient, tenants: Tenants, acme: Tenant, admin: Member
) -> None:
    # A key granted org.admin before the endpoint refused it (written straight to the table).
    key_id, secret = new_id(), "s3cret-" + new_id().hex
    async with tenants.db.sessions() as session:
        session.add(
            ApiKey(
                id=key_id,
                organisation_id=acme.org_id,
                name="legacy",
                secret_hash=tenants.keys.secret_hash(secret),
                capabilities=["org.admin"],
            )
        )
        await session.commit()
    legacy = bearer(f"crm_{key_id.hex}_{secret}")
    # The grant is ignored, so every administrator's route refuses it: keys, members, settings.
    body = {"name": "Another", "capabilities": ["integrations.push"]}
    assert (await client.post("/v1/api-keys", json=body, headers=legacy)).status_code == 403
    assert (await client.get("/v1/api-keys", headers=legacy)).status_code == 403
    assert (await client.delete(f"/v1/api-keys/{key_id}", headers=legacy)).status_code == 403
    member = {"email": "mole@example.test", "password": "password-123"}
    assert_problem(await client.post("/v1/members", json=member, headers=legacy), 403, "missing-capability")
    r = await client.patch("/v1/organisation", json={"name": "Taken"}, headers=legacy)
    assert_problem(r, 403, "missing-capability")
    me = (await client.get("/v1/me", headers=legacy)).json()
    assert "org.admin" not in me["capabilities"]


async def test_another_organisations_key_is_not_found(
    client: AsyncClient, admin: Member, globex: Tenant
) -> None:
    theirs = await make_key(client, globex.admin, ["integrations.push"])
    path = f"/v1/api-keys/{theirs['id']}"
    assert_problem(await client.get(path, headers=admin.headers), 404, "not-found")
    assert_problem(await client.patch(path, json={"name": "Mine"}, headers=admin.headers), 404, "not-found")
    assert_problem(await client.delete(path, headers=admin.headers), 404, "not-found")
    assert (await client.get("/v1/api-keys", headers=admin.headers)).json()["items"] == []
    # Their key still works: nothing above touched it.
    assert (await client.get("/v1/me", headers=bearer(theirs["token"]))).status_code == 200


async def test_an_unknown_key_is_not_found(client: AsyncClient, admin: Member) -> None:
    assert_problem(await client.get(f"/v1/api-keys/{NOBODY}", headers=admin.headers), 404, "not-found")
    assert_problem(await client.delete(f"/v1/api-keys/{NOBODY}", headers=admin.headers), 404, "not-found")


# --- using a key ------------------------------------------------------------------------------


async def test_a_wrong_secret_is_401(client: AsyncClient, admin: Member) -> None:
    key = await make_key(client, admin, ["contacts.view_any"])
    wrong = key["token"][:-4] + ("aaaa" if not key["token"].endswith("aaaa") else "bbbb")
    assert_problem(await client.get("/v1/contacts", headers=bearer(wrong)), 401, "invalid-api-key")
    assert_problem(
        await client.get("/v1/contacts", headers=bearer(f"crm_{new_id().hex}_secret")), 401, "invalid-api-key"
    )
    assert_problem(await client.get("/v1/contacts", headers=bearer("crm_not-a-key")), 401, "invalid-api-key")


async def test_a_key_is_held_to_its_capabilities(client: AsyncClient, admin: Member) -> None:
    await client.post(
        "/v1/contacts",
        json={"kind": "person", "first_name": "Jan", "last_name": "Nowak"},
        headers=admin.headers,
    )
    reader = bearer((await make_key(client, admin, ["contacts.view_any"]))["token"])
    r = await client.get("/v1/contacts", headers=reader)
    assert r.status_code == 200, r.text
    assert [c["last_name"] for c in r.json()["items"]] == ["Nowak"]
    contact = r.json()["items"][0]["id"]
    body = {"kind": "person", "first_name": "A", "last_name": "B"}
    assert_problem(await client.post("/v1/contacts", json=body, headers=reader), 403, "missing-capability")
    assert_problem(await client.get("/v1/accounts", headers=reader), 403, "missing-capability")
    assert_problem(await client.get("/v1/members", headers=reader), 403, "staff-only")
    # Notes are the staff's (a note needs an author member): a key neither reads nor adds them.
    assert_problem(await client.get(f"/v1/contacts/{contact}/notes", headers=reader), 403, "staff-only")
    r = await client.post(f"/v1/contacts/{contact}/notes", json={"body": "Hi."}, headers=reader)
    assert_problem(r, 403, "staff-only")


async def test_history_names_the_key_as_the_actor(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member
) -> None:
    key = await make_key(client, admin, ["tags.manage"])
    r = await client.post("/v1/tags", json={"name": "erp"}, headers=bearer(key["token"]))
    assert r.status_code == 201, r.text
    [entry] = await rows_of(db, acme, HistoryEntry, entity="tag", entity_id=r.json()["id"])
    assert (str(entry.actor_api_key_id), entry.actor_member_id) == (key["id"], None)


# --- changing and revoking --------------------------------------------------------------------


async def test_new_capabilities_apply_from_the_next_request(client: AsyncClient, admin: Member) -> None:
    key = await make_key(client, admin, ["contacts.view_any"])
    r = await client.patch(
        f"/v1/api-keys/{key['id']}",
        json={"name": "ERP accounts", "capabilities": ["accounts.view_any"]},
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["capabilities"]) == ("ERP accounts", ["accounts.view_any"])
    assert "token" not in r.json()
    assert (await client.get("/v1/accounts", headers=bearer(key["token"]))).status_code == 200
    assert_problem(await client.get("/v1/contacts", headers=bearer(key["token"])), 403, "missing-capability")


async def test_a_change_writes_history_and_an_event_but_no_change_writes_nothing(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member
) -> None:
    key = await make_key(client, admin, ["contacts.view_any"])
    path = f"/v1/api-keys/{key['id']}"
    assert (await client.patch(path, json={"name": "ERP feed"}, headers=admin.headers)).status_code == 200
    r = await client.patch(path, json={"capabilities": ["integrations.push"]}, headers=admin.headers)
    assert r.status_code == 200, r.text
    entries = await rows_of(db, acme, HistoryEntry, entity="api_key")
    assert sorted(e.action for e in entries) == ["created", "updated"]
    [updated] = [e for e in entries if e.action == "updated"]
    assert updated.changes == {"capabilities": {"old": ["contacts.view_any"], "new": ["integrations.push"]}}
    events = await rows_of(db, acme, OutboxEvent, topic="api_key.updated")
    assert [e.payload for e in events] == [{"fields": ["capabilities"]}]


@pytest.mark.parametrize(
    "body",
    [
        {"name": None},
        {"capabilities": None},
        {"capabilities": ["org.admin"]},
        {"capabilities": []},
        {"id": NOBODY},
    ],
)
async def test_a_bad_change_is_422(client: AsyncClient, admin: Member, body: dict[str, Any]) -> None:
    key = await make_key(client, admin, ["integrations.push"])
    r = await client.patch(f"/v1/api-keys/{key['id']}", json=body, headers=admin.headers)
    assert error_fields(r) == {f"body.{next(iter(body))}"}


async def test_a_revoked_key_is_refused_on_its_next_request(
    client: AsyncClient, db: Database, acme: Tenant, admin: Member
) -> None:
    key = await make_key(client, admin, ["contacts.view_any"])
    token = bearer(key["token"])
    assert (await client.get("/v1/contacts", headers=token)).status_code == 200
    r = await client.delete(f"/v1/api-keys/{key['id']}", headers=admin.headers)
    assert r.status_code == 204, r.text
    assert_problem(await client.get("/v1/contacts", headers=token), 401, "invalid-api-key")
    assert_problem(await client.get("/v1/me", headers=token), 401, "invalid-api-key")
    # It stays listed, with the time it was revoked; revoking again changes nothing.
    shown = (await client.get(f"/v1/api-keys/{key['id']}", headers=admin.headers)).json()
    assert shown["revoked_at"] is not None
    assert (await client.delete(f"/v1/api-keys/{key['id']}", headers=admin.headers)).status_code == 204
    entries = await rows_of(db, acme, HistoryEntry, entity="api_key")
    assert sorted(e.action for e in entries) == ["created", "revoked"]
    assert [e.topic for e in await rows_of(db, acme, OutboxEvent, topic="api_key.revoked")] == [
        "api_key.revoked"
    ]


async def test_a_revoked_key_cannot_be_changed(client: AsyncClient, admin: Member) -> None:
    key = await make_key(client, admin, ["contacts.view_any"])
    path = f"/v1/api-keys/{key['id']}"
    await client.delete(path, headers=admin.headers)
    r = await client.patch(path, json={"capabilities": ["accounts.view_any"]}, headers=admin.headers)
    assert_problem(r, 409, "api-key-revoked")


# --- the list ---------------------------------------------------------------------------------


async def test_the_list_is_paged_sorted_and_filtered(client: AsyncClient, admin: Member) -> None:
    made = [
        await make_key(client, admin, ["integrations.push"], name=n) for n in ("Charlie", "Alpha", "Bravo")
    ]
    await client.delete(f"/v1/api-keys/{made[0]['id']}", headers=admin.headers)
    r = await client.get("/v1/api-keys", params={"limit": 2, "count": "true"}, headers=admin.headers)
    assert r.status_code == 200, r.text
    first = r.json()
    assert [k["name"] for k in first["items"]] == ["Charlie", "Alpha"] and first["count"] == 3
    r = await client.get(
        "/v1/api-keys", params={"limit": 2, "cursor": first["next_cursor"]}, headers=admin.headers
    )
    assert [k["name"] for k in r.json()["items"]] == ["Bravo"] and r.json()["next_cursor"] is None
    r = await client.get("/v1/api-keys", params={"sort": "name", "revoked": "false"}, headers=admin.headers)
    assert [k["name"] for k in r.json()["items"]] == ["Alpha", "Bravo"]
    r = await client.get("/v1/api-keys", params={"revoked": "true", "fields": "name"}, headers=admin.headers)
    assert r.json()["items"] == [{"id": made[0]["id"], "name": "Charlie"}]


@pytest.mark.parametrize(
    ("params", "status", "slug"),
    [
        ({"sort": "secret_hash"}, 422, "validation-error"),
        ({"fields": "token"}, 422, "validation-error"),
        ({"fields": "secret_hash"}, 422, "validation-error"),
        ({"cursor": "forged"}, 400, "invalid-cursor"),
    ],
)
async def test_the_list_refuses_bad_parameters(
    client: AsyncClient, admin: Member, params: dict[str, str], status: int, slug: str
) -> None:
    assert_problem(await client.get("/v1/api-keys", params=params, headers=admin.headers), status, slug)


async def test_a_key_without_contacts_view_any_reads_no_contact_through_accounts(
    client: AsyncClient, admin: Member
) -> None:
    person = {
        "kind": "person",
        "first_name": "Jan",
        "last_name": "Ukryty",
        "emails": [{"address": "jan@hidden.test"}],
    }
    contact = (await client.post("/v1/contacts", json=person, headers=admin.headers)).json()["id"]
    account = await client.post(
        "/v1/accounts", json={"name": "Sklep", "contact_ids": [contact]}, headers=admin.headers
    )
    account_id = account.json()["id"]
    accounts_only = bearer((await make_key(client, admin, ["accounts.view_any"]))["token"])
    both = bearer((await make_key(client, admin, ["accounts.view_any", "contacts.view_any"]))["token"])

    assert_problem(
        await client.get(f"/v1/contacts/{contact}", headers=accounts_only), 403, "missing-capability"
    )
    r = await client.get(f"/v1/accounts/{account_id}/contacts", headers=accounts_only)
    assert_problem(r, 403, "missing-capability")
    # Nor can `q` test what the account's contacts hold.
    r = await client.get("/v1/accounts", params={"q": "jan@hidden.test"}, headers=accounts_only)
    assert r.status_code == 200 and r.json()["items"] == [], r.text
    r = await client.get("/v1/accounts", params={"q": "Sklep"}, headers=accounts_only)
    assert [a["id"] for a in r.json()["items"]] == [account_id]

    r = await client.get(f"/v1/accounts/{account_id}/contacts", headers=both)
    assert [c["contact_id"] for c in r.json()] == [contact], r.text
    r = await client.get("/v1/accounts", params={"q": "jan@hidden.test"}, headers=both)
    assert [a["id"] for a in r.json()["items"]] == [account_id]
