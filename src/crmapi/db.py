"""Engines, sessions and the unit of work: one transaction per request, committed before the response."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Request
from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, SessionTransaction

from crmapi.settings import APP_ROLE, Settings

ORG_KEY = "org_id"


def app_database_url(settings: Settings, owner_url: str) -> str:
    """The URL the API and worker use: the owner's URL with crmapi_app as the user."""
    if settings.app_database_url:
        return settings.app_database_url
    url: URL = make_url(owner_url).set(username=APP_ROLE, password=settings.app_db_password)
    return url.render_as_string(hide_password=False)


def asyncpg_url(url: str) -> str:
    """Accept postgres:// and postgresql:// URLs; always use the asyncpg driver."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def make_engine(url: str, **kw: Any) -> AsyncEngine:
    if "poolclass" not in kw:
        kw.setdefault("pool_size", 10)
        kw.setdefault("max_overflow", 10)
    return create_async_engine(asyncpg_url(url), pool_pre_ping=True, pool_recycle=1800, **kw)


def make_sessions(bind: AsyncEngine | Any, **kw: Any) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(bind, expire_on_commit=False, autoflush=True, **kw)


@dataclass
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    url: str


@event.listens_for(Session, "after_begin")
def _scope_transaction_to_org(
    session: Session, transaction: SessionTransaction, connection: Connection
) -> None:
    # Transaction-local, so a pooled connection never carries a tenant into the next request;
    # cleared when no organisation is bound, so RLS then shows nothing.
    org = session.info.get(ORG_KEY)
    connection.execute(text("SELECT set_config('app.org_id', :org, true)"), {"org": str(org) if org else ""})


async def bind_org(session: AsyncSession, org_id: UUID | None) -> None:
    """Make row-level security show this organisation's rows, now and in later transactions."""
    session.info[ORG_KEY] = org_id
    if session.in_transaction():
        await session.execute(
            text("SELECT set_config('app.org_id', :org, true)"), {"org": str(org_id) if org_id else ""}
        )


async def unit_of_work(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; committed before the response is sent, rolled back on error."""
    async with request.app.state.db.sessions() as session:
        request.state.session = session
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


DbSession = Annotated[AsyncSession, Depends(unit_of_work, scope="function")]


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def url_with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def libpq_dsn(url: str) -> str:
    """A URL asyncpg.connect and psql accept (no SQLAlchemy driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
