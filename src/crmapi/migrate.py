"""Schema migrations (as the owner) and the crmapi_app role the API connects as."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from crmapi.settings import APP_ROLE, Settings

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(owner_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["url"] = owner_url
    return config


def migrate(owner_url: str, settings: Settings | None = None) -> None:
    """Bring the schema to the newest revision; creates the app role first."""
    config = alembic_config(owner_url)
    config.attributes["app_db_password"] = settings.app_db_password if settings else None
    command.upgrade(config, "head")


def ensure_app_role(connection: Connection, password: str | None) -> None:
    """crmapi_app: may log in, owns nothing, cannot bypass row-level security."""
    connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('crmapi_app_role'))"))
    exists = connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE}).first()
    if exists is None:
        connection.execute(
            text(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT")
        )
    if password:
        connection.execute(text(f"ALTER ROLE {APP_ROLE} PASSWORD " + _literal(password)))
    database = connection.execute(text("SELECT current_database()")).scalar_one()
    connection.execute(text(f'GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO {APP_ROLE}'))
    connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}"))


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
