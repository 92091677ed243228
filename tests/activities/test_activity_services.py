"""Services provided through activities and the time spent on each: what an activity type allows
and starts with, the minimum time, and who records it."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient

from tests import factories
from tests.support import Member, Tenant, Tenants, assert_problem, error_fields

ACTIVITIES = "/v1/activities"
CONFIG = "/v1/config"


async def made(r: Any, status: int = 201) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    return body


async def new_service(client: AsyncClient, who: Member, name: str, minimum: int = 0) -> str:
    body = {"name": name, "minimum_minutes": minimum}
    return str((await made(await client.post(f"{CONFIG}/services", json=body, headers=who.headers)))["id"])


async def new_type(client: AsyncClient, who: Member, **body: Any) -> Any:
    return await client.post(
        f"{CONFIG}/types", json={"kind": "activity", "name": "Visit", **body}, headers=who.headers
    )


async def new_activity(client: AsyncClient, who: Member, **body: Any) -> dict[str, Any]:
    return await factories.activity(client, who, **{"subject": "Replace the box", **body})


def services_of(activity: dict[str, Any]) -> str:
    return f"{ACTIVITIES}/{activity['id']}/services"


async def lines(client: AsyncClient, who: Member, activity: dict[str, Any]) -> list[dict[str, Any]]:
    r = await client.get(services_of(activity), headers=who.headers)
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()
    return found


async def test_only_activity_types_provide_services(client: AsyncClient, acme: Tenant) -> None:
    admin, h = acme.admin, acme.admin.headers
    box = await new_service(client, admin, "Box replacement", 30)
    lead_type = (await made(await client.get(f"{CONFIG}/types", params={"kind": "lead"}, headers=h), 200))[
        "items"
    ][0]
    for field in ("service_ids", "automatic_service_ids"):
        r = await client.patch(f"{CONFIG}/types/{lead_type['id']}", json={field: [box]}, headers=h)
        assert error_fields(r) == {f"body.{field}"}
    visit = await made(await new_type(client, admin, service_ids=[box], automatic_service_ids=[box]))
    assert (visit["service_ids"], visit["automatic_service_ids"]) == ([box], [box])


async def test_a_type_starts_with_active_services_among_those_it_allows(
    client: AsyncClient, acme: Tenant
) -> None:
    admin, h = acme.admin, acme.admin.headers
    box, cable = (
        await new_service(client, admin, "Box replacement"),
        await new_service(client, admin, "Cable"),
    )
    r = await new_type(client, admin, service_ids=[box], automatic_service_ids=[cable])
    assert error_fields(r) == {"body.automatic_service_ids"}
    visit = await made(await new_type(client, admin, service_ids=[box, cable], automatic_service_ids=[box]))
    r = await client.patch(f"{CONFIG}/types/{visit['id']}", json={"service_ids": [cable]}, headers=h)
    assert error_fields(r) == {"body.service_ids"}  # would drop a service the type starts with
    retired = await client.patch(f"{CONFIG}/services/{cable}", json={"active": False}, headers=h)
    assert retired.status_code == 200, retired.text
    r = await client.patch(
        f"{CONFIG}/types/{visit['id']}", json={"automatic_service_ids": [cable]}, headers=h
    )
    assert error_fields(r) == {"body.automatic_service_ids"}


async def test_a_new_activity_starts_with_its_types_services_at_their_minimum(
    client: AsyncClient, acme: Tenant
) -> None:
    admin, h = acme.admin, acme.admin.headers
    box, cable = (
        await new_service(client, admin, "Box replacement", 30),
        await new_service(client, admin, "Cable"),
    )
    visit = await made(await new_type(client, admin, automatic_service_ids=[box, cable]))
    retired = await client.patch(f"{CONFIG}/services/{cable}", json={"active": False}, headers=h)
    assert retired.status_code == 200, retired.text

    call = await new_activity(client, admin, type_id=visit["id"])

    found = await lines(client, admin, call)
    assert [(s["service_id"], s["minutes"], s["automatic"]) for s in found] == [(box, 30, True)]
    assert await lines(client, admin, await new_activity(client, admin)) == []  # the default type has none


async def test_time_spent_is_at_least_the_minimum_of_a_service_the_type_allows(
    client: AsyncClient, acme: Tenant
) -> None:
    admin, h = acme.admin, acme.admin.headers
    box, cable = (
        await new_service(client, admin, "Box replacement", 30),
        await new_service(client, admin, "Cable"),
    )
    visit = await made(await new_type(client, admin, service_ids=[box]))
    call = await new_activity(client, admin, type_id=visit["id"])
    url = services_of(call)

    assert error_fields(await client.post(url, json={"service_id": box, "minutes": 29}, headers=h)) == {
        "body.minutes"
    }
    assert error_fields(await client.post(url, json={"service_id": cable, "minutes": 30}, headers=h)) == {
        "body.service_id"
    }
    line = await made(await client.post(url, json={"service_id": box, "minutes": 45}, headers=h))
    assert (line["minutes"], line["automatic"]) == (45, False)
    r = await client.post(url, json={"service_id": box, "minutes": 60}, headers=h)
    assert_problem(r, 409, "service-taken")
    r = await client.patch(f"{url}/{line['id']}", json={"minutes": 10}, headers=h)
    assert error_fields(r) == {"body.minutes"}
    changed = await made(await client.patch(f"{url}/{line['id']}", json={"minutes": 60}, headers=h), 200)
    assert changed["minutes"] == 60
    assert [s["minutes"] for s in await lines(client, admin, call)] == [60]
    assert (await client.delete(f"{url}/{line['id']}", headers=h)).status_code == 204
    assert await lines(client, admin, call) == []
    assert_problem(await client.delete(f"{url}/{line['id']}", headers=h), 404, "not-found")


async def test_each_change_of_services_is_a_change_of_the_activity(client: AsyncClient, acme: Tenant) -> None:
    admin, h = acme.admin, acme.admin.headers
    box = await new_service(client, admin, "Box replacement", 30)
    call = await new_activity(client, admin)
    line = await made(
        await client.post(services_of(call), json={"service_id": box, "minutes": 30}, headers=h)
    )
    r = await client.patch(
        f"{services_of(call)}/{line['id']}",
        json={"minutes": 40},
        headers=h | {"If-Match": f'"{call["version"]}"'},
    )
    assert r.status_code == 412, r.text  # the line's addition made a new version
    fresh = {"If-Match": f'"{call["version"] + 1}"'}
    r = await client.patch(f"{services_of(call)}/{line['id']}", json={"minutes": 40}, headers=h | fresh)
    assert r.status_code == 200, r.text

    now = await made(await client.get(f"{ACTIVITIES}/{call['id']}", headers=h), 200)
    assert now["version"] == call["version"] + 2
    assert r.headers["ETag"] == f'"{now["version"]}"'
    stale = await client.patch(
        f"{ACTIVITIES}/{call['id']}", json={"notes": "x"}, headers=h | {"If-Match": f'"{call["version"]}"'}
    )
    assert stale.status_code == 412
    history = await made(await client.get(f"{ACTIVITIES}/{call['id']}/history", headers=h), 200)
    minutes = [
        e["changes"]["services"]["new"]["minutes"] for e in history["items"] if "services" in e["changes"]
    ]
    assert sorted(minutes) == [30, 40]


async def test_only_who_may_change_the_activity_records_services(
    client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    admin, h = acme.admin, acme.admin.headers
    seller, stranger = await tenants.member(acme), await tenants.member(acme)
    customer, other_customer = (
        await tenants.member(acme, kind="customer"),
        await tenants.member(acme, kind="customer"),
    )
    account = await made(await client.post("/v1/accounts", json={"name": "Nowak"}, headers=h))
    r = await client.post(
        f"/v1/accounts/{account['id']}/assignments", json={"member_id": str(customer.id)}, headers=h
    )
    assert r.status_code == 204, r.text
    box = await new_service(client, admin, "Box replacement")
    visit = await new_activity(client, admin, account_id=account["id"], assigned_member_id=str(seller.id))
    body = {"service_id": box, "minutes": 15}

    for outsider in (stranger, other_customer):
        assert_problem(await client.get(services_of(visit), headers=outsider.headers), 404, "not-found")
        r = await client.post(services_of(visit), json=body, headers=outsider.headers)
        assert_problem(r, 404, "not-found")
    assert await lines(client, customer, visit) == []
    assert_problem(
        await client.post(services_of(visit), json=body, headers=customer.headers), 403, "not-owner"
    )
    line = await made(await client.post(services_of(visit), json=body, headers=seller.headers))
    r = await client.delete(f"{services_of(visit)}/{line['id']}", headers=customer.headers)
    assert_problem(r, 403, "not-owner")
    assert [s["id"] for s in await lines(client, customer, visit)] == [line["id"]]


async def test_a_completed_activity_keeps_its_services_as_they_are(client: AsyncClient, acme: Tenant) -> None:
    admin, h = acme.admin, acme.admin.headers
    box, cable = (
        await new_service(client, admin, "Box replacement"),
        await new_service(client, admin, "Cable"),
    )
    call = await new_activity(client, admin, assigned_member_id=str(admin.id))
    line = await made(await client.post(services_of(call), json={"service_id": box, "minutes": 5}, headers=h))
    for step in ("start", "complete"):
        r = await client.post(f"{ACTIVITIES}/{call['id']}/{step}", headers=h)
        assert r.status_code == 200, r.text

    r = await client.post(services_of(call), json={"service_id": cable, "minutes": 5}, headers=h)
    assert_problem(r, 409, "read-only")
    r = await client.patch(f"{services_of(call)}/{line['id']}", json={"minutes": 9}, headers=h)
    assert_problem(r, 409, "read-only")
    assert_problem(await client.delete(f"{services_of(call)}/{line['id']}", headers=h), 409, "read-only")
    assert [s["minutes"] for s in await lines(client, admin, call)] == [5]
