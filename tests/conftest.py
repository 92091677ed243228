"""Real PostgreSQL and Redis: embedded by default, TEST_DATABASE_URL / TEST_REDIS_URL when set.

Each xdist worker clones its database from a template migrated once per schema version.
Tests talk to the app as crmapi_app, so row-level security is exercised on every request.
A default test runs inside one outer transaction that is rolled back; `committed` tests
really commit (relay, worker, concurrency) and the tables are truncated after them.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
import pytest_asyncio
from fastapi import FastAPI
from filelock import FileLock
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from crmapi.app import create_app
from crmapi.kit import embedded
from crmapi.kit.db import Database, app_database_url, libpq_dsn, make_engine, make_sessions, url_with_database
from crmapi.kit.migrate import migrate
from crmapi.settings import Settings
from tests.support import Member, Tenant, Tenants

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / ".crmapi" / "test"


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "gw0")


def _schema_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted([*(ROOT / "migrations").rglob("*.py"), ROOT / "src/crmapi/kit/migrate.py"]):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@pytest.fixture(scope="session")
def server_url() -> str:
    """The owner's URL of a server tests may create databases on."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        return configured
    STATE.mkdir(parents=True, exist_ok=True)
    with FileLock(str(STATE / "pg.lock")):
        return embedded.start_postgres(STATE, database="postgres")


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(libpq_dsn(url_with_database(url, "postgres")))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def owner_url(server_url: str) -> AsyncIterator[str]:
    """This worker's database, cloned from the migrated template and dropped at the end."""
    template = f"crmapi_tpl_{_schema_hash()}"
    STATE.mkdir(parents=True, exist_ok=True)
    with FileLock(str(STATE / "template.lock")):
        conn = await asyncpg.connect(libpq_dsn(url_with_database(server_url, "postgres")))
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", template)
            if not exists:
                for old in await conn.fetch(
                    "SELECT datname FROM pg_database WHERE datname LIKE 'crmapi_tpl_%'"
                ):
                    await conn.execute(f'DROP DATABASE IF EXISTS "{old["datname"]}" WITH (FORCE)')
                await conn.execute(f'CREATE DATABASE "{template}"')
                try:
                    await asyncio.to_thread(migrate, url_with_database(server_url, template))
                except BaseException:
                    await conn.execute(f'DROP DATABASE "{template}"')
                    raise
        finally:
            await conn.close()
        # The pid keeps two runs on one server (a developer's and CI's) apart.
        name = f"crmapi_test_{_worker()}_{os.getpid()}"
        await _admin(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield url_with_database(server_url, name)
    await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """Argon2 at its cheapest: the suite hashes many passwords and none of them guard anything."""
    from argon2 import PasswordHasher

    from crmapi.identity import security

    original = security._hasher
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    security._hasher = original


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(secret_key="test-secret-" + "x" * 32, data_dir=tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def app_url(owner_url: str, settings: Settings) -> str:
    return app_database_url(settings, owner_url)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def engine(app_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(app_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def db(engine: AsyncEngine, app_url: str) -> AsyncIterator[Database]:
    """Every session of the test joins one outer transaction, rolled back at the end."""
    async with engine.connect() as conn:
        outer = await conn.begin()
        sessions = make_sessions(conn, join_transaction_mode="create_savepoint")
        yield Database(engine=engine, sessions=sessions, url=app_url)
        await outer.rollback()


@pytest_asyncio.fixture(loop_scope="session")
async def committed_db(engine: AsyncEngine, app_url: str, owner_url: str) -> AsyncIterator[Database]:
    """Sessions that really commit; every tenant and global table is emptied afterwards."""
    yield Database(engine=engine, sessions=make_sessions(engine), url=app_url)
    conn = await asyncpg.connect(libpq_dsn(owner_url))
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        )
        # DELETE, not TRUNCATE: a test leaves a few rows, and truncating ~100 tables (a new file
        # for each and its indexes) took half a second after every committed test. Foreign keys
        # are not checked meanwhile (replica role), so the order does not matter.
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute("; ".join(f'DELETE FROM "{t["tablename"]}"' for t in tables))
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def apps() -> dict[str, FastAPI]:
    """The app each kind of client talks to, built once per worker and given the test's database:
    building one costs about a second (FastAPI prepares every route's dependencies), which every
    test paid when each built its own."""
    return {}


def _client(apps: dict[str, FastAPI], kind: str, database: Database, settings: Settings) -> AsyncClient:
    app = apps.get(kind)
    if app is None:
        app = apps[kind] = create_app(settings, background=False)
    app.state.db = database
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://test")


@pytest_asyncio.fixture(loop_scope="session")
async def client(apps: dict[str, FastAPI], db: Database, settings: Settings) -> AsyncIterator[AsyncClient]:
    async with _client(apps, "rolled-back", db, settings) as c:
        yield c


@pytest_asyncio.fixture(loop_scope="session")
async def tenants(db: Database, settings: Settings) -> Tenants:
    return Tenants(db, settings)


@pytest_asyncio.fixture(loop_scope="session")
async def committed_client(
    apps: dict[str, FastAPI], committed_db: Database, settings: Settings
) -> AsyncIterator[AsyncClient]:
    async with _client(apps, "committed", committed_db, settings) as c:
        yield c


@pytest_asyncio.fixture(loop_scope="session")
async def committed_tenants(committed_db: Database, settings: Settings) -> Tenants:
    return Tenants(committed_db, settings)


@pytest.fixture
async def acme(tenants: Tenants) -> Tenant:
    """An organisation of its own for the test, with an administrator."""
    return await tenants.create("Acme")


@pytest.fixture
async def globex(tenants: Tenants) -> Tenant:
    """A second organisation: what is Acme's must stay out of its sight, and the reverse."""
    return await tenants.create("Globex")


@pytest.fixture
def admin(acme: Tenant) -> Member:
    return acme.admin


@pytest.fixture
async def staff(tenants: Tenants, acme: Tenant) -> Member:
    """A staff member of Acme, as POST /v1/members makes one."""
    return await tenants.member(acme, kind="staff")


@pytest.fixture
async def customer(tenants: Tenants, acme: Tenant) -> Member:
    """A customer member of Acme."""
    return await tenants.member(acme, kind="customer")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """TEST_REDIS_URL (one logical database per xdist worker) or an embedded Valkey of our own."""
    configured = os.environ.get("TEST_REDIS_URL")
    if configured:
        index = int(_worker().removeprefix("gw") or 0) + 1
        yield urlsplit(configured)._replace(path=f"/{index}").geturl()
        return
    folder = Path(tempfile.mkdtemp(prefix="crmapi-valkey-"))
    yield embedded.start_redis(folder, persist=False)
    embedded.stop_redis()
    shutil.rmtree(folder, ignore_errors=True)
