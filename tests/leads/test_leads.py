"""Leads through the lifecycle engine: a fresh organisation's defaults, a configured type with a
unit-limited rule, the refusals, accepting, key dates, scope and references."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Any
from uuid import UUID

from httpx import AsyncClient

from crmapi.accounts.models import Account
from crmapi.contacts.models import Contact
from crmapi.kit.db import Database
from crmapi.opportunities.models import Opportunity
from crmapi.records.history import HistoryEntry
from crmapi.records.outbox import OutboxEvent
from tests import factories
from tests.support import Member, Tenant, Tenants, assert_problem, error_fields, ok, rows_of, statements

LEADS, CONFIG = "/v1/leads", "/v1/config"


async def new_lead(client: AsyncClient, who: Member, **body: Any) -> dict[str, Any]:
    return await factories.lead(client, who, **body)


async def act(client: AsyncClient, who: Member, lead: dict[str, Any], action: str, **body: Any) -> Any:
    return await client.post(f"{LEADS}/{lead['id']}/{action}", json=body or None, headers=who.headers)


async def config(client: AsyncClient, who: Member, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (
        ok(await client.get(f"{CONFIG}/{path}", params={"limit": 200, **params}, headers=who.headers))
    )["items"]
    return items


async def unit_with(client: AsyncClient, admin: Member, name: str, *members: Member) -> str:
    unit = ok(await client.post("/v1/business-units", json={"name": name}, headers=admin.headers), 201)
    for m in members:
        r = await client.put(f"/v1/business-units/{unit['id']}/members/{m.id}", headers=admin.headers)
        assert r.status_code == 204, r.text
    return str(unit["id"])


async def test_a_fresh_organisation_creates_and_progresses_a_lead_with_no_configuration(
    client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    staff = await tenants.member(acme)
    lead = await new_lead(client, staff, first_name="Anna", assigned_member_id=str(staff.id))
    assert (lead["state"], lead["number"], lead["owner_member_id"]) == ("pending", 1, str(staff.id))
    started = ok(await act(client, staff, lead, "start"))
    assert started["state"] == "in_progress" and started["completed_at"] is None
    won = ok(await act(client, staff, lead, "win"))
    assert won["state"] == "won" and won["completed_at"] is not None
    codes = {s["id"]: s["code"] for s in await config(client, acme.admin, "statuses", kind="lead")}
    assert codes[won["status_id"]] == "WON"


async def test_a_rule_limited_to_a_unit_refuses_outsiders_and_admits_members(
    client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    admin = acme.admin
    seller, closer = await tenants.member(acme), await tenants.member(acme)
    key_accounts = await unit_with(client, admin, "Key accounts", closer)
    made = {}
    for state, name in (("pending", "New"), ("in_progress", "Qualifying"), ("won", "Closed won")):
        body = {"kind": "lead", "state": state, "name": name}
        made[name] = (ok(await client.post(f"{CONFIG}/statuses", json=body, headers=admin.headers), 201))[
            "id"
        ]
    lead_type = ok(
        await client.post(
            f"{CONFIG}/types",
            json={"kind": "lead", "name": "Enterprise", "status_ids": list(made.values())},
            headers=admin.headers,
        ),
        201,
    )
    rules = f"{CONFIG}/types/{lead_type['id']}/rules"
    for body in (
        {"name": "Anyone qualifies", "from_status_id": made["New"], "to_status_id": made["Qualifying"]},
        {
            "name": "Key accounts close",
            "from_status_id": made["Qualifying"],
            "to_status_id": made["Closed won"],
            "unit_ids": [key_accounts],
        },
    ):
        ok(await client.post(rules, json=body, headers=admin.headers), 201)
    lead = await new_lead(
        client,
        seller,
        type_id=lead_type["id"],
        assigned_member_id=str(seller.id),
        business_unit_id=key_accounts,
    )
    assert lead["status_id"] == made["New"]
    ok(await act(client, seller, lead, "start"))
    refused = assert_problem(await act(client, seller, lead, "win"), 403, "transition-rule")
    assert "Key accounts close" in refused["detail"]
    won = ok(await act(client, closer, lead, "win"))
    assert won["status_id"] == made["Closed won"]
    # The type has no lost or cancelled status: those moves are not the type's.
    assert_problem(
        await act(client, closer, lead, "transitions", status_id=made["New"]), 409, "no-such-transition"
    )
    history = (ok(await client.get(f"{LEADS}/{lead['id']}/history", headers=admin.headers)))["items"]
    moves = [
        (h["changes"]["status"], h["actor_member_id"])
        for h in reversed(history)
        if h["action"] == "transition"
    ]
    assert moves == [
        ({"old": "NEW", "new": "QUALIFYING"}, str(seller.id)),
        ({"old": "QUALIFYING", "new": "CLOSED_WON"}, str(closer.id)),
    ]
    last = next(h for h in history if h["action"] == "transition")
    assert last["changes"]["rule"] == {"old": None, "new": "Key accounts close"}


async def test_the_life_cycle_refusals(client: AsyncClient, acme: Tenant) -> None:
    admin = acme.admin
    lead = await new_lead(client, admin, assigned_member_id=str(admin.id))
    ok(await act(client, admin, lead, "start"))
    refused = assert_problem(await act(client, admin, lead, "lose"), 422, "reason-required")
    assert [e["field"] for e in refused["errors"]] == ["body.lost_reason_id"]
    assert_problem(await act(client, admin, lead, "cancel"), 409, "no-such-transition")
    other_type = ok(
        await client.post(f"{CONFIG}/types", json={"kind": "lead", "name": "Other"}, headers=admin.headers),
        201,
    )
    r = await client.patch(f"{LEADS}/{lead['id']}", json={"type_id": other_type["id"]}, headers=admin.headers)
    assert_problem(r, 409, "type-fixed")
    price = next(r["id"] for r in await config(client, admin, "lost-reasons") if r["code"] == "PRICE")
    lost = ok(await act(client, admin, lead, "lose", lost_reason_id=price))
    assert (lost["state"], lost["lost_reason_id"]) == ("lost", price)
    pending = await new_lead(client, admin)
    cancelled = ok(await act(client, admin, pending, "cancel"))
    assert cancelled["state"] == "cancelled" and cancelled["completed_at"] is not None
    r = await client.patch(f"{LEADS}/{pending['id']}", json={"notes": "late"}, headers=admin.headers)
    assert_problem(r, 409, "read-only")
    assert_problem(await act(client, admin, pending, "start"), 409, "read-only")


async def test_starting_needs_an_assignee_and_unit_members_accept(
    client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    admin = acme.admin
    member, outsider = await tenants.member(acme), await tenants.member(acme)
    unit = await unit_with(client, admin, "B2B", member)
    lead = await new_lead(client, admin, business_unit_id=unit)
    assert_problem(await act(client, admin, lead, "start"), 409, "not-assigned")
    assert_problem(await act(client, outsider, lead, "accept"), 404, "not-found")  # not theirs to see
    accepted = ok(await act(client, member, lead, "accept"))
    assert accepted["assigned_member_id"] == str(member.id) and accepted["accepted_at"]
    assert_problem(await act(client, member, lead, "accept"), 409, "already-assigned")
    assert (ok(await act(client, member, lead, "start")))["state"] == "in_progress"


async def test_key_dates_come_from_the_type(client: AsyncClient, acme: Tenant) -> None:
    admin = acme.admin
    quick = ok(
        await client.post(
            f"{CONFIG}/types",
            json={
                "kind": "lead",
                "name": "Quick",
                "complete_within": {"amount": 2, "unit": "days"},
                "default_priority": 2,
            },
            headers=admin.headers,
        ),
        201,
    )
    start = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
    lead = await new_lead(client, admin, type_id=quick["id"], start_at=start.isoformat())
    assert lead["expected_completion_at"] == "2026-02-02T09:00:00Z" and lead["priority"] == 2
    assert lead["overdue"] is True
    fresh = await new_lead(client, admin, type_id=quick["id"])
    assert fresh["overdue"] is False
    late = ok(await client.get(LEADS, params={"overdue": "true"}, headers=admin.headers))
    assert [x["id"] for x in late["items"]] == [lead["id"]]
    moved = ok(
        await client.patch(
            f"{LEADS}/{lead['id']}",
            json={"start_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()},
            headers=admin.headers,
        )
    )
    assert moved["overdue"] is False


async def test_references_are_checked(client: AsyncClient, tenants: Tenants, acme: Tenant) -> None:
    admin = acme.admin
    h = admin.headers
    assert error_fields(await client.post(LEADS, json={}, headers=h)) == {"body.description"}
    r = await client.post(LEADS, json={"description": "x", "call_code": "NOPE"}, headers=h)
    assert error_fields(r) == {"body.call_code"}
    r = await client.post(LEADS, json={"description": "x", "source": "FAIR"}, headers=h)
    assert error_fields(r) == {"body.source"}
    r = await client.post(LEADS, json={"description": "x", "priority": 11}, headers=h)
    assert error_fields(r) == {"body.priority"}
    globex = await tenants.create("Globex")
    theirs = {"kind": "person", "last_name": "Globex"}
    their_contact = ok(await client.post("/v1/contacts", json=theirs, headers=globex.admin.headers), 201)
    their_unit = await unit_with(client, globex.admin, "Globex unit")
    their_competitor = ok(
        await client.post(f"{CONFIG}/competitors", json={"name": "X"}, headers=globex.admin.headers), 201
    )
    for field, value in (
        ("contact_id", their_contact["id"]),
        ("business_unit_id", their_unit),
        ("assigned_member_id", str(globex.admin.id)),
        ("competitor_ids", [their_competitor["id"]]),
    ):
        r = await client.post(LEADS, json={"description": "x", field: value}, headers=h)
        assert error_fields(r) == {f"body.{field}"}, field
    r = await client.post(
        LEADS, json={"description": "x", "start_at": "9999-12-31T23:00:00-05:00"}, headers=h
    )
    assert error_fields(r) == {"body.start_at"}
    competitor = ok(await client.post(f"{CONFIG}/competitors", json={"name": "Globex"}, headers=h), 201)
    lead = await new_lead(
        client,
        admin,
        call_code="CALL_BACK",
        call_status="NOT_STARTED",
        source="WEBSITE",
        competitor_ids=[competitor["id"]],
        product_refs=["SKU-1"],
        time_zone="Europe/Warsaw",
    )
    assert (lead["call_code"], lead["competitor_ids"], lead["product_refs"]) == (
        "CALL_BACK",
        [competitor["id"]],
        ["SKU-1"],
    )
    contact = ok(
        await client.post("/v1/contacts", json={"kind": "person", "last_name": "Nowak"}, headers=h), 201
    )
    filled = ok(await client.patch(f"{LEADS}/{lead['id']}", json={"contact_id": contact["id"]}, headers=h))
    assert filled["contact_id"] == contact["id"]
    again = ok(
        await client.post("/v1/contacts", json={"kind": "person", "last_name": "Kowal"}, headers=h), 201
    )
    r = await client.patch(f"{LEADS}/{lead['id']}", json={"contact_id": again["id"]}, headers=h)
    assert_problem(r, 409, "contact-fixed")


async def test_who_sees_and_changes_a_lead(client: AsyncClient, tenants: Tenants, acme: Tenant) -> None:
    owner, assignee, stranger = (
        await tenants.member(acme),
        await tenants.member(acme),
        await tenants.member(acme),
    )
    customer = await tenants.member(acme, kind="customer")
    lead = await new_lead(client, owner, assigned_member_id=str(assignee.id), company="Nowak Trading")
    for who in (owner, assignee, acme.admin):
        assert (await client.get(f"{LEADS}/{lead['id']}", headers=who.headers)).status_code == 200
    assert_problem(await client.get(f"{LEADS}/{lead['id']}", headers=stranger.headers), 404, "not-found")
    assert (ok(await client.get(LEADS, headers=stranger.headers)))["items"] == []
    assert_problem(await client.get(LEADS, headers=customer.headers), 403, "staff-only")
    found = ok(await client.get(LEADS, params={"q": "nowak"}, headers=assignee.headers))
    assert [x["id"] for x in found["items"]] == [lead["id"]]
    r = await client.patch(f"{LEADS}/{lead['id']}", json={"call_tries": 1}, headers=assignee.headers)
    assert (ok(r))["call_tries"] == 1
    r = await client.delete(f"{LEADS}/{lead['id']}", headers=owner.headers)
    assert r.status_code == 204
    assert_problem(await client.get(f"{LEADS}/{lead['id']}", headers=owner.headers), 404, "not-found")
    assert_problem(
        await client.post(f"{LEADS}/{lead['id']}/restore", headers=owner.headers), 403, "missing-capability"
    )
    assert (ok(await client.post(f"{LEADS}/{lead['id']}/restore", headers=acme.admin.headers)))["id"] == lead[
        "id"
    ]


async def test_shared_notes_on_a_lead(client: AsyncClient, acme: Tenant) -> None:
    lead = await new_lead(client, acme.admin)
    path = f"{LEADS}/{lead['id']}/notes"
    note = ok(
        await client.post(path, json={"body": "Called, call back Friday."}, headers=acme.admin.headers), 201
    )
    assert note["subject"] == "lead" and note["author_member_id"] == str(acme.admin.id)
    listed = ok(await client.get(path, headers=acme.admin.headers))
    assert [n["id"] for n in listed["items"]] == [note["id"]]


async def test_a_time_without_an_offset_is_utc_and_deadlines_stay_in_range(
    client: AsyncClient, acme: Tenant
) -> None:
    h = acme.admin.headers
    body = {"kind": "lead", "name": "Slow", "complete_within": {"amount": 101, "unit": "years"}}
    assert error_fields(await client.post(f"{CONFIG}/types", json=body, headers=h)) == {
        "body.complete_within"
    }
    body["complete_within"] = {"amount": 1, "unit": "months"}
    slow = ok(await client.post(f"{CONFIG}/types", json=body, headers=h), 201)
    lead = await new_lead(client, acme.admin, type_id=slow["id"], start_at="2027-01-31T09:00:00")
    assert (lead["start_at"], lead["expected_completion_at"]) == (
        "2027-01-31T09:00:00Z",
        "2027-02-28T09:00:00Z",
    )


async def test_retired_configuration_does_not_break_new_leads(client: AsyncClient, acme: Tenant) -> None:
    h = acme.admin.headers
    pending = {s["code"]: s["id"] for s in await config(client, acme.admin, "statuses", kind="lead")}[
        "PENDING"
    ]
    fresh = {"kind": "lead", "state": "pending", "name": "Fresh"}
    other = ok(await client.post(f"{CONFIG}/statuses", json=fresh, headers=h), 201)
    standard = (await config(client, acme.admin, "types", kind="lead"))[0]
    ids = [*standard["status_ids"], other["id"]]
    ok(
        await client.patch(
            f"{CONFIG}/types/{standard['id']}",
            json={"status_ids": ids, "default_status_ids": [pending]},
            headers=h,
        )
    )
    ok(await client.patch(f"{CONFIG}/statuses/{pending}", json={"active": False}, headers=h))
    lead = await new_lead(client, acme.admin)
    assert lead["status_id"] == other["id"]  # the default was retired: the type's next pending status
    r = await client.patch(f"{CONFIG}/types/{standard['id']}", json={"active": False}, headers=h)
    assert error_fields(r) == {"body.active"}


async def test_reassigning_is_the_owners_call(client: AsyncClient, tenants: Tenants, acme: Tenant) -> None:
    owner, assignee, member = (
        await tenants.member(acme),
        await tenants.member(acme),
        await tenants.member(acme),
    )
    unit = await unit_with(client, acme.admin, "Inside sales", member)
    lead = await new_lead(client, owner, assigned_member_id=str(assignee.id), business_unit_id=unit)
    r = await client.patch(
        f"{LEADS}/{lead['id']}", json={"assigned_member_id": str(member.id)}, headers=member.headers
    )
    assert_problem(r, 403, "not-owner")
    ok(await act(client, assignee, lead, "start"))
    r = await client.patch(f"{LEADS}/{lead['id']}", json={"assigned_member_id": None}, headers=owner.headers)
    assert error_fields(r) == {"body.assigned_member_id"}
    moved = await client.patch(
        f"{LEADS}/{lead['id']}", json={"assigned_member_id": str(member.id)}, headers=owner.headers
    )
    assert (ok(moved))["assigned_member_id"] == str(member.id)
    stranger = await tenants.member(acme)
    assert_problem(await act(client, stranger, lead, "win"), 404, "not-found")


async def converting_type(client: AsyncClient, admin: Member) -> dict[str, Any]:
    body = {
        "kind": "lead",
        "name": "Converting",
        "auto_convert": True,
        "conversion_classification": "retail",
        "conversion_credit_rating": "B",
    }
    return ok(await client.post(f"{CONFIG}/types", json=body, headers=admin.headers), 201)


async def test_winning_a_converting_lead_leaves_a_financial_contact_an_account_and_an_opportunity(
    client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    seller = await tenants.member(acme)
    lead_type = await converting_type(client, acme.admin)
    lead = await new_lead(
        client,
        seller,
        type_id=lead_type["id"],
        first_name="Anna",
        last_name="Nowak",
        company="Nowak Trading",
        email="anna@nowak.example",
        phone="+48 600 100 200",
        source="WEBSITE",
        assigned_member_id=str(seller.id),
    )
    ok(await act(client, seller, lead, "start"))
    won = ok(await act(client, seller, lead, "win"))
    h = seller.headers
    contact = ok(await client.get(f"/v1/contacts/{won['contact_id']}", headers=h))
    assert (contact["display_name"], contact["lifecycle_state"]) == ("Anna Nowak", "financial")
    assert contact["emails"][0]["address"] == "anna@nowak.example"
    account = ok(await client.get(f"/v1/accounts/{won['account_id']}", headers=h))
    assert (account["name"], account["classification"], account["credit_rating"]) == (
        "Nowak Trading",
        "retail",
        "B",
    )
    assert account["primary_contact_id"] == contact["id"]
    deals = (ok(await client.get("/v1/opportunities", params={"lead_id": lead["id"]}, headers=h)))["items"]
    assert [(d["account_id"], d["contact_id"], d["source"], d["state"]) for d in deals] == [
        (account["id"], contact["id"], "WEBSITE", "open")
    ]


async def test_a_failed_conversion_leaves_nothing_behind(
    client: AsyncClient, db: Database, tenants: Tenants, acme: Tenant
) -> None:
    admin = acme.admin
    lead_type = await converting_type(client, admin)
    lead = await new_lead(
        client,
        admin,
        type_id=lead_type["id"],
        last_name="Kowal",
        company="Kowal Sp.",
        assigned_member_id=str(admin.id),
    )
    ok(await act(client, admin, lead, "start"))
    # The opportunity is made after the contact and the account were flushed; with no open
    # stage left to put it in, its creation fails.
    for status in await config(client, admin, "statuses", kind="opportunity", state="open"):
        ok(
            await client.patch(
                f"{CONFIG}/statuses/{status['id']}", json={"active": False}, headers=admin.headers
            )
        )
    before = {
        model: len(await rows_of(db, acme, model)) for model in (Contact, Account, Opportunity, HistoryEntry)
    }
    refused = assert_problem(await act(client, admin, lead, "win"), 409, "conversion-blocked")
    assert "no status in the state 'open'" in refused["detail"]
    after = {
        model: len(await rows_of(db, acme, model)) for model in (Contact, Account, Opportunity, HistoryEntry)
    }
    assert after == before
    unchanged = ok(await client.get(f"{LEADS}/{lead['id']}", headers=admin.headers))
    assert (unchanged["state"], unchanged["contact_id"], unchanged["account_id"], unchanged["version"]) == (
        "in_progress",
        None,
        None,
        lead["version"] + 1,
    )


async def test_convert_to_opportunity_without_winning(
    client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    admin, seller = acme.admin, await tenants.member(acme)
    h = admin.headers
    existing = ok(await client.post("/v1/accounts", json={"name": "Existing customer"}, headers=h), 201)
    lead = await new_lead(
        client, admin, first_name="Ewa", account_id=existing["id"], assigned_member_id=str(seller.id)
    )
    made = ok(await client.post(f"{LEADS}/{lead['id']}/convert", headers=h))
    assert made["account_id"] == existing["id"] and made["lead_id"] == lead["id"]
    contact = ok(await client.get(f"/v1/contacts/{made['contact_id']}", headers=h))
    assert (contact["display_name"], contact["lifecycle_state"]) == ("Ewa", "prospect")
    deal = ok(await client.get(f"/v1/opportunities/{made['opportunity_id']}", headers=seller.headers))
    assert (deal["assigned_member_id"], deal["lead_id"]) == (str(seller.id), lead["id"])
    again = await client.post(f"{LEADS}/{lead['id']}/convert", headers=h)
    assert_problem(again, 409, "already-converted")
    assert (ok(await client.get(f"{LEADS}/{lead['id']}", headers=h)))["state"] == "pending"


async def test_a_bulk_move_reports_each_lead_and_names_the_rule_that_refused(
    client: AsyncClient, db: Database, tenants: Tenants, acme: Tenant
) -> None:
    admin, seller = acme.admin, await tenants.member(acme)
    h = admin.headers
    closers = await unit_with(client, admin, "Closers")
    made = {}
    for state, name in (
        ("pending", "New"),
        ("in_progress", "Qualifying"),
        ("in_progress", "Negotiating"),
        ("won", "Won deal"),
    ):
        body = {"kind": "lead", "state": state, "name": name}
        made[name] = (ok(await client.post(f"{CONFIG}/statuses", json=body, headers=h), 201))["id"]
    body = {
        "kind": "lead",
        "name": "Pipeline",
        "status_ids": list(made.values()),
        "default_status_ids": [made["Qualifying"]],
    }
    lead_type = ok(await client.post(f"{CONFIG}/types", json=body, headers=h), 201)
    rules = f"{CONFIG}/types/{lead_type['id']}/rules"
    for rule in (
        {"name": "Start", "from_status_id": made["New"], "to_status_id": made["Qualifying"]},
        {"name": "Escalate", "from_status_id": made["Qualifying"], "to_status_id": made["Negotiating"]},
        {"name": "Close qualified", "from_status_id": made["Qualifying"], "to_status_id": made["Won deal"]},
        {
            "name": "Closers close negotiations",
            "from_status_id": made["Negotiating"],
            "to_status_id": made["Won deal"],
            "unit_ids": [closers],
        },
    ):
        ok(await client.post(rules, json=rule, headers=h), 201)
    ids = []
    for n in range(50):
        lead = await new_lead(client, seller, type_id=lead_type["id"], assigned_member_id=str(seller.id))
        ok(await act(client, seller, lead, "start"))
        if n % 10 == 3:
            ok(await act(client, seller, lead, "transitions", status_id=made["Negotiating"]))
        ids.append(lead["id"])
    with statements(db) as sent:
        answer = ok(
            await client.post(
                f"{LEADS}/bulk/moves",
                json={"ids": ids, "status_id": made["Won deal"]},
                headers=seller.headers,
            )
        )
    assert (answer["updated"], answer["unchanged"], answer["errors"]) == (45, 0, 5)
    # The type, its statuses and rules and the seller's units are read once for the call, not 50 times.
    assert sum("FROM lifecycle_types" in s for s in sent) == 1
    assert sum("FROM transition_rules" in s for s in sent) == 1
    assert sum(s.startswith("SELECT member_business_units.business_unit_id") for s in sent) == 1
    refused = [r for r in answer["results"] if r["outcome"] == "error"]
    assert [r["id"] for r in refused] == [ids[n] for n in range(50) if n % 10 == 3]
    assert {r["reason"] for r in refused} == {"transition-rule"}
    assert all("Closers close negotiations" in r["detail"] for r in refused)
    moves = await rows_of(db, acme, HistoryEntry, entity="lead", action="transition")
    assert sum(m.changes["status"]["new"] == "WON_DEAL" for m in moves) == 45
    still = ok(await client.get(LEADS, params={"status_id": made["Negotiating"], "limit": 200}, headers=h))
    assert len(still["items"]) == 5


async def test_a_bulk_move_answers_each_lead_as_its_single_move_would(
    client: AsyncClient, db: Database, tenants: Tenants, acme: Tenant
) -> None:
    """Bulk moves are decided per lead by the single move's rules and written together: every
    lead of a pair, one moved in bulk and its twin alone, ends the same way (outcome, state,
    version, history), and the call's statements do not grow with its leads."""
    admin, seller = acme.admin, await tenants.member(acme)
    mine = str(seller.id)
    lost_status = (await config(client, admin, "statuses", kind="lead", state="lost"))[0]["id"]
    cancelled_status = (await config(client, admin, "statuses", kind="lead", state="cancelled"))[0]["id"]
    price = next(r["id"] for r in await config(client, admin, "lost-reasons") if r["code"] == "PRICE")

    async def started(who: Member) -> dict[str, Any]:
        lead = await new_lead(client, who, assigned_member_id=str(who.id))
        ok(await act(client, who, lead, "start"))
        return lead

    async def cancelled() -> dict[str, Any]:
        lead = await new_lead(client, seller, assigned_member_id=mine)
        ok(await act(client, seller, lead, "cancel"))
        return lead

    makers = (
        lambda: started(seller),  # moves
        lambda: new_lead(client, seller, assigned_member_id=mine),  # pending: not a move the type has
        lambda: started(admin),  # outside the seller's scope: not-found
        cancelled,  # read-only
    )
    pairs = [(await make(), await make()) for make in makers for _ in range(2)]
    by_time = attrgetter("at")
    body = {"status_id": lost_status, "lost_reason_id": price}
    missing = "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c01"
    bulk = ok(
        await client.post(
            f"{LEADS}/bulk/moves",
            json={"ids": [a["id"] for a, _ in pairs] + [missing], **body},
            headers=seller.headers,
        )
    )
    outcome = {r["id"]: (r["outcome"], r.get("reason")) for r in bulk["results"]}
    assert outcome[missing] == ("error", "not-found")
    for in_bulk, alone in pairs:
        single = await act(client, seller, alone, "transitions", **body)
        expected = (
            ("updated", None)
            if single.status_code == 200
            else ("error", single.json()["type"].rsplit("/", 1)[-1])
        )
        assert outcome[in_bulk["id"]] == expected, (outcome[in_bulk["id"]], single.text)
        a, b = [
            ok(await client.get(f"{LEADS}/{lead['id']}", headers=admin.headers)) for lead in (in_bulk, alone)
        ]
        keys = ("state", "status_id", "lost_reason_id", "version")
        assert [a[k] for k in keys] == [b[k] for k in keys]
        assert (a["completed_at"] is None) == (b["completed_at"] is None)
        recorded = [
            [
                m.changes | {"completed_at": None}
                for m in sorted(
                    await rows_of(db, acme, HistoryEntry, entity_id=UUID(lead["id"])), key=by_time
                )
                if m.action == "transition"
            ]
            for lead in (in_bulk, alone)
        ]
        assert recorded[0] == recorded[1]
    assert {o for o in outcome.values()} == {
        ("updated", None),
        ("error", "no-such-transition"),
        ("error", "read-only"),
        ("error", "not-found"),
    }

    counts = []
    for size in (3, 30):
        ids = [(await new_lead(client, seller, assigned_member_id=mine))["id"] for _ in range(size)]
        with statements(db) as sent:
            moved = ok(
                await client.post(
                    f"{LEADS}/bulk/moves",
                    json={"ids": ids, "status_id": cancelled_status},
                    headers=seller.headers,
                )
            )
        assert moved["updated"] == size
        counts.append(len(sent))
        events = await rows_of(db, acme, OutboxEvent, topic="lead.transition")
        assert {e.entity_id for e in events} >= {UUID(i) for i in ids}
    assert counts[0] == counts[1]


async def test_bulk_assignment_and_tagging(client: AsyncClient, tenants: Tenants, acme: Tenant) -> None:
    admin, seller = acme.admin, await tenants.member(acme)
    h = admin.headers
    mine = [await new_lead(client, admin) for _ in range(3)]
    theirs = await new_lead(client, seller)
    ids = [lead["id"] for lead in mine] + [theirs["id"], mine[0]["id"]]
    body = {"ids": ids, "assigned_member_id": str(seller.id)}
    answer = ok(await client.post(f"{LEADS}/bulk/assignments", json=body, headers=h))
    assert [r["outcome"] for r in answer["results"]] == ["updated", "updated", "updated", "updated", "error"]
    assert answer["results"][-1]["reason"] == "duplicate"
    again = ok(
        await client.post(
            f"{LEADS}/bulk/assignments",
            json={"ids": ids[:1], "assigned_member_id": str(seller.id)},
            headers=h,
        )
    )
    assert again["unchanged"] == 1
    r = await client.post(f"{LEADS}/bulk/assignments", json={"ids": ids[:1]}, headers=h)
    assert error_fields(r) == {"body"}
    stranger = await tenants.member(acme)
    refused = ok(await client.post(f"{LEADS}/bulk/assignments", json=body, headers=stranger.headers))
    assert {r["reason"] for r in refused["results"][:4]} == {"not-found"}
    ok(await client.post("/v1/tags", json={"name": "hot"}, headers=h), 201)
    tagged = ok(await client.post(f"{LEADS}/bulk/tags", json={"ids": ids[:4], "add": ["hot"]}, headers=h))
    assert [r["outcome"] for r in tagged["results"]] == ["updated"] * 4
    listed = ok(await client.get(f"{LEADS}/{theirs['id']}", headers=seller.headers))
    assert listed["tags"] == ["hot"]


async def test_the_board_shows_columns_in_status_order_with_a_cursor_per_column(
    client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    admin, seller = acme.admin, await tenants.member(acme)
    h = admin.headers
    for _ in range(101):
        await new_lead(client, admin, company="Acme")
    mine = await new_lead(client, seller, assigned_member_id=str(seller.id), company="Seller")
    ok(await act(client, seller, mine, "start"))
    board = ok(await client.get(f"{LEADS}/board", headers=h))
    codes = [c["code"] for c in board["columns"]]
    assert codes == ["PENDING", "IN_PROGRESS", "WON", "LOST", "CANCELLED"]
    pending, started = board["columns"][0], board["columns"][1]
    assert len(pending["cards"]) == 100 and pending["next_cursor"]
    assert [c["id"] for c in started["cards"]] == [mine["id"]] and started["next_cursor"] is None
    rest = ok(
        await client.get(
            LEADS, params={"status_id": pending["status_id"], "cursor": pending["next_cursor"]}, headers=h
        )
    )
    first_ids = {c["id"] for c in pending["cards"]}
    assert len(rest["items"]) == 1 and rest["items"][0]["id"] not in first_ids
    card = started["cards"][0]
    assert (card["company"], card["overdue"], card["created_at"].endswith("Z")) == ("Seller", False, True)
    theirs = ok(await client.get(f"{LEADS}/board", headers=seller.headers))
    assert [len(c["cards"]) for c in theirs["columns"]] == [0, 1, 0, 0, 0]  # their scope only
    filtered = ok(await client.get(f"{LEADS}/board", params={"q": "seller"}, headers=h))
    assert [len(c["cards"]) for c in filtered["columns"]] == [0, 1, 0, 0, 0]
    r = await client.get(f"{LEADS}/board", params={"type_id": pending["status_id"]}, headers=h)
    assert error_fields(r) == {"query.type_id"}


async def test_conversion_takes_what_a_contact_can_hold_and_refuses_clearly(
    client: AsyncClient, acme: Tenant
) -> None:
    admin, h = acme.admin, acme.admin.headers
    blank = await new_lead(client, admin, first_name="Anna", last_name="", phone="call after 5")
    made = ok(await client.post(f"{LEADS}/{blank['id']}/convert", headers=h))
    contact = ok(await client.get(f"/v1/contacts/{made['contact_id']}", headers=h))
    assert (contact["display_name"], contact["phones"]) == ("Anna", [])
    nameless = await new_lead(client, admin)
    assert_problem(
        await client.post(f"{LEADS}/{nameless['id']}/convert", headers=h), 409, "conversion-blocked"
    )
    gone = ok(await client.post("/v1/accounts", json={"name": "Gone"}, headers=h), 201)
    lead = await new_lead(client, admin, last_name="Nowak", account_id=gone["id"])
    assert (await client.delete(f"/v1/accounts/{gone['id']}", headers=h)).status_code == 204
    refused = assert_problem(
        await client.post(f"{LEADS}/{lead['id']}/convert", headers=h), 409, "conversion-blocked"
    )
    assert "account" in refused["detail"]
    events = ok(await client.get(f"{LEADS}/{blank['id']}/history", headers=h))
    assert "converted" in [e["action"] for e in events["items"]]


async def test_a_cancelled_lead_takes_no_tags(client: AsyncClient, acme: Tenant) -> None:
    h = acme.admin.headers
    lead = await new_lead(client, acme.admin)
    ok(await act(client, acme.admin, lead, "cancel"))
    assert_problem(
        await client.post(f"{LEADS}/{lead['id']}/tags", json={"name": "hot"}, headers=h), 409, "read-only"
    )
    ok(await client.post("/v1/tags", json={"name": "cold"}, headers=h), 201)
    bulk = ok(await client.post(f"{LEADS}/bulk/tags", json={"ids": [lead["id"]], "add": ["cold"]}, headers=h))
    assert [(r["outcome"], r["reason"]) for r in bulk["results"]] == [("error", "forbidden")]


async def test_converting_twice_answers_409_with_what_the_lead_became(
    client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    """One answer whether the first conversion came from winning or from `convert`."""
    admin = acme.admin
    h, me = admin.headers, str(admin.id)
    lead_type = await converting_type(client, admin)
    won = await new_lead(client, admin, type_id=lead_type["id"], last_name="Nowak", assigned_member_id=me)
    ok(await act(client, admin, won, "start"))
    won = ok(await act(client, admin, won, "win"))
    (deal,) = (ok(await client.get("/v1/opportunities", params={"lead_id": won["id"]}, headers=h)))["items"]
    again = assert_problem(await act(client, admin, won, "convert"), 409, "already-converted")
    assert again["conversion"] == {
        "lead_id": won["id"],
        "contact_id": won["contact_id"],
        "account_id": won["account_id"],
        "opportunity_id": deal["id"],
    }
    converted = await new_lead(client, admin, last_name="Kowal", assigned_member_id=me)
    made = ok(await act(client, admin, converted, "convert"))
    again = assert_problem(await act(client, admin, converted, "convert"), 409, "already-converted")
    assert again["conversion"] == made


async def test_a_replayed_bulk_call_reports_each_lead_where_it_was_sent(
    client: AsyncClient, db: Database, tenants: Tenants, acme: Tenant
) -> None:
    """A retried bulk move answers `unchanged` for leads already in the status (a cancelled,
    read-only one too), writing no history, event or version; so do assignments and tags."""
    admin = acme.admin
    h, me = admin.headers, str(admin.id)
    won = (await config(client, admin, "statuses", kind="lead", state="won"))[0]["id"]
    cancelled = (await config(client, admin, "statuses", kind="lead", state="cancelled"))[0]["id"]
    started = [await new_lead(client, admin, assigned_member_id=me) for _ in range(3)]
    for lead in started:
        ok(await act(client, admin, lead, "start"))
    waiting = [await new_lead(client, admin, assigned_member_id=me) for _ in range(2)]
    ok(await client.post("/v1/tags", json={"name": "hot"}, headers=h), 201)
    calls = [
        ("tags", {"ids": [lead["id"] for lead in started + waiting], "add": ["hot"]}),
        ("assignments", {"ids": [lead["id"] for lead in started + waiting], "assigned_member_id": me}),
        ("moves", {"ids": [lead["id"] for lead in started], "status_id": won}),
        ("moves", {"ids": [lead["id"] for lead in waiting], "status_id": cancelled}),
    ]
    for action, body in calls:
        ok(await client.post(f"{LEADS}/bulk/{action}", json=body, headers=h))
    before = [len(await rows_of(db, acme, model)) for model in (HistoryEntry, OutboxEvent)]
    versions = {
        lead["id"]: (ok(await client.get(f"{LEADS}/{lead['id']}", headers=h)))["version"]
        for lead in started + waiting
    }
    for action, body in calls:
        answer = ok(await client.post(f"{LEADS}/bulk/{action}", json=body, headers=h))
        assert {(r["outcome"], r.get("reason")) for r in answer["results"]} == {("unchanged", None)}, answer
    assert [len(await rows_of(db, acme, model)) for model in (HistoryEntry, OutboxEvent)] == before
    for lead_id, version in versions.items():
        assert (ok(await client.get(f"{LEADS}/{lead_id}", headers=h)))["version"] == version
