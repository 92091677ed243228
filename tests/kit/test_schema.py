"""The catalogue itself: forced row-level security, tenant keys, the app role, migrations = models."""

from __future__ import annotations

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from crmapi.kit.db import asyncpg_url, libpq_dsn
from crmapi.metadata import metadata
from crmapi.settings import APP_ROLE
from tests.support import Tenants

GLOBAL_TABLES = {"users", "organisations", "api_keys", "link_tokens", "alembic_version"}


@pytest.fixture
async def owner(owner_url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(libpq_dsn(owner_url))
    yield conn
    await conn.close()


async def _tenant_tables(owner: asyncpg.Connection) -> list[str]:
    rows = await owner.fetch(
        "SELECT table_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND column_name = 'org_id' ORDER BY 1"
    )
    return [r["table_name"] for r in rows]


async def test_every_org_id_table_has_forced_row_level_security(owner: asyncpg.Connection) -> None:
    tables = await _tenant_tables(owner)
    assert "contacts" in tables and "members" in tables
    rows = await owner.fetch(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
        "  (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies "
        "FROM pg_class c WHERE c.relname = ANY($1) AND c.relkind = 'r'",
        tables,
    )
    lacking = [r["relname"] for r in rows if not (r["relrowsecurity"] and r["relforcerowsecurity"])]
    assert lacking == []
    assert all(r["policies"] == 1 for r in rows)


async def test_global_tables_are_exactly_the_listed_ones(owner: asyncpg.Connection) -> None:
    rows = await owner.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    tenant = set(await _tenant_tables(owner))
    assert {r["tablename"] for r in rows} - tenant == GLOBAL_TABLES


async def test_tenant_keys_are_composite_for_citus(owner: asyncpg.Connection) -> None:
    constraints = await owner.fetch(
        """
        SELECT c.conrelid::regclass::text AS tbl, c.contype, c.conname,
               array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i) AS cols,
               c.confrelid::regclass::text AS target
        FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE n.nspname = 'public' AND c.contype IN ('p', 'u', 'f')
        """
    )
    tenant = set(await _tenant_tables(owner))
    problems = []
    for c in constraints:
        if c["tbl"] not in tenant:
            continue
        cols = list(c["cols"])
        if c["contype"] == "p" and cols != ["org_id", "id"]:
            problems.append(f"{c['conname']}: primary key {cols}")
        if c["contype"] == "u" and "org_id" not in cols:
            problems.append(f"{c['conname']}: unique without org_id")
        if c["contype"] == "f" and c["target"] in tenant and cols[0] != "org_id":
            problems.append(f"{c['conname']}: tenant foreign key {cols} is not (org_id, ...)")
    unique_indexes = await owner.fetch(
        "SELECT indexrelid::regclass::text AS name, indrelid::regclass::text AS tbl, "
        "  pg_get_indexdef(indexrelid) AS def FROM pg_index WHERE indisunique AND NOT indisprimary"
    )
    for ix in unique_indexes:
        if ix["tbl"] in tenant and "org_id" not in ix["def"]:
            problems.append(f"{ix['name']}: unique index without org_id")
    assert problems == []


async def test_app_role_cannot_bypass_row_level_security(owner: asyncpg.Connection) -> None:
    role = await owner.fetchrow(
        "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = $1", APP_ROLE
    )
    assert role is not None and role["rolcanlogin"]
    assert not role["rolsuper"] and not role["rolbypassrls"]
    owners = await owner.fetch("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
    assert APP_ROLE not in {r["tableowner"] for r in owners}


@pytest.mark.committed
async def test_app_role_sees_no_tenant_rows_without_an_organisation(
    committed_client: AsyncClient, committed_tenants: Tenants, app_url: str
) -> None:
    acme = await committed_tenants.create("Acme")
    created = await committed_client.post(
        "/v1/contacts", json={"kind": "organisation", "name": "Hidden Ltd"}, headers=acme.admin.headers
    )
    contact_id = created.json()["id"]
    conn = await asyncpg.connect(libpq_dsn(app_url))
    try:
        assert await conn.fetchval("SELECT current_user") == APP_ROLE
        assert await conn.fetch("SELECT * FROM contacts WHERE id = $1", contact_id) == []
        assert await conn.fetchval("SELECT count(*) FROM members") == 0
        await conn.execute("SELECT set_config('app.org_id', $1, false)", str(acme.org_id))
        assert len(await conn.fetch("SELECT * FROM contacts WHERE id = $1", contact_id)) == 1
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetch("SELECT * FROM alembic_version")
    finally:
        await conn.close()


@pytest.mark.committed
async def test_app_role_cannot_write_into_another_organisation(
    committed_tenants: Tenants, app_url: str
) -> None:
    acme = await committed_tenants.create("Acme")
    beta = await committed_tenants.create("Beta")
    conn = await asyncpg.connect(libpq_dsn(app_url))
    try:
        await conn.execute("SELECT set_config('app.org_id', $1, false)", str(acme.org_id))
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(
                "INSERT INTO contacts (org_id, id, kind, display_name, emails, phones, addresses,"
                " tags, custom, lifecycle_state, search_text, created_at, updated_at, version)"
                " VALUES ($1, gen_random_uuid(), 'person', 'x', '[]', '[]', '[]',"
                " '{}', '{}', 'prospect', '', now(), now(), 1)",
                beta.org_id,
            )
    finally:
        await conn.close()


async def test_migrations_match_the_models(owner_url: str) -> None:
    """What `alembic check` asks: the migrated schema has nothing the models lack, or the reverse."""
    engine = create_async_engine(asyncpg_url(owner_url), poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            diffs = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
    finally:
        await engine.dispose()
    assert diffs == []


@pytest.mark.parametrize(
    ("condition", "index"),
    [
        ("search_text LIKE '%number 4321%'", "ix_contacts_search_trgm"),
        ("search_vector @@ to_tsquery('simple', '4321')", "ix_contacts_search_vector"),
        ("tags @> ARRAY['vip']", "ix_contacts_tags"),
        ('custom @> \'{"region": "north"}\'', "ix_contacts_custom"),
    ],
)
async def test_the_app_role_searches_and_filters_through_indexes(
    owner: asyncpg.Connection, condition: str, index: str
) -> None:
    """Under row-level security only LEAKPROOF operators can use an index (migration 0003)."""
    async with owner.transaction():
        org = await owner.fetchval(
            "INSERT INTO organisations (id, name, default_currency, time_zone, settings, policy_version,"
            " created_at, updated_at, version) VALUES (gen_random_uuid(), 'Plan', 'EUR', 'UTC', '{}', 1,"
            " now(), now(), 1) RETURNING id"
        )
        await owner.execute(
            "INSERT INTO contacts (org_id, id, kind, display_name, emails, phones, addresses, tags, custom,"
            " lifecycle_state, search_text, created_at, updated_at, version)"
            " SELECT $1, gen_random_uuid(), 'person', 'p' || n, '[]', '[]', '[]', ARRAY['t' || n % 50],"
            " jsonb_build_object('region', 'r' || n % 50), 'prospect', 'person number ' || n, now(), now(), 1"
            " FROM generate_series(1, 30000) AS n",
            org,
        )
        await owner.execute("ANALYZE contacts")
        await owner.execute("SET LOCAL enable_seqscan = off")
        await owner.execute(f"SET LOCAL ROLE {APP_ROLE}")
        await owner.execute("SELECT set_config('app.org_id', $1, true)", str(org))
        rows = await owner.fetch(f"EXPLAIN SELECT id FROM contacts WHERE {condition}")
        plan = "\n".join(r[0] for r in rows)
        await owner.execute("RESET ROLE")
        await owner.execute("DELETE FROM organisations WHERE id = $1", org)
    assert index in plan, plan
