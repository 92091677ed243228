"""A customer submits a service request on its own account, of a type customers may file: it goes
to the type's default assignee, shows on the dashboard, and follows the acceptance and feedback
flows like any other."""

from __future__ import annotations

from httpx import AsyncClient

from tests.service_requests.test_service_requests import REQUESTS, account, act, category, contact
from tests.support import Tenant, Tenants, assert_problem, error_fields, ok


async def test_a_customer_submits_a_request_that_staff_answer_it_accepts_and_rates(
    client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    h = acme.admin.headers
    agent = await tenants.member(acme)
    customer, other_customer = (
        await tenants.member(acme, kind="customer"),
        await tenants.member(acme, kind="customer"),
    )
    nowak, other = await account(client, acme), await account(client, acme, "Other")
    for who, acc in ((customer, nowak), (other_customer, other)):
        r = await client.post(
            f"/v1/accounts/{acc['id']}/assignments", json={"member_id": str(who.id)}, headers=h
        )
        assert r.status_code == 204, r.text
    person = await contact(client, acme)
    linked = await client.post(f"/v1/accounts/{nowak['id']}/contacts", json={"contact_id": person}, headers=h)
    assert linked.status_code in (201, 204), linked.text
    portal = {
        "kind": "service_request",
        "name": "Portal request",
        "customer_submittable": True,
        "default_assignee_id": str(agent.id),
    }
    kind = ok(await client.post("/v1/config/types", json=portal, headers=h), 201)
    body = {
        "type_id": kind["id"],
        "subject": "Pallet wrap tears",
        "account_id": nowak["id"],
        "urgency": 2,
        "impact": 3,
        "contact_id": person,
    }

    # Staff decide who works it; the default type is not one customers file; nor another account.
    assert error_fields(
        await client.post(
            REQUESTS, json={**body, "assigned_member_id": str(agent.id)}, headers=customer.headers
        )
    ) == {"body.assigned_member_id"}
    without_type = {k: v for k, v in body.items() if k != "type_id"}
    assert error_fields(await client.post(REQUESTS, json=without_type, headers=customer.headers)) == {
        "body.type_id"
    }
    assert error_fields(
        await client.post(REQUESTS, json={**body, "account_id": other["id"]}, headers=customer.headers)
    ) == {"body.account_id"}

    submitted = ok(await client.post(REQUESTS, json=body, headers=customer.headers), 201)
    assert submitted["submitted_by_member_id"] == str(customer.id) and submitted["owner_member_id"] is None
    assert submitted["assigned_member_id"] == str(agent.id) and submitted["state"] == "pending"
    assert_problem(
        await client.get(f"{REQUESTS}/{submitted['id']}", headers=other_customer.headers), 404, "not-found"
    )
    # The customer watches it but does not work it.
    assert_problem(await act(client, customer, submitted, "start"), 403, "not-owner")

    board = ok(await client.get(f"{REQUESTS}/dashboard", headers=agent.headers))
    assert (board["open"], board["from_customers"]) == (1, 1)
    listed = ok(await client.get(REQUESTS, params={"submitted_by_customer": "true"}, headers=agent.headers))
    assert [r["id"] for r in listed["items"]] == [submitted["id"]]

    # The agent answers; the customer accepts the final resolution and rates the request.
    ok(await act(client, agent, submitted, "start"))
    ok(
        await act(
            client, agent, submitted, "respond", category_id=await category(client, acme, "response", "Seen")
        )
    )
    confirm = await category(client, acme, "final_resolution", "Replaced", accept=True)
    waiting = ok(await act(client, agent, submitted, "resolve", category_id=confirm, text="New wrap sent."))
    assert waiting["awaiting_acceptance_of"] == "finally_resolved"
    accepted = ok(await act(client, customer, submitted, "acceptance"))
    assert accepted["final_resolution_accepted_at"] is not None
    done = ok(await act(client, agent, submitted, "complete"))
    assert done["state"] == "completed"
    rated = ok(await act(client, customer, submitted, "feedback", rating=5, comment="Quick, thanks."), 201)
    assert rated["rating"] == 5
    assert ok(await client.get(f"{REQUESTS}/dashboard", headers=agent.headers))["from_customers"] == 0
