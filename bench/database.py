"""The PostgreSQL server the benchmark uses and its fresh `crmapi_bench` database."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from crmapi.kit import embedded
from crmapi.kit.db import libpq_dsn, url_with_database
from crmapi.kit.migrate import migrate
from crmapi.settings import APP_ROLE

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / ".crmapi" / "bench"
NAME = "crmapi_bench"


def server_url() -> tuple[str, str]:
    """The owner's URL of a server to create the bench database on, and where it came from."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        where = make_url(configured)
        return configured, f"TEST_DATABASE_URL, {where.host or 'local socket'}:{where.port or 5432}"
    return embedded.start_postgres(STATE, database="postgres"), f"embedded in {STATE / 'pg'}"


def app_url(owner_url: str) -> str:
    """crmapi_app on the bench database, as the server connects (row-level security applies)."""
    return make_url(libpq_dsn(owner_url)).set(username=APP_ROLE).render_as_string(hide_password=False)


async def connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(libpq_dsn(url))


async def _on_maintenance_db(server: str, sql: str) -> None:
    conn = await connect(url_with_database(server, "postgres"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def create(server: str, name: str = NAME) -> str:
    """Drop and recreate a bench database, migrate it; returns its owner URL."""
    await drop(server, name)
    await _on_maintenance_db(server, f'CREATE DATABASE "{name}"')
    url = url_with_database(server, name)
    # Alembic's env calls asyncio.run, so it needs a thread of its own.
    await asyncio.to_thread(migrate, url)
    return url


async def drop(server: str, name: str = NAME) -> None:
    await _on_maintenance_db(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def version(url: str) -> str:
    conn = await connect(url)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()
