"""Alembic runs as the schema owner; the URL comes from crmapi migrate or DATABASE_URL."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import Connection, pool
from sqlalchemy.ext.asyncio import create_async_engine

from crmapi.kit.db import asyncpg_url
from crmapi.kit.migrate import ensure_app_role
from crmapi.metadata import metadata

config = context.config
target_metadata = metadata


def owner_url() -> str:
    url = config.attributes.get("url") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("Set DATABASE_URL (the owner's URL) or run `crmapi migrate`.")
    return asyncpg_url(url)


def run(connection: Connection) -> None:
    ensure_app_role(connection, config.attributes.get("app_db_password") or os.environ.get("APP_DB_PASSWORD"))
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    engine = create_async_engine(owner_url(), poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported: they need the owner's connection.")
asyncio.run(run_online())
