"""Sign-in, sessions, the caller, members and the organisation, through the HTTP API."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import update

from crmapi.identity import security
from crmapi.identity.models import AuthSession
from crmapi.kit.db import Database, bind_org
from tests.support import PASSWORD, Member, Tenant, Tenants, assert_problem, error_fields

NEW_PASSWORD = "another-password-456"
MB = 1024 * 1024


async def sign_in(
    client: AsyncClient, email: str, password: str = PASSWORD, organisation: UUID | None = None
) -> Response:
    form = {"username": email, "password": password}
    if organisation is not None:
        form["organisation"] = str(organisation)
    return await client.post("/v1/auth/token", data=form)


async def tokens(client: AsyncClient, email: str, organisation: UUID | None = None) -> dict[str, Any]:
    r = await sign_in(client, email, organisation=organisation)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def add_member(client: AsyncClient, tenant: Tenant, **body: Any) -> Response:
    body.setdefault("password", PASSWORD)
    return await client.post("/v1/members", json=body, headers=tenant.admin.headers)


# --- /v1/auth/token ---------------------------------------------------------------------------


async def test_sign_in_gives_bearer_tokens_valid_for_an_hour(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    r = await sign_in(client, acme.admin.email)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"]
    assert body["refresh_token"]


async def test_access_token_from_sign_in_works_on_me(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    access = (await tokens(client, acme.admin.email))["access_token"]
    me = await client.get("/v1/me", headers=bearer(access))
    assert me.status_code == 200, me.text
    assert me.json()["member_id"] == str(acme.admin.id)
    assert me.json()["organisation_id"] == str(acme.org_id)


async def test_an_expired_access_token_is_refused(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    expired = tenants.keys.access_token(
        user_id=uuid4(), org_id=acme.org_id, member_id=acme.admin.id, session_id=uuid4(), minutes=-1
    )
    assert_problem(await client.get("/v1/me", headers=bearer(expired)), 401, "token-expired")


async def test_a_token_that_worked_is_refused_once_it_expires(
    client: AsyncClient, tenants: Tenants, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = await tenants.create()
    access = (await tokens(client, acme.admin.email))["access_token"]
    assert (await client.get("/v1/me", headers=bearer(access))).status_code == 200
    later = time.time() + 2 * 3600
    monkeypatch.setattr(security, "time", SimpleNamespace(time=lambda: later))
    assert_problem(await client.get("/v1/me", headers=bearer(access)), 401, "token-expired")


async def test_a_forged_token_is_refused_even_after_the_real_one_was_used(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme = await tenants.create()
    access = (await tokens(client, acme.admin.email))["access_token"]
    assert (await client.get("/v1/me", headers=bearer(access))).status_code == 200
    head, claims, signature = access.split(".")
    forged = f"{head}.{claims}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    assert_problem(await client.get("/v1/me", headers=bearer(forged)), 401, "invalid-token")


async def test_sign_in_ignores_the_case_of_the_email(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    r = await sign_in(client, acme.admin.email.upper())
    assert r.status_code == 200, r.text


async def test_wrong_password_is_refused(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    r = await sign_in(client, acme.admin.email, password="not-the-password")
    assert_problem(r, 401, "invalid-credentials")


async def test_unknown_email_is_refused_like_a_wrong_password(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    wrong_password = await sign_in(client, acme.admin.email, password="not-the-password")
    unknown_email = await sign_in(client, "nobody@nowhere.test")
    assert_problem(unknown_email, 401, "invalid-credentials")
    assert unknown_email.json()["detail"] == wrong_password.json()["detail"]


async def test_sign_in_without_password_names_the_missing_field(client: AsyncClient) -> None:
    r = await client.post("/v1/auth/token", data={"username": "someone@example.test"})
    assert "body.password" in error_fields(r)


async def test_user_of_two_organisations_must_choose_one(client: AsyncClient, tenants: Tenants) -> None:
    acme, globex = await tenants.create("Acme"), await tenants.create("Globex")
    await tenants.member(globex, email=acme.admin.email)
    r = await sign_in(client, acme.admin.email)
    assert_problem(r, 400, "organisation-required")


async def own_password(client: AsyncClient, member: Member) -> None:
    """The member chooses its own password (the same text): it then opens all its organisations."""
    body = {"current_password": PASSWORD, "new_password": PASSWORD}
    r = await client.post("/v1/me/password", json=body, headers=member.headers)
    assert r.status_code == 204, r.text


async def test_user_of_two_organisations_signs_in_to_the_chosen_one(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme, globex = await tenants.create("Acme"), await tenants.create("Globex")
    in_globex = await tenants.member(globex, email=acme.admin.email)
    await own_password(client, acme.admin)
    access = (await tokens(client, acme.admin.email, organisation=globex.org_id))["access_token"]
    me = (await client.get("/v1/me", headers=bearer(access))).json()
    assert me["organisation_id"] == str(globex.org_id)
    assert me["member_id"] == str(in_globex.id)


async def test_sign_in_with_a_malformed_organisation_names_the_field(client: AsyncClient) -> None:
    form = {"username": "someone@example.test", "password": PASSWORD, "organisation": "acme"}
    r = await client.post("/v1/auth/token", data=form)
    assert "body.organisation" in error_fields(r)


async def test_sign_in_to_an_organisation_the_user_is_not_in_is_refused(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme, globex = await tenants.create("Acme"), await tenants.create("Globex")
    r = await sign_in(client, acme.admin.email, organisation=globex.org_id)
    assert_problem(r, 401, "no-membership")


async def test_suspended_member_cannot_sign_in(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    ola = await tenants.member(acme)
    suspended = await client.patch(
        f"/v1/members/{ola.id}", json={"status": "suspended"}, headers=acme.admin.headers
    )
    assert suspended.status_code == 200, suspended.text
    assert_problem(await sign_in(client, ola.email), 401, "no-membership")


async def test_suspension_in_one_organisation_leaves_the_other_to_sign_in(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme, globex = await tenants.create("Acme"), await tenants.create("Globex")
    ola = await tenants.member(acme)
    await tenants.member(globex, email=ola.email)
    await own_password(client, ola)
    await client.patch(f"/v1/members/{ola.id}", json={"status": "suspended"}, headers=acme.admin.headers)
    access = (await tokens(client, ola.email))["access_token"]
    me = (await client.get("/v1/me", headers=bearer(access))).json()
    assert me["organisation_id"] == str(globex.org_id)


async def test_administrator_of_one_organisation_is_plain_staff_in_another(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme, globex = await tenants.create("Acme"), await tenants.create("Globex")
    await tenants.member(globex, email=acme.admin.email)
    await own_password(client, acme.admin)
    access = (await tokens(client, acme.admin.email, organisation=globex.org_id))["access_token"]
    me = (await client.get("/v1/me", headers=bearer(access))).json()
    assert "org.admin" not in me["capabilities"]


async def test_reactivated_member_signs_in_again(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    ola = await tenants.member(acme)
    url = f"/v1/members/{ola.id}"
    await client.patch(url, json={"status": "suspended"}, headers=acme.admin.headers)
    await client.patch(url, json={"status": "active"}, headers=acme.admin.headers)
    r = await sign_in(client, ola.email)
    assert r.status_code == 200, r.text


# --- /v1/auth/refresh -------------------------------------------------------------------------


async def test_refresh_gives_new_tokens_that_work(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    first = await tokens(client, acme.admin.email)
    r = await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200, r.text
    renewed = r.json()
    assert renewed["refresh_token"] != first["refresh_token"]
    assert renewed["expires_in"] == 3600
    me = await client.get("/v1/me", headers=bearer(renewed["access_token"]))
    assert me.status_code == 200, me.text


async def test_rotated_refresh_token_keeps_working(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    refresh = (await tokens(client, acme.admin.email))["refresh_token"]
    for _ in range(3):
        r = await client.post("/v1/auth/refresh", json={"refresh_token": refresh})
        assert r.status_code == 200, r.text
        refresh = r.json()["refresh_token"]


@pytest.mark.parametrize(
    "garbage",
    [
        "garbage",
        "not.a.token",
        "0190f000-0000-7000-8000-000000000000.0190f000-0000-7000-8000-000000000001.secret",
    ],
)
async def test_garbage_refresh_token_is_refused(client: AsyncClient, garbage: str) -> None:
    r = await client.post("/v1/auth/refresh", json={"refresh_token": garbage})
    assert_problem(r, 401, "invalid-refresh-token")


async def test_refresh_token_with_a_wrong_secret_is_refused(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    refresh = (await tokens(client, acme.admin.email))["refresh_token"]
    forged = refresh.rsplit(".", 1)[0] + ".not-the-secret"
    r = await client.post("/v1/auth/refresh", json={"refresh_token": forged})
    assert_problem(r, 401, "invalid-refresh-token")


async def test_suspended_member_cannot_refresh(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    ola = await tenants.member(acme)
    refresh = (await tokens(client, ola.email))["refresh_token"]
    await client.patch(f"/v1/members/{ola.id}", json={"status": "suspended"}, headers=acme.admin.headers)
    r = await client.post("/v1/auth/refresh", json={"refresh_token": refresh})
    assert_problem(r, 401, "invalid-refresh-token")


# --- /v1/auth/logout --------------------------------------------------------------------------


async def test_logout_answers_no_content(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    access = (await tokens(client, acme.admin.email))["access_token"]
    r = await client.post("/v1/auth/logout", headers=bearer(access))
    assert r.status_code == 204
    assert r.content == b""


async def test_access_token_is_refused_after_logout(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    access = (await tokens(client, acme.admin.email))["access_token"]
    await client.post("/v1/auth/logout", headers=bearer(access))
    r = await client.get("/v1/me", headers=bearer(access))
    assert_problem(r, 401, "session-ended")


async def test_refresh_token_is_refused_after_logout(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    session = await tokens(client, acme.admin.email)
    await client.post("/v1/auth/logout", headers=bearer(session["access_token"]))
    r = await client.post("/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert_problem(r, 401, "invalid-refresh-token")


async def test_logout_ends_only_the_current_session(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    laptop = (await tokens(client, acme.admin.email))["access_token"]
    phone = (await tokens(client, acme.admin.email))["access_token"]
    await client.post("/v1/auth/logout", headers=bearer(laptop))
    assert (await client.get("/v1/me", headers=bearer(phone))).status_code == 200


# --- bearer tokens ----------------------------------------------------------------------------


async def test_request_without_token_asks_for_a_bearer_token(client: AsyncClient) -> None:
    r = await client.get("/v1/me")
    assert_problem(r, 401, "unauthorized")
    assert r.headers["www-authenticate"] == "Bearer"


async def test_tampered_access_token_is_refused(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    access = (await tokens(client, acme.admin.email))["access_token"]
    head, payload, signature = access.split(".")
    tampered = f"{head}.{payload}.{signature[::-1]}"
    r = await client.get("/v1/me", headers=bearer(tampered))
    assert_problem(r, 401, "invalid-token")


# --- /v1/me -----------------------------------------------------------------------------------


async def test_me_shows_an_administrator(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    me = (await client.get("/v1/me", headers=acme.admin.headers)).json()
    assert me["kind"] == "staff"
    assert me["member_id"] == str(acme.admin.id)
    assert me["api_key_id"] is None
    assert "org.admin" in me["capabilities"]


async def test_me_shows_a_staff_member_can_create_contacts_but_not_administer(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme = await tenants.create()
    ola = await tenants.member(acme, kind="staff")
    me = (await client.get("/v1/me", headers=ola.headers)).json()
    assert me["kind"] == "staff"
    assert me["member_id"] == str(ola.id)
    assert "contacts.create" in me["capabilities"]
    assert "org.admin" not in me["capabilities"]


async def test_me_shows_a_customer_has_no_capabilities(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    jan = await tenants.member(acme, kind="customer")
    me = (await client.get("/v1/me", headers=jan.headers)).json()
    assert me["kind"] == "customer"
    assert me["member_id"] == str(jan.id)
    assert me["capabilities"] == []


# --- /v1/members: adding ----------------------------------------------------------------------


async def test_admin_adds_a_staff_member(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    r = await add_member(client, acme, email="Ola@Example.test", kind="staff", time_zone="Europe/Warsaw")
    assert r.status_code == 201, r.text
    member = r.json()
    assert r.headers["location"] == f"/v1/members/{member['id']}"
    assert r.headers["etag"] == '"1"'
    assert member["email"] == "ola@example.test"
    assert (member["kind"], member["status"], member["time_zone"]) == ("staff", "active", "Europe/Warsaw")
    assert "password" not in member


async def test_added_member_signs_in_with_the_given_password(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    await add_member(client, acme, email="ola@example.test", password=NEW_PASSWORD)
    r = await sign_in(client, "ola@example.test", password=NEW_PASSWORD)
    assert r.status_code == 200, r.text


async def test_existing_user_added_elsewhere_keeps_their_password(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme, globex = await tenants.create("Acme"), await tenants.create("Globex")
    added = await add_member(client, globex, email=acme.admin.email, password=NEW_PASSWORD)
    assert added.status_code == 201, added.text
    new = await sign_in(client, acme.admin.email, password=NEW_PASSWORD, organisation=globex.org_id)
    assert_problem(new, 401, "invalid-credentials")


async def test_a_password_an_administrator_chose_opens_only_that_organisation(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme, globex = await tenants.create("Acme"), await tenants.create("Globex")
    # Acme's administrator makes Ola's account and so knows her password...
    ola = await tenants.member(acme, email="ola@example.test")
    await tenants.member(globex, email="ola@example.test")
    # ...which must not open Globex, where Ola also works.
    r = await sign_in(client, "ola@example.test", organisation=globex.org_id)
    assert_problem(r, 401, "password-not-yours")
    assert (await sign_in(client, "ola@example.test", organisation=acme.org_id)).status_code == 200
    # Once Ola chooses her own, it opens both, and the old one neither.
    wrong = {"current_password": "not-it-at-all", "new_password": NEW_PASSWORD}
    assert "body.current_password" in error_fields(
        await client.post("/v1/me/password", json=wrong, headers=ola.headers)
    )
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert (await client.post("/v1/me/password", json=body, headers=ola.headers)).status_code == 204
    for org in (acme, globex):
        r = await sign_in(client, "ola@example.test", password=NEW_PASSWORD, organisation=org.org_id)
        assert r.status_code == 200, r.text
    assert_problem(
        await sign_in(client, "ola@example.test", organisation=acme.org_id), 401, "invalid-credentials"
    )


async def test_existing_user_can_be_added_without_a_password(client: AsyncClient, tenants: Tenants) -> None:
    acme, globex = await tenants.create("Acme"), await tenants.create("Globex")
    r = await client.post("/v1/members", json={"email": acme.admin.email}, headers=globex.admin.headers)
    assert r.status_code == 201, r.text


async def test_adding_the_same_email_twice_conflicts(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    await add_member(client, acme, email="ola@example.test")
    r = await add_member(client, acme, email="OLA@example.test")
    assert_problem(r, 409, "member-exists")


async def test_new_email_without_password_names_body_password(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    r = await client.post("/v1/members", json={"email": "new@example.test"}, headers=acme.admin.headers)
    assert error_fields(r) == {"body.password"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-email"}, "body.email"),
        ({"time_zone": "Mars/Olympus"}, "body.time_zone"),
        ({"kind": "admin"}, "body.kind"),
        ({"password": "short"}, "body.password"),
        ({"role": "owner"}, "body.role"),
    ],
)
async def test_invalid_member_is_refused_naming_the_field(
    client: AsyncClient, tenants: Tenants, change: dict[str, str], field: str
) -> None:
    acme = await tenants.create()
    body = {"email": "ola@example.test", "password": PASSWORD, **change}
    r = await client.post("/v1/members", json=body, headers=acme.admin.headers)
    assert field in error_fields(r)


# --- /v1/members: reading ---------------------------------------------------------------------


async def test_members_are_listed_page_by_page(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    ola, jan = await tenants.member(acme), await tenants.member(acme, kind="customer")
    first = (await client.get("/v1/members?limit=2", headers=acme.admin.headers)).json()
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    second = (
        await client.get(
            "/v1/members", params={"limit": 2, "cursor": first["next_cursor"]}, headers=acme.admin.headers
        )
    ).json()
    assert second["next_cursor"] is None
    seen = [m["id"] for m in first["items"] + second["items"]]
    assert sorted(seen) == sorted(str(m) for m in (acme.admin.id, ola.id, jan.id))


async def test_members_can_be_filtered_by_kind(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    await tenants.member(acme, kind="staff")
    jan = await tenants.member(acme, kind="customer")
    r = await client.get("/v1/members?kind=customer", headers=acme.admin.headers)
    assert [m["email"] for m in r.json()["items"]] == [jan.email]


async def test_members_can_be_filtered_by_status(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    ola = await tenants.member(acme)
    await tenants.member(acme)
    await client.patch(f"/v1/members/{ola.id}", json={"status": "suspended"}, headers=acme.admin.headers)
    r = await client.get("/v1/members?status=suspended", headers=acme.admin.headers)
    assert [m["id"] for m in r.json()["items"]] == [str(ola.id)]


async def test_member_list_returns_only_the_asked_fields(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    r = await client.get("/v1/members?fields=email", headers=acme.admin.headers)
    assert r.json()["items"] == [{"id": str(acme.admin.id), "email": acme.admin.email}]


async def test_member_list_counts_on_request(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    await tenants.member(acme)
    r = await client.get("/v1/members?count=true&limit=1", headers=acme.admin.headers)
    assert r.json()["count"] == 2


async def test_member_list_shows_only_the_callers_organisation(client: AsyncClient, tenants: Tenants) -> None:
    acme, globex = await tenants.create("Acme"), await tenants.create("Globex")
    await tenants.member(globex)
    r = await client.get("/v1/members", headers=acme.admin.headers)
    assert [m["id"] for m in r.json()["items"]] == [str(acme.admin.id)]


async def test_staff_member_can_list_members(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    ola = await tenants.member(acme)
    r = await client.get("/v1/members", headers=ola.headers)
    assert r.status_code == 200, r.text
    assert len(r.json()["items"]) == 2


async def test_customer_cannot_list_members(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    jan = await tenants.member(acme, kind="customer")
    r = await client.get("/v1/members", headers=jan.headers)
    assert_problem(r, 403, "staff-only")


async def test_member_is_read_by_id(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    ola = await tenants.member(acme)
    r = await client.get(f"/v1/members/{ola.id}", headers=acme.admin.headers)
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"1"'
    assert (r.json()["id"], r.json()["email"]) == (str(ola.id), ola.email)


async def test_member_of_another_organisation_is_not_found(client: AsyncClient, tenants: Tenants) -> None:
    acme, globex = await tenants.create("Acme"), await tenants.create("Globex")
    r = await client.get(f"/v1/members/{globex.admin.id}", headers=acme.admin.headers)
    assert_problem(r, 404, "not-found")


async def test_member_of_another_organisation_cannot_be_changed(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme, globex = await tenants.create("Acme"), await tenants.create("Globex")
    r = await client.patch(
        f"/v1/members/{globex.admin.id}", json={"status": "suspended"}, headers=acme.admin.headers
    )
    assert_problem(r, 404, "not-found")
    assert (await client.get("/v1/me", headers=globex.admin.headers)).status_code == 200


# --- /v1/members: changing --------------------------------------------------------------------


async def test_suspending_a_member_ends_their_sessions(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    ola = await tenants.member(acme)
    r = await client.patch(f"/v1/members/{ola.id}", json={"status": "suspended"}, headers=acme.admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "suspended"
    assert_problem(await client.get("/v1/me", headers=ola.headers), 401, "session-ended")


async def test_member_time_zone_is_changed(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    ola = await tenants.member(acme)
    r = await client.patch(
        f"/v1/members/{ola.id}", json={"time_zone": "America/New_York"}, headers=acme.admin.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["time_zone"] == "America/New_York"
    assert r.headers["etag"] == '"2"'
    me = (await client.get("/v1/me", headers=ola.headers)).json()
    assert me["time_zone"] == "America/New_York"


async def test_member_change_with_the_current_etag_succeeds(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    ola = await tenants.member(acme)
    read = await client.get(f"/v1/members/{ola.id}", headers=acme.admin.headers)
    r = await client.patch(
        f"/v1/members/{ola.id}",
        json={"display_name": "Ola"},
        headers={**acme.admin.headers, "If-Match": read.headers["etag"]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["display_name"] == "Ola"


async def test_member_change_with_a_stale_etag_fails(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    ola = await tenants.member(acme)
    read = await client.get(f"/v1/members/{ola.id}", headers=acme.admin.headers)
    await client.patch(f"/v1/members/{ola.id}", json={"display_name": "Ola"}, headers=acme.admin.headers)
    r = await client.patch(
        f"/v1/members/{ola.id}",
        json={"time_zone": "Europe/Warsaw"},
        headers={**acme.admin.headers, "If-Match": read.headers["etag"]},
    )
    assert_problem(r, 412, "stale-version")


async def test_member_change_that_changes_nothing_keeps_the_version(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme = await tenants.create()
    ola = await tenants.member(acme)
    r = await client.patch(f"/v1/members/{ola.id}", json={"status": "active"}, headers=acme.admin.headers)
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"1"'


async def test_member_field_cannot_be_set_to_null(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    ola = await tenants.member(acme)
    r = await client.patch(f"/v1/members/{ola.id}", json={"time_zone": None}, headers=acme.admin.headers)
    assert error_fields(r) == {"body.time_zone"}


async def test_admin_cannot_suspend_themselves(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    r = await client.patch(
        f"/v1/members/{acme.admin.id}", json={"status": "suspended"}, headers=acme.admin.headers
    )
    assert_problem(r, 409, "cannot-suspend-self")
    assert (await client.get("/v1/me", headers=acme.admin.headers)).status_code == 200


async def test_staff_member_cannot_add_members(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    ola = await tenants.member(acme)
    body = {"email": "new@example.test", "password": PASSWORD}
    r = await client.post("/v1/members", json=body, headers=ola.headers)
    assert_problem(r, 403, "missing-capability")


async def test_staff_member_cannot_change_members(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    ola, ewa = await tenants.member(acme), await tenants.member(acme)
    r = await client.patch(f"/v1/members/{ewa.id}", json={"status": "suspended"}, headers=ola.headers)
    assert_problem(r, 403, "missing-capability")


# --- /v1/organisation -------------------------------------------------------------------------


async def test_organisation_is_read_with_its_etag(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create("Acme")
    r = await client.get("/v1/organisation", headers=acme.admin.headers)
    assert r.status_code == 200, r.text
    org = r.json()
    assert (org["id"], org["name"], org["default_currency"]) == (str(acme.org_id), "Acme", "PLN")
    assert org["version"] == 1
    assert r.headers["etag"] == '"1"'


async def test_admin_changes_the_organisation(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create("Acme")
    change = {"name": "Acme sp. z o.o.", "default_currency": "EUR", "time_zone": "Europe/Warsaw"}
    r = await client.patch("/v1/organisation", json=change, headers=acme.admin.headers)
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in change} == change
    assert r.json()["version"] == 2
    assert r.headers["etag"] == '"2"'
    again = await client.get("/v1/organisation", headers=acme.admin.headers)
    assert again.json()["name"] == "Acme sp. z o.o."


async def test_organisation_change_with_the_current_etag_succeeds(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme = await tenants.create()
    r = await client.patch(
        "/v1/organisation", json={"name": "Acme Ltd"}, headers={**acme.admin.headers, "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("currency", ["pln", "EURO", "E1"])
async def test_invalid_currency_is_refused(client: AsyncClient, tenants: Tenants, currency: str) -> None:
    acme = await tenants.create()
    r = await client.patch(
        "/v1/organisation", json={"default_currency": currency}, headers=acme.admin.headers
    )
    assert error_fields(r) == {"body.default_currency"}


async def test_invalid_organisation_time_zone_is_refused(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    r = await client.patch("/v1/organisation", json={"time_zone": "Warsaw"}, headers=acme.admin.headers)
    assert error_fields(r) == {"body.time_zone"}


async def test_staff_member_cannot_change_the_organisation(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create("Acme")
    ola = await tenants.member(acme)
    r = await client.patch("/v1/organisation", json={"name": "Hijacked"}, headers=ola.headers)
    assert_problem(r, 403, "missing-capability")
    assert (await client.get("/v1/organisation", headers=ola.headers)).json()["name"] == "Acme"


async def test_organisation_change_with_a_stale_etag_fails(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    await client.patch("/v1/organisation", json={"name": "Acme Ltd"}, headers=acme.admin.headers)
    r = await client.patch(
        "/v1/organisation", json={"name": "Acme Inc"}, headers={**acme.admin.headers, "If-Match": '"1"'}
    )
    assert_problem(r, 412, "stale-version")


# --- Idempotency-Key on POST /v1/members ------------------------------------------------------


async def test_repeated_idempotent_add_creates_one_member(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    headers = {**acme.admin.headers, "Idempotency-Key": "add-ola"}
    body = {"email": "ola@example.test", "password": PASSWORD}
    first = await client.post("/v1/members", json=body, headers=headers)
    second = await client.post("/v1/members", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert second.content == first.content
    assert second.headers["location"] == first.headers["location"]
    listed = await client.get("/v1/members", headers=acme.admin.headers)
    assert len(listed.json()["items"]) == 2


async def test_first_idempotent_answer_is_not_marked_replayed(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    headers = {**acme.admin.headers, "Idempotency-Key": "add-ola"}
    r = await client.post(
        "/v1/members", json={"email": "ola@example.test", "password": PASSWORD}, headers=headers
    )
    assert r.status_code == 201, r.text
    assert "idempotent-replayed" not in r.headers


async def test_idempotency_key_reused_with_another_body_conflicts(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme = await tenants.create()
    headers = {**acme.admin.headers, "Idempotency-Key": "add-someone"}
    await client.post(
        "/v1/members", json={"email": "ola@example.test", "password": PASSWORD}, headers=headers
    )
    r = await client.post(
        "/v1/members", json={"email": "ewa@example.test", "password": PASSWORD}, headers=headers
    )
    assert_problem(r, 409, "idempotency-key-reused")


async def test_idempotent_error_answer_is_replayed(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    ola = await tenants.member(acme)
    headers = {**acme.admin.headers, "Idempotency-Key": "add-ola-again"}
    body = {"email": ola.email, "password": PASSWORD}
    first = await client.post("/v1/members", json=body, headers=headers)
    second = await client.post("/v1/members", json=body, headers=headers)
    assert_problem(first, 409, "member-exists")
    assert_problem(second, 409, "member-exists")
    assert second.headers["idempotent-replayed"] == "true"
    assert second.content == first.content


async def test_idempotent_validation_error_is_replayed(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    headers = {**acme.admin.headers, "Idempotency-Key": "no-password"}
    await client.post("/v1/members", json={"email": "new@example.test"}, headers=headers)
    second = await client.post("/v1/members", json={"email": "new@example.test"}, headers=headers)
    assert error_fields(second) == {"body.password"}
    assert second.headers["idempotent-replayed"] == "true"


async def test_idempotency_keys_belong_to_one_caller(client: AsyncClient, tenants: Tenants) -> None:
    acme, globex = await tenants.create("Acme"), await tenants.create("Globex")
    body = {"email": "ola@example.test", "password": PASSWORD}
    await client.post("/v1/members", json=body, headers={**acme.admin.headers, "Idempotency-Key": "k"})
    r = await client.post("/v1/members", json=body, headers={**globex.admin.headers, "Idempotency-Key": "k"})
    assert r.status_code == 201, r.text
    assert "idempotent-replayed" not in r.headers


# --- request ids and body size ----------------------------------------------------------------


async def test_answers_carry_a_request_id(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    one = await client.get("/v1/organisation", headers=acme.admin.headers)
    two = await client.get("/v1/organisation", headers=acme.admin.headers)
    assert one.headers["x-request-id"]
    assert one.headers["x-request-id"] != two.headers["x-request-id"]


async def test_error_answers_carry_a_request_id(client: AsyncClient) -> None:
    r = await client.get("/v1/me")
    assert r.status_code == 401
    assert r.headers["x-request-id"]


async def test_client_request_id_is_echoed(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    r = await client.get("/v1/me", headers={**acme.admin.headers, "X-Request-Id": "trace-42.a:b_c"})
    assert r.headers["x-request-id"] == "trace-42.a:b_c"


async def test_malformed_client_request_id_is_replaced(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    r = await client.get("/v1/me", headers={**acme.admin.headers, "X-Request-Id": "not valid!"})
    assert r.headers["x-request-id"] not in ("", "not valid!")


async def test_body_over_20_mb_is_too_large(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    headers = {**acme.admin.headers, "Content-Type": "application/json"}
    r = await client.post("/v1/members", content=b" " * (21 * MB), headers=headers)
    assert_problem(r, 413, "payload-too-large")


async def test_streamed_body_over_20_mb_is_too_large(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()

    async def chunks() -> Any:
        for _ in range(21):
            yield b" " * MB

    headers = {**acme.admin.headers, "Content-Type": "application/json"}
    r = await client.post("/v1/members", content=chunks(), headers=headers)
    assert_problem(r, 413, "payload-too-large")


async def test_text_the_database_cannot_store_in_a_sign_in_names_the_field(client: AsyncClient) -> None:
    r = await client.post(
        "/v1/auth/token", data={"username": "a\x00b@example.test", "password": "whatever-123"}
    )
    assert error_fields(r) == {"body.username"}
    r = await client.post("/v1/auth/token", data={"username": "a@example.test", "password": "bad\x00pass"})
    assert error_fields(r) == {"body.password"}


async def test_an_access_token_ends_with_its_session(
    client: AsyncClient, tenants: Tenants, db: Database
) -> None:
    acme = await tenants.create()
    access = (await tokens(client, acme.admin.email))["access_token"]
    assert (await client.get("/v1/me", headers=bearer(access))).status_code == 200
    async with db.sessions() as session:
        await bind_org(session, acme.org_id)
        await session.execute(
            update(AuthSession)
            .where(AuthSession.member_id == acme.admin.id)
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        await session.commit()
    assert_problem(await client.get("/v1/me", headers=bearer(access)), 401, "session-ended")
