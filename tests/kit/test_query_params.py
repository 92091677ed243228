"""A one-valued query parameter sent twice is 422, not silently the last value."""

from __future__ import annotations

from httpx import AsyncClient

from tests.support import Tenants, error_fields


async def test_a_repeated_one_valued_parameter_is_refused(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create("Acme")
    r = await client.get(
        "/v1/contacts", params=[("q", "nowak"), ("q", "kowal"), ("limit", "5")], headers=acme.admin.headers
    )
    assert error_fields(r) == {"query.q"}
    r = await client.get("/v1/accounts", params=[("limit", "5"), ("limit", "6")], headers=acme.admin.headers)
    assert error_fields(r) == {"query.limit"}


async def test_a_list_parameter_may_repeat(client: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create("Acme")
    r = await client.get("/v1/contacts", params=[("tag", "vip"), ("tag", "b2b")], headers=acme.admin.headers)
    assert r.status_code == 200, r.text
