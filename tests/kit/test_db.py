"""The unit of work's connection handling: the organisation binding rides on BEGIN, dead
connections are replaced without a failed request, and no binding outlives its transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from crmapi.kit.db import BindingConnection, bind_org, libpq_dsn, make_engine, make_sessions
from crmapi.kit.ids import new_id

SETTING = text("SELECT current_setting('app.org_id', true)")


@pytest_asyncio.fixture(loop_scope="session")
async def one_connection(app_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine whose pool holds a single connection, so every use meets the same one."""
    engine = make_engine(app_url, pool_size=1, max_overflow=0)
    yield engine
    await engine.dispose()


async def test_the_first_statement_sees_the_bound_organisation(one_connection: AsyncEngine) -> None:
    org = new_id()
    async with make_sessions(one_connection)() as session:
        await bind_org(session, org)
        assert (await session.execute(SETTING)).scalar_one() == str(org)
        raw = await (await session.connection()).get_raw_connection()
        assert isinstance(raw.driver_connection, BindingConnection)


async def test_a_binding_never_reaches_the_next_user_of_the_connection(one_connection: AsyncEngine) -> None:
    async with make_sessions(one_connection)() as session:
        await bind_org(session, new_id())
        await session.connection()  # the transaction began, but no statement was sent
    async with one_connection.connect() as conn:
        assert (await conn.execute(SETTING)).scalar_one() in (None, "")


async def test_a_connection_that_died_unnoticed_is_replaced_on_the_first_statement(
    one_connection: AsyncEngine, owner_url: str
) -> None:
    sessions = make_sessions(one_connection)
    async with sessions() as session:
        pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        raw = await (await session.connection()).get_raw_connection()
        driver = raw.driver_connection
    assert isinstance(driver, BindingConnection)
    # Keep asyncpg from reading the server's goodbye, as if the socket went quiet.
    driver._transport.pause_reading()
    owner = await asyncpg.connect(libpq_dsn(owner_url))
    try:
        await owner.execute("SELECT pg_terminate_backend($1)", pid)
        for _ in range(100):
            if not await owner.fetchval("SELECT 1 FROM pg_stat_activity WHERE pid = $1", pid):
                break
            await asyncio.sleep(0.05)
    finally:
        await owner.close()
    assert not driver.is_closed()
    driver._transport.resume_reading()
    org = new_id()
    async with sessions() as session:
        await bind_org(session, org)
        assert (await session.execute(SETTING)).scalar_one() == str(org)
        assert (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one() != pid
