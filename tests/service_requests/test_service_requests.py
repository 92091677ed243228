"""Service requests: priority from the matrix, the moves with their answers, the contact's
acceptance (link or signed in), completion waiting for planned activities, scope."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import update

from crmapi.identity.models import LinkToken
from crmapi.kit.db import Database
from crmapi.records.outbox import OutboxEvent
from tests import factories
from tests.support import Member, Tenant, Tenants, assert_problem, error_fields, ok, rows_of

REQUESTS = "/v1/service-requests"
CONFIG = "/v1/config"


async def account(client: AsyncClient, acme: Tenant, name: str = "Nowak") -> dict[str, Any]:
    return await factories.account(client, acme.admin, name=name)


async def category(client: AsyncClient, acme: Tenant, kind: str, name: str, accept: bool = False) -> str:
    body = {"kind": kind, "name": name, "requires_acceptance": accept}
    return str(
        ok(await client.post(f"{CONFIG}/categories", json=body, headers=acme.admin.headers), 201)["id"]
    )


async def contact(client: AsyncClient, acme: Tenant) -> str:
    return str((await factories.contact(client, acme.admin))["id"])


async def open_request(client: AsyncClient, who: Member, account_id: str, **body: Any) -> dict[str, Any]:
    return await factories.service_request(client, who, account_id, **body)


async def act(client: AsyncClient, who: Member, r: dict[str, Any], action: str, **body: Any) -> Any:
    return await client.post(f"{REQUESTS}/{r['id']}/{action}", json=body or None, headers=who.headers)


async def unit_with(client: AsyncClient, acme: Tenant, member: Member) -> str:
    h = acme.admin.headers
    unit = ok(await client.post("/v1/business-units", json={"name": "Support"}, headers=h), 201)["id"]
    r = await client.put(f"/v1/business-units/{unit}/members/{member.id}", headers=h)
    assert r.status_code == 204, r.text
    return str(unit)


async def test_a_request_from_opening_to_completion(
    client: AsyncClient, tenants: Tenants, acme: Tenant, db: Database
) -> None:
    h = acme.admin.headers
    agent = await tenants.member(acme)
    matrix = ok(await client.get(f"{CONFIG}/prioritisation-matrix", headers=h))["cells"]
    for cell in matrix:
        if (cell["urgency"], cell["impact"]) == (2, 3):
            cell["priority"] = 7
    ok(await client.put(f"{CONFIG}/prioritisation-matrix", json={"cells": matrix}, headers=h))
    nowak = await account(client, acme)
    unit = await unit_with(client, acme, agent)
    r = await open_request(
        client,
        acme.admin,
        nowak["id"],
        urgency=2,
        impact=3,
        business_unit_id=unit,
        contact_id=await contact(client, acme),
    )
    assert (r["state"], r["priority"], r["number"]) == ("pending", 7, 1)

    assert_problem(await act(client, agent, r, "start"), 409, "not-assigned")
    taken = ok(await act(client, agent, r, "accept"))
    assert taken["assigned_member_id"] == str(agent.id)
    ok(await act(client, agent, r, "start"))
    assert error_fields(await act(client, agent, r, "respond", text="On it")) == {"body.category_id"}
    confirm = await category(client, acme, "response", "Confirm the fix", accept=True)
    responded = ok(await act(client, agent, r, "respond", category_id=confirm, text="Reset the router."))
    assert responded["state"] == "responded"
    assert responded["awaiting_acceptance_of"] == "responded"
    assert responded.get("acceptance_link") is None  # the contact's link, not the agent's
    assert_problem(await act(client, agent, r, "respond", category_id=confirm), 409, "no-such-transition")
    # What a notifier sends the contact: the event carries the link.
    (event,) = await rows_of(db, acme, OutboxEvent, topic="service_request.responded")
    link = event.payload["acceptance"]["path"]
    assert link.startswith("/v1/acceptances/lt_")

    final = await category(client, acme, "final_resolution", "Fixed")
    assert_problem(await act(client, agent, r, "resolve", category_id=final), 409, "awaiting-acceptance")
    shown = ok(await client.get(link))
    assert (shown["number"], shown["stage"], shown["category"]) == (1, "responded", "Confirm the fix")
    assert shown["text"] == "Reset the router." and shown["accepted_at"] is None
    accepted = ok(await client.post(link))
    assert accepted["accepted_at"] is not None
    assert_problem(await client.post(link), 409, "link-used")
    assert_problem(await client.get(link), 409, "link-used")
    assert_problem(await client.post("/v1/acceptances/lt_not-a-real-token"), 404, "unknown-link")

    resolved = ok(await act(client, agent, r, "resolve", category_id=final, text="New power supply."))
    assert resolved["state"] == "finally_resolved" and resolved["awaiting_acceptance_of"] is None
    assert "acceptance_link" not in resolved or resolved["acceptance_link"] is None
    visit = ok(
        await client.post(
            f"{REQUESTS}/{r['id']}/activities",
            json={"subject": "Swap the box", "assigned_member_id": str(agent.id)},
            headers=agent.headers,
        ),
        201,
    )
    assert (visit["service_request_id"], visit["account_id"]) == (r["id"], nowak["id"])
    assert_problem(await act(client, agent, r, "complete"), 409, "open-activities")
    for step in ("start", "complete"):
        ok(await client.post(f"/v1/activities/{visit['id']}/{step}", headers=agent.headers))
    done = ok(await act(client, agent, r, "complete"))
    assert done["state"] == "completed" and done["completed_at"]
    history = ok(await client.get(f"{REQUESTS}/{r['id']}/history", headers=h))["items"]
    accepted_row = next(e for e in history if e["action"] == "contact_accepted")
    assert accepted_row["changes"]["via"]["new"] == "link"


async def test_an_expired_link_is_refused_and_links_stay_out_of_the_log(
    client: AsyncClient, tenants: Tenants, acme: Tenant, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    agent = await tenants.member(acme)
    r = await open_request(
        client,
        acme.admin,
        (await account(client, acme))["id"],
        assigned_member_id=str(agent.id),
        contact_id=await contact(client, acme),
    )
    ok(await act(client, agent, r, "start"))
    confirm = await category(client, acme, "response", "Confirm", accept=True)
    link = ok(await act(client, acme.admin, r, "respond", category_id=confirm))["acceptance_link"]
    async with db.sessions() as session, session.begin():
        await session.execute(
            update(LinkToken)
            .where(LinkToken.subject == r["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    with caplog.at_level(logging.INFO, logger="crmapi.access"):
        assert_problem(await client.get(link), 410, "link-expired")
        assert_problem(await client.post(link), 410, "link-expired")
    logged = [r.getMessage() for r in caplog.records if r.name == "crmapi.access"]
    assert logged == ["GET /v1/acceptances/lt_… 410", "POST /v1/acceptances/lt_… 410"]
    still = ok(await client.get(f"{REQUESTS}/{r['id']}", headers=agent.headers))
    assert still["awaiting_acceptance_of"] == "responded"


async def test_an_expired_acceptance_link_is_issued_again(
    client: AsyncClient, tenants: Tenants, acme: Tenant, db: Database
) -> None:
    agent = await tenants.member(acme)
    r = await open_request(
        client,
        acme.admin,
        (await account(client, acme))["id"],
        assigned_member_id=str(agent.id),
        contact_id=await contact(client, acme),
    )
    again = f"{REQUESTS}/{r['id']}/acceptance-link"
    assert_problem(await client.post(again, headers=agent.headers), 409, "nothing-to-accept")
    ok(await act(client, agent, r, "start"))
    confirm = await category(client, acme, "response", "Confirm", accept=True)
    first = ok(await act(client, acme.admin, r, "respond", category_id=confirm))["acceptance_link"]
    async with db.sessions() as session, session.begin():
        await session.execute(
            update(LinkToken)
            .where(LinkToken.subject == r["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert_problem(await client.get(first), 410, "link-expired")

    # The contact calls: the agent sends a new link (notifications take it from the event)...
    by_agent = ok(await client.post(again, headers=agent.headers))
    assert (by_agent["purpose"], by_agent["link"]) == ("acceptance", None)
    assert datetime.fromisoformat(by_agent["expires_at"]) > datetime.now(UTC) + timedelta(days=6)
    # ...and so does the administrator, who sees it; the agent's stops working.
    link = ok(await client.post(again, headers=acme.admin.headers))["link"]
    events = await rows_of(db, acme, OutboxEvent, topic="service_request.acceptance_link_issued")
    sent = [e.payload["acceptance"]["path"] for e in events]
    assert sent[-1] == link and len({*sent, first}) == 3
    assert events[0].payload["text"] is None and events[0].payload["category_id"] == confirm
    assert_problem(await client.get(sent[0]), 410, "link-expired")
    history = ok(await client.get(f"{REQUESTS}/{r['id']}/history", headers=acme.admin.headers))["items"]
    issued = [e for e in history if e["action"] == "acceptance_link_issued"]
    assert len(issued) == 2 and "acceptance_link_expires_at" in issued[0]["changes"]

    assert ok(await client.post(link))["accepted_at"] is not None
    assert_problem(await client.post(again, headers=acme.admin.headers), 409, "nothing-to-accept")


async def test_an_answer_to_a_request_without_a_contact_issues_no_link(
    client: AsyncClient, acme: Tenant, db: Database
) -> None:
    r = await open_request(
        client, acme.admin, (await account(client, acme))["id"], assigned_member_id=str(acme.admin.id)
    )
    ok(await act(client, acme.admin, r, "start"))
    confirm = await category(client, acme, "response", "Confirm", accept=True)
    responded = ok(await act(client, acme.admin, r, "respond", category_id=confirm))
    assert responded["awaiting_acceptance_of"] == "responded" and responded["acceptance_link"] is None
    (event,) = await rows_of(db, acme, OutboxEvent, topic="service_request.responded")
    assert event.payload["acceptance"] is None
    again = f"{REQUESTS}/{r['id']}/acceptance-link"
    assert_problem(await client.post(again, headers=acme.admin.headers), 409, "no-contact")
    # Once the contact is known, the link can be sent.
    patch = {"contact_id": await contact(client, acme)}
    ok(await client.patch(f"{REQUESTS}/{r['id']}", json=patch, headers=acme.admin.headers))
    link = ok(await client.post(again, headers=acme.admin.headers))["link"]
    assert ok(await client.get(link))["stage"] == "responded"


async def test_customers_see_and_accept_only_their_accounts_requests(
    client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    h = acme.admin.headers
    customer, other_customer = (
        await tenants.member(acme, kind="customer"),
        await tenants.member(acme, kind="customer"),
    )
    agent, stranger = await tenants.member(acme), await tenants.member(acme)
    nowak, other = await account(client, acme), await account(client, acme, "Other")
    for who, acc in ((customer, nowak), (other_customer, other)):
        r = await client.post(
            f"/v1/accounts/{acc['id']}/assignments", json={"member_id": str(who.id)}, headers=h
        )
        assert r.status_code in (200, 201, 204), r.text
    mine = await open_request(client, acme.admin, nowak["id"], assigned_member_id=str(agent.id))
    theirs = await open_request(client, acme.admin, other["id"])
    listed = ok(await client.get(REQUESTS, headers=customer.headers))["items"]
    assert [x["id"] for x in listed] == [mine["id"]]
    assert_problem(await client.get(f"{REQUESTS}/{theirs['id']}", headers=customer.headers), 404, "not-found")
    assert_problem(await client.get(f"{REQUESTS}/{mine['id']}", headers=stranger.headers), 404, "not-found")
    assert_problem(await act(client, customer, mine, "start"), 403, "not-owner")
    assert_problem(
        await client.post(
            REQUESTS,
            json={"subject": "x", "account_id": nowak["id"], "urgency": 1, "impact": 1},
            headers=customer.headers,
        ),
        422,  # the default type is not one customers submit
        "validation-error",
    )

    ok(await act(client, agent, mine, "start"))
    assert_problem(await act(client, customer, mine, "acceptance"), 409, "nothing-to-accept")
    confirm = await category(client, acme, "response", "Confirm", accept=True)
    ok(await act(client, agent, mine, "respond", category_id=confirm))
    assert_problem(await act(client, agent, mine, "acceptance"), 403, "customers-only")
    assert_problem(await act(client, other_customer, mine, "acceptance"), 404, "not-found")
    accepted = ok(await act(client, customer, mine, "acceptance"))
    assert accepted["awaiting_acceptance_of"] is None and accepted["response_accepted_at"]

    visit = ok(
        await client.post(
            f"{REQUESTS}/{mine['id']}/activities", json={"subject": "Visit"}, headers=agent.headers
        ),
        201,
    )
    seen = ok(await client.get("/v1/activities", headers=customer.headers))["items"]
    assert [a["id"] for a in seen] == [visit["id"]]
    assert ok(await client.get("/v1/activities", headers=other_customer.headers))["items"] == []


async def test_the_temporary_resolution_needs_a_type_with_that_state(
    client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    h = acme.admin.headers
    agent = await tenants.member(acme)
    statuses = ok(
        await client.get(f"{CONFIG}/statuses", params={"kind": "service_request", "limit": 50}, headers=h)
    )
    without = [s["id"] for s in statuses["items"] if s["state"] != "temporarily_resolved"]
    body = {"kind": "service_request", "name": "Quick", "status_ids": without}
    quick = ok(await client.post(f"{CONFIG}/types", json=body, headers=h), 201)
    nowak = (await account(client, acme))["id"]
    temporary = await category(client, acme, "temporary_resolution", "Workaround")
    response = await category(client, acme, "response", "Seen")
    for type_id, expected in ((quick["id"], 409), (None, 200)):
        extra = {"type_id": type_id} if type_id else {}
        r = await open_request(client, acme.admin, nowak, assigned_member_id=str(agent.id), **extra)
        ok(await act(client, agent, r, "start"))
        ok(await act(client, agent, r, "respond", category_id=response))
        answer = await act(client, agent, r, "resolve-temporarily", category_id=temporary)
        assert answer.status_code == expected, answer.text
    wrong_kind = await act(client, agent, r, "resolve", category_id=temporary)
    assert error_fields(wrong_kind) == {"body.category_id"}


async def test_bad_input_is_refused(client: AsyncClient, acme: Tenant) -> None:
    h = acme.admin.headers
    nowak = (await account(client, acme))["id"]
    r = await client.post(
        REQUESTS, json={"subject": "x", "account_id": nowak, "urgency": 6, "impact": 0}, headers=h
    )
    assert error_fields(r) == {"body.urgency", "body.impact"}
    r = await client.post(REQUESTS, json={"subject": "x", "urgency": 1, "impact": 1}, headers=h)
    assert error_fields(r) == {"body.account_id"}
    missing = "0192f0a8-0000-7000-8000-000000000001"
    r = await client.post(
        REQUESTS, json={"subject": "x", "account_id": missing, "urgency": 1, "impact": 1}, headers=h
    )
    assert error_fields(r) == {"body.account_id"}
    req = await open_request(client, acme.admin, nowak)
    assert_problem(
        await client.patch(f"{REQUESTS}/{req['id']}", json={"account_id": missing}, headers=h),
        409,
        "account-fixed",
    )
    changed = ok(await client.patch(f"{REQUESTS}/{req['id']}", json={"urgency": 1, "impact": 1}, headers=h))
    assert changed["priority"] == 1
    assert error_fields(await client.patch(f"{REQUESTS}/{req['id']}", json={"urgency": None}, headers=h)) == {
        "body.urgency"
    }


async def test_scheduling_is_limited_to_the_types_activity_types(
    client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    h = acme.admin.headers
    visit_type = ok(
        await client.post(f"{CONFIG}/types", json={"kind": "activity", "name": "Visit"}, headers=h), 201
    )
    call_type = ok(
        await client.post(f"{CONFIG}/types", json={"kind": "activity", "name": "Call"}, headers=h), 201
    )
    body = {"kind": "lead", "name": "Field", "activity_type_ids": [visit_type["id"]]}
    field = ok(await client.post(f"{CONFIG}/types", json=body, headers=h), 201)
    contact = ok(
        await client.post(
            "/v1/contacts", json={"kind": "person", "first_name": "Anna", "last_name": "Nowak"}, headers=h
        ),
        201,
    )
    lead = ok(
        await client.post(
            "/v1/leads",
            json={"description": "Shop", "type_id": field["id"], "contact_id": contact["id"]},
            headers=h,
        ),
        201,
    )
    refused = await client.post(
        f"/v1/leads/{lead['id']}/activities", json={"subject": "Call", "type_id": call_type["id"]}, headers=h
    )
    assert error_fields(refused) == {"body.type_id"}
    planned = ok(
        await client.post(f"/v1/leads/{lead['id']}/activities", json={"subject": "Visit"}, headers=h), 201
    )
    assert (planned["type_id"], planned["lead_id"], planned["contact_id"]) == (
        visit_type["id"],
        lead["id"],
        contact["id"],
    )
    stranger = await tenants.member(acme)
    assert_problem(
        await client.post(
            f"/v1/leads/{lead['id']}/activities", json={"subject": "x"}, headers=stranger.headers
        ),
        404,
        "not-found",
    )


async def test_related_requests_find_each_other(client: AsyncClient, tenants: Tenants, acme: Tenant) -> None:
    h = acme.admin.headers
    nowak = (await account(client, acme))["id"]
    first, second = (
        await open_request(client, acme.admin, nowak),
        await open_request(client, acme.admin, nowak),
    )
    pair = f"{REQUESTS}/{first['id']}/related/{second['id']}"
    for _ in range(2):
        assert (await client.put(pair, headers=h)).status_code == 204
    assert [x["id"] for x in ok(await client.get(f"{REQUESTS}/{second['id']}/related", headers=h))] == [
        first["id"]
    ]
    assert error_fields(await client.put(f"{REQUESTS}/{first['id']}/related/{first['id']}", headers=h)) == {
        "path.related_id"
    }
    stranger = await tenants.member(acme)
    assert_problem(await client.put(pair, headers=stranger.headers), 404, "not-found")
    assert (await client.delete(pair, headers=h)).status_code == 204
    assert ok(await client.get(f"{REQUESTS}/{first['id']}/related", headers=h)) == []
    assert_problem(await client.delete(pair, headers=h), 404, "not-found")


async def test_responding_recalculates_key_dates_when_the_type_says(
    client: AsyncClient, acme: Tenant
) -> None:
    h = acme.admin.headers
    body = {
        "kind": "service_request",
        "name": "Timed",
        "complete_within": {"amount": 2, "unit": "days"},
        "recalculate_on_responding": True,
    }
    timed = ok(await client.post(f"{CONFIG}/types", json=body, headers=h), 201)
    start = "2026-01-05T08:00:00Z"
    r = await open_request(
        client,
        acme.admin,
        (await account(client, acme))["id"],
        type_id=timed["id"],
        start_at=start,
        assigned_member_id=str(acme.admin.id),
    )
    assert r["expected_completion_at"].startswith("2026-01-07T08:00:00")
    ok(await act(client, acme.admin, r, "start"))
    seen = await category(client, acme, "response", "Seen")
    responded = ok(await act(client, acme.admin, r, "respond", category_id=seen))
    expected = datetime.fromisoformat(responded["expected_completion_at"])
    assert expected - datetime.fromisoformat(responded["responded_at"]) == timedelta(days=2)


async def test_only_who_works_on_a_request_plans_activities_for_it(
    client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    h = acme.admin.headers
    agent, onlooker = await tenants.member(acme), await tenants.member(acme)
    nowak = await account(client, acme)
    r = await client.post(
        f"/v1/accounts/{nowak['id']}/assignments", json={"member_id": str(onlooker.id)}, headers=h
    )
    assert r.status_code in (200, 201, 204), r.text
    req = await open_request(client, acme.admin, nowak["id"], assigned_member_id=str(agent.id))
    assert ok(await client.get(f"{REQUESTS}/{req['id']}", headers=onlooker.headers))["id"] == req["id"]
    body = {"subject": "Sneaky visit", "service_request_id": req["id"]}
    assert_problem(await client.post("/v1/activities", json=body, headers=onlooker.headers), 403, "not-owner")
    assert_problem(
        await client.post(
            f"{REQUESTS}/{req['id']}/activities", json={"subject": "x"}, headers=onlooker.headers
        ),
        403,
        "not-owner",
    )
    ok(await client.post("/v1/activities", json=body, headers=agent.headers), 201)
    cancelled = await open_request(client, acme.admin, nowak["id"])
    ok(await act(client, acme.admin, cancelled, "cancel"))
    late = {"subject": "Too late", "service_request_id": cancelled["id"]}
    assert_problem(await client.post("/v1/activities", json=late, headers=h), 409, "read-only")
