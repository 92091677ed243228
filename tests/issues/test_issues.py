"""Issues tried as an administrator, a rep and a customer would: a "Credit Application" type with
a conditional and a money field, a customer filing one on its own account, the rep logging
work, a follower told of a comment, and the form changed under an issue that keeps its own."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from httpx import AsyncClient

from crmapi.events import render
from crmapi.kit.db import Database, bind_org
from crmapi.kit.ids import new_id
from tests import factories
from tests.conversations.test_conversations import PDF, account_of_rep, assign
from tests.documents.erp import debtors, invoice, push
from tests.events.test_webhooks import api, eventually, fast, running
from tests.permissions import api_key, grant, work_as_rep
from tests.support import Member, Tenant, Tenants, assert_problem, error_fields, ok

__all__ = ["api", "fast", "running"]  # fixtures this module uses from the webhooks' tests
TYPES = "/v1/config/issue-types"


async def terms_list(client: AsyncClient, tenant: Tenant) -> str:
    """A lookup list of payment terms: 7, 14 and 30 days."""
    h = tenant.admin.headers
    made = ok(await client.post("/v1/config/lookup-lists", json={"name": "Payment terms"}, headers=h), 201)
    for code, name in (("NET7", "7 days"), ("NET14", "14 days"), ("NET30", "30 days")):
        values = f"/v1/config/lookup-lists/{made['id']}/values"
        ok(await client.post(values, json={"code": code, "name": name}, headers=h), 201)
    list_id: str = made["id"]
    return list_id


def credit_form(terms: str) -> dict[str, Any]:
    return {
        "fields": [
            {
                "key": "requested_limit",
                "label": "Requested limit",
                "type": "money",
                "currency": "PLN",
                "required": True,
                "min": "1000",
                "max": "500000",
            },
            {
                "key": "terms",
                "label": "Payment terms",
                "type": "select",
                "lookup_list_id": terms,
                "required": True,
            },
            {"key": "has_references", "label": "Trade references available", "type": "boolean"},
            {
                "key": "references",
                "label": "Trade references",
                "type": "long_text",
                "required": True,
                "shown_when": {"key": "has_references", "equals": True},
            },
            {"key": "risk_note", "label": "Risk note", "type": "text", "staff_only": True},
        ]
    }


async def credit_application(client: AsyncClient, tenant: Tenant, **extra: Any) -> dict[str, Any]:
    terms = await terms_list(client, tenant)
    body = {
        "name": "Credit Application",
        "customer_submittable": True,
        "follow_on": ["create", "comment"],
        "form": credit_form(terms),
        **extra,
    }
    made: dict[str, Any] = ok(await client.post(TYPES, json=body, headers=tenant.admin.headers), 201)
    return made


async def _when(read: Any, done: Any) -> Any:
    """What `read()` answers once `done` holds of it, else None (for `eventually`)."""
    found = await read()
    return found if done(found) else None


async def inbox(client: AsyncClient, who: Member) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = ok(await client.get("/v1/me/notifications", headers=who.headers))["items"]
    return items


@pytest.mark.committed
async def test_a_customer_files_a_credit_application_the_rep_works_it_and_the_old_form_stays(
    api: AsyncClient, committed_tenants: Tenants, committed_db: Database, running: None
) -> None:
    acme = await committed_tenants.create()
    admin = acme.admin
    rep, stranger = await committed_tenants.member(acme), await committed_tenants.member(acme)
    customer = await committed_tenants.member(acme, kind="customer")
    await work_as_rep(committed_db, acme, rep, "R1")
    account_id = await account_of_rep(api, committed_db, committed_tenants, acme, "R1")
    await assign(api, acme, account_id, customer)
    kind = await credit_application(api, acme)
    assert [f["key"] for f in kind["form"]] == [
        "requested_limit",
        "terms",
        "has_references",
        "references",
        "risk_note",
    ]
    assert kind["form"][1]["options"][2] == {"code": "NET30", "name": "30 days"}
    # The customer's portal reads the form without the staff-only field.
    seen = ok(await api.get(f"{TYPES}/{kind['id']}", headers=customer.headers))
    assert "risk_note" not in [f["key"] for f in seen["form"]]

    # A wrong application: every bad answer named by label and key.
    filing = f"/v1/accounts/{account_id}/issues"
    bad = {
        "type_id": kind["id"],
        "answers": {
            "requested_limit": {"amount": "250", "currency": "EUR"},
            "has_references": True,
            "risk_note": "low",
            "colour": "red",
        },
    }
    refused = await api.post(filing, json=bad, headers=customer.headers)
    assert_problem(refused, 422, "validation-error")
    errors = {e["field"]: e["message"] for e in refused.json()["errors"]}
    assert set(errors) == {
        "body.answers.requested_limit",
        "body.answers.terms",
        "body.answers.references",
        "body.answers.risk_note",
        "body.answers.colour",
    }
    assert errors["body.answers.requested_limit"] == "'Requested limit' (requested_limit) must be in PLN."
    assert errors["body.answers.references"] == "'Trade references' (references) is required."

    answers = {
        "requested_limit": {"amount": "25000.00", "currency": "PLN"},
        "terms": "NET30",
        "has_references": True,
        "references": "Hurtownia Nowak, since 2019",
    }
    filed = ok(
        await api.post(filing, json={"type_id": kind["id"], "answers": answers}, headers=customer.headers),
        201,
    )
    issue = f"/v1/issues/{filed['id']}"
    assert filed["code"] == f"ISS-{filed['number']}" and filed["filed_by_customer"] is True
    assert (filed["subject"], filed["state"], filed["form_version"]) == ("Credit Application", "open", 1)
    assert filed["answers"] == answers

    # The rep of the account sees it and logs 45 minutes; another member sees nothing.
    ok(await api.get(issue, headers=rep.headers))
    assert_problem(await api.get(issue, headers=stranger.headers), 404, "not-found")
    logged = ok(
        await api.post(
            f"{issue}/work-log", json={"minutes": 45, "note": "Checked the references"}, headers=rep.headers
        ),
        201,
    )
    assert logged["minutes"] == 45
    work = ok(await api.get(f"{issue}/work-log", headers=rep.headers))
    assert (work["total_minutes"], work["by_member"]) == (45, {str(rep.id): 45})
    assert ok(await api.get(issue, headers=rep.headers))["logged_minutes"] == 45
    assert_problem(
        await api.post(f"{issue}/work-log", json={"minutes": 5}, headers=customer.headers), 403, "staff-only"
    )

    # The customer follows it (it filed it): the logged work and the rep's comments tell it, an
    # internal one neither tells nor shows.
    assert [f["member_id"] for f in ok(await api.get(f"{issue}/followers", headers=rep.headers))] == [
        str(customer.id)
    ]
    ok(
        await api.post(f"{issue}/comments", json={"body": "Approved up to 20,000 PLN."}, headers=rep.headers),
        201,
    )
    ok(
        await api.post(
            f"{issue}/comments", json={"body": "Watch their DSO.", "internal": True}, headers=rep.headers
        ),
        201,
    )

    ok(await api.post(f"{issue}/comments", json={"body": "Limit set."}, headers=rep.headers), 201)

    async def told() -> list[str]:
        notes = [n for n in await inbox(api, customer) if n.get("record_id") == filed["id"]]
        assert {n["category"] for n in notes} <= {"ISSUES"}
        return sorted(n["type"] for n in notes)

    # Events are told in commit order: once the last comment is, the internal one was passed over.
    heard = await eventually(lambda: _when(told, lambda types: types.count("issue.commented") >= 2))
    assert heard == ["issue.commented", "issue.commented", "issue.work_logged"]
    shown = ok(await api.get(f"{issue}/comments", headers=customer.headers))["items"]
    assert [c["body"] for c in shown] == ["Approved up to 20,000 PLN.", "Limit set."]
    assert len(ok(await api.get(f"{issue}/comments", headers=rep.headers))["items"]) == 3

    # The administrator changes the form: the old issue keeps its answers and labels.
    changed = credit_form(await terms_list(api, acme))
    changed["fields"][0]["label"] = "Credit limit wanted"
    changed["fields"] = changed["fields"][:2]
    updated = ok(await api.patch(f"{TYPES}/{kind['id']}", json={"form": changed}, headers=admin.headers))
    assert updated["form_version"] == 2
    again = ok(await api.get(issue, headers=rep.headers))
    assert again["form_version"] == 1 and again["answers"] == answers
    assert again["form"][0]["label"] == "Requested limit"
    assert [f["key"] for f in again["form"]] == [
        "requested_limit",
        "terms",
        "has_references",
        "references",
        "risk_note",
    ]
    versions = ok(await api.get(f"{TYPES}/{kind['id']}/forms", headers=admin.headers))
    assert [v["version"] for v in versions] == [2, 1]

    # A customer no longer assigned to the account neither reads the issue nor hears of it.
    gone = await api.delete(f"/v1/accounts/{account_id}/assignments/{customer.id}", headers=admin.headers)
    assert gone.status_code == 204, gone.text
    assert (await api.post(f"{issue}/followers", json={}, headers=admin.headers)).status_code == 204
    ok(await api.post(f"{issue}/comments", json={"body": "Limit raised."}, headers=rep.headers), 201)

    async def admin_told() -> list[dict[str, Any]]:
        return [n for n in await inbox(api, admin) if n.get("record_id") == filed["id"]]

    assert await eventually(admin_told), "the administrator follows it now"
    assert (await told()).count("issue.commented") == 2
    assert_problem(await api.get(issue, headers=customer.headers), 404, "not-found")


async def test_view_any_issues_sees_every_account_and_others_get_404(
    client: AsyncClient, db: Database, tenants: Tenants, acme: Tenant, globex: Tenant
) -> None:
    kind = await credit_application(client, acme)
    account = ok(
        await client.post("/v1/accounts", json={"name": "Kowalski"}, headers=acme.admin.headers), 201
    )
    answers = {"requested_limit": {"amount": "5000", "currency": "PLN"}, "terms": "NET7"}
    filed = ok(
        await client.post(
            f"/v1/accounts/{account['id']}/issues",
            json={"type_id": kind["id"], "answers": answers},
            headers=acme.admin.headers,
        ),
        201,
    )
    issue = f"/v1/issues/{filed['id']}"
    plain = await tenants.member(acme)
    assert_problem(await client.get(issue, headers=plain.headers), 404, "not-found")
    assert ok(await client.get("/v1/issues", headers=plain.headers))["items"] == []
    assert_problem(await client.get(issue, headers=globex.admin.headers), 404, "not-found")
    viewer = await tenants.member(acme)
    await grant(db, acme, viewer, ("issues.view_any",))
    assert ok(await client.get(issue, headers=viewer.headers))["id"] == filed["id"]
    assert [i["id"] for i in ok(await client.get("/v1/issues", headers=viewer.headers))["items"]] == [
        filed["id"]
    ]
    # Seeing is not changing: the viewer neither edits nor moves it.
    assert_problem(await client.post(f"{issue}/start", headers=viewer.headers), 403, "not-owner")
    # A member without "Create Issues" cannot file on an account it does not reach.
    refused = await client.post(
        f"/v1/accounts/{account['id']}/issues", json={"type_id": kind["id"]}, headers=plain.headers
    )
    assert_problem(refused, 404, "not-found")
    assert error_fields(
        await client.post(
            f"/v1/accounts/{account['id']}/issues",
            json={"type_id": kind["id"], "answers": {"terms": "NET99"}},
            headers=acme.admin.headers,
        )
    ) == {"body.answers.requested_limit", "body.answers.terms"}


async def test_a_types_issues_filter_by_answers_and_page_by_keyset(client: AsyncClient, acme: Tenant) -> None:
    kind = await credit_application(client, acme)
    account = ok(
        await client.post("/v1/accounts", json={"name": "Kowalski"}, headers=acme.admin.headers), 201
    )
    made = []
    for terms, amount in (("NET7", "5000"), ("NET30", "9000"), ("NET7", "12000"), ("NET7", "20000")):
        body = {
            "type_id": kind["id"],
            "answers": {"requested_limit": {"amount": amount, "currency": "PLN"}, "terms": terms},
        }
        made.append(
            ok(
                await client.post(
                    f"/v1/accounts/{account['id']}/issues", json=body, headers=acme.admin.headers
                ),
                201,
            )
        )
    net7 = [m["id"] for m in made if m["answers"]["terms"] == "NET7"]
    pages, cursor = [], None
    while True:
        params = {
            "type_id": kind["id"],
            "answer.terms": "NET7",
            "limit": "2",
            **({"cursor": cursor} if cursor else {}),
        }
        page = ok(await client.get("/v1/issues", params=params, headers=acme.admin.headers))
        pages.append([i["id"] for i in page["items"]])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert pages == [net7[:2], net7[2:]]  # in filing order, two pages by keyset
    found = ok(
        await client.get(
            "/v1/issues",
            params={"type_id": kind["id"], "answer.has_references": "false"},
            headers=acme.admin.headers,
        )
    )
    assert found["items"] == []
    h = acme.admin.headers
    assert error_fields(await client.get("/v1/issues", params={"answer.terms": "NET7"}, headers=h)) == {
        "query.type_id"
    }
    for name in ("answer.colour", "answer.requested_limit", "answer.terms.from"):
        assert error_fields(
            await client.get("/v1/issues", params={"type_id": kind["id"], name: "1"}, headers=h)
        ) == {f"query.{name}"}


async def test_answers_name_a_contact_an_invoice_of_the_account_and_an_upload(
    client: AsyncClient, db: Database, tenants: Tenants, acme: Tenant
) -> None:
    h = acme.admin.headers
    erp = await api_key(db, tenants, acme, ["integrations.push"])
    accounts = await debtors(client, erp, "D/1", "D/2")
    pushed = await push(client, "invoices", erp, [invoice("FV/1", "D/1"), invoice("FV/2", "D/2")])
    mine, theirs = (r["id"] for r in pushed["results"])
    person = await factories.contact(client, acme.admin, last_name="Nowak")
    fields = [
        {"key": "who", "label": "Contact", "type": "contact", "required": True},
        {"key": "invoice", "label": "Invoice", "type": "document"},
        {"key": "photo", "label": "Photo", "type": "file"},
    ]
    kind = ok(
        await client.post(TYPES, json={"name": "Damage claim", "form": {"fields": fields}}, headers=h), 201
    )
    upload = ok(
        await client.post("/v1/attachments", files={"file": ("note.pdf", PDF, "application/pdf")}, headers=h),
        201,
    )
    filing = f"/v1/accounts/{accounts['D/1']}/issues"
    wrong = {"who": str(new_id()), "invoice": theirs, "photo": str(new_id())}
    assert error_fields(
        await client.post(filing, json={"type_id": kind["id"], "answers": wrong}, headers=h)
    ) == {
        "body.answers.who",
        "body.answers.invoice",
    }
    bad_upload = {"who": person["id"], "photo": str(new_id())}
    assert error_fields(
        await client.post(filing, json={"type_id": kind["id"], "answers": bad_upload}, headers=h)
    ) == {"body.answers.photo"}
    answers = {"who": person["id"], "invoice": mine, "photo": upload["id"]}
    filed = ok(await client.post(filing, json={"type_id": kind["id"], "answers": answers}, headers=h), 201)
    assert filed["answers"] == answers
    # The file now belongs to the issue: read by whoever sees the issue, attached once.
    assert ok(await client.get(f"/v1/attachments/{upload['id']}", headers=h))["id"] == upload["id"]
    again = await client.post(filing, json={"type_id": kind["id"], "answers": answers}, headers=h)
    assert error_fields(again) == {"body.answers.photo"}
    stranger = await tenants.member(acme)
    assert_problem(
        await client.get(f"/v1/attachments/{upload['id']}", headers=stranger.headers), 404, "not-found"
    )


async def test_a_webhook_carries_the_issue_as_staff_read_it(
    client: AsyncClient, db: Database, acme: Tenant
) -> None:
    kind = await credit_application(client, acme)
    account = ok(
        await client.post("/v1/accounts", json={"name": "Kowalski"}, headers=acme.admin.headers), 201
    )
    answers = {"requested_limit": {"amount": "5000", "currency": "PLN"}, "terms": "NET7", "risk_note": "low"}
    filed = ok(
        await client.post(
            f"/v1/accounts/{account['id']}/issues",
            json={"type_id": kind["id"], "answers": answers},
            headers=acme.admin.headers,
        ),
        201,
    )
    async with db.sessions() as session:
        await bind_org(session, acme.org_id)
        found = await render.records(session, [("issue", UUID(filed["id"]))])
    data = found["issue", UUID(filed["id"])]
    assert (data["code"], data["answers"], data["logged_minutes"]) == (filed["code"], answers, 0)
    assert "form" not in data
