"""Idempotency-Key: one create per key, even when the retries race."""

from __future__ import annotations

import asyncio

import pytest
from httpx import AsyncClient

from tests.support import Tenants

BODY = {"kind": "organisation", "name": "Retry Ltd"}


async def test_same_key_twice_creates_one_contact_and_replays_the_answer(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme = await tenants.create()
    headers = {**acme.admin.headers, "Idempotency-Key": "create-retry-ltd"}
    first = await client.post("/v1/contacts", json=BODY, headers=headers)
    second = await client.post("/v1/contacts", json=BODY, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["location"] == first.headers["location"]
    assert second.headers["idempotent-replayed"] == "true"
    listed = await client.get("/v1/contacts", params={"q": "retry"}, headers=acme.admin.headers)
    assert len(listed.json()["items"]) == 1


async def test_same_key_with_another_body_is_409(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    headers = {**acme.admin.headers, "Idempotency-Key": "k-1"}
    await client.post("/v1/contacts", json=BODY, headers=headers)
    other = await client.post("/v1/contacts", json={**BODY, "name": "Other"}, headers=headers)
    assert other.status_code == 409
    assert other.json()["type"].endswith("/idempotency-key-reused")


async def test_a_validation_error_is_replayed_and_creates_nothing(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme = await tenants.create()
    headers = {**acme.admin.headers, "Idempotency-Key": "bad-1"}
    first = await client.post("/v1/contacts", json={"kind": "organisation"}, headers=headers)
    second = await client.post("/v1/contacts", json={"kind": "organisation"}, headers=headers)
    assert first.status_code == second.status_code == 422
    assert second.headers["idempotent-replayed"] == "true"
    assert (await client.get("/v1/contacts", headers=acme.admin.headers)).json()["items"] == []


async def test_keys_belong_to_their_actor(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    colleague = await tenants.member(acme)
    key = {"Idempotency-Key": "shared-key"}
    mine = await client.post("/v1/contacts", json=BODY, headers={**acme.admin.headers, **key})
    theirs = await client.post("/v1/contacts", json=BODY, headers={**colleague.headers, **key})
    assert theirs.status_code == 201
    assert theirs.json()["id"] != mine.json()["id"]


@pytest.mark.committed
async def test_racing_retries_create_one_contact(
    committed_client: AsyncClient, committed_tenants: Tenants
) -> None:
    acme = await committed_tenants.create()
    headers = {**acme.admin.headers, "Idempotency-Key": "race-1"}
    answers = await asyncio.gather(
        *(committed_client.post("/v1/contacts", json=BODY, headers=headers) for _ in range(5))
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 4


async def test_a_search_is_never_replayed_so_lost_access_shows(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    admin, customer = acme.admin, await tenants.member(acme, kind="customer")
    made = await client.post("/v1/accounts", json={"name": "Sklep Anny"}, headers=admin.headers)
    account = made.json()["id"]
    assigned = {"member_id": str(customer.id)}
    r = await client.post(f"/v1/accounts/{account}/assignments", json=assigned, headers=admin.headers)
    assert r.status_code == 204, r.text
    search = {"json": {"q": "Sklep"}, "headers": {**customer.headers, "Idempotency-Key": "search-1"}}
    first = await client.post("/v1/accounts/search", **search)
    assert [a["id"] for a in first.json()["items"]] == [account]
    r = await client.delete(f"/v1/accounts/{account}/assignments/{customer.id}", headers=admin.headers)
    assert r.status_code == 204, r.text
    again = await client.post("/v1/accounts/search", **search)
    assert again.status_code == 200 and "Idempotent-Replayed" not in again.headers
    assert again.json()["items"] == []


@pytest.mark.committed
async def test_concurrent_repeats_of_a_refused_request_wait_and_replay_it(
    committed_client: AsyncClient, committed_tenants: Tenants
) -> None:
    acme = await committed_tenants.create()
    ola = await committed_tenants.member(acme)
    headers = {**acme.admin.headers, "Idempotency-Key": "race-4xx"}
    # Ola is a member already: 409. Five copies at once: the work runs once, four wait and replay.
    answers = await asyncio.gather(
        *(committed_client.post("/v1/members", json={"email": ola.email}, headers=headers) for _ in range(5))
    )
    assert {a.status_code for a in answers} == {409}, [a.text for a in answers]
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 4
