"""Reads sent straight to asyncpg: one statement, one round trip, no transaction.

Through the session, a read costs a BEGIN (with the organisation binding), the statement and a
COMMIT, each through SQLAlchemy's execution (about 100 µs of Python a statement, measured). A
`Direct` statement is compiled once from SQLAlchemy Core to asyncpg's SQL and sent on the
session's connection outside any transaction: PostgreSQL runs it as a transaction of its own,
and the organisation is bound inside it, `set_config(..., true)` in a CASE condition that is
evaluated before the subquery that reads under row-level security. A binding that did not happen
shows no rows (the pooled connection carries none), never another organisation's.

The answer comes back as one row (`ROW(...)`, a tuple). Later statements of the request go
through the session as before: its BEGIN still carries the binding (`BindingConnection`).

Only for lookups by key. The planner estimates a statement before it runs, so here with no
organisation bound: row-level security's `org_id = current_setting(...)` is estimated to match
nothing. A key lookup does not care; a scoped page or a search with joins got nested loops over
whole tables (a search of accounts took 0.9 s instead of milliseconds), so those go through the
session, whose binding is set before they are planned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import Select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter

from crmapi.kit.db import BindingConnection
from crmapi.kit.errors import connection_broken

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class Direct:
    sql: str
    names: tuple[str, ...]  # the statement's parameters in $n order
    fixed: dict[str, Any]  # values compiled in (literals of the statement), by name


def direct(stmt: Select[*tuple[Any, ...]]) -> Direct:
    """`stmt` compiled once; values of its `bindparam`s are given to `fetch` by name."""
    # IN lists are expanded now (the statement is kept per actor, its lists fixed), which wants a
    # value for every parameter: the ones `fetch` is given get a stand-in.
    given = {p.key: None for p in visitors.iterate(stmt) if isinstance(p, BindParameter) and p.required}
    compiled = stmt.compile(dialect=_DIALECT).construct_expanded_state(given, escape_names=False)
    names = tuple(compiled.positiontup or ())
    return Direct(_bound(compiled.statement, len(names)), names, dict(compiled.parameters))


async def fetch(session: AsyncSession, statement: Direct, org: UUID, /, **values: Any) -> Any:
    """The row `statement` reads in organisation `org`; None when it finds none."""
    args = [values[n] if n in values else statement.fixed[n] for n in statement.names]
    return await _run(session, statement.sql, [*args, str(org)])


def _bound(sql: str, parameters: int) -> str:
    """`sql` wrapped to bind the organisation (the last parameter) before it reads."""
    return (
        f"SELECT CASE WHEN set_config('app.org_id', ${parameters + 1}::text, true) IS NULL THEN NULL"
        f" ELSE (SELECT ROW(q.*) FROM ({sql}) q) END"
    )


async def _run(session: AsyncSession, sql: str, args: list[Any]) -> Any:
    driver = await _driver(session)
    try:
        return await driver.fetchval(sql, *args)
    except Exception as exc:
        # As RetryingSession does for a session's first statement: a pooled connection found dead
        # is dropped and the statement sent once more on a new one, unless a transaction is open.
        if driver.is_in_transaction() or not connection_broken(exc):
            raise
        # Closed at once: asyncpg may still count the failed statement as in progress, and a
        # graceful close would fail on that ("another operation is in progress").
        driver.terminate()
        connection = await session.connection()
        # As SQLAlchemy does on a disconnect: the pool's older connections are replaced at their
        # next checkout too, since a server that dropped this one has most likely dropped them all.
        connection.sync_engine.pool._invalidate(await connection.get_raw_connection(), exc)
        await connection.invalidate(exc)
        await session.rollback()
        return await (await _driver(session)).fetchval(sql, *args)


async def _driver(session: AsyncSession) -> BindingConnection:
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    assert isinstance(driver, BindingConnection), "kit.db.make_engine's connections"
    return driver
