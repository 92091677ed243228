"""Schema migrations (as the owner) and the crmapi_app role the API connects as."""

from __future__ import annotations

import ast
import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmapi.settings import APP_ROLE, Settings

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Connection

ROOT = Path(__file__).resolve().parents[3]


def alembic_config(owner_url: str) -> Config:
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["url"] = owner_url
    return config


def migrate(owner_url: str, settings: Settings | None = None) -> None:
    """Bring the schema to the newest revision; creates the app role first."""
    password = settings.app_db_password if settings else os.environ.get("APP_DB_PASSWORD")
    if asyncio.run(_ready_at_head(owner_url, password)):
        return
    from alembic import command

    config = alembic_config(owner_url)
    config.attributes["app_db_password"] = password
    command.upgrade(config, "head")


async def _ready_at_head(owner_url: str, password: str | None) -> bool:
    """Whether the schema is at the newest revision; if so, the app role is made ready.

    With asyncpg alone: alembic and SQLAlchemy take most of a second to load, and alembic's
    environment loads the models, so the whole application, which made every start with nothing
    to migrate wait seconds.
    """
    import asyncpg

    # asyncpg reads the URL's libpq form: no SQLAlchemy driver name.
    conn = await asyncpg.connect("postgresql://" + owner_url.split("://", 1)[1])
    try:
        try:
            current = {row[0] for row in await conn.fetch("SELECT version_num FROM alembic_version")}
        except asyncpg.UndefinedTableError:
            return False
        if current != head_revisions():
            return False
        async with conn.transaction():
            database = await conn.fetchval("SELECT current_database()")
            for statement in app_role_statements(database, password):
                await conn.execute(statement)
        return True
    finally:
        await conn.close()


def head_revisions() -> set[str]:
    """The revisions no other follows, read from the migration files without running them."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for path in (ROOT / "migrations" / "versions").glob("*.py"):
        assigned = _revision_assignments(path)
        revisions.add(assigned["revision"])
        down = assigned.get("down_revision") or ()
        followed.update([down] if isinstance(down, str) else down)
    return revisions - followed


def _revision_assignments(path: Path) -> dict[str, Any]:
    assigned = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                assigned[target.id] = ast.literal_eval(value)
    return assigned


def ensure_app_role(connection: Connection, password: str | None) -> None:
    """Make the app role ready inside alembic's transaction (see app_role_statements)."""
    database = connection.exec_driver_sql("SELECT current_database()").scalar_one()
    for statement in app_role_statements(database, password):
        connection.exec_driver_sql(statement)


def app_role_statements(database: str, password: str | None) -> list[str]:
    """crmapi_app: may log in, owns nothing, cannot bypass row-level security. One transaction."""
    statements = [
        # Two migrations at once must not both create it.
        "SELECT pg_advisory_xact_lock(hashtext('crmapi_app_role'))",
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN "
        f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT; "
        "END IF; END $$",
    ]
    if password:
        statements.append(f"ALTER ROLE {APP_ROLE} PASSWORD {_literal(password)}")
    return [
        *statements,
        f'GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO {APP_ROLE}',
        f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}",
    ]


ORG_MATCHES = "org_id = NULLIF(current_setting('app.org_id', true), '')::uuid"


def tenant_isolation(table: str) -> list[str]:
    """The statements that put a tenant table under forced row-level security (for migrations)."""
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table} USING ({ORG_MATCHES}) WITH CHECK ({ORG_MATCHES})",
    ]


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
