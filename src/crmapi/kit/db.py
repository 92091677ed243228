"""Engines, sessions and the unit of work: one transaction per request, committed before the response."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from uuid import UUID

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import event, exc, text
from sqlalchemy.engine import URL, Connection, ExceptionContext, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from crmapi.kit.errors import connection_broken
from crmapi.settings import APP_ROLE, Settings, get_settings

ORG_KEY = "org_id"
# How much longer than the server's `statement_timeout` the client waits for an answer.
STATEMENT_GRACE_SECONDS = 1.0


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


class BindingConnection(asyncpg.Connection):
    """An asyncpg connection that sends a transaction's organisation binding with its BEGIN.

    `BEGIN; SELECT set_config(...)` goes as one simple query: one round trip instead of two.
    The binding waits here only between the session's `after_begin` and the BEGIN of the first
    statement, and is dropped whenever the connection is checked out or returned to the pool.
    """

    _begin_with: str | None = None

    def bind_on_begin(self, org: str) -> bool:
        """Send the binding with the next BEGIN; False if a transaction is already open."""
        if self.is_in_transaction():
            return False
        self._begin_with = f"SELECT set_config('app.org_id', '{org}', true);"
        return True

    def forget_binding(self) -> None:
        self._begin_with = None

    # asyncpg's own signature, timeout included.
    async def execute(self, query: str, *args: Any, timeout: float | None = None) -> str:  # noqa: ASYNC109
        suffix = self._begin_with
        if suffix is not None and not args and query.startswith("BEGIN"):
            self._begin_with = None
            query = f"{query} {suffix}"
        return await super().execute(query, *args, timeout=timeout)

    def _cancel_current_command(self, waiter: Any, cancel_waiter: Any = None) -> None:
        # asyncpg's answer to a statement that outlived `command_timeout` (or whose task was
        # cancelled) is a CancelRequest on a new connection, and the next statement here (the
        # request's ROLLBACK) waits for it. The server cancels slow statements itself
        # (`statement_timeout`, a moment earlier), so the server that reaches this point is silent
        # and would leave the CancelRequest unanswered too: drop the connection at once instead.
        # After the current callback, so the statement's waiter gets its TimeoutError first.
        asyncio.get_running_loop().call_soon(self.terminate)


def _drop_dead_connection(
    dbapi_connection: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection
) -> None:
    # Instead of a pre-ping (three round trips: BEGIN, ping, ROLLBACK) on every checkout: asyncpg
    # reads the socket all the time, so a server restart or a killed backend has usually already
    # closed the connection; the pool then connects anew. A connection that dies unnoticed fails
    # its request's first statement, which `RetryingSession` runs again on a new connection.
    driver = dbapi_connection.driver_connection
    if isinstance(driver, BindingConnection):
        driver.forget_binding()
    if driver is not None and driver.is_closed():
        raise exc.DisconnectionError("the connection was closed")


def _forget_binding(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    driver = getattr(dbapi_connection, "driver_connection", None)
    if isinstance(driver, BindingConnection):
        driver.forget_binding()


def _forget_broken_connection(context: ExceptionContext) -> None:
    # SQLAlchemy keeps a connection unless asyncpg already reports it closed. One that received the
    # server's FATAL goodbye, or failed to write to a closed socket, may not report it yet: marked
    # a disconnect, it leaves the pool, and `RetryingSession` may run its first statement again.
    if not context.is_disconnect and connection_broken(context.original_exception):
        context.is_disconnect = True


def make_engine(url: str, settings: Settings | None = None, **kw: Any) -> AsyncEngine:
    """An engine whose every wait on the server is bounded by `settings`' database timeouts."""
    settings = settings or get_settings()
    if "poolclass" not in kw:
        # No overflow: a connection past the pool's size is closed when returned to a full pool
        # and opened again by the next request (TLS attempt, sign-in, statements prepared anew).
        # Under 32 concurrent reads that churn held get contact at ~620 req/s; 20 kept
        # connections answered ~950. A request beyond the pool waits for a free connection.
        kw.setdefault("pool_size", settings.db_pool_size)
        kw.setdefault("max_overflow", 0)
        kw.setdefault("pool_timeout", settings.db_pool_timeout_seconds)
    statement_ms = round(settings.db_statement_timeout_seconds * 1000)
    kw["connect_args"] = {
        "connection_class": BindingConnection,
        "timeout": settings.db_connect_timeout_seconds,
        # The server ends a slow statement and keeps the connection; the client waits a moment
        # longer and gives up on a server that does not answer at all.
        "server_settings": {"statement_timeout": str(statement_ms)},
        "command_timeout": settings.db_statement_timeout_seconds + STATEMENT_GRACE_SECONDS,
        **kw.get("connect_args", {}),
    }
    engine = create_async_engine(asyncpg_url(url), pool_recycle=1800, **kw)
    event.listen(engine.sync_engine.pool, "checkout", _drop_dead_connection)
    event.listen(engine.sync_engine.pool, "checkin", _forget_binding)
    event.listen(engine.sync_engine, "handle_error", _forget_broken_connection)
    return engine


class RetryingSession(AsyncSession):
    """Runs a session's first statement again when its pooled connection turned out to be dead.

    Only a session with no transaction and no pending changes retries: nothing ran yet, so
    nothing is lost (a rollback would drop pending objects, so those sessions do not retry).
    The failure invalidated the pool, so the retry gets a new connection. This replaces the
    pool's pre-ping.
    """

    async def execute(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        if self.in_transaction() or self.new or self.dirty or self.deleted:
            return await super().execute(statement, params, **kw)
        try:
            return await super().execute(statement, params, **kw)
        except exc.DBAPIError as error:
            if not error.connection_invalidated:
                raise
            await self.rollback()
            return await super().execute(statement, params, **kw)


def make_sessions(bind: AsyncEngine | Any, **kw: Any) -> async_sessionmaker[AsyncSession]:
    kw.setdefault("class_", RetryingSession)
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
    # cleared when no organisation is bound, so RLS then shows nothing. A savepoint inside the
    # transaction keeps the binding its BEGIN made (bind_org sets it anew when it changes).
    if transaction.nested:
        return
    org = session.info.get(ORG_KEY)
    # A UUID's text, which is safe to send as a literal.
    value = str(org if isinstance(org, UUID) else UUID(str(org))) if org else ""
    driver = connection.connection.driver_connection
    if isinstance(driver, BindingConnection) and driver.bind_on_begin(value):
        return
    connection.execute(text("SELECT set_config('app.org_id', :org, true)"), {"org": value})


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


T = TypeVar("T")
_REMEMBERED = "crmapi.remembered"


@contextmanager
def remembering(session: AsyncSession) -> Iterator[None]:
    """While it lasts, `remembered` loads each key once: for a bulk call, whose steps would load
    the same configuration (a type, its statuses and rules; the caller's units) for every record.
    Only around work that changes none of what it remembers."""
    outer = session.info.get(_REMEMBERED)
    session.info[_REMEMBERED] = {} if outer is None else outer
    try:
        yield
    finally:
        if outer is None:
            del session.info[_REMEMBERED]


async def remembered(session: AsyncSession, key: Any, load: Callable[[], Awaitable[T]]) -> T:
    """`load()`, or inside `remembering`, what it gave for `key` the first time."""
    kept: dict[Any, Any] | None = session.info.get(_REMEMBERED)
    if kept is None:
        return await load()
    if key not in kept:
        kept[key] = await load()
    found: T = kept[key]
    return found
