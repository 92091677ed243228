"""Activities through the engine, their scope through what they belong to, and the caller's
reminders in its own time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from httpx import AsyncClient

from crmapi.activities.reminders import end_of_today
from tests import factories
from tests.support import Member, Tenant, Tenants, assert_problem, error_fields, ok

ACTIVITIES = "/v1/activities"


async def new(client: AsyncClient, who: Member, **body: Any) -> dict[str, Any]:
    return await factories.activity(client, who, **body)


async def act(client: AsyncClient, who: Member, activity: dict[str, Any], action: str, **body: Any) -> Any:
    return await client.post(
        f"{ACTIVITIES}/{activity['id']}/{action}", json=body or None, headers=who.headers
    )


async def test_completing_an_activity_marks_its_opportunity(client: AsyncClient, acme: Tenant) -> None:
    admin, h = acme.admin, acme.admin.headers
    account = ok(await client.post("/v1/accounts", json={"name": "Nowak"}, headers=h), 201)
    deal = ok(
        await client.post("/v1/opportunities", json={"account_id": account["id"], "name": "Deal"}, headers=h),
        201,
    )
    assert deal["last_activity_at"] is None
    call = await new(client, admin, opportunity_id=deal["id"])
    logged = (ok(await client.get(f"/v1/opportunities/{deal['id']}", headers=h)))["last_activity_at"]
    assert logged is not None  # logging one counts
    assert (call["state"], call["number"]) == ("pending", 1)
    assert_problem(await act(client, admin, call, "start"), 409, "not-assigned")
    ok(
        await client.patch(
            f"{ACTIVITIES}/{call['id']}", json={"assigned_member_id": str(admin.id)}, headers=h
        )
    )
    ok(await act(client, admin, call, "start"))
    assert_problem(await act(client, admin, call, "cancel"), 409, "no-such-transition")
    done = ok(await act(client, admin, call, "complete"))
    assert done["state"] == "completed" and done["completed_at"]
    later = (ok(await client.get(f"/v1/opportunities/{deal['id']}", headers=h)))["last_activity_at"]
    assert later > logged
    assert_problem(
        await client.patch(f"{ACTIVITIES}/{call['id']}", json={"notes": "x"}, headers=h), 409, "read-only"
    )
    other = ok(await client.post("/v1/accounts", json={"name": "Other"}, headers=h), 201)
    r = await client.patch(f"{ACTIVITIES}/{call['id']}", json={"account_id": other["id"]}, headers=h)
    assert_problem(r, 409, "read-only")
    assert r.json()["detail"] == "An activity in state 'completed' cannot change."
    assert error_fields(await client.post(ACTIVITIES, json={"subject": ""}, headers=h)) == {"body.subject"}


async def test_an_activity_is_seen_through_what_it_belongs_to(
    client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    admin, h = acme.admin, acme.admin.headers
    customer, other_customer = (
        await tenants.member(acme, kind="customer"),
        await tenants.member(acme, kind="customer"),
    )
    stranger, seller = await tenants.member(acme), await tenants.member(acme)
    account = ok(await client.post("/v1/accounts", json={"name": "Nowak"}, headers=h), 201)
    r = await client.post(
        f"/v1/accounts/{account['id']}/assignments", json={"member_id": str(customer.id)}, headers=h
    )
    assert r.status_code in (200, 201, 204), r.text
    visit = await new(client, admin, account_id=account["id"], subject="Visit")
    lead = ok(
        await client.post(
            "/v1/leads", json={"description": "x", "assigned_member_id": str(seller.id)}, headers=h
        ),
        201,
    )
    call = await new(client, admin, lead_id=lead["id"])
    assert (await client.get(f"{ACTIVITIES}/{visit['id']}", headers=customer.headers)).status_code == 200
    assert_problem(
        await client.get(f"{ACTIVITIES}/{visit['id']}", headers=other_customer.headers), 404, "not-found"
    )
    assert_problem(
        await client.get(f"{ACTIVITIES}/{visit['id']}", headers=stranger.headers), 404, "not-found"
    )
    theirs = ok(await client.get(ACTIVITIES, headers=seller.headers))
    assert [a["id"] for a in theirs["items"]] == [call["id"]]  # through the lead assigned to them
    r = await client.post(ACTIVITIES, json={"subject": "x", "lead_id": lead["id"]}, headers=stranger.headers)
    assert error_fields(r) == {"body.lead_id"}
    assert_problem(await act(client, customer, visit, "cancel"), 403, "not-owner")


async def test_my_reminders_are_todays_in_my_time_zone(
    client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    seller = await tenants.member(acme)
    zone = "Pacific/Kiritimati"  # UTC+14: its today is rarely the server's
    r = await client.patch(f"/v1/members/{seller.id}", json={"time_zone": zone}, headers=acme.admin.headers)
    assert r.status_code == 200, r.text
    local_now = datetime.now(ZoneInfo(zone))
    end_of_today = datetime.combine(
        local_now.date() + timedelta(days=1), datetime.min.time(), tzinfo=ZoneInfo(zone)
    )
    due, tomorrow = (
        (local_now - timedelta(hours=1)).astimezone(UTC),
        (end_of_today + timedelta(hours=1)).astimezone(UTC),
    )
    me = str(seller.id)
    todays_call = await new(
        client, seller, subject="Today's call", assigned_member_id=me, reminder_at=due.isoformat()
    )
    await new(
        client, seller, subject="Tomorrow's call", assigned_member_id=me, reminder_at=tomorrow.isoformat()
    )
    lead = ok(
        await client.post(
            "/v1/leads",
            json={"description": "Call back Anna", "reminder_at": due.isoformat()},
            headers=seller.headers,
        ),
        201,
    )
    task = await new(client, seller, subject="Prepare the offer", assigned_member_id=me)
    answer = ok(await client.get("/v1/me/reminders", headers=seller.headers))
    seen = [(i["kind"], i["id"]) for i in answer["items"]]
    assert set(seen[:2]) == {("activity_reminder", todays_call["id"]), ("lead_reminder", lead["id"])}
    assert seen[2:] == [("task", task["id"])]
    assert answer["items"][1]["link"].startswith("/v1/")
    ok(await client.post(f"/v1/leads/{lead['id']}/reminder/close", headers=seller.headers))
    after = ok(await client.get("/v1/me/reminders", headers=seller.headers))
    assert ("lead_reminder", lead["id"]) not in [(i["kind"], i["id"]) for i in after["items"]]
    later = ok(
        await client.get(
            "/v1/me/reminders",
            params={"until": (tomorrow + timedelta(hours=1)).isoformat()},
            headers=seller.headers,
        )
    )
    assert len([i for i in later["items"] if i["kind"] == "activity_reminder"]) == 2
    assert_problem(
        await client.post(f"{ACTIVITIES}/{task['id']}/reminder/close", headers=seller.headers),
        409,
        "no-reminder",
    )


def test_the_end_of_today_is_the_callers_even_across_a_clock_change() -> None:
    now = datetime(2026, 4, 4, 20, 0, tzinfo=UTC)  # Santiago: clocks go back at midnight that night
    assert end_of_today("America/Santiago", now) == datetime(2026, 4, 5, 3, 59, 59, 999999, tzinfo=UTC)
    assert end_of_today("Pacific/Kiritimati", now) == datetime(2026, 4, 5, 9, 59, 59, 999999, tzinfo=UTC)
    assert end_of_today("America/Los_Angeles", now) == datetime(2026, 4, 5, 6, 59, 59, 999999, tzinfo=UTC)
    assert end_of_today("UTC", now) == datetime(2026, 4, 4, 23, 59, 59, 999999, tzinfo=UTC)


async def test_what_an_activity_belongs_to_stays_and_customers_see_no_sales_side(
    client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    admin, h = acme.admin, acme.admin.headers
    customer = await tenants.member(acme, kind="customer")
    account = ok(await client.post("/v1/accounts", json={"name": "Nowak"}, headers=h), 201)
    other = ok(await client.post("/v1/accounts", json={"name": "Other"}, headers=h), 201)
    r = await client.post(
        f"/v1/accounts/{account['id']}/assignments", json={"member_id": str(customer.id)}, headers=h
    )
    assert r.status_code in (200, 201, 204), r.text
    deal = ok(
        await client.post("/v1/opportunities", json={"account_id": account["id"], "name": "Deal"}, headers=h),
        201,
    )
    internal = await new(client, admin, opportunity_id=deal["id"], subject="Max discount 15 %")
    assert internal["account_id"] == account["id"]  # the opportunity's account
    r = await client.post(
        ACTIVITIES, json={"subject": "x", "opportunity_id": deal["id"], "account_id": other["id"]}, headers=h
    )
    assert error_fields(r) == {"body.account_id"}
    visit = await new(
        client, admin, account_id=account["id"], subject="Visit", reminder_at="2026-01-01T09:00:00Z"
    )
    seen = ok(await client.get(ACTIVITIES, headers=customer.headers))
    assert [a["id"] for a in seen["items"]] == [visit["id"]]
    r = await client.patch(f"{ACTIVITIES}/{visit['id']}", json={"account_id": other["id"]}, headers=h)
    assert_problem(r, 409, "account-fixed")
    touched = ok(await client.get(f"/v1/opportunities/{deal['id']}", headers=h))
    assert touched["version"] == deal["version"] + 1 and touched["last_activity_at"]
    ok(
        await client.patch(
            f"{ACTIVITIES}/{visit['id']}", json={"assigned_member_id": str(admin.id)}, headers=h
        )
    )
    ok(await act(client, admin, visit, "start"))
    ok(await act(client, admin, visit, "complete"))
    assert_problem(await act(client, admin, visit, "reminder/close"), 409, "read-only")


async def test_a_deleted_lead_takes_its_activities_along(
    client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    h = acme.admin.headers
    seller = await tenants.member(acme)
    lead = ok(
        await client.post(
            "/v1/leads", json={"description": "x", "assigned_member_id": str(seller.id)}, headers=h
        ),
        201,
    )
    call = await new(client, acme.admin, lead_id=lead["id"])
    assert (await client.get(f"{ACTIVITIES}/{call['id']}", headers=seller.headers)).status_code == 200
    assert (await client.delete(f"/v1/leads/{lead['id']}", headers=h)).status_code == 204
    assert_problem(await client.get(f"{ACTIVITIES}/{call['id']}", headers=seller.headers), 404, "not-found")
