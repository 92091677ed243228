"""Life-cycle statuses under /v1/config/statuses: the defaults, codes, order, and who may change them."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient

from crmapi.kit.db import Database
from crmapi.records.history import HistoryEntry
from tests.support import Member, Tenant, Tenants, assert_problem, error_fields, rows_of

STATUSES = "/v1/config/statuses"


async def listed(client: AsyncClient, who: Member, **params: Any) -> list[dict[str, Any]]:
    r = await client.get(STATUSES, params={"limit": 200, **params}, headers=who.headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def make(client: AsyncClient, who: Member, **body: Any) -> dict[str, Any]:
    r = await client.post(
        STATUSES, json={"kind": "lead", "state": "in_progress", **body}, headers=who.headers
    )
    assert r.status_code == 201, r.text
    made: dict[str, Any] = r.json()
    return made


async def test_a_new_organisation_has_a_status_for_every_state_of_every_kind(
    client: AsyncClient, acme: Tenant
) -> None:
    leads = await listed(client, acme.admin, kind="lead")
    assert [(s["code"], s["state"]) for s in leads] == [
        ("PENDING", "pending"),
        ("IN_PROGRESS", "in_progress"),
        ("WON", "won"),
        ("LOST", "lost"),
        ("CANCELLED", "cancelled"),
    ]
    everything = await listed(client, acme.admin)
    assert {s["kind"] for s in everything} == {
        "lead",
        "opportunity",
        "activity",
        "service_request",
        "sales_order",
        "issue",
    }
    assert len([s for s in everything if s["kind"] == "service_request"]) == 7


async def test_a_status_gets_a_code_from_its_name_and_goes_last(client: AsyncClient, acme: Tenant) -> None:
    first = await make(client, acme.admin, name="Kwalifikacja wstępna")
    second = await make(client, acme.admin, name="Kwalifikacja wstępna")
    assert (first["code"], second["code"]) == ("KWALIFIKACJA_WSTEPNA", "KWALIFIKACJA_WSTEPNA_2")
    codes = [s["code"] for s in await listed(client, acme.admin, kind="lead")]
    assert codes[-2:] == ["KWALIFIKACJA_WSTEPNA", "KWALIFIKACJA_WSTEPNA_2"]
    between = await make(client, acme.admin, name="Called", code="CALLED", position=15)
    codes = [s["code"] for s in await listed(client, acme.admin, kind="lead", state="in_progress")]
    assert codes[:2] == ["CALLED", "IN_PROGRESS"] and between["position"] == 15


async def test_codes_are_unique_within_a_kind(client: AsyncClient, acme: Tenant) -> None:
    r = await client.post(
        STATUSES,
        json={"kind": "lead", "state": "won", "name": "Signed", "code": "WON"},
        headers=acme.admin.headers,
    )
    assert_problem(r, 409, "code-taken")
    other_kind = {"kind": "activity", "state": "pending", "name": "Planned", "code": "CALLED"}
    assert (await client.post(STATUSES, json=other_kind, headers=acme.admin.headers)).status_code == 201
    made = await make(client, acme.admin, name="Called", code="CALLED")
    r = await client.patch(f"{STATUSES}/{made['id']}", json={"code": "PENDING"}, headers=acme.admin.headers)
    assert_problem(r, 409, "code-taken")


async def test_bad_input_is_422_naming_the_field(client: AsyncClient, acme: Tenant) -> None:
    h = acme.admin.headers
    r = await client.post(STATUSES, json={"kind": "lead", "state": "responded", "name": "X"}, headers=h)
    assert error_fields(r) == {"body.state"}
    r = await client.post(STATUSES, json={"kind": "invoice", "state": "pending", "name": "X"}, headers=h)
    assert error_fields(r) == {"body.kind"}
    r = await client.post(
        STATUSES, json={"kind": "lead", "state": "pending", "name": "X", "code": "a b"}, headers=h
    )
    assert error_fields(r) == {"body.code"}
    made = await make(client, acme.admin, name="Called")
    r = await client.patch(f"{STATUSES}/{made['id']}", json={"state": "won"}, headers=h)
    assert error_fields(r) == {"body.state"}
    r = await client.patch(f"{STATUSES}/{made['id']}", json={"name": None}, headers=h)
    assert error_fields(r) == {"body.name"}


async def test_a_change_writes_history_and_a_stale_version_is_412(
    client: AsyncClient, db: Database, acme: Tenant
) -> None:
    made = await make(client, acme.admin, name="Called")
    path, h = f"{STATUSES}/{made['id']}", acme.admin.headers
    r = await client.patch(path, json={"name": "Phoned", "active": False}, headers={**h, "If-Match": '"1"'})
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["active"] is False
    same = await client.patch(path, json={"name": "Phoned"}, headers=h)
    assert same.json()["version"] == 2
    assert_problem(
        await client.patch(path, json={"name": "X"}, headers={**h, "If-Match": '"1"'}), 412, "stale-version"
    )
    actions = [e.action for e in await rows_of(db, acme, HistoryEntry, entity="lifecycle_status")]
    assert sorted(actions) == ["created", "updated"]
    assert [s["code"] for s in await listed(client, acme.admin, kind="lead", active="false")] == ["CALLED"]


async def test_who_may_read_and_change_statuses(client: AsyncClient, tenants: Tenants, acme: Tenant) -> None:
    staff, customer = await tenants.member(acme), await tenants.member(acme, kind="customer")
    globex = await tenants.create("Globex")
    made = await make(client, acme.admin, name="Called")
    assert len(await listed(client, staff, kind="lead")) == 6
    body = {"kind": "lead", "state": "pending", "name": "New"}
    assert_problem(await client.post(STATUSES, json=body, headers=staff.headers), 403, "missing-capability")
    r = await client.patch(f"{STATUSES}/{made['id']}", json={"name": "X"}, headers=staff.headers)
    assert_problem(r, 403, "missing-capability")
    assert (await client.get(STATUSES, headers=customer.headers)).status_code == 403
    assert_problem(
        await client.get(f"{STATUSES}/{made['id']}", headers=globex.admin.headers), 404, "not-found"
    )
