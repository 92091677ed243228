"""Input that is refused wherever it is accepted: malformed e-mail addresses, currencies outside
ISO 4217, negative amounts, a sales-rep code given twice; each 422 names the field once.
Values stored before these rules keep reading."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import update

from crmapi.accounts.models import Account
from crmapi.cli import main
from crmapi.contacts.models import Contact
from crmapi.kit.db import Database, bind_org
from crmapi.leads.models import Lead
from tests.permissions import api_key
from tests.support import Tenant, Tenants, error_fields

BAD_EMAILS = ["a@b,c.d", '"x"@y..z', "anna@-bad-.com", "anna@localhost", "anna@@example.com"]
BAD_CURRENCIES = ["ABC", "XXX", "XTS", "pln", "EURO"]


@pytest.fixture
async def erp(db: Database, tenants: Tenants, acme: Tenant) -> dict[str, str]:
    return await api_key(db, tenants, acme, ["integrations.push"])


async def push(
    client: AsyncClient, feed: str, headers: dict[str, str], record: dict[str, Any]
) -> dict[str, Any]:
    """The one record's outcome in the ERP feed's answer."""
    r = await client.post(f"/v1/integrations/erp/{feed}", json={"records": [record]}, headers=headers)
    assert r.status_code == 200, r.text
    outcome: dict[str, Any] = r.json()["results"][0]
    return outcome


# --- e-mail addresses ------------------------------------------------------------------------


def email_bodies(address: str) -> list[tuple[str, str, dict[str, Any], str]]:
    """(method, path, body, field) of every request that takes an e-mail address."""
    return [
        (
            "POST",
            "/v1/contacts",
            {"kind": "person", "last_name": "Nowak", "emails": [{"address": address}]},
            "body.emails.0.address",
        ),
        ("POST", "/v1/leads", {"description": "Wants a shop", "email": address}, "body.email"),
        ("POST", "/v1/members", {"email": address, "password": "s3cret-pass", "kind": "staff"}, "body.email"),
        ("POST", "/v1/sales-reps", {"code": "PH01", "name": "Anna", "email": address}, "body.email"),
    ]


@pytest.mark.parametrize("address", BAD_EMAILS)
async def test_a_malformed_email_is_422_naming_the_field_everywhere(
    client: AsyncClient, acme: Tenant, address: str
) -> None:
    for method, path, body, field in email_bodies(address):
        r = await client.request(method, path, json=body, headers=acme.admin.headers)
        assert field in error_fields(r), (path, r.text)


@pytest.mark.parametrize("address", BAD_EMAILS)
async def test_a_malformed_email_is_the_erp_records_error(
    client: AsyncClient, erp: dict[str, str], address: str
) -> None:
    outcome = await push(client, "sales-reps", erp, {"code": "PH01", "name": "Anna", "email": address})
    assert (outcome["outcome"], outcome["reason"]) == ("error", "invalid")
    assert [e["field"] for e in outcome["errors"]] == ["body.records.0.email"]


async def test_an_email_is_kept_in_lower_case_and_may_be_internationalised(
    client: AsyncClient, acme: Tenant
) -> None:
    emails = [{"address": "Anna.Nowak@Example.COM"}, {"address": "zoë@bücher.de"}]
    r = await client.post(
        "/v1/contacts",
        json={"kind": "person", "last_name": "Nowak", "emails": emails},
        headers=acme.admin.headers,
    )
    assert r.status_code == 201, r.text
    assert [e["address"] for e in r.json()["emails"]] == ["anna.nowak@example.com", "zoë@bücher.de"]


def test_create_org_refuses_a_malformed_admin_email_before_touching_the_database(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["create-org", "--name", "X", "--admin-email", "a@b,c.d", "--admin-password", "secret-123"]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "--admin-email" in capsys.readouterr().err


def test_create_org_refuses_a_currency_outside_iso_4217(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["create-org", "--name", "X", "--admin-email", "a@b.pl", "--admin-password", "x" * 10]
    with pytest.raises(SystemExit):
        main([*argv, "--currency", "ABC"])
    assert "--currency" in capsys.readouterr().err


# --- currencies and amounts ------------------------------------------------------------------


@pytest.mark.parametrize("currency", BAD_CURRENCIES)
async def test_a_currency_outside_iso_4217_is_422_everywhere(
    client: AsyncClient, acme: Tenant, currency: str
) -> None:
    money = {"amount": "10", "currency": currency}
    requests = [
        ("POST", "/v1/accounts", {"name": "Nowak", "credit_limit": money}, "body.credit_limit.currency"),
        ("POST", "/v1/opportunities", {"name": "Deal", "amount": money}, "body.amount.currency"),
        ("POST", "/v1/opportunities", {"name": "Deal", "budget": money}, "body.budget.currency"),
        ("PATCH", "/v1/organisation", {"default_currency": currency}, "body.default_currency"),
    ]
    for method, path, body, field in requests:
        r = await client.request(method, path, json=body, headers=acme.admin.headers)
        assert field in error_fields(r), (path, r.text)


@pytest.mark.parametrize("currency", BAD_CURRENCIES)
async def test_a_currency_outside_iso_4217_is_the_erp_records_error(
    client: AsyncClient, erp: dict[str, str], currency: str
) -> None:
    record = {"code": "D-1", "name": "Nowak", "credit_limit": {"amount": "10", "currency": currency}}
    outcome = await push(client, "debtors", erp, record)
    assert [e["field"] for e in outcome["errors"]] == ["body.records.0.credit_limit.currency"]


async def test_iso_4217_currencies_are_accepted(client: AsyncClient, acme: Tenant) -> None:
    for currency in ("PLN", "JPY", "CHF", "XAU"):
        r = await client.post(
            "/v1/accounts",
            json={"name": f"Nowak {currency}", "credit_limit": {"amount": "10", "currency": currency}},
            headers=acme.admin.headers,
        )
        assert r.status_code == 201, r.text
        assert r.json()["credit_limit"]["currency"] == currency


async def test_a_negative_amount_is_422(client: AsyncClient, acme: Tenant) -> None:
    money = {"amount": "-0.01", "currency": "PLN"}
    requests = [
        ("/v1/accounts", {"name": "Nowak", "credit_limit": money}, "body.credit_limit.amount"),
        ("/v1/opportunities", {"name": "Deal", "amount": money}, "body.amount.amount"),
        ("/v1/opportunities", {"name": "Deal", "budget": money}, "body.budget.amount"),
    ]
    for path, body, field in requests:
        r = await client.post(path, json=body, headers=acme.admin.headers)
        assert field in error_fields(r), (path, r.text)


async def test_a_negative_credit_limit_is_the_erp_records_error(
    client: AsyncClient, erp: dict[str, str]
) -> None:
    record = {"code": "D-1", "name": "Nowak", "credit_limit": {"amount": "-1"}}
    outcome = await push(client, "debtors", erp, record)
    assert [e["field"] for e in outcome["errors"]] == ["body.records.0.credit_limit.amount"]


async def test_a_zero_credit_limit_is_accepted(client: AsyncClient, acme: Tenant) -> None:
    r = await client.post(
        "/v1/accounts", json={"name": "Nowak", "credit_limit": {"amount": "0"}}, headers=acme.admin.headers
    )
    assert r.status_code == 201, r.text


# --- sales-rep codes -------------------------------------------------------------------------


async def test_a_sales_rep_code_repeated_in_an_erp_record_is_that_records_error(
    client: AsyncClient, erp: dict[str, str]
) -> None:
    await push(client, "sales-reps", erp, {"code": "PH01", "name": "Anna"})
    r = await client.post(
        "/v1/integrations/erp/debtors",
        json={
            "records": [
                {"code": "D-1", "name": "Nowak", "sales_rep_codes": ["PH01", "PH01"]},
                {"code": "D-2", "name": "Kowal", "sales_rep_codes": ["PH01"]},
            ]
        },
        headers=erp,
    )
    first, second = r.json()["results"]
    assert (first["outcome"], first["reason"]) == ("error", "invalid")
    assert [e["field"] for e in first["errors"]] == ["body.records.0.sales_rep_codes"]
    assert "PH01" in first["errors"][0]["message"]
    assert second["outcome"] == "created"


# --- each error once -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/acceptances/short", "/v1/feedback-links/short"])
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_too_short_link_token_is_one_error(client: AsyncClient, path: str, method: str) -> None:
    r = await client.request(method, path, json={} if method == "POST" else None)
    errors = [e for e in r.json()["errors"] if e["field"] == "path.token"]
    assert len(errors) == 1, r.text
    assert r.json()["detail"].count("path.token") == 1


# --- what was stored before keeps reading ----------------------------------------------------


async def test_values_stored_before_these_rules_still_read(
    client: AsyncClient, db: Database, acme: Tenant
) -> None:
    headers = acme.admin.headers
    contact = (
        await client.post("/v1/contacts", json={"kind": "person", "last_name": "Nowak"}, headers=headers)
    ).json()
    account = (await client.post("/v1/accounts", json={"name": "Nowak"}, headers=headers)).json()
    async with db.sessions() as session:
        await bind_org(session, acme.org_id)
        await session.execute(
            update(Contact).where(Contact.id == contact["id"]).values(emails=[{"address": "a@b,c.d"}])
        )
        await session.execute(
            update(Account)
            .where(Account.id == account["id"])
            .values(credit_limit_amount=-5, credit_limit_currency="ABC")
        )
        await session.commit()
    r = await client.get(f"/v1/contacts/{contact['id']}", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["emails"][0]["address"] == "a@b,c.d"
    r = await client.get(f"/v1/accounts/{account['id']}", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["credit_limit"] == {"amount": "-5.0000", "currency": "ABC"}
    assert (await client.get("/v1/accounts", headers=headers)).status_code == 200


async def test_a_lead_whose_stored_email_is_now_refused_still_converts(
    client: AsyncClient, db: Database, acme: Tenant
) -> None:
    headers = acme.admin.headers
    body = {"description": "Wants a shop", "last_name": "Nowak", "email": "anna@nowak.example"}
    lead = (await client.post("/v1/leads", json=body, headers=headers)).json()
    async with db.sessions() as session:
        await bind_org(session, acme.org_id)
        await session.execute(update(Lead).where(Lead.id == lead["id"]).values(email="anna@-bad-.com"))
        await session.commit()
    r = await client.post(f"/v1/leads/{lead['id']}/convert", headers=headers)
    assert r.status_code == 200, r.text
    contact = (await client.get(f"/v1/contacts/{r.json()['contact_id']}", headers=headers)).json()
    assert (contact["display_name"], contact["emails"]) == ("Nowak", [])
