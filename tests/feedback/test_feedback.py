"""Feedback on completed service requests (link, signed-in customer, limits, summary) and the
service request dashboard against the list's counts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from httpx import AsyncClient
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError
from starlette.requests import Request

from crmapi.feedback.models import Feedback
from crmapi.identity.models import LinkToken
from crmapi.kit.db import Database, bind_org
from crmapi.kit.ids import new_id
from crmapi.kit.ratelimit import client_address
from crmapi.records.outbox import OutboxEvent
from crmapi.settings import Settings
from tests import factories
from tests.permissions import api_key, work_as_rep
from tests.support import Member, Tenant, Tenants, assert_problem, error_fields, ok, rate_limited, rows_of

REQUESTS = "/v1/service-requests"


async def category(client: AsyncClient, acme: Tenant, kind: str, code: str) -> str:
    found = ok(await client.get("/v1/config/categories", params={"kind": kind}, headers=acme.admin.headers))
    return str(next(c["id"] for c in found["items"] if c["code"] == code))


async def contact(client: AsyncClient, acme: Tenant) -> str:
    made = await factories.contact(client, acme.admin, last_name=f"Nowak {new_id().hex[-6:]}")
    return str(made["id"])


async def completed(client: AsyncClient, acme: Tenant, agent: Member, **extra: Any) -> dict[str, Any]:
    """A request on a new account with a new contact (unless `contact_id` says otherwise),
    assigned to `agent`, taken through to completion by it."""
    h = acme.admin.headers
    account = (
        extra.pop("account_id", None)
        or ok(
            await client.post("/v1/accounts", json={"name": f"Account {new_id().hex[-6:]}"}, headers=h), 201
        )["id"]
    )
    if "contact_id" not in extra:
        extra["contact_id"] = await contact(client, acme)
    body = {"subject": "Broken", "account_id": account, "urgency": 3, "impact": 3, **extra}
    r = ok(await client.post(REQUESTS, json={**body, "assigned_member_id": str(agent.id)}, headers=h), 201)
    answers = {"respond": ("response", "ACKNOWLEDGED"), "resolve": ("final_resolution", "RESOLVED")}
    for action in ("start", "respond", "resolve"):
        move = {}
        if action in answers:
            move = {"category_id": await category(client, acme, *answers[action])}
        ok(await client.post(f"{REQUESTS}/{r['id']}/{action}", json=move, headers=agent.headers))
    # The administrator completes it: it is shown the contact's feedback link (the agent is not).
    done = ok(await client.post(f"{REQUESTS}/{r['id']}/complete", headers=h))
    assert done["state"] == "completed"
    return dict(done)


async def test_the_contact_rates_a_completed_request_once_through_its_link(
    client: AsyncClient, tenants: Tenants, acme: Tenant, db: Database
) -> None:
    agent = await tenants.member(acme)
    done = await completed(client, acme, agent)
    link = done["feedback_link"]
    assert link.startswith("/v1/feedback-links/lt_")
    (event,) = await rows_of(db, acme, OutboxEvent, topic="service_request.completed")
    assert event.payload["feedback"]["path"] == link
    shown = ok(await client.get(link))
    assert (shown["number"], shown["rated"]) == (done["number"], False)
    assert error_fields(await client.post(link, json={"rating": 6})) == {"body.rating"}
    given = ok(await client.post(link, json={"rating": 5, "comment": "Fixed the same day."}), 201)
    assert (given["rating"], given["via"], given["member_id"]) == (5, "link", None)
    assert_problem(await client.post(link, json={"rating": 1}), 409, "link-used")
    assert_problem(
        await client.post("/v1/feedback-links/lt_made-up-token", json={"rating": 1}), 404, "unknown-link"
    )
    listed = ok(await client.get("/v1/feedback", headers=acme.admin.headers))["items"]
    assert [(f["service_request_id"], f["rating"]) for f in listed] == [(done["id"], 5)]

    summary = ok(await client.get("/v1/feedback/summary", headers=acme.admin.headers))
    assert summary["overall"]["count"] == 1 and summary["overall"]["average"] == 5.0
    assert [(t["name"], t["count"]) for t in summary["by_type"]] == [("Standard", 1)]
    assert [(a["member_id"], a["distribution"]["5"]) for a in summary["by_assignee"]] == [(str(agent.id), 1)]
    month = datetime.now(UTC).strftime("%Y-%m")
    assert [(m["month"], m["average"]) for m in summary["by_month"]] == [(month, 5.0)]
    stranger = await tenants.member(acme)
    assert ok(await client.get("/v1/feedback/summary", headers=stranger.headers))["overall"]["count"] == 0


async def test_an_expired_feedback_link_is_issued_again(
    client: AsyncClient, tenants: Tenants, acme: Tenant, db: Database
) -> None:
    agent = await tenants.member(acme)
    done = await completed(client, acme, agent)
    first = done["feedback_link"]
    again = f"{REQUESTS}/{done['id']}/feedback-link"
    # The agent who completed it sends the contact a new one; it does not see it.
    by_agent = ok(await client.post(again, headers=agent.headers))
    assert (by_agent["purpose"], by_agent["link"]) == ("feedback", None)
    assert_problem(await client.get(first), 410, "link-expired")
    issued = ok(await client.post(again, headers=acme.admin.headers))
    link = issued["link"]
    assert link.startswith("/v1/feedback-links/lt_") and link != first
    events = await rows_of(db, acme, OutboxEvent, topic="service_request.feedback_link_issued")
    assert [e.payload["feedback"]["path"] for e in events][-1] == link
    assert_problem(await client.get(events[0].payload["feedback"]["path"]), 410, "link-expired")
    history = ok(await client.get(f"{REQUESTS}/{done['id']}/history", headers=acme.admin.headers))["items"]
    assert [e["action"] for e in history].count("feedback_link_issued") == 2

    ok(await client.post(link, json={"rating": 4}), 201)
    assert_problem(await client.post(again, headers=acme.admin.headers), 409, "already-rated")


async def test_a_request_without_a_contact_gets_no_feedback_link(
    client: AsyncClient, tenants: Tenants, acme: Tenant, db: Database
) -> None:
    done = await completed(client, acme, await tenants.member(acme), contact_id=None)
    assert done["feedback_link"] is None
    (event,) = await rows_of(db, acme, OutboxEvent, topic="service_request.completed")
    assert event.payload["feedback"] is None
    assert await rows_of(db, acme, LinkToken, subject=UUID(done["id"])) == []
    again = f"{REQUESTS}/{done['id']}/feedback-link"
    assert_problem(await client.post(again, headers=acme.admin.headers), 409, "no-contact")


async def test_a_feedback_link_waits_for_completion(client: AsyncClient, acme: Tenant) -> None:
    account = ok(await client.post("/v1/accounts", json={"name": "Nowak"}, headers=acme.admin.headers), 201)
    body = {"subject": "x", "account_id": account["id"], "urgency": 1, "impact": 1}
    pending = ok(await client.post(REQUESTS, json=body, headers=acme.admin.headers), 201)
    r = await client.post(f"{REQUESTS}/{pending['id']}/feedback-link", headers=acme.admin.headers)
    assert_problem(r, 409, "not-completed")


async def test_a_signed_in_customer_rates_its_accounts_request(
    client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    h = acme.admin.headers
    agent = await tenants.member(acme)
    customer, other = await tenants.member(acme, kind="customer"), await tenants.member(acme, kind="customer")
    account = ok(await client.post("/v1/accounts", json={"name": "Nowak"}, headers=h), 201)["id"]
    r = await client.post(
        f"/v1/accounts/{account}/assignments", json={"member_id": str(customer.id)}, headers=h
    )
    assert r.status_code in (200, 201, 204), r.text
    pending = ok(
        await client.post(
            REQUESTS, json={"subject": "x", "account_id": account, "urgency": 1, "impact": 1}, headers=h
        ),
        201,
    )
    rate = {"rating": 4}
    assert_problem(
        await client.post(f"{REQUESTS}/{pending['id']}/feedback", json=rate, headers=customer.headers),
        409,
        "not-completed",
    )
    done = await completed(client, acme, agent, account_id=account)
    path = f"{REQUESTS}/{done['id']}/feedback"
    assert_problem(await client.post(path, json=rate, headers=agent.headers), 403, "customers-only")
    assert_problem(await client.post(path, json=rate, headers=other.headers), 404, "not-found")
    given = ok(await client.post(path, json=rate, headers=customer.headers), 201)
    assert (given["via"], given["member_id"]) == ("customer", str(customer.id))
    assert_problem(
        await client.post(path, json={"rating": 1}, headers=customer.headers), 409, "already-rated"
    )
    assert_problem(await client.post(done["feedback_link"], json={"rating": 1}), 409, "already-rated")
    seen = ok(await client.get("/v1/feedback", headers=customer.headers))["items"]
    assert [f["rating"] for f in seen] == [4]
    assert ok(await client.get("/v1/feedback", headers=other.headers))["items"] == []


async def test_a_rating_cannot_be_changed(
    client: AsyncClient, tenants: Tenants, acme: Tenant, db: Database
) -> None:
    done = await completed(client, acme, await tenants.member(acme))
    ok(await client.post(done["feedback_link"], json={"rating": 2}), 201)
    async with db.sessions() as session:
        await bind_org(session, acme.org_id)
        with pytest.raises(DBAPIError, match="not changed once given"):
            await session.execute(update(Feedback).values(rating=5))
        await session.rollback()


async def test_months_are_the_callers(
    client: AsyncClient, tenants: Tenants, acme: Tenant, db: Database
) -> None:
    done = await completed(client, acme, await tenants.member(acme))
    async with db.sessions() as session, session.begin():
        await bind_org(session, acme.org_id)
        # 23:30 UTC on 31 October is already November in Warsaw (UTC+1).
        session.add(
            Feedback(
                org_id=acme.org_id,
                service_request_id=done["id"],
                rating=3,
                via="link",
                created_at=datetime(2026, 10, 31, 23, 30, tzinfo=UTC),
            )
        )
    utc = ok(await client.get("/v1/feedback/summary", headers=acme.admin.headers))
    assert [m["month"] for m in utc["by_month"]] == ["2026-10"]
    r = await client.patch(
        f"/v1/members/{acme.admin.id}", json={"time_zone": "Europe/Warsaw"}, headers=acme.admin.headers
    )
    assert r.status_code == 200, r.text
    warsaw = ok(await client.get("/v1/feedback/summary", headers=acme.admin.headers))
    assert (warsaw["time_zone"], [m["month"] for m in warsaw["by_month"]]) == ("Europe/Warsaw", ["2026-11"])
    # An API key counts in its organisation's time zone.
    key = await api_key(db, tenants, acme, ["service_requests.view_any"])
    assert ok(await client.get("/v1/feedback/summary", headers=key))["time_zone"] == "UTC"
    r = await client.patch(
        "/v1/organisation", json={"time_zone": "Europe/Warsaw"}, headers=acme.admin.headers
    )
    assert r.status_code == 200, r.text
    by_key = ok(await client.get("/v1/feedback/summary", headers=key))
    assert (by_key["time_zone"], [m["month"] for m in by_key["by_month"]]) == ("Europe/Warsaw", ["2026-11"])
    bounded = ok(
        await client.get(
            "/v1/feedback/summary",
            params={"created_from": "2026-11-01T00:00:00Z"},
            headers=acme.admin.headers,
        )
    )
    assert bounded["overall"]["count"] == 0


@pytest.fixture
async def limited_client(db: Database, settings: Settings, redis_url: str) -> AsyncIterator[AsyncClient]:
    async with rate_limited(db, settings, redis_url) as c:
        yield c


async def test_the_eleventh_attempt_in_a_minute_from_one_address_is_refused(
    limited_client: AsyncClient,
) -> None:
    for n in range(10):  # bad guesses, some with a bad body: every call counts
        body = {"rating": 5 if n % 2 else 9}
        r = await limited_client.post(f"/v1/feedback-links/lt_guess-{n:04d}-{new_id().hex}", json=body)
        assert r.status_code == (404 if n % 2 else 422), r.text
    r = await limited_client.post(f"/v1/feedback-links/lt_guess-{new_id().hex}", json={"rating": 9})
    assert_problem(r, 429, "too-many-requests")
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    # The acceptance links are public too: the same address is over its allowance there.
    assert_problem(await limited_client.get(f"/v1/acceptances/lt_{new_id().hex}"), 429, "too-many-requests")


async def test_a_token_is_refused_after_five_attempts_in_a_minute(limited_client: AsyncClient) -> None:
    token = f"/v1/feedback-links/lt_{new_id().hex}"
    for _ in range(5):
        assert (await limited_client.get(token)).status_code == 404
    assert_problem(await limited_client.get(token), 429, "too-many-requests")


async def test_the_dashboard_matches_the_lists_counts(
    client: AsyncClient, tenants: Tenants, acme: Tenant, db: Database
) -> None:
    h = acme.admin.headers
    rep, agent = await tenants.member(acme), await tenants.member(acme)
    await work_as_rep(db, acme, rep, "R1")
    theirs = ok(
        await client.post("/v1/accounts", json={"name": "Rep's", "sales_rep_codes": ["R1"]}, headers=h), 201
    )
    other = ok(await client.post("/v1/accounts", json={"name": "Other"}, headers=h), 201)
    for n in range(12):
        account = (theirs if n % 2 else other)["id"]
        body = {"subject": f"Request {n}", "account_id": account, "urgency": 1 + n % 3, "impact": 1 + n % 2}
        if n % 3:
            body["assigned_member_id"] = str((agent if n % 4 else rep).id)
        if n % 5 == 0:
            body["start_at"] = "2026-01-01T00:00:00Z"
        r = ok(await client.post(REQUESTS, json=body, headers=h), 201)
        if n % 3 and n % 4 == 1:
            ok(await client.post(f"{REQUESTS}/{r['id']}/start", headers=h))
        if n == 0:
            ok(await client.post(f"{REQUESTS}/{r['id']}/cancel", headers=h))
    await db_expected_dates(db, acme)

    async def count(who: Member, **filters: Any) -> int:
        found = ok(
            await client.get(REQUESTS, params={**filters, "count": "true", "limit": 1}, headers=who.headers)
        )
        return int(found["count"])

    for who in (acme.admin, rep):
        board = ok(await client.get(f"{REQUESTS}/dashboard", headers=who.headers))
        assert board["total"] == await count(who)
        assert board["open"] == await count(who, open="true")
        assert board["overdue"] == await count(who, overdue="true")
        assert board["unassigned"] == await count(who, open="true", unassigned="true")
        for state, n in board["by_state"].items():
            assert n == await count(who, state=state)
        for load in board["by_assignee"]:
            assert load["open"] == await count(who, open="true", assigned_member_id=load["member_id"])
        for load in board["by_priority"]:
            assert load["open"] == await count(who, open="true", priority=load["priority"])
        assert sum(board["by_state"].values()) == board["total"]
    admin_board = ok(await client.get(f"{REQUESTS}/dashboard", headers=h))
    rep_board = ok(await client.get(f"{REQUESTS}/dashboard", headers=rep.headers))
    assert admin_board["total"] == 12 and 0 < rep_board["total"] < 12
    assert admin_board["overdue"] > 0 and admin_board["by_state"]["cancelled"] == 1


async def db_expected_dates(db: Database, acme: Tenant) -> None:
    """Give the requests started long ago a deadline that has passed, so some are overdue."""
    async with db.sessions() as session, session.begin():
        await bind_org(session, acme.org_id)
        await session.execute(
            text(
                "UPDATE service_requests SET expected_completion_at = start_at + interval '1 day' "
                "WHERE start_at < '2026-06-01'"
            )
        )


@pytest.mark.parametrize(
    ("host", "counted_as"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:1:2:3", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
    ],
)
def test_an_ipv6_host_is_counted_by_its_slash_64(host: str, counted_as: str) -> None:
    request = Request({"type": "http", "client": (host, 1234), "headers": []})
    assert client_address(request) == counted_as
