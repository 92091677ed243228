"""What ends a session and what does not: a password change (the member's own or an
administrator's), and refresh tokens rotated by two tabs at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import update

from crmapi.identity.models import AuthSession
from crmapi.kit.db import Database, bind_org
from crmapi.records.history import HistoryEntry
from tests.identity.test_identity import NEW_PASSWORD, bearer, own_password, sign_in, tokens
from tests.support import PASSWORD, Tenant, Tenants, assert_problem, rows_of


async def refresh(client: AsyncClient, token: str) -> Any:
    return await client.post("/v1/auth/refresh", json={"refresh_token": token})


async def works(client: AsyncClient, pair: dict[str, Any]) -> bool:
    """Both halves of a pair still work: the access token, and the refresh token (rotated)."""
    me = await client.get("/v1/me", headers=bearer(pair["access_token"]))
    renewed = await refresh(client, pair["refresh_token"])
    return me.status_code == 200 and renewed.status_code == 200


async def ended(client: AsyncClient, pair: dict[str, Any]) -> None:
    assert_problem(await client.get("/v1/me", headers=bearer(pair["access_token"])), 401, "session-ended")
    assert_problem(await refresh(client, pair["refresh_token"]), 401, "invalid-refresh-token")


# --- A password change ends the user's other sessions -------------------------------------------


async def test_changing_your_password_ends_your_other_sessions_in_every_organisation(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme, globex = await tenants.create("Acme"), await tenants.create("Globex")
    await tenants.member(globex, email=acme.admin.email)
    await own_password(client, acme.admin)  # one password of her own, for both organisations
    laptop = await tokens(client, acme.admin.email, organisation=acme.org_id)
    phone = await tokens(client, acme.admin.email, organisation=acme.org_id)
    elsewhere = await tokens(client, acme.admin.email, organisation=globex.org_id)

    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    r = await client.post("/v1/me/password", json=body, headers=bearer(laptop["access_token"]))
    assert r.status_code == 204, r.text

    # Whoever else held her old password's sessions is out, in Globex too...
    await ended(client, phone)
    await ended(client, elsewhere)
    # ...while the tab that made the change goes on.
    assert await works(client, laptop)
    assert (await sign_in(client, acme.admin.email, NEW_PASSWORD, acme.org_id)).status_code == 200


async def test_a_wrong_current_password_ends_nothing(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    laptop, phone = await tokens(client, acme.admin.email), await tokens(client, acme.admin.email)
    body = {"current_password": "not-the-password", "new_password": NEW_PASSWORD}
    r = await client.post("/v1/me/password", json=body, headers=bearer(laptop["access_token"]))
    assert r.status_code == 422, r.text
    assert await works(client, phone)


async def test_an_administrator_chooses_a_members_password_and_its_sessions_end(
    client: AsyncClient, tenants: Tenants, db: Database
) -> None:
    acme = await tenants.create()
    ola = await tenants.member(acme)
    signed_in = await tokens(client, ola.email)
    r = await client.post(
        f"/v1/members/{ola.id}/password", json={"new_password": NEW_PASSWORD}, headers=acme.admin.headers
    )
    assert r.status_code == 204, r.text

    await ended(client, signed_in)
    assert_problem(await client.get("/v1/me", headers=ola.headers), 401, "session-ended")
    assert_problem(await sign_in(client, ola.email), 401, "invalid-credentials")
    assert (await sign_in(client, ola.email, NEW_PASSWORD)).status_code == 200
    # The administrator's own session is untouched; the change is in the member's history.
    assert (await client.get("/v1/me", headers=acme.admin.headers)).status_code == 200
    (entry,) = await rows_of(db, acme, HistoryEntry, entity_id=ola.id, action="password_reset")
    assert entry.actor_member_id == acme.admin.id and entry.changes == {}


async def test_a_password_an_administrator_chose_opens_only_its_organisation(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme, globex = await tenants.create("Acme"), await tenants.create("Globex")
    ola = await tenants.member(acme)
    await own_password(client, ola)  # hers alone; then Acme's administrator chooses another
    r = await client.post(
        f"/v1/members/{ola.id}/password", json={"new_password": NEW_PASSWORD}, headers=acme.admin.headers
    )
    assert r.status_code == 204, r.text
    await tenants.member(globex, email=ola.email)
    assert_problem(await sign_in(client, ola.email, NEW_PASSWORD, globex.org_id), 401, "password-not-yours")


async def test_an_administrator_cannot_change_a_password_that_opens_another_organisation(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme, globex = await tenants.create("Acme"), await tenants.create("Globex")
    # Globex's administrator chose Ola's password; Acme's may not take Globex away from her.
    in_globex = await tenants.member(globex, email="ola@example.test")
    in_acme = await tenants.member(acme, email="ola@example.test")
    body = {"new_password": NEW_PASSWORD}
    r = await client.post(f"/v1/members/{in_acme.id}/password", json=body, headers=acme.admin.headers)
    assert_problem(r, 409, "password-used-elsewhere")
    # Her own password, chosen later, opens both: neither administrator may change it.
    await own_password(client, in_globex)
    for tenant, member in ((acme, in_acme), (globex, in_globex)):
        r = await client.post(f"/v1/members/{member.id}/password", json=body, headers=tenant.admin.headers)
        assert_problem(r, 409, "password-used-elsewhere")
    assert (await sign_in(client, "ola@example.test", organisation=acme.org_id)).status_code == 200


async def test_a_members_password_is_chosen_only_by_an_administrator_of_its_organisation(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme, globex = await tenants.create("Acme"), await tenants.create("Globex")
    ola, staff = await tenants.member(acme), await tenants.member(acme)
    body = {"new_password": NEW_PASSWORD}
    path = f"/v1/members/{ola.id}/password"
    assert_problem(await client.post(path, json=body, headers=staff.headers), 403, "missing-capability")
    assert_problem(await client.post(path, json=body, headers=globex.admin.headers), 404, "not-found")
    own = f"/v1/members/{acme.admin.id}/password"
    assert_problem(await client.post(own, json=body, headers=acme.admin.headers), 403, "own-password")
    assert (await sign_in(client, ola.email)).status_code == 200


# --- Refresh tokens: two tabs at once, and a copy coming back later --------------------------------


async def test_the_token_just_rotated_answers_the_same_pair(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    old = (await tokens(client, acme.admin.email))["refresh_token"]
    first, second = (await refresh(client, old)).json(), (await refresh(client, old)).json()
    assert second["refresh_token"] == first["refresh_token"]
    assert second["access_token"] == first["access_token"]
    assert 0 < second["expires_in"] <= first["expires_in"] == 3600
    assert await works(client, second)


@pytest.mark.committed
async def test_two_tabs_refreshing_at_once_keep_the_session(
    committed_client: AsyncClient, committed_tenants: Tenants
) -> None:
    acme = await committed_tenants.create()
    old = (await tokens(committed_client, acme.admin.email))["refresh_token"]
    one, other = await asyncio.gather(refresh(committed_client, old), refresh(committed_client, old))
    assert (one.status_code, other.status_code) == (200, 200), (one.text, other.text)
    assert one.json()["refresh_token"] == other.json()["refresh_token"]
    assert await works(committed_client, other.json())


async def test_a_used_refresh_token_coming_back_after_the_grace_ends_the_session(
    client: AsyncClient, tenants: Tenants, db: Database
) -> None:
    acme = await tenants.create()
    old = (await tokens(client, acme.admin.email))["refresh_token"]
    # Say a thief copied it and refreshed first...
    stolen = (await refresh(client, old)).json()
    await rotated_seconds_ago(db, acme, 31)
    # ...the owner's refresh with the same token, past the 30 s grace, shows two parties hold
    # the session:
    assert_problem(await refresh(client, old), 401, "refresh-token-reused")
    # and neither keeps it, not even the thief's fresh tokens.
    await ended(client, stolen)


async def test_only_the_token_just_replaced_has_a_grace(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    oldest = (await tokens(client, acme.admin.email))["refresh_token"]
    middle = (await refresh(client, oldest)).json()["refresh_token"]
    newest = (await refresh(client, middle)).json()
    # Two rotations back is not a tab that refreshed at the same moment.
    assert_problem(await refresh(client, oldest), 401, "invalid-refresh-token")
    assert await works(client, newest)


async def rotated_seconds_ago(db: Database, tenant: Tenant, seconds: int) -> None:
    async with db.sessions() as session:
        await bind_org(session, tenant.org_id)
        await session.execute(
            update(AuthSession)
            .where(AuthSession.member_id == tenant.admin.id, AuthSession.rotated_at.is_not(None))
            .values(rotated_at=datetime.now(UTC) - timedelta(seconds=seconds))
        )
        await session.commit()
