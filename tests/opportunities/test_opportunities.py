"""Opportunities: on an account, scoped through it, moved through open stages to an outcome."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient

from tests import factories
from tests.support import Member, Tenant, Tenants, assert_problem, error_fields, ok

OPPORTUNITIES, CONFIG = "/v1/opportunities", "/v1/config"


async def account(client: AsyncClient, who: Member, name: str = "Nowak Trading") -> str:
    return str((await factories.account(client, who, name=name))["id"])


async def new(client: AsyncClient, who: Member, account_id: str, **body: Any) -> dict[str, Any]:
    return await factories.opportunity(client, who, account_id, **body)


async def test_an_opportunity_moves_through_stages_to_an_outcome(client: AsyncClient, acme: Tenant) -> None:
    admin, h = acme.admin, acme.admin.headers
    proposal = ok(
        await client.post(
            f"{CONFIG}/statuses", json={"kind": "opportunity", "state": "open", "name": "Proposal"}, headers=h
        ),
        201,
    )
    standard = (ok(await client.get(f"{CONFIG}/types", params={"kind": "opportunity"}, headers=h)))["items"][
        0
    ]
    ids = [*standard["status_ids"], proposal["id"]]
    first_open = standard["default_status_ids"][0]
    ok(
        await client.patch(
            f"{CONFIG}/types/{standard['id']}",
            json={"status_ids": ids, "default_status_ids": [first_open]},
            headers=h,
        )
    )
    deal = await new(
        client,
        admin,
        await account(client, admin),
        amount={"amount": "48000"},
        probability=40,
        expected_close_date="2027-02-15",
    )
    assert (deal["state"], deal["number"], deal["amount"]) == (
        "open",
        1,
        {"amount": "48000.0000", "currency": "PLN"},
    )
    assert (deal["age_days"], deal["days_in_stage"], deal["last_activity_at"]) == (0, 0, None)
    staged = ok(
        await client.post(
            f"{OPPORTUNITIES}/{deal['id']}/transitions", json={"status_id": proposal["id"]}, headers=h
        )
    )
    assert (staged["state"], staged["status_id"]) == ("open", proposal["id"])
    refused = assert_problem(
        await client.post(f"{OPPORTUNITIES}/{deal['id']}/lose", headers=h), 422, "reason-required"
    )
    assert refused["errors"][0]["field"] == "body.lost_reason_id"
    won = ok(
        await client.post(f"{OPPORTUNITIES}/{deal['id']}/win", json={"won_reason": "Best price"}, headers=h)
    )
    assert (won["state"], won["won_reason"]) == ("won", "Best price") and won["closed_at"]
    assert_problem(
        await client.post(f"{OPPORTUNITIES}/{deal['id']}/cancel", headers=h), 409, "no-such-transition"
    )
    history = (ok(await client.get(f"{OPPORTUNITIES}/{deal['id']}/history", headers=h)))["items"]
    assert [x["changes"]["state"]["new"] for x in history if x["action"] == "transition"] == ["won", "open"]


async def test_cancelled_is_read_only_and_type_and_account_never_change(
    client: AsyncClient, acme: Tenant
) -> None:
    admin, h = acme.admin, acme.admin.headers
    first, second = await account(client, admin, "First"), await account(client, admin, "Second")
    deal = await new(client, admin, first)
    r = await client.patch(f"{OPPORTUNITIES}/{deal['id']}", json={"account_id": second}, headers=h)
    assert_problem(r, 409, "account-fixed")
    other = ok(
        await client.post(f"{CONFIG}/types", json={"kind": "opportunity", "name": "Renewal"}, headers=h), 201
    )
    r = await client.patch(f"{OPPORTUNITIES}/{deal['id']}", json={"type_id": other["id"]}, headers=h)
    assert_problem(r, 409, "type-fixed")
    r = await client.patch(f"{OPPORTUNITIES}/{deal['id']}", json={"probability": 101}, headers=h)
    assert error_fields(r) == {"body.probability"}
    for day in (0, "1700000000", "15.02.2027"):
        r = await client.patch(f"{OPPORTUNITIES}/{deal['id']}", json={"expected_close_date": day}, headers=h)
        assert error_fields(r) == {"body.expected_close_date"}, day
    ok(await client.post(f"{OPPORTUNITIES}/{deal['id']}/cancel", headers=h))
    r = await client.patch(f"{OPPORTUNITIES}/{deal['id']}", json={"probability": 10}, headers=h)
    assert_problem(r, 409, "read-only")


async def test_opportunities_follow_their_accounts_scope(
    client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    admin = acme.admin
    seller, stranger = await tenants.member(acme), await tenants.member(acme)
    customer = await tenants.member(acme, kind="customer")
    mine = await account(client, seller, "Seller's")
    deal = await new(client, seller, mine, budget={"amount": "1000", "currency": "EUR"})
    assert deal["budget"] == {"amount": "1000.0000", "currency": "EUR"}
    assert (await client.get(f"{OPPORTUNITIES}/{deal['id']}", headers=admin.headers)).status_code == 200
    assert_problem(
        await client.get(f"{OPPORTUNITIES}/{deal['id']}", headers=stranger.headers), 404, "not-found"
    )
    assert (ok(await client.get(OPPORTUNITIES, headers=stranger.headers)))["items"] == []
    assert_problem(await client.get(OPPORTUNITIES, headers=customer.headers), 403, "staff-only")
    r = await client.post(
        OPPORTUNITIES, json={"account_id": mine, "name": "Not theirs"}, headers=stranger.headers
    )
    assert error_fields(r) == {"body.account_id"}
    listed = ok(await client.get(OPPORTUNITIES, params={"q": "web"}, headers=seller.headers))
    assert [x["id"] for x in listed["items"]] == [deal["id"]]


async def test_the_pipeline_sums_each_stage_per_currency_and_weighted(
    client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    admin, h = acme.admin, acme.admin.headers
    target = await account(client, admin)
    for amount, currency, probability in (("1000", "PLN", 50), ("3000", "PLN", 10), ("200", "EUR", None)):
        await new(
            client, admin, target, amount={"amount": amount, "currency": currency}, probability=probability
        )
    await new(client, admin, target, name="Service contract")  # no amount: counted, not summed
    won = await new(client, admin, target, amount={"amount": "500"}, probability=90)
    ok(await client.post(f"{OPPORTUNITIES}/{won['id']}/win", headers=h))
    stages = (ok(await client.get(f"{OPPORTUNITIES}/pipeline", headers=h)))["stages"]
    assert [s["code"] for s in stages] == ["OPEN", "WON", "LOST", "CANCELLED"]
    assert (stages[0]["count"], stages[0]["amounts"]) == (
        4,
        [
            {"currency": "EUR", "amount": "200.0000", "weighted": "0.0000"},
            {"currency": "PLN", "amount": "4000.0000", "weighted": "800.0000"},
        ],
    )
    assert (stages[1]["count"], stages[1]["amounts"]) == (
        1,
        [{"currency": "PLN", "amount": "500.0000", "weighted": "450.0000"}],
    )
    stranger = await tenants.member(acme)
    theirs = (ok(await client.get(f"{OPPORTUNITIES}/pipeline", headers=stranger.headers)))["stages"]
    assert [s["count"] for s in theirs] == [0, 0, 0, 0]
    searched = ok(await client.get(f"{OPPORTUNITIES}/pipeline", params={"q": "service"}, headers=h))
    assert [s["count"] for s in searched["stages"]] == [1, 0, 0, 0]
    board = ok(await client.get(f"{OPPORTUNITIES}/board", headers=h))
    open_cards = board["columns"][0]["cards"]
    assert len(open_cards) == 4 and open_cards[0]["amount"] == {"amount": "1000.0000", "currency": "PLN"}
    assert open_cards[3]["amount"] is None and board["columns"][1]["cards"][0]["id"] == won["id"]
    r = await client.get(f"{OPPORTUNITIES}/pipeline", params={"probability": "5"}, headers=h)
    assert error_fields(r) == {"query.probability"}


async def test_reassigning_is_the_owners_call_and_a_deleted_account_takes_its_opportunities(
    client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    admin, h = acme.admin, acme.admin.headers
    seller = await tenants.member(acme)
    target = await account(client, admin)
    deal = await new(client, admin, target, assigned_member_id=str(seller.id))
    grants = {"name": "Account readers", "capabilities": ["accounts.view_any"]}
    group = ok(await client.post("/v1/groups", json=grants, headers=h), 201)
    r = await client.put(f"/v1/groups/{group['id']}/members/{seller.id}", headers=h)
    assert r.status_code == 204, r.text
    r = await client.patch(
        f"{OPPORTUNITIES}/{deal['id']}", json={"owner_member_id": str(seller.id)}, headers=seller.headers
    )
    assert_problem(r, 403, "not-owner")
    r = await client.patch(f"{OPPORTUNITIES}/{deal['id']}", json={"probability": 70}, headers=seller.headers)
    assert (ok(r))["probability"] == 70
    r = await client.patch(f"{OPPORTUNITIES}/{deal['id']}", json={"owner_member_id": None}, headers=h)
    assert error_fields(r) == {"body.owner_member_id"}
    assert (await client.delete(f"/v1/accounts/{target}", headers=h)).status_code == 204
    assert_problem(await client.get(f"{OPPORTUNITIES}/{deal['id']}", headers=h), 404, "not-found")
    board = ok(await client.get(f"{OPPORTUNITIES}/board", headers=h))
    assert all(not column["cards"] for column in board["columns"])


async def test_a_replayed_bulk_move_answers_unchanged_and_another_reason_is_refused(
    client: AsyncClient, acme: Tenant
) -> None:
    admin, h = acme.admin, acme.admin.headers
    account_id = await account(client, admin)
    ids = [(await new(client, admin, account_id, name=f"Deal {n}"))["id"] for n in range(3)]
    lost = (
        ok(await client.get(f"{CONFIG}/statuses", params={"kind": "opportunity", "state": "lost"}, headers=h))
    )["items"][0]["id"]
    reasons = (ok(await client.get(f"{CONFIG}/lost-reasons", headers=h)))["items"]
    body = {"ids": ids, "status_id": lost, "lost_reason_id": reasons[0]["id"]}
    first = ok(await client.post(f"{OPPORTUNITIES}/bulk/moves", json=body, headers=h))
    assert (first["updated"], first["unchanged"], first["errors"]) == (3, 0, 0)
    versions = [(ok(await client.get(f"{OPPORTUNITIES}/{i}", headers=h)))["version"] for i in ids]
    again = ok(await client.post(f"{OPPORTUNITIES}/bulk/moves", json=body, headers=h))
    assert (again["updated"], again["unchanged"], again["errors"]) == (0, 3, 0)
    assert [(ok(await client.get(f"{OPPORTUNITIES}/{i}", headers=h)))["version"] for i in ids] == versions
    other = ok(
        await client.post(
            f"{OPPORTUNITIES}/bulk/moves", json={**body, "lost_reason_id": reasons[1]["id"]}, headers=h
        )
    )
    assert {(r["outcome"], r["reason"]) for r in other["results"]} == {("error", "no-such-transition")}


async def test_a_bulk_move_answers_each_opportunity_as_its_single_move_would(
    client: AsyncClient, acme: Tenant
) -> None:
    """Moved together or one by one, twin opportunities end alike: outcome, state, version, the
    close time stamped and the stage clock restarted at the move."""
    admin, h = acme.admin, acme.admin.headers
    account_id = await account(client, admin)

    async def status(state: str) -> str:
        found = ok(
            await client.get(f"{CONFIG}/statuses", params={"kind": "opportunity", "state": state}, headers=h)
        )
        return str(found["items"][0]["id"])

    won, lost = await status("won"), await status("lost")
    reason = (ok(await client.get(f"{CONFIG}/lost-reasons", headers=h)))["items"][0]["id"]

    async def closed_lost() -> dict[str, Any]:
        deal = await new(client, admin, account_id)
        ok(
            await client.post(
                f"{OPPORTUNITIES}/{deal['id']}/transitions",
                json={"status_id": lost, "lost_reason_id": reason},
                headers=h,
            )
        )
        return deal

    makers = (lambda: new(client, admin, account_id), closed_lost)
    pairs = [(await make(), await make()) for make in makers]
    answer = ok(
        await client.post(
            f"{OPPORTUNITIES}/bulk/moves",
            json={"ids": [a["id"] for a, _ in pairs], "status_id": won},
            headers=h,
        )
    )
    outcome = {r["id"]: (r["outcome"], r.get("reason")) for r in answer["results"]}
    for in_bulk, alone in pairs:
        single = await client.post(
            f"{OPPORTUNITIES}/{alone['id']}/transitions", json={"status_id": won}, headers=h
        )
        expected = (
            ("updated", None)
            if single.status_code == 200
            else ("error", single.json()["type"].rsplit("/", 1)[-1])
        )
        assert outcome[in_bulk["id"]] == expected, (outcome[in_bulk["id"]], single.text)
        a, b = [ok(await client.get(f"{OPPORTUNITIES}/{deal['id']}", headers=h)) for deal in (in_bulk, alone)]
        keys = ("state", "status_id", "lost_reason_id", "version")
        assert [a[k] for k in keys] == [b[k] for k in keys]
        assert (a["closed_at"] is None) == (b["closed_at"] is None)
        assert (a["stage_entered_at"] == a["updated_at"]) == (b["stage_entered_at"] == b["updated_at"])
    assert set(outcome.values()) == {("updated", None), ("error", "no-such-transition")}
