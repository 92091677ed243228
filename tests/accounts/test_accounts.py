"""Customer accounts: numbering, codes, links, assignments, scope and search."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import event

from crmapi.kit.db import Database
from tests import factories
from tests.support import NOBODY, Member, Tenant, Tenants, assert_problem, error_fields, statements

JAN = {"first_name": "Jan", "last_name": "Kowalski"}


async def _account(client: AsyncClient, tenant: Tenant, **fields: object) -> dict[str, object]:
    return await factories.account(client, tenant.admin, **fields)


async def _contact(client: AsyncClient, tenant: Tenant, **fields: object) -> str:
    return str((await factories.contact(client, tenant.admin, **{**JAN, **fields}))["id"])


async def test_accounts_are_numbered_in_sequence_per_organisation(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme, beta = await tenants.create("Acme"), await tenants.create("Beta")
    numbers = [(await _account(client, acme))["number"] for _ in range(3)]
    assert numbers == [1, 2, 3]
    assert (await _account(client, beta))["number"] == 1


async def test_credit_limit_defaults_to_the_organisation_currency(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme = await tenants.create()
    account = await _account(client, acme, credit_limit={"amount": "25000.5"})
    assert account["credit_limit"] == {"amount": "25000.5000", "currency": "PLN"}


async def test_a_code_is_unique_in_the_organisation_even_when_deleted(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme = await tenants.create()
    first = await _account(client, acme, code="D-1")
    assert (await client.delete(f"/v1/accounts/{first['id']}", headers=acme.admin.headers)).status_code == 204
    again = await client.post("/v1/accounts", json={"name": "X", "code": "D-1"}, headers=acme.admin.headers)
    assert again.status_code == 409
    assert again.json()["type"].endswith("/code-taken")


async def test_only_one_account_is_the_retail_default(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    first = await _account(client, acme, name="Retail", is_retail_default=True)
    second = await _account(client, acme, name="Retail 2", is_retail_default=True)
    old = await client.get(f"/v1/accounts/{first['id']}", headers=acme.admin.headers)
    assert old.json()["is_retail_default"] is False
    assert second["is_retail_default"] is True


async def test_taking_the_retail_default_needs_accounts_manage(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    retail = await _account(client, acme, name="Retail", is_retail_default=True)
    sam = await tenants.member(acme)  # staff: may create accounts, cannot see "Retail"
    body = {"name": "Mine", "is_retail_default": True}
    r = await client.post("/v1/accounts", json=body, headers=sam.headers)
    assert r.status_code == 403 and r.json()["type"].endswith("/missing-capability"), r.text
    mine = await client.post("/v1/accounts", json={"name": "Mine"}, headers=sam.headers)
    r = await client.patch(
        f"/v1/accounts/{mine.json()['id']}", json={"is_retail_default": True}, headers=sam.headers
    )
    assert r.status_code == 403, r.text
    kept = await client.get(f"/v1/accounts/{retail['id']}", headers=acme.admin.headers)
    assert (kept.json()["is_retail_default"], kept.json()["version"]) == (True, retail["version"])


async def test_linked_contacts_list_the_primary_first_and_contacts_list_their_accounts(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme = await tenants.create()
    anna = await _contact(client, acme, first_name="Anna", last_name="Zielińska")
    bob = await _contact(client, acme, first_name="Adam", last_name="Bąk")
    account = await _account(client, acme, primary_contact_id=anna, contact_ids=[bob])
    linked = await client.get(f"/v1/accounts/{account['id']}/contacts", headers=acme.admin.headers)
    assert [(c["contact_id"], c["is_primary"]) for c in linked.json()] == [(anna, True), (bob, False)]
    of_bob = await client.get(f"/v1/contacts/{bob}/accounts", headers=acme.admin.headers)
    assert [a["id"] for a in of_bob.json()["items"]] == [account["id"]]


async def test_a_customer_assigned_to_an_account_sees_it_and_its_contacts_only(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme = await tenants.create()
    customer = await tenants.member(acme, kind="customer")
    anna = await _contact(client, acme, first_name="Anna")
    other_contact = await _contact(client, acme, first_name="Other")
    mine = await _account(client, acme, name="Mine", primary_contact_id=anna)
    await _account(client, acme, name="Not mine")
    assigned = await client.post(
        f"/v1/accounts/{mine['id']}/assignments",
        json={"member_id": str(customer.id)},
        headers=acme.admin.headers,
    )
    assert assigned.status_code == 204
    accounts = await client.get("/v1/accounts", headers=customer.headers)
    assert [a["name"] for a in accounts.json()["items"]] == ["Mine"]
    contacts = await client.get("/v1/contacts", headers=customer.headers)
    assert [c["id"] for c in contacts.json()["items"]] == [anna]
    hidden = await client.get(f"/v1/contacts/{other_contact}", headers=customer.headers)
    assert hidden.status_code == 404


async def test_staff_see_owned_accounts_only_and_others_answer_404(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme = await tenants.create()
    rep = await tenants.member(acme)
    admins = await _account(client, acme, name="Admin's")
    own = await client.post("/v1/accounts", json={"name": "Rep's"}, headers=rep.headers)
    listed = await client.get("/v1/accounts", headers=rep.headers)
    assert [a["id"] for a in listed.json()["items"]] == [own.json()["id"]]
    assert (await client.get(f"/v1/accounts/{admins['id']}", headers=rep.headers)).status_code == 404
    patched = await client.patch(f"/v1/accounts/{admins['id']}", json={"name": "x"}, headers=rep.headers)
    assert patched.status_code == 404


async def test_another_organisation_cannot_see_an_account(client: AsyncClient, tenants: Tenants) -> None:
    acme, beta = await tenants.create("Acme"), await tenants.create("Beta")
    account = await _account(client, acme)
    assert (await client.get(f"/v1/accounts/{account['id']}", headers=beta.admin.headers)).status_code == 404
    assert (await client.get("/v1/accounts", headers=beta.admin.headers)).json()["items"] == []


async def test_bad_input_is_422_naming_the_field(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    bad = await client.post(
        "/v1/accounts", json={"name": "X", "status": "sleeping"}, headers=acme.admin.headers
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "body.status"


async def test_q_finds_an_account_by_code_number_or_a_linked_contacts_tax_id(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme = await tenants.create()
    payer = await _contact(
        client,
        acme,
        kind="organisation",
        first_name=None,
        last_name=None,
        name="Łódzkie Zakłady",
        tax_id="526-025-02-74",
    )
    target = await _account(client, acme, name="Zakłady Łódź", code="D-77123", primary_contact_id=payer)
    await _account(client, acme, name="Something else", code="X-1")
    for q in ("D-771", "lodz", "5260250", "zaklady lodz"):
        found = await client.get("/v1/accounts", params={"q": q}, headers=acme.admin.headers)
        assert [a["id"] for a in found.json()["items"]][:1] == [target["id"]], q


async def test_a_list_does_not_query_per_account(client: AsyncClient, tenants: Tenants, db: object) -> None:

    acme = await tenants.create()
    for i in range(12):
        await _account(client, acme, name=f"A{i}", sales_rep_codes=[f"R{i}"])
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    engine = db.engine.sync_engine  # type: ignore[attr-defined]
    event.listen(engine, "before_cursor_execute", count)
    try:
        await client.get("/v1/accounts?limit=2", headers=acme.admin.headers)
        few = len(statements)
        statements.clear()
        await client.get("/v1/accounts?limit=12", headers=acme.admin.headers)
        many = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert few == many


# === the suite: fixtures and helpers ==========================================================

READ_ONLY = {"id", "number", "created_at", "updated_at", "deleted_at", "version"}


async def create(client: AsyncClient, who: Member, **fields: Any) -> dict[str, Any]:
    r = await client.post("/v1/accounts", json={"name": "Hurtownia Nowak", **fields}, headers=who.headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def contact(client: AsyncClient, who: Member, **fields: Any) -> str:
    return str((await factories.contact(client, who, **{**JAN, **fields}))["id"])


async def get(client: AsyncClient, who: Member, account: dict[str, Any], **params: Any) -> Response:
    return await client.get(f"/v1/accounts/{account['id']}", params=params, headers=who.headers)


async def patch(client: AsyncClient, who: Member, account: dict[str, Any], **fields: Any) -> Response:
    return await client.patch(f"/v1/accounts/{account['id']}", json=fields, headers=who.headers)


async def delete(client: AsyncClient, who: Member, account: dict[str, Any]) -> None:
    r = await client.delete(f"/v1/accounts/{account['id']}", headers=who.headers)
    assert r.status_code == 204, r.text


async def restore(client: AsyncClient, who: Member, account: dict[str, Any]) -> Response:
    return await client.post(f"/v1/accounts/{account['id']}/restore", headers=who.headers)


async def listed(client: AsyncClient, who: Member, **params: Any) -> dict[str, Any]:
    r = await client.get("/v1/accounts", params=params, headers=who.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def ids(client: AsyncClient, who: Member, **params: Any) -> list[str]:
    return [a["id"] for a in (await listed(client, who, **params))["items"]]


async def searched(client: AsyncClient, who: Member, **body: Any) -> dict[str, Any]:
    r = await client.post("/v1/accounts/search", json=body, headers=who.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def walk(client: AsyncClient, who: Member, *, body: bool = False, **params: Any) -> list[str]:
    """Every id, following next_cursor page by page (as query parameters, or in a search body)."""
    seen: list[str] = []
    cursor = None
    for _ in range(100):
        extra = {"cursor": cursor} if cursor else {}
        page = await (searched if body else listed)(client, who, **params, **extra)
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("next_cursor never ran out")


async def history(client: AsyncClient, who: Member, account: dict[str, Any]) -> list[dict[str, Any]]:
    r = await client.get(f"/v1/accounts/{account['id']}/history", headers=who.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def linked(client: AsyncClient, who: Member, account: dict[str, Any]) -> list[dict[str, Any]]:
    r = await client.get(f"/v1/accounts/{account['id']}/contacts", headers=who.headers)
    assert r.status_code == 200, r.text
    return list(r.json())


async def link(
    client: AsyncClient, who: Member, account: dict[str, Any], contact_id: str, role: str | None = None
) -> Response:
    body = {"contact_id": contact_id, **({"role": role} if role else {})}
    return await client.post(f"/v1/accounts/{account['id']}/contacts", json=body, headers=who.headers)


async def assign(client: AsyncClient, who: Member, account: dict[str, Any], member: Member) -> Response:
    path = f"/v1/accounts/{account['id']}/assignments"
    return await client.post(path, json={"member_id": str(member.id)}, headers=who.headers)


async def unassign(client: AsyncClient, who: Member, account: dict[str, Any], member: Member) -> Response:
    return await client.delete(f"/v1/accounts/{account['id']}/assignments/{member.id}", headers=who.headers)


# --- create and read -------------------------------------------------------------------------


async def test_create_answers_201_with_location_and_etag(client: AsyncClient, admin: Member) -> None:
    r = await client.post("/v1/accounts", json={"name": "Hurtownia Nowak"}, headers=admin.headers)
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"/v1/accounts/{r.json()['id']}"
    assert r.headers["etag"] == '"1"'
    assert r.json()["version"] == 1


async def test_new_account_is_active_numbered_and_owned_by_its_creator(
    client: AsyncClient, staff: Member
) -> None:
    account = await create(client, staff)
    assert account["status"] == "active"
    assert account["owner_member_id"] == str(staff.id)
    assert account["number"] == 1
    assert account["is_retail_default"] is False
    assert (account["tags"], account["payment_methods"], account["sales_rep_codes"]) == ([], [], [])


async def test_numbers_come_from_one_series_shared_by_all_creators(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    numbers = [(await create(client, who))["number"] for who in (admin, staff, admin)]
    assert numbers == [1, 2, 3]


async def test_a_deleted_account_keeps_its_number_out_of_the_series(
    client: AsyncClient, admin: Member
) -> None:
    first = await create(client, admin)
    await delete(client, admin, first)
    assert (await create(client, admin))["number"] == 2


async def test_the_number_cannot_be_chosen(client: AsyncClient, admin: Member) -> None:
    r = await client.post("/v1/accounts", json={"name": "X", "number": 7}, headers=admin.headers)
    assert error_fields(r) == {"body.number"}


async def test_create_keeps_every_field_given(client: AsyncClient, admin: Member, staff: Member) -> None:
    account = await create(
        client,
        admin,
        code="D-10042",
        classification="wholesale",
        credit_rating="A",
        credit_limit={"amount": "1200.5", "currency": "EUR"},
        payment_terms="30 days net",
        payment_methods=["transfer", "card"],
        price_level="B",
        status="on_hold",
        owner_member_id=str(staff.id),
        tags=["key-account", " key-account "],
        sales_rep_codes=["R2", "R1", "R2"],
    )
    assert {k: account[k] for k in account if k not in READ_ONLY} == {
        "code": "D-10042",
        "name": "Hurtownia Nowak",
        "primary_contact_id": None,
        "classification": "wholesale",
        "credit_rating": "A",
        "credit_limit": {"amount": "1200.5000", "currency": "EUR"},
        "payment_terms": "30 days net",
        "payment_methods": ["transfer", "card"],
        "price_level": "B",
        "status": "on_hold",
        "is_retail_default": False,
        "owner_member_id": str(staff.id),
        "business_unit_id": None,
        "tags": ["key-account"],
        "custom": {},
        "sales_rep_codes": ["R1", "R2"],
    }


async def test_get_returns_the_account_as_created_with_its_etag(client: AsyncClient, admin: Member) -> None:
    account = await create(client, admin, code="D-1", credit_limit={"amount": "10"}, sales_rep_codes=["R1"])
    r = await get(client, admin, account)
    assert r.status_code == 200
    assert r.json() == account
    assert r.headers["etag"] == '"1"'


async def test_unknown_account_is_404(client: AsyncClient, admin: Member) -> None:
    assert_problem(await client.get(f"/v1/accounts/{NOBODY}", headers=admin.headers), 404, "not-found")


async def test_malformed_account_id_is_422(client: AsyncClient, admin: Member) -> None:
    r = await client.get("/v1/accounts/not-an-id", headers=admin.headers)
    assert "path.account_id" in error_fields(r)


async def test_list_answers_items_next_cursor_and_count(client: AsyncClient, admin: Member) -> None:
    account = await create(client, admin, sales_rep_codes=["R1"])
    assert await listed(client, admin) == {"items": [account], "next_cursor": None, "count": None}


async def test_owner_must_be_a_staff_member(client: AsyncClient, admin: Member, customer: Member) -> None:
    r = await client.post(
        "/v1/accounts", json={"name": "X", "owner_member_id": str(customer.id)}, headers=admin.headers
    )
    assert error_fields(r) == {"body.owner_member_id"}


async def test_owner_must_belong_to_the_organisation(
    client: AsyncClient, admin: Member, globex: Tenant
) -> None:
    r = await client.post(
        "/v1/accounts", json={"name": "X", "owner_member_id": str(globex.admin.id)}, headers=admin.headers
    )
    assert error_fields(r) == {"body.owner_member_id"}


async def test_a_retried_create_with_the_same_idempotency_key_makes_one_account(
    client: AsyncClient, admin: Member
) -> None:
    headers = {**admin.headers, "Idempotency-Key": "create-nowak-1"}
    first = await client.post("/v1/accounts", json={"name": "Nowak"}, headers=headers)
    again = await client.post("/v1/accounts", json={"name": "Nowak"}, headers=headers)
    assert (again.status_code, again.json()) == (201, first.json())
    assert await ids(client, admin) == [first.json()["id"]]


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"name": "X", "status": "sleeping"}, "body.status", id="status"),
        pytest.param(
            {"name": "X", "credit_limit": {"amount": "1", "currency": "pln"}},
            "body.credit_limit.currency",
            id="currency-lower-case",
        ),
        pytest.param(
            {"name": "X", "credit_limit": {"amount": "1", "currency": "EURO"}},
            "body.credit_limit.currency",
            id="currency-four-letters",
        ),
        pytest.param(
            {"name": "X", "credit_limit": {"amount": "1.00001"}}, "body.credit_limit.amount", id="5dp"
        ),
        pytest.param(
            {"name": "X", "credit_limit": {"amount": "1" + "0" * 19}},
            "body.credit_limit.amount",
            id="20-digits",
        ),
        pytest.param({"name": "X", "credit_limit": {"amount": "NaN"}}, "body.credit_limit.amount", id="nan"),
        pytest.param(
            {"name": "X", "credit_limit": {"amount": "lots"}}, "body.credit_limit.amount", id="text"
        ),
        pytest.param(
            {"name": "X", "credit_limit": {"currency": "PLN"}}, "body.credit_limit.amount", id="no-amt"
        ),
        pytest.param(
            {"name": "X", "credit_limit": {"amount": "1", "rate": 2}},
            "body.credit_limit.rate",
            id="money-extra",
        ),
        pytest.param({"name": "X", "colour": "red"}, "body.colour", id="unknown-field"),
        pytest.param({"code": "D-1"}, "body.name", id="name-missing"),
        pytest.param({"name": "   "}, "body.name", id="name-blank"),
        pytest.param({"name": None}, "body.name", id="name-null"),
        pytest.param({"name": "x" * 201}, "body.name", id="name-too-long"),
        pytest.param({"name": "Now\u0000ak"}, "body.name", id="nul-in-name"),
        pytest.param({"name": "X", "code": " "}, "body.code", id="code-blank"),
        pytest.param({"name": "X", "code": "D" * 65}, "body.code", id="code-too-long"),
        pytest.param(
            {"name": "X", "payment_methods": [f"m{i}" for i in range(21)]},
            "body.payment_methods",
            id="payment-methods-too-long",
        ),
        pytest.param(
            {"name": "X", "payment_methods": [""]}, "body.payment_methods.0", id="payment-method-blank"
        ),
        pytest.param({"name": "X", "tags": [f"t{i}" for i in range(51)]}, "body.tags", id="too-many-tags"),
        pytest.param(
            {"name": "X", "is_retail_default": "yes"}, "body.is_retail_default", id="retail-not-bool"
        ),
        pytest.param({"name": "X", "sales_rep_codes": [" "]}, "body.sales_rep_codes.0", id="rep-code-blank"),
        pytest.param({"name": "X", "contact_ids": ["42"]}, "body.contact_ids.0", id="contact-id"),
        pytest.param({"name": "X", "owner_member_id": "42"}, "body.owner_member_id", id="owner-id"),
        pytest.param({"name": "X", "custom": {"n": "a\u0000b"}}, "body.custom", id="nul-in-custom"),
    ],
)
async def test_invalid_account_is_422_naming_the_field(
    client: AsyncClient, admin: Member, body: dict[str, Any], field: str
) -> None:
    r = await client.post("/v1/accounts", json=body, headers=admin.headers)
    assert field in error_fields(r)


async def test_a_lone_surrogate_in_the_name_is_422(client: AsyncClient, admin: Member) -> None:
    r = await client.post(
        "/v1/accounts",
        content=b'{"name": "Now\\ud800ak"}',
        headers={**admin.headers, "Content-Type": "application/json"},
    )
    assert error_fields(r) == {"body.name"}


async def test_credit_limit_holds_15_integer_digits_and_4_decimals(
    client: AsyncClient, admin: Member
) -> None:
    account = await create(client, admin, credit_limit={"amount": "999999999999999.9999"})
    assert account["credit_limit"]["amount"] == "999999999999999.9999"
    assert (await get(client, admin, account)).json()["credit_limit"] == account["credit_limit"]


async def test_a_16th_integer_digit_of_credit_limit_is_422(client: AsyncClient, admin: Member) -> None:
    r = await client.post(
        "/v1/accounts", json={"name": "X", "credit_limit": {"amount": "1" + "0" * 15}}, headers=admin.headers
    )
    assert error_fields(r) == {"body.credit_limit.amount"}


async def test_body_that_is_not_an_object_is_422(client: AsyncClient, admin: Member) -> None:
    r = await client.post("/v1/accounts", json=[{"name": "X"}], headers=admin.headers)
    assert_problem(r, 422, "validation-error")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"name": None}, "body.name", id="name-null"),
        pytest.param({"name": ""}, "body.name", id="name-blank"),
        pytest.param({"status": None}, "body.status", id="status-null"),
        pytest.param({"status": "gone"}, "body.status", id="status"),
        pytest.param({"is_retail_default": None}, "body.is_retail_default", id="retail-null"),
        pytest.param({"sales_rep_codes": None}, "body.sales_rep_codes", id="rep-codes-null"),
        pytest.param({"credit_limit": {"amount": "0.12345"}}, "body.credit_limit.amount", id="5dp"),
        pytest.param({"number": 9}, "body.number", id="number"),
        pytest.param({"version": 9}, "body.version", id="version"),
        pytest.param({"contact_ids": []}, "body.contact_ids", id="contact-ids-only-on-create"),
    ],
)
async def test_invalid_change_is_422_naming_the_field(
    client: AsyncClient, admin: Member, change: dict[str, Any], field: str
) -> None:
    account = await create(client, admin)
    assert field in error_fields(await patch(client, admin, account, **change))


# --- filters ---------------------------------------------------------------------------------


async def test_filter_by_status(client: AsyncClient, admin: Member) -> None:
    await create(client, admin)
    held = await create(client, admin, status="on_hold")
    await create(client, admin, status="closed")
    assert await ids(client, admin, status="on_hold") == [held["id"]]


async def test_filter_by_classification(client: AsyncClient, admin: Member) -> None:
    wholesale = await create(client, admin, classification="wholesale")
    await create(client, admin, classification="retail")
    await create(client, admin)
    assert await ids(client, admin, classification="wholesale") == [wholesale["id"]]


async def test_filter_by_tags_needs_every_tag(client: AsyncClient, admin: Member) -> None:
    both = await create(client, admin, tags=["vip", "export", "pl"])
    await create(client, admin, tags=["vip"])
    await create(client, admin, tags=["export"])
    assert await ids(client, admin, tag=["vip", "export"]) == [both["id"]]
    assert len(await ids(client, admin, tag="vip")) == 2


async def test_filter_by_owner(client: AsyncClient, admin: Member, staff: Member) -> None:
    await create(client, admin)
    theirs = await create(client, admin, owner_member_id=str(staff.id))
    assert await ids(client, admin, owner_member_id=str(staff.id)) == [theirs["id"]]


async def test_filter_by_code_is_exact(client: AsyncClient, admin: Member) -> None:
    d1 = await create(client, admin, code="D-1")
    await create(client, admin, code="D-10")
    assert await ids(client, admin, code="D-1") == [d1["id"]]


async def test_filter_by_linked_contact(client: AsyncClient, admin: Member) -> None:
    anna = await contact(client, admin, first_name="Anna")
    primary = await create(client, admin, primary_contact_id=anna)
    other = await create(client, admin, contact_ids=[anna])
    await create(client, admin)
    assert await ids(client, admin, contact_id=anna) == [primary["id"], other["id"]]


async def test_created_from_includes_and_created_to_excludes_that_moment(
    client: AsyncClient, admin: Member
) -> None:
    first = await create(client, admin)
    second = await create(client, admin)
    third = await create(client, admin)
    assert await ids(client, admin, created_from=second["created_at"]) == [second["id"], third["id"]]
    assert await ids(client, admin, created_to=second["created_at"]) == [first["id"]]
    window = {"created_from": second["created_at"], "created_to": third["created_at"]}
    assert await ids(client, admin, **window) == [second["id"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "sleeping"}, "query.status"),
        ({"created_from": "yesterday"}, "query.created_from"),
        ({"created_to": "1700000000"}, "query.created_to"),
        ({"owner_member_id": "42"}, "query.owner_member_id"),
        ({"contact_id": "42"}, "query.contact_id"),
        ({"deleted": "all"}, "query.deleted"),
        ({"q": "a\u0000b"}, "query.q"),
        ({"q": "x" * 201}, "query.q"),
        ({"colour": "red"}, "query.colour"),
    ],
)
async def test_invalid_filter_is_422(
    client: AsyncClient, admin: Member, params: dict[str, str], field: str
) -> None:
    r = await client.get("/v1/accounts", params=params, headers=admin.headers)
    assert field in error_fields(r)


# --- q: what it finds ------------------------------------------------------------------------


async def test_q_finds_part_of_a_name_in_any_case(client: AsyncClient, admin: Member) -> None:
    nowak = await create(client, admin, name="Hurtownia Nowak")
    await create(client, admin, name="Sklep Kowalski")
    assert await ids(client, admin, q="TOWNIA now") == [nowak["id"]]


async def test_q_finds_the_account_number(client: AsyncClient, admin: Member) -> None:
    accounts = [await create(client, admin, name="Sklep") for _ in range(3)]
    assert await ids(client, admin, q="2") == [accounts[1]["id"]]


async def test_q_finds_a_code_by_its_prefix(client: AsyncClient, admin: Member) -> None:
    target = await create(client, admin, code="D-77123")
    await create(client, admin, code="E-1")
    assert await ids(client, admin, q="d-771") == [target["id"]]


async def test_q_folds_accents_both_ways(client: AsyncClient, admin: Member) -> None:
    lodz = await create(client, admin, name="Łódź Hurt")
    await create(client, admin, name="Lida Hurt")
    assert await ids(client, admin, q="lodz") == [lodz["id"]]
    assert await ids(client, admin, q="ŁÓDŹ") == [lodz["id"]]
    assert await ids(client, admin, q="Lódz") == [lodz["id"]]


@pytest.mark.parametrize(
    ("contact_fields", "q"),
    [
        pytest.param({"first_name": "Grażyna", "last_name": "Wiśniewska"}, "grazyna wisniew", id="name"),
        pytest.param({"emails": [{"address": "Biuro@Nowak-Hurt.pl"}]}, "biuro@nowak-hurt", id="email"),
        pytest.param({"phones": [{"number": "+48 600 100 200"}]}, "600100200", id="phone-digits"),
        pytest.param({"phones": [{"number": "+48 600 100 200"}]}, "600 100", id="phone-as-written"),
        pytest.param({"tax_id": "526-025-02-74"}, "5260250274", id="tax-id-digits"),
        pytest.param({"tax_id": "PL 526-025-02-74"}, "526-025", id="tax-id-as-written"),
    ],
)
async def test_q_finds_an_account_through_a_linked_contact(
    client: AsyncClient, admin: Member, contact_fields: dict[str, Any], q: str
) -> None:
    person = await contact(client, admin, **contact_fields)
    target = await create(client, admin, name="Hurtownia", contact_ids=[person])
    await create(client, admin, name="Sklep")
    assert await ids(client, admin, q=q) == [target["id"]]


async def test_q_finds_an_account_through_its_primary_contact(client: AsyncClient, admin: Member) -> None:
    person = await contact(client, admin, last_name="Wiśniewska")
    target = await create(client, admin, name="Hurtownia", primary_contact_id=person)
    assert await ids(client, admin, q="wisniewska") == [target["id"]]


async def test_q_ignores_unlinked_and_deleted_contacts(client: AsyncClient, admin: Member) -> None:
    gone = await contact(client, admin, last_name="Wiśniewska")
    unlinked = await contact(client, admin, last_name="Zielińska")
    account = await create(client, admin, name="Hurtownia", contact_ids=[gone, unlinked])
    assert (await client.delete(f"/v1/contacts/{gone}", headers=admin.headers)).status_code == 204
    r = await client.delete(f"/v1/accounts/{account['id']}/contacts/{unlinked}", headers=admin.headers)
    assert r.status_code == 204
    assert await ids(client, admin, q="wisniewska") == []
    assert await ids(client, admin, q="zielinska") == []


async def test_q_needs_every_word(client: AsyncClient, admin: Member) -> None:
    both = await create(client, admin, name="Hurtownia Nowak")
    await create(client, admin, name="Hurtownia Kowalski")
    assert await ids(client, admin, q="hurtownia nowak") == [both["id"]]


async def test_q_treats_percent_and_underscore_as_text(client: AsyncClient, admin: Member) -> None:
    await create(client, admin, name="Fifty Percent")
    sale = await create(client, admin, name="50% off_B")
    assert await ids(client, admin, q="%") == [sale["id"]]
    assert await ids(client, admin, q="_b") == [sale["id"]]


async def test_q_follows_a_changed_name_and_code(client: AsyncClient, admin: Member) -> None:
    account = await create(client, admin, name="Hurtownia Nowak", code="D-1")
    await patch(client, admin, account, name="Sklep Zielony", code="K-9")
    assert await ids(client, admin, q="zielony") == [account["id"]]
    assert await ids(client, admin, q="k-9") == [account["id"]]
    assert await ids(client, admin, q="nowak") == []


async def test_q_follows_a_linked_contacts_change(client: AsyncClient, admin: Member) -> None:
    person = await contact(client, admin, last_name="Nowak")
    account = await create(client, admin, name="Hurtownia", contact_ids=[person])
    r = await client.patch(f"/v1/contacts/{person}", json={"last_name": "Wiśniewska"}, headers=admin.headers)
    assert r.status_code == 200, r.text
    assert await ids(client, admin, q="wisniewska") == [account["id"]]


# --- q: ranking and paging -------------------------------------------------------------------


async def test_q_ranks_an_exact_code_above_a_substring(client: AsyncClient, admin: Member) -> None:
    inside = await create(client, admin, name="Sklep", code="XD-1000")
    exact = await create(client, admin, name="Sklep", code="D-100")
    assert await ids(client, admin, q="D-100") == [exact["id"], inside["id"]]


async def test_q_ranks_a_word_prefix_of_the_name_above_a_substring(
    client: AsyncClient, admin: Member
) -> None:
    inside = await create(client, admin, name="Nowakowalski Handel")
    prefix = await create(client, admin, name="Kowalski i Syn")
    assert await ids(client, admin, q="kowal") == [prefix["id"], inside["id"]]


async def test_q_ranks_a_linked_contacts_surname_prefix_above_a_substring(
    client: AsyncClient, admin: Member
) -> None:
    inside = await create(client, admin, name="Nowakowalski Handel")
    person = await contact(client, admin, first_name="Jan", last_name="Kowalski")
    through_contact = await create(client, admin, name="Hurtownia", primary_contact_id=person)
    assert await ids(client, admin, q="kowal") == [through_contact["id"], inside["id"]]


async def test_q_ranks_an_accounts_own_name_above_the_same_match_on_a_linked_contact(
    client: AsyncClient, admin: Member
) -> None:
    person = await contact(client, admin, first_name="Kamil", last_name="Sikora")
    through_contact = await create(client, admin, name="Hurtownia", primary_contact_id=person)
    own = await create(client, admin, name="Kamiński Instal")
    assert await ids(client, admin, q="kami") == [own["id"], through_contact["id"]]


async def test_q_results_page_by_cursor_without_gaps_or_duplicates(
    client: AsyncClient, admin: Member
) -> None:
    for name in ["Nowak", "Nowakowski", "Hurt Nowak", "Nowak", "Sklep Nowaka", "Nowak Nowak", "Anowak"]:
        await create(client, admin, name=name)
    await create(client, admin, name="Kowalski")
    walked = await walk(client, admin, q="nowak", limit=2)
    assert len(walked) == len(set(walked)) == 7
    assert walked == await ids(client, admin, q="nowak", limit=200)


async def test_q_results_page_in_the_search_body_too(client: AsyncClient, admin: Member) -> None:
    for name in ["Nowak", "Nowakowski", "Hurt Nowak", "Nowak", "Anowak"]:
        await create(client, admin, name=name)
    walked = await walk(client, admin, body=True, q="nowak", limit=2)
    assert len(walked) == len(set(walked)) == 5
    assert walked == await ids(client, admin, q="nowak", limit=200)


async def test_explicit_relevance_sort_with_q_equals_the_default(client: AsyncClient, admin: Member) -> None:
    for name in ["Nowakowski", "Nowak", "Anowak"]:
        await create(client, admin, name=name)
    assert await ids(client, admin, q="nowak", sort="relevance") == await ids(client, admin, q="nowak")


async def test_q_with_a_sort_orders_by_that_sort(client: AsyncClient, admin: Member) -> None:
    for name in ["Nowakowski", "Anowak", "Nowak", "Kowalski"]:
        await create(client, admin, name=name)
    page = await listed(client, admin, q="nowak", sort="name")
    assert [a["name"] for a in page["items"]] == ["Anowak", "Nowak", "Nowakowski"]


async def test_sort_by_relevance_without_q_is_422(client: AsyncClient, admin: Member) -> None:
    r = await client.get("/v1/accounts", params={"sort": "relevance"}, headers=admin.headers)
    assert error_fields(r) == {"query.sort"}


async def test_a_relevance_cursor_cannot_be_used_with_another_sort(
    client: AsyncClient, admin: Member
) -> None:
    for _ in range(3):
        await create(client, admin, name="Nowak")
    cursor = (await listed(client, admin, q="nowak", limit=1))["next_cursor"]
    r = await client.get(
        "/v1/accounts", params={"q": "nowak", "sort": "name", "cursor": cursor}, headers=admin.headers
    )
    assert_problem(r, 400, "invalid-cursor")


# --- sorting, paging, count, fields ----------------------------------------------------------


@pytest.mark.parametrize(
    "sort", ["name", "-name", "number", "-number", "created_at", "-created_at", "updated_at", "-updated_at"]
)
async def test_cursor_walks_every_account_once(client: AsyncClient, admin: Member, sort: str) -> None:
    made = [
        await create(client, admin, name=n) for n in ["Cara", "Anna", "Bob", "Anna", "Cara", "Anna", "Bob"]
    ]
    await patch(client, admin, made[3], classification="touched")
    walked = await walk(client, admin, sort=sort, limit=2)
    assert len(walked) == len(set(walked)) == 7
    assert walked == await ids(client, admin, sort=sort, limit=200)


async def test_name_sort_is_alphabetical(client: AsyncClient, admin: Member) -> None:
    for name in ["Cara", "Anna", "Bob", "Anna"]:
        await create(client, admin, name=name)
    assert [a["name"] for a in (await listed(client, admin, sort="name"))["items"]] == [
        "Anna",
        "Anna",
        "Bob",
        "Cara",
    ]


async def test_number_sort_is_numeric(client: AsyncClient, admin: Member) -> None:
    for _ in range(11):
        await create(client, admin)
    numbers = [a["number"] for a in (await listed(client, admin, sort="-number", fields="number"))["items"]]
    assert numbers == list(range(11, 0, -1))


async def test_default_order_is_creation_order(client: AsyncClient, admin: Member) -> None:
    created = [(await create(client, admin))["id"] for _ in range(5)]
    assert await walk(client, admin, limit=2) == created
    assert await walk(client, admin, sort="-created_at", limit=2) == created[::-1]


async def test_latest_update_first_with_minus_updated_at(client: AsyncClient, admin: Member) -> None:
    first, second, third = [await create(client, admin) for _ in range(3)]
    await patch(client, admin, first, classification="wholesale")
    assert await walk(client, admin, sort="-updated_at", limit=1) == [first["id"], third["id"], second["id"]]


@pytest.mark.parametrize("sort", ["code", "-search_text", "id", "-", "status"])
async def test_unsortable_field_is_422(client: AsyncClient, admin: Member, sort: str) -> None:
    r = await client.get("/v1/accounts", params={"sort": sort}, headers=admin.headers)
    assert error_fields(r) == {"query.sort"}


@pytest.mark.parametrize("limit", [0, 201, -1])
async def test_limit_outside_1_to_200_is_422(client: AsyncClient, admin: Member, limit: int) -> None:
    r = await client.get("/v1/accounts", params={"limit": limit}, headers=admin.headers)
    assert error_fields(r) == {"query.limit"}


async def test_garbage_cursor_is_400(client: AsyncClient, admin: Member) -> None:
    r = await client.get("/v1/accounts", params={"cursor": "not-a-cursor"}, headers=admin.headers)
    assert_problem(r, 400, "invalid-cursor")


async def test_cursor_of_another_sort_is_400(client: AsyncClient, admin: Member) -> None:
    for _ in range(3):
        await create(client, admin)
    cursor = (await listed(client, admin, limit=1, sort="name"))["next_cursor"]
    r = await client.get("/v1/accounts", params={"cursor": cursor, "sort": "-name"}, headers=admin.headers)
    assert_problem(r, 400, "invalid-cursor")


async def test_count_is_exact_beyond_the_page_and_follows_filters(client: AsyncClient, admin: Member) -> None:
    for status in ("active", "active", "on_hold"):
        await create(client, admin, status=status)
    assert (await listed(client, admin, limit=1, count=True))["count"] == 3
    assert (await listed(client, admin, status="active", count=True))["count"] == 2
    assert (await listed(client, admin))["count"] is None


async def test_count_follows_q(client: AsyncClient, admin: Member) -> None:
    for name in ("Nowak", "Nowakowski", "Kowalski"):
        await create(client, admin, name=name)
    assert (await listed(client, admin, q="nowak", limit=1, count=True))["count"] == 2


async def test_fields_choose_the_keys_of_list_items(client: AsyncClient, admin: Member) -> None:
    account = await create(client, admin, code="D-1", sales_rep_codes=["R1"])
    page = await listed(client, admin, fields="name,code,sales_rep_codes")
    assert page["items"] == [
        {"id": account["id"], "name": "Hurtownia Nowak", "code": "D-1", "sales_rep_codes": ["R1"]}
    ]


async def test_fields_on_get_by_id(client: AsyncClient, admin: Member) -> None:
    account = await create(client, admin, credit_limit={"amount": "5"})
    r = await get(client, admin, account, fields="credit_limit")
    assert r.json() == {"id": account["id"], "credit_limit": {"amount": "5.0000", "currency": "PLN"}}


@pytest.mark.parametrize("path", ["/v1/accounts", "one"])
async def test_unknown_field_in_fields_is_422(client: AsyncClient, admin: Member, path: str) -> None:
    if path == "one":
        path = f"/v1/accounts/{(await create(client, admin))['id']}"
    r = await client.get(path, params={"fields": "id,search_text"}, headers=admin.headers)
    assert error_fields(r) == {"query.fields"}


# --- POST /v1/accounts/search ----------------------------------------------------------------


async def test_search_takes_the_filters_as_a_body(client: AsyncClient, admin: Member) -> None:
    target = await create(client, admin, name="Hurt Nowak", status="on_hold", tags=["vip", "pl"])
    await create(client, admin, name="Hurt Nowak", status="active", tags=["vip", "pl"])
    await create(client, admin, name="Hurt Nowak", status="on_hold", tags=["vip"])
    await create(client, admin, name="Sklep", status="on_hold", tags=["vip", "pl"])
    page = await searched(client, admin, status="on_hold", tag=["vip", "pl"], q="nowak", count=True)
    assert ([a["id"] for a in page["items"]], page["count"]) == ([target["id"]], 1)


async def test_search_pages_with_the_cursor_in_the_body(client: AsyncClient, admin: Member) -> None:
    created = [(await create(client, admin))["id"] for _ in range(5)]
    assert await walk(client, admin, body=True, limit=2) == created
    assert await walk(client, admin, body=True, limit=2, sort="-number") == created[::-1]


async def test_search_with_fields_and_sort(client: AsyncClient, admin: Member) -> None:
    for name in ("Cara", "Anna"):
        await create(client, admin, name=name)
    page = await searched(client, admin, sort="name", fields="name")
    assert [set(a) for a in page["items"]] == [{"id", "name"}] * 2
    assert [a["name"] for a in page["items"]] == ["Anna", "Cara"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"colour": "red"}, "body.colour"),
        ({"limit": "2"}, "body.limit"),
        ({"count": "true"}, "body.count"),
        ({"status": "sleeping"}, "body.status"),
        ({"tag": "vip"}, "body.tag"),
    ],
)
async def test_invalid_search_body_is_422(
    client: AsyncClient, admin: Member, body: dict[str, Any], field: str
) -> None:
    r = await client.post("/v1/accounts/search", json=body, headers=admin.headers)
    assert field in error_fields(r)


async def test_search_relevance_without_q_is_422(client: AsyncClient, admin: Member) -> None:
    r = await client.post("/v1/accounts/search", json={"sort": "relevance"}, headers=admin.headers)
    assert_problem(r, 422, "validation-error")


@pytest.mark.parametrize(
    ("body", "field"),
    [({"sort": "relevance"}, "body.sort"), ({"sort": "code"}, "body.sort"), ({"fields": "x"}, "body.fields")],
)
async def test_search_sort_and_fields_errors_name_the_body_field(
    client: AsyncClient, admin: Member, body: dict[str, Any], field: str
) -> None:
    r = await client.post("/v1/accounts/search", json=body, headers=admin.headers)
    assert error_fields(r) == {field}


# --- changes ---------------------------------------------------------------------------------


async def test_patch_changes_only_the_fields_sent(client: AsyncClient, admin: Member) -> None:
    account = await create(
        client, admin, code="D-1", tags=["vip"], credit_limit={"amount": "100"}, sales_rep_codes=["R1"]
    )
    r = await patch(client, admin, account, classification="wholesale")
    assert r.status_code == 200, r.text
    unchanged = {k: v for k, v in account.items() if k not in {"classification", "version", "updated_at"}}
    assert r.json() == {
        **unchanged,
        "classification": "wholesale",
        "version": 2,
        "updated_at": r.json()["updated_at"],
    }
    assert r.json()["updated_at"] > account["updated_at"]
    assert r.headers["etag"] == '"2"'


async def test_patch_null_clears_an_optional_field(client: AsyncClient, admin: Member) -> None:
    account = await create(client, admin, code="D-1", classification="x", credit_limit={"amount": "1"})
    r = await patch(client, admin, account, code=None, classification=None, credit_limit=None)
    assert (r.json()["code"], r.json()["classification"], r.json()["credit_limit"]) == (None, None, None)


async def test_each_change_bumps_the_etag_by_one(client: AsyncClient, admin: Member) -> None:
    account = await create(client, admin)
    etags = [(await patch(client, admin, account, price_level=p)).headers["etag"] for p in ("A", "B")]
    got = await get(client, admin, account)
    assert [*etags, got.headers["etag"]] == ['"2"', '"3"', '"3"']
    assert got.json()["version"] == 3


async def test_patch_that_changes_nothing_keeps_the_version(client: AsyncClient, admin: Member) -> None:
    account = await create(client, admin, classification="wholesale", credit_limit={"amount": "10.5"})
    r = await patch(client, admin, account, classification="wholesale", credit_limit={"amount": "10.50"})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"1"'
    assert r.json()["updated_at"] == account["updated_at"]
    assert [h["action"] for h in await history(client, admin, account)] == ["created"]


async def test_sending_back_what_the_api_returned_changes_nothing(client: AsyncClient, admin: Member) -> None:
    person = await contact(client, admin)
    account = await create(
        client,
        admin,
        code="D-1",
        primary_contact_id=person,
        classification="wholesale",
        credit_limit={"amount": "25000.5"},
        payment_methods=["transfer"],
        tags=["vip"],
        sales_rep_codes=["R2", "R1"],
    )
    r = await patch(client, admin, account, **{k: v for k, v in account.items() if k not in READ_ONLY})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"1"'


async def test_stale_if_match_is_412_and_changes_nothing(client: AsyncClient, admin: Member) -> None:
    account = await create(client, admin)
    await patch(client, admin, account, price_level="A")
    r = await client.patch(
        f"/v1/accounts/{account['id']}",
        json={"price_level": "B"},
        headers={**admin.headers, "If-Match": '"1"'},
    )
    assert_problem(r, 412, "stale-version")
    assert (await get(client, admin, account)).json()["price_level"] == "A"


@pytest.mark.parametrize("if_match", ['"1"', 'W/"1"', "*"])
async def test_current_if_match_is_accepted(client: AsyncClient, admin: Member, if_match: str) -> None:
    account = await create(client, admin)
    r = await client.patch(
        f"/v1/accounts/{account['id']}",
        json={"price_level": "A"},
        headers={**admin.headers, "If-Match": if_match},
    )
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'


async def test_malformed_if_match_is_412(client: AsyncClient, admin: Member) -> None:
    account = await create(client, admin)
    r = await client.patch(
        f"/v1/accounts/{account['id']}", json={"price_level": "A"}, headers={**admin.headers, "If-Match": "1"}
    )
    assert_problem(r, 412, "invalid-if-match")


async def test_code_can_change_to_a_free_code(client: AsyncClient, admin: Member) -> None:
    account = await create(client, admin, code="D-1")
    r = await patch(client, admin, account, code="D-2")
    assert r.status_code == 200, r.text
    assert await ids(client, admin, code="D-2") == [account["id"]]


async def test_code_change_to_a_taken_code_is_409(client: AsyncClient, admin: Member) -> None:
    await create(client, admin, code="D-1")
    account = await create(client, admin, code="D-2")
    assert_problem(await patch(client, admin, account, code="D-1"), 409, "code-taken")
    assert (await get(client, admin, account)).json()["code"] == "D-2"


async def test_code_change_to_a_deleted_accounts_code_is_409(client: AsyncClient, admin: Member) -> None:
    await delete(client, admin, await create(client, admin, code="D-1"))
    account = await create(client, admin)
    assert_problem(await patch(client, admin, account, code="D-1"), 409, "code-taken")


async def test_owner_change_to_a_customer_is_422(
    client: AsyncClient, admin: Member, customer: Member
) -> None:
    account = await create(client, admin)
    assert error_fields(await patch(client, admin, account, owner_member_id=str(customer.id))) == {
        "body.owner_member_id"
    }


async def test_owner_change_to_an_unknown_member_is_422(client: AsyncClient, admin: Member) -> None:
    account = await create(client, admin)
    assert error_fields(await patch(client, admin, account, owner_member_id=NOBODY)) == {
        "body.owner_member_id"
    }


async def test_primary_contact_change_to_an_unknown_contact_is_422(
    client: AsyncClient, admin: Member
) -> None:
    account = await create(client, admin)
    assert error_fields(await patch(client, admin, account, primary_contact_id=NOBODY)) == {
        "body.primary_contact_id"
    }


async def test_primary_contact_change_links_the_contact(client: AsyncClient, admin: Member) -> None:
    anna = await contact(client, admin, first_name="Anna")
    account = await create(client, admin)
    r = await patch(client, admin, account, primary_contact_id=anna)
    assert r.json()["primary_contact_id"] == anna
    assert [(c["contact_id"], c["is_primary"]) for c in await linked(client, admin, account)] == [
        (anna, True)
    ]


# --- retail default --------------------------------------------------------------------------


async def test_a_new_retail_default_takes_it_from_the_old_one_with_history(
    client: AsyncClient, admin: Member
) -> None:
    old = await create(client, admin, name="Retail", is_retail_default=True)
    await create(client, admin, name="Retail 2", is_retail_default=True)
    got = await get(client, admin, old)
    assert (got.json()["is_retail_default"], got.headers["etag"]) == (False, '"2"')
    newest = (await history(client, admin, old))[0]
    assert (newest["action"], newest["changes"]) == (
        "updated",
        {"is_retail_default": {"old": True, "new": False}},
    )
    assert got.json()["updated_at"] > old["updated_at"]


async def test_patch_makes_an_account_the_retail_default(client: AsyncClient, admin: Member) -> None:
    old = await create(client, admin, name="Retail", is_retail_default=True)
    new = await create(client, admin, name="Shop")
    r = await patch(client, admin, new, is_retail_default=True)
    assert r.status_code == 200, r.text
    assert r.json()["is_retail_default"] is True
    assert (await get(client, admin, old)).json()["is_retail_default"] is False
    assert [h["action"] for h in await history(client, admin, old)] == ["updated", "created"]


async def test_a_deleted_account_gives_up_the_retail_default(client: AsyncClient, admin: Member) -> None:
    retail = await create(client, admin, is_retail_default=True)
    await delete(client, admin, retail)
    restored = await restore(client, admin, retail)
    assert restored.json()["is_retail_default"] is False


# --- sales-rep codes -------------------------------------------------------------------------


async def test_sales_rep_codes_render_on_create_get_and_list_rows(client: AsyncClient, admin: Member) -> None:
    first = await create(client, admin, name="A", sales_rep_codes=["R2", "R1", "R1"])
    second = await create(client, admin, name="B", sales_rep_codes=["R3"])
    third = await create(client, admin, name="C")
    assert first["sales_rep_codes"] == ["R1", "R2"]
    assert (await get(client, admin, first)).json()["sales_rep_codes"] == ["R1", "R2"]
    rows = (await listed(client, admin))["items"]
    assert [(a["id"], a["sales_rep_codes"]) for a in rows] == [
        (first["id"], ["R1", "R2"]),
        (second["id"], ["R3"]),
        (third["id"], []),
    ]


async def test_patch_replaces_the_set_of_sales_rep_codes(client: AsyncClient, admin: Member) -> None:
    account = await create(client, admin, sales_rep_codes=["R1", "R2"])
    r = await patch(client, admin, account, sales_rep_codes=["R3", "R2"])
    assert r.json()["sales_rep_codes"] == ["R2", "R3"]
    assert r.headers["etag"] == '"2"'
    assert (await get(client, admin, account)).json()["sales_rep_codes"] == ["R2", "R3"]
    newest = (await history(client, admin, account))[0]
    assert newest["changes"] == {"sales_rep_codes": {"old": ["R1", "R2"], "new": ["R2", "R3"]}}


async def test_empty_list_clears_the_sales_rep_codes(client: AsyncClient, admin: Member) -> None:
    account = await create(client, admin, sales_rep_codes=["R1"])
    assert (await patch(client, admin, account, sales_rep_codes=[])).json()["sales_rep_codes"] == []


async def test_patch_without_sales_rep_codes_keeps_them(client: AsyncClient, admin: Member) -> None:
    account = await create(client, admin, sales_rep_codes=["R1"])
    assert (await patch(client, admin, account, name="X")).json()["sales_rep_codes"] == ["R1"]


async def test_the_same_sales_rep_codes_in_another_order_change_nothing(
    client: AsyncClient, admin: Member
) -> None:
    account = await create(client, admin, sales_rep_codes=["R1", "R2"])
    r = await patch(client, admin, account, sales_rep_codes=["R2", "R1", "R2"])
    assert r.headers["etag"] == '"1"'
    assert [h["action"] for h in await history(client, admin, account)] == ["created"]


async def test_fields_can_pick_the_sales_rep_codes(client: AsyncClient, admin: Member) -> None:
    await create(client, admin, sales_rep_codes=["R1"])
    page = await listed(client, admin, fields="sales_rep_codes")
    assert [set(a) for a in page["items"]] == [{"id", "sales_rep_codes"}]


# --- delete and restore ----------------------------------------------------------------------


async def test_deleted_account_answers_404_and_leaves_the_list(client: AsyncClient, admin: Member) -> None:
    gone = await create(client, admin)
    kept = await create(client, admin)
    await delete(client, admin, gone)
    assert_problem(await get(client, admin, gone), 404, "not-found")
    assert await ids(client, admin) == [kept["id"]]
    assert (await listed(client, admin, count=True))["count"] == 1


async def test_deleted_account_cannot_be_changed_deleted_or_linked(
    client: AsyncClient, admin: Member
) -> None:
    account = await create(client, admin)
    person = await contact(client, admin)
    await delete(client, admin, account)
    assert_problem(await patch(client, admin, account, name="X"), 404, "not-found")
    assert_problem(
        await client.delete(f"/v1/accounts/{account['id']}", headers=admin.headers), 404, "not-found"
    )
    assert_problem(await link(client, admin, account, person), 404, "not-found")


async def test_deleted_only_lists_the_deleted_for_an_admin(client: AsyncClient, admin: Member) -> None:
    gone = await create(client, admin)
    await create(client, admin)
    await delete(client, admin, gone)
    page = await listed(client, admin, deleted="only", count=True)
    assert ([a["id"] for a in page["items"]], page["count"]) == ([gone["id"]], 1)
    assert page["items"][0]["deleted_at"] is not None


async def test_deleted_only_is_403_for_plain_staff(client: AsyncClient, staff: Member) -> None:
    await delete(client, staff, await create(client, staff))
    r = await client.get("/v1/accounts", params={"deleted": "only"}, headers=staff.headers)
    assert_problem(r, 403, "missing-capability")


async def test_restore_brings_the_account_back(client: AsyncClient, admin: Member) -> None:
    account = await create(client, admin, code="D-1")
    await delete(client, admin, account)
    r = await restore(client, admin, account)
    assert r.status_code == 200, r.text
    assert (r.json()["deleted_at"], r.json()["code"], r.headers["etag"]) == (None, "D-1", '"3"')
    assert await ids(client, admin) == [account["id"]]
    assert await ids(client, admin, deleted="only") == []


async def test_staff_may_delete_their_own_account_but_not_restore_it(
    client: AsyncClient, staff: Member
) -> None:
    account = await create(client, staff)
    await delete(client, staff, account)
    assert await ids(client, staff) == []
    assert_problem(await restore(client, staff, account), 403, "missing-capability")


async def test_restore_of_a_live_account_is_404(client: AsyncClient, admin: Member) -> None:
    assert_problem(await restore(client, admin, await create(client, admin)), 404, "not-found")


async def test_delete_with_stale_if_match_is_412_and_keeps_it(client: AsyncClient, admin: Member) -> None:
    account = await create(client, admin)
    await patch(client, admin, account, price_level="A")
    r = await client.delete(f"/v1/accounts/{account['id']}", headers={**admin.headers, "If-Match": '"1"'})
    assert_problem(r, 412, "stale-version")
    assert await ids(client, admin) == [account["id"]]


async def test_deleting_an_account_hides_its_contacts_from_assigned_staff(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    person = await contact(client, admin)
    account = await create(client, admin, primary_contact_id=person)
    assert (await assign(client, admin, account, staff)).status_code == 204
    assert (await client.get(f"/v1/contacts/{person}", headers=staff.headers)).status_code == 200
    await delete(client, admin, account)
    assert_problem(await client.get(f"/v1/contacts/{person}", headers=staff.headers), 404, "not-found")


# --- history ---------------------------------------------------------------------------------


async def test_history_lists_every_change_newest_first(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    account = await create(client, admin)
    person = await contact(client, admin)
    await patch(client, admin, account, price_level="A")
    assert (await link(client, admin, account, person, "buyer")).status_code == 204
    assert (await assign(client, admin, account, staff)).status_code == 204
    r = await client.delete(f"/v1/accounts/{account['id']}/contacts/{person}", headers=admin.headers)
    assert r.status_code == 204
    assert (await unassign(client, admin, account, staff)).status_code == 204
    await delete(client, admin, account)
    await restore(client, admin, account)
    assert [h["action"] for h in await history(client, admin, account)] == [
        "restored",
        "deleted",
        "member_unassigned",
        "contact_unlinked",
        "member_assigned",
        "contact_linked",
        "updated",
        "created",
    ]


async def test_history_of_creation_holds_the_values_given_and_the_number(
    client: AsyncClient, admin: Member
) -> None:
    account = await create(client, admin, code="D-1", credit_limit={"amount": "5"}, sales_rep_codes=["R1"])
    created = (await history(client, admin, account))[0]
    assert created["action"] == "created"
    assert created["actor_member_id"] == str(admin.id)
    changes = created["changes"]
    assert changes["number"] == {"old": None, "new": 1}
    assert changes["code"] == {"old": None, "new": "D-1"}
    assert changes["credit_limit"] == {"old": None, "new": {"amount": "5.0000", "currency": "PLN"}}
    assert changes["sales_rep_codes"] == {"old": None, "new": ["R1"]}


async def test_history_keeps_old_and_new_values(client: AsyncClient, admin: Member) -> None:
    account = await create(client, admin, status="active")
    await patch(client, admin, account, status="on_hold", tags=["vip"])
    assert (await history(client, admin, account))[0]["changes"] == {
        "status": {"old": "active", "new": "on_hold"},
        "tags": {"old": [], "new": ["vip"]},
    }


async def test_history_records_links_and_assignments_with_their_subjects(
    client: AsyncClient, admin: Member, customer: Member
) -> None:
    account = await create(client, admin)
    person = await contact(client, admin)
    await link(client, admin, account, person, "buyer")
    await assign(client, admin, account, customer)
    assigned, linked_ = (await history(client, admin, account))[:2]
    assert (assigned["action"], assigned["changes"]) == (
        "member_assigned",
        {"member_id": {"old": None, "new": str(customer.id)}},
    )
    assert (linked_["action"], linked_["changes"]) == (
        "contact_linked",
        {"contact_id": {"old": None, "new": person}, "role": {"old": None, "new": "buyer"}},
    )


async def test_history_pages_by_cursor(client: AsyncClient, admin: Member) -> None:
    account = await create(client, admin)
    for level in ("A", "B", "C"):
        await patch(client, admin, account, price_level=level)
    path = f"/v1/accounts/{account['id']}/history"
    first = (await client.get(path, params={"limit": 3}, headers=admin.headers)).json()
    rest = (await client.get(path, params={"cursor": first["next_cursor"]}, headers=admin.headers)).json()
    assert [h["action"] for h in first["items"] + rest["items"]] == ["updated"] * 3 + ["created"]


# --- linked contacts -------------------------------------------------------------------------


async def test_link_a_contact_with_a_role(client: AsyncClient, admin: Member) -> None:
    account = await create(client, admin)
    person = await contact(client, admin, first_name="Anna", last_name="Nowak")
    r = await link(client, admin, account, person, "buyer")
    assert r.status_code == 204, r.text
    assert await linked(client, admin, account) == [
        {"contact_id": person, "display_name": "Anna Nowak", "role": "buyer", "is_primary": False}
    ]
    assert await ids(client, admin, contact_id=person) == [account["id"]]


async def test_linking_again_changes_the_role(client: AsyncClient, admin: Member) -> None:
    account = await create(client, admin)
    person = await contact(client, admin)
    await link(client, admin, account, person, "buyer")
    assert (await link(client, admin, account, person, "accountant")).status_code == 204
    assert [c["role"] for c in await linked(client, admin, account)] == ["accountant"]


async def test_relinking_records_the_role_change_in_history(client: AsyncClient, admin: Member) -> None:
    account = await create(client, admin)
    person = await contact(client, admin)
    await link(client, admin, account, person, "buyer")
    await link(client, admin, account, person, "accountant")
    newest = (await history(client, admin, account))[0]
    assert newest["changes"]["role"] == {"old": "buyer", "new": "accountant"}


async def test_linking_again_with_the_same_role_writes_no_history(client: AsyncClient, admin: Member) -> None:
    account = await create(client, admin)
    person = await contact(client, admin)
    await link(client, admin, account, person, "buyer")
    assert (await link(client, admin, account, person, "buyer")).status_code == 204
    assert [h["action"] for h in await history(client, admin, account)] == ["contact_linked", "created"]


async def test_unlink_a_contact(client: AsyncClient, admin: Member) -> None:
    person = await contact(client, admin)
    account = await create(client, admin, contact_ids=[person])
    r = await client.delete(f"/v1/accounts/{account['id']}/contacts/{person}", headers=admin.headers)
    assert r.status_code == 204
    assert await linked(client, admin, account) == []
    assert await ids(client, admin, contact_id=person) == []


async def test_unlinking_a_contact_that_is_not_linked_is_404(client: AsyncClient, admin: Member) -> None:
    person = await contact(client, admin)
    account = await create(client, admin)
    r = await client.delete(f"/v1/accounts/{account['id']}/contacts/{person}", headers=admin.headers)
    assert_problem(r, 404, "not-found")


async def test_unlinking_the_primary_contact_is_409(client: AsyncClient, admin: Member) -> None:
    person = await contact(client, admin)
    account = await create(client, admin, primary_contact_id=person)
    r = await client.delete(f"/v1/accounts/{account['id']}/contacts/{person}", headers=admin.headers)
    assert_problem(r, 409, "primary-contact")
    assert [c["contact_id"] for c in await linked(client, admin, account)] == [person]


async def test_linking_a_contact_the_actor_cannot_see_is_422(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    hidden = await contact(client, admin)
    account = await create(client, staff)
    assert error_fields(await link(client, staff, account, hidden)) == {"body.contact_id"}
    assert await linked(client, admin, account) == []


@pytest.mark.parametrize("where", ["unknown", "deleted", "other-organisation"])
async def test_linking_a_missing_contact_is_422(
    client: AsyncClient, admin: Member, globex: Tenant, where: str
) -> None:
    account = await create(client, admin)
    if where == "unknown":
        contact_id = NOBODY
    elif where == "deleted":
        contact_id = await contact(client, admin)
        assert (await client.delete(f"/v1/contacts/{contact_id}", headers=admin.headers)).status_code == 204
    else:
        contact_id = await contact(client, globex.admin)
    assert error_fields(await link(client, admin, account, contact_id)) == {"body.contact_id"}


async def test_creating_with_contacts_the_actor_cannot_see_is_422(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    hidden = await contact(client, admin)
    for body, field in (
        ({"primary_contact_id": hidden}, "body.primary_contact_id"),
        ({"contact_ids": [hidden]}, "body.contact_ids"),
    ):
        r = await client.post("/v1/accounts", json={"name": "X", **body}, headers=staff.headers)
        assert error_fields(r) == {field}
    assert await ids(client, staff) == []


async def test_staff_may_link_their_own_contacts_to_their_own_account(
    client: AsyncClient, staff: Member
) -> None:
    person = await contact(client, staff)
    account = await create(client, staff)
    assert (await link(client, staff, account, person, "buyer")).status_code == 204


async def test_deleted_contacts_leave_the_linked_list(client: AsyncClient, admin: Member) -> None:
    kept = await contact(client, admin, first_name="Anna")
    gone = await contact(client, admin, first_name="Bob")
    account = await create(client, admin, contact_ids=[kept, gone])
    assert (await client.delete(f"/v1/contacts/{gone}", headers=admin.headers)).status_code == 204
    assert [c["contact_id"] for c in await linked(client, admin, account)] == [kept]


async def test_contacts_list_their_visible_accounts(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    person = await contact(client, staff)
    own = await create(client, staff, primary_contact_id=person)
    admin_account = await create(client, admin, contact_ids=[person])
    path = f"/v1/contacts/{person}/accounts"
    assert [a["id"] for a in (await client.get(path, headers=admin.headers)).json()["items"]] == [
        own["id"],
        admin_account["id"],
    ]
    assert [a["id"] for a in (await client.get(path, headers=staff.headers)).json()["items"]] == [own["id"]]


# --- assignments -----------------------------------------------------------------------------


async def test_admin_assigns_a_staff_member_and_a_customer(
    client: AsyncClient, admin: Member, staff: Member, customer: Member
) -> None:
    account = await create(client, admin)
    assert (await assign(client, admin, account, staff)).status_code == 204
    assert (await assign(client, admin, account, customer)).status_code == 204
    r = await client.get(f"/v1/accounts/{account['id']}/assignments", headers=admin.headers)
    assert r.status_code == 200
    assert sorted((a["member_id"], a["kind"]) for a in r.json()) == sorted(
        [(str(staff.id), "staff"), (str(customer.id), "customer")]
    )


async def test_assigning_twice_keeps_one_assignment_and_one_history_row(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    account = await create(client, admin)
    await assign(client, admin, account, staff)
    assert (await assign(client, admin, account, staff)).status_code == 204
    r = await client.get(f"/v1/accounts/{account['id']}/assignments", headers=admin.headers)
    assert [a["member_id"] for a in r.json()] == [str(staff.id)]
    assert [h["action"] for h in await history(client, admin, account)] == ["member_assigned", "created"]


async def test_assigned_staff_sees_the_account_and_its_contacts_but_no_other(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    primary = await contact(client, admin, first_name="Anna")
    other_linked = await contact(client, admin, first_name="Bob")
    elsewhere = await contact(client, admin, first_name="Cara")
    account = await create(client, admin, name="Mine", primary_contact_id=primary, contact_ids=[other_linked])
    other = await create(client, admin, name="Not mine", primary_contact_id=elsewhere)
    await assign(client, admin, account, staff)
    assert (await get(client, staff, account)).status_code == 200
    assert await ids(client, staff) == [account["id"]]
    assert (await listed(client, staff, count=True))["count"] == 1
    for person in (primary, other_linked):
        assert (await client.get(f"/v1/contacts/{person}", headers=staff.headers)).status_code == 200
    assert_problem(await get(client, staff, other), 404, "not-found")
    assert_problem(await client.get(f"/v1/contacts/{elsewhere}", headers=staff.headers), 404, "not-found")
    assert len(await linked(client, staff, account)) == 2
    assert len(await history(client, staff, account)) == 2


async def test_assigned_staff_may_not_change_the_account(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    account = await create(client, admin)
    await assign(client, admin, account, staff)
    assert_problem(await patch(client, staff, account, name="Mine now"), 403, "not-owner")
    r = await client.delete(f"/v1/accounts/{account['id']}", headers=staff.headers)
    assert_problem(r, 403, "not-owner")


async def test_unassign_removes_visibility(client: AsyncClient, admin: Member, staff: Member) -> None:
    person = await contact(client, admin)
    account = await create(client, admin, primary_contact_id=person)
    await assign(client, admin, account, staff)
    assert (await unassign(client, admin, account, staff)).status_code == 204
    assert_problem(await get(client, staff, account), 404, "not-found")
    assert_problem(await client.get(f"/v1/contacts/{person}", headers=staff.headers), 404, "not-found")
    assert await ids(client, staff) == []


async def test_unassigning_a_member_that_is_not_assigned_is_404(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    account = await create(client, admin)
    assert_problem(await unassign(client, admin, account, staff), 404, "not-found")


async def test_plain_staff_cannot_assign_or_unassign_even_on_their_own_account(
    client: AsyncClient, admin: Member, staff: Member, customer: Member
) -> None:
    account = await create(client, staff)
    assert_problem(await assign(client, staff, account, customer), 403, "missing-capability")
    await assign(client, admin, account, customer)
    assert_problem(await unassign(client, staff, account, customer), 403, "missing-capability")


@pytest.mark.parametrize("who", ["unknown", "other-organisation"])
async def test_assigning_a_missing_member_is_422(
    client: AsyncClient, admin: Member, globex: Tenant, who: str
) -> None:
    account = await create(client, admin)
    member_id = NOBODY if who == "unknown" else str(globex.admin.id)
    r = await client.post(
        f"/v1/accounts/{account['id']}/assignments", json={"member_id": member_id}, headers=admin.headers
    )
    assert error_fields(r) == {"body.member_id"}


async def test_customer_cannot_create_accounts(client: AsyncClient, customer: Member) -> None:
    r = await client.post("/v1/accounts", json={"name": "Mine"}, headers=customer.headers)
    assert_problem(r, 403, "missing-capability")


async def test_customer_sees_only_assigned_accounts(
    client: AsyncClient, admin: Member, customer: Member
) -> None:
    mine = await create(client, admin, name="Nowak Mine")
    other = await create(client, admin, name="Nowak Other")
    await assign(client, admin, mine, customer)
    assert await listed(client, customer, count=True) == {
        "items": [(await get(client, admin, mine)).json()],
        "next_cursor": None,
        "count": 1,
    }
    assert await ids(client, customer, q="nowak") == [mine["id"]]
    assert [a["id"] for a in (await searched(client, customer))["items"]] == [mine["id"]]
    assert (await get(client, customer, mine)).status_code == 200
    assert_problem(await get(client, customer, other), 404, "not-found")
    assert_problem(await patch(client, customer, mine, name="X"), 403, "not-owner")


async def test_customer_without_assignments_sees_nothing(
    client: AsyncClient, admin: Member, customer: Member
) -> None:
    await create(client, admin)
    assert await listed(client, customer, count=True) == {"items": [], "next_cursor": None, "count": 0}


async def test_staff_can_edit_their_own_account_and_admin_any(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    account = await create(client, staff)
    assert (await patch(client, staff, account, price_level="A")).status_code == 200
    r = await patch(client, admin, account, price_level="B")
    assert (r.status_code, r.json()["owner_member_id"]) == (200, str(staff.id))


# --- other organisations and anonymous callers -----------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"name": "Spy"}),
        ("DELETE", "", None),
        ("GET", "/history", None),
        ("GET", "/contacts", None),
        ("POST", "/contacts", "own-contact"),
        ("DELETE", "/contacts/{contact}", None),
        ("GET", "/assignments", None),
        ("POST", "/assignments", "own-member"),
        ("DELETE", "/assignments/{member}", None),
    ],
)
async def test_another_organisations_account_is_404_on_every_route(
    client: AsyncClient,
    admin: Member,
    globex: Tenant,
    tenants: Tenants,
    method: str,
    suffix: str,
    body: str | dict[str, Any] | None,
) -> None:
    their_contact = await contact(client, globex.admin)
    their_member = await tenants.member(globex)
    theirs = await create(client, globex.admin, primary_contact_id=their_contact)
    await assign(client, globex.admin, theirs, their_member)
    if body == "own-contact":
        body = {"contact_id": await contact(client, admin)}
    elif body == "own-member":
        body = {"member_id": str(admin.id)}
    path = f"/v1/accounts/{theirs['id']}" + suffix.format(contact=their_contact, member=their_member.id)
    r = await client.request(method, path, json=body, headers=admin.headers)
    assert_problem(r, 404, "not-found")
    assert (await get(client, globex.admin, theirs)).json()["version"] == 1


async def test_another_organisations_deleted_account_cannot_be_restored(
    client: AsyncClient, admin: Member, globex: Tenant
) -> None:
    theirs = await create(client, globex.admin)
    await delete(client, globex.admin, theirs)
    assert_problem(await restore(client, admin, theirs), 404, "not-found")
    assert await ids(client, globex.admin, deleted="only") == [theirs["id"]]


async def test_another_organisations_accounts_never_appear_in_lists(
    client: AsyncClient, admin: Member, globex: Tenant
) -> None:
    their_contact = await contact(client, globex.admin)
    await create(
        client, globex.admin, name="Nowak", code="D-1", tags=["vip"], primary_contact_id=their_contact
    )
    await delete(client, globex.admin, await create(client, globex.admin, name="Gone"))
    assert await listed(client, admin, count=True) == {"items": [], "next_cursor": None, "count": 0}
    assert await ids(client, admin, q="nowak") == []
    assert await ids(client, admin, code="D-1") == []
    assert await ids(client, admin, tag="vip") == []
    assert await ids(client, admin, contact_id=their_contact) == []
    assert await ids(client, admin, deleted="only") == []
    assert (await searched(client, admin, q="nowak", count=True))["count"] == 0
    r = await client.get(f"/v1/contacts/{their_contact}/accounts", headers=admin.headers)
    assert_problem(r, 404, "not-found")


async def test_another_organisation_has_its_own_codes(
    client: AsyncClient, admin: Member, globex: Tenant
) -> None:
    await create(client, globex.admin, code="D-1", is_retail_default=True)
    ours = await create(client, admin, code="D-1", is_retail_default=True)
    assert (ours["code"], ours["is_retail_default"]) == ("D-1", True)
    assert [a["is_retail_default"] for a in (await listed(client, globex.admin))["items"]] == [True]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/accounts"),
        ("POST", "/v1/accounts"),
        ("POST", "/v1/accounts/search"),
        ("GET", f"/v1/accounts/{NOBODY}"),
        ("PATCH", f"/v1/accounts/{NOBODY}"),
        ("DELETE", f"/v1/accounts/{NOBODY}"),
        ("GET", f"/v1/accounts/{NOBODY}/history"),
        ("GET", f"/v1/accounts/{NOBODY}/contacts"),
        ("GET", f"/v1/accounts/{NOBODY}/assignments"),
    ],
)
async def test_request_without_token_is_401(client: AsyncClient, method: str, path: str) -> None:
    r = await client.request(method, path, json={"name": "X"} if method != "GET" else None)
    assert_problem(r, 401, "unauthorized")


# --- query counts ----------------------------------------------------------------------------


async def test_listing_sends_as_many_statements_for_50_accounts_as_for_2(
    client: AsyncClient, db: Database, admin: Member
) -> None:
    person = await contact(client, admin)

    async def make(n: int) -> None:
        for i in range(n):
            await create(
                client,
                admin,
                name=f"A{i}",
                primary_contact_id=person,
                sales_rep_codes=[f"R{i}", "X"],
                tags=["vip"],
            )

    await make(2)
    with statements(db) as for_2:
        assert len((await listed(client, admin, limit=200, count=True))["items"]) == 2
    await make(48)
    with statements(db) as for_50:
        assert len((await listed(client, admin, limit=200, count=True))["items"]) == 50
    with statements(db) as searched_50:
        page = await searched(client, admin, q="a", limit=200, count=True)
        assert len(page["items"]) == 50
    assert for_2
    assert len(for_50) == len(for_2)
    assert len(searched_50) == len(for_2)
