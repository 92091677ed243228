"""Sign-in is throttled per user and per client address, counted in Redis before Argon2 runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient, Response

from crmapi.kit.db import Database
from crmapi.kit.ids import new_id
from crmapi.settings import Settings
from tests.support import PASSWORD, Tenants, assert_problem, rate_limited

WRONG = "wrong-password"


@pytest.fixture
async def limited(db: Database, settings: Settings, redis_url: str) -> AsyncIterator[AsyncClient]:
    async with rate_limited(db, settings, redis_url) as c:
        yield c


async def sign_in(client: AsyncClient, email: str, password: str) -> Response:
    return await client.post("/v1/auth/token", data={"username": email, "password": password})


def refused(r: Response, longest: int) -> None:
    assert_problem(r, 429, "too-many-requests")
    assert 1 <= int(r.headers["Retry-After"]) <= longest


async def test_after_ten_wrong_passwords_a_user_waits_even_with_the_right_one(
    limited: AsyncClient, tenants: Tenants
) -> None:
    acme, globex = await tenants.create("Acme"), await tenants.create("Globex")
    for _ in range(10):
        assert_problem(await sign_in(limited, acme.admin.email, WRONG), 401, "invalid-credentials")
    refused(await sign_in(limited, acme.admin.email.upper(), PASSWORD), 15 * 60)
    # Another user signs in from the same address.
    assert (await sign_in(limited, globex.admin.email, PASSWORD)).status_code == 200


async def test_the_right_password_forgets_the_wrong_ones_before_it(
    limited: AsyncClient, tenants: Tenants
) -> None:
    acme = await tenants.create()
    for _ in range(9):
        assert (await sign_in(limited, acme.admin.email, WRONG)).status_code == 401
    assert (await sign_in(limited, acme.admin.email, PASSWORD)).status_code == 200
    for _ in range(10):
        assert (await sign_in(limited, acme.admin.email, WRONG)).status_code == 401
    refused(await sign_in(limited, acme.admin.email, WRONG), 15 * 60)


async def test_an_unknown_email_is_limited_like_a_known_one(limited: AsyncClient) -> None:
    # Its own address each run: Redis keeps the count for 15 minutes, across test runs too.
    nobody = f"nobody-{new_id().hex}@example.test"
    for _ in range(10):
        assert (await sign_in(limited, nobody, WRONG)).status_code == 401
    refused(await sign_in(limited, nobody, WRONG), 15 * 60)


@pytest.mark.committed
async def test_wrong_passwords_sent_at_once_are_counted_before_they_are_hashed(
    committed_db: Database, settings: Settings, redis_url: str, committed_tenants: Tenants
) -> None:
    acme = await committed_tenants.create()
    async with rate_limited(committed_db, settings, redis_url) as client:
        answers = await asyncio.gather(*(sign_in(client, acme.admin.email, WRONG) for _ in range(20)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [401] * 10 + [429] * 10


async def test_one_address_signs_in_thirty_times_a_minute(limited: AsyncClient, tenants: Tenants) -> None:
    acme = await tenants.create()
    for n in range(30):  # every call counts, a form without a password too
        r = await limited.post("/v1/auth/token", data={"username": f"user-{n}@example.test"})
        assert r.status_code == 422, r.text
    refused(await sign_in(limited, acme.admin.email, PASSWORD), 60)


async def test_an_operator_sets_how_many_sign_ins_an_address_makes_a_minute(
    db: Database, settings: Settings, redis_url: str, tenants: Tenants
) -> None:
    acme = await tenants.create()
    async with rate_limited(db, settings.model_copy(update={"sign_in_per_minute": 3}), redis_url) as c:
        for _ in range(3):
            assert (await sign_in(c, acme.admin.email, PASSWORD)).status_code == 200
        refused(await sign_in(c, acme.admin.email, PASSWORD), 60)


async def test_wrong_current_passwords_count_as_wrong_sign_ins(
    limited: AsyncClient, tenants: Tenants
) -> None:
    acme = await tenants.create()
    body = {"current_password": WRONG, "new_password": "another-password-456"}
    for _ in range(10):
        r = await limited.post("/v1/me/password", json=body, headers=acme.admin.headers)
        assert r.status_code == 422, r.text
    r = await limited.post("/v1/me/password", json=body, headers=acme.admin.headers)
    refused(r, 15 * 60)
    refused(await sign_in(limited, acme.admin.email, PASSWORD), 15 * 60)
