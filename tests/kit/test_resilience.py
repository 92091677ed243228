"""A lost database answers 503 and heals by itself; embedded data survives a restart."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from crmapi.app import create_app
from crmapi.kit.db import Database, libpq_dsn, make_engine, make_sessions
from crmapi.kit.embedded import free_port
from crmapi.kit.errors import to_problem_error
from crmapi.settings import Settings
from tests.support import Tenants

ROOT = Path(__file__).resolve().parents[2]


async def test_an_unreachable_database_answers_503_with_retry_after(
    settings: Settings, tenants: Tenants
) -> None:
    acme = await tenants.create()
    url = f"postgresql+asyncpg://crmapi_app@127.0.0.1:{free_port()}/crmapi"
    engine = make_engine(url)
    app = create_app(
        settings, db=Database(engine=engine, sessions=make_sessions(engine), url=url), background=False
    )
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        listed = await client.get("/v1/contacts", headers=acme.admin.headers)
        health = await client.get("/healthz")
        alive = await client.get("/livez")
    await engine.dispose()
    assert alive.status_code == 200 and alive.json() == {"status": "ok"}
    for answer in (listed, health):
        assert answer.status_code == 503
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["retry-after"] == str(settings.db_retry_after_seconds)
        assert answer.json()["type"].endswith("/database-unavailable")


@pytest.mark.committed
async def test_the_service_recovers_when_its_connections_are_killed(
    committed_client: AsyncClient, committed_tenants: Tenants, owner_url: str
) -> None:
    acme = await committed_tenants.create()
    assert (await committed_client.get("/v1/contacts", headers=acme.admin.headers)).status_code == 200
    owner = await asyncpg.connect(libpq_dsn(owner_url))
    try:
        killed = await owner.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE usename = 'crmapi_app' AND datname = current_database()"
        )
    finally:
        await owner.close()
    assert killed >= 1
    assert (await committed_client.get("/v1/contacts", headers=acme.admin.headers)).status_code == 200


def _crmapi(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"}}
    env["DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "crmapi.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_embedded_data_survives_a_restart(tmp_path: Path) -> None:
    first = _crmapi(
        tmp_path,
        "create-org",
        "--name",
        "Acme",
        "--admin-email",
        "a@acme.test",
        "--admin-password",
        "secret-123",
    )
    assert first.returncode == 0, first.stderr
    acme = json.loads(first.stdout.strip().splitlines()[-1])

    # A second process starts the stopped server on the same folder and finds the first organisation.
    second = _crmapi(
        tmp_path,
        "create-org",
        "--name",
        "Beta",
        "--admin-email",
        "a@acme.test",
        "--admin-password",
        "ignored-456",
    )
    assert second.returncode == 0, second.stderr
    counted = subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "import asyncio, asyncpg, sys\n"
                "from pathlib import Path\n"
                "from crmapi.kit.embedded import start_postgres\n"
                "from crmapi.kit.db import libpq_dsn\n"
                "async def main():\n"
                "    conn = await asyncpg.connect(libpq_dsn(start_postgres(Path(sys.argv[1]))))\n"
                "    ids = await conn.fetch('SELECT id FROM organisations ORDER BY name')\n"
                "    print(','.join(str(r['id']) for r in ids))\n"
                "    await conn.close()\n"
                "asyncio.run(main())\n"
            ),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert counted.returncode == 0, counted.stderr
    assert counted.stdout.strip().split(",")[0] == acme["organisation_id"]
    assert len(counted.stdout.strip().split(",")) == 2


@pytest.mark.committed
async def test_a_deadlock_answers_503_with_retry_after_not_500(committed_db: Database) -> None:
    """Two real transactions taking two locks in opposite order: PostgreSQL aborts one."""
    both_hold_one = asyncio.Barrier(2)

    async def take(first: int, second: int) -> None:
        async with committed_db.sessions() as session:
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": first})
            await both_hold_one.wait()
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": second})

    outcomes = await asyncio.gather(take(91, 92), take(92, 91), return_exceptions=True)
    [aborted] = [o for o in outcomes if isinstance(o, BaseException)]
    problem = to_problem_error(aborted)
    assert (problem.status, problem.slug) == (503, "transaction-conflict")
    assert problem.headers == {"Retry-After": "1"}


def _wrapped(error: BaseException, how: str) -> BaseException:
    """`error` as it reaches the error handler: raw, in SQLAlchemy's wrapper around the dialect's
    own error, as the cause of another exception, or as what was being handled when one arose."""
    if how == "raw":
        return error
    if how == "sqlalchemy":
        adapter = Exception(str(error))
        adapter.__cause__ = error
        return sa_exc.OperationalError("SELECT 1", None, adapter)
    try:
        try:
            raise error
        except Exception as inner:
            if how == "cause":
                raise RuntimeError("the unit of work failed") from inner
            raise KeyError("raised while handling")  # noqa: B904 (the context is the point)
    except Exception as outer:
        return outer


LOST = [
    asyncpg.CannotConnectNowError("the database system is starting up"),
    asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.CrashShutdownError("terminating connection because of crash of another server process"),
    asyncpg.TooManyConnectionsError("sorry, too many clients already"),
    asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.QueryCanceledError("canceling statement due to statement timeout"),
    ConnectionRefusedError(111, "Connection refused"),
    TimeoutError(),
    sa_exc.TimeoutError("QueuePool limit of size 2 overflow 2 reached, connection timed out"),
]


@pytest.mark.parametrize("how", ["raw", "sqlalchemy", "cause", "context"])
@pytest.mark.parametrize(
    "error", LOST, ids=lambda e: f"{type(e).__module__.split('.')[0]}.{type(e).__name__}"
)
def test_a_lost_database_answers_503_however_its_error_arrives(error: BaseException, how: str) -> None:
    problem = to_problem_error(_wrapped(error, how))
    assert (problem.status, problem.slug) == (503, "database-unavailable")
    assert int(problem.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("how", ["raw", "sqlalchemy", "cause"])
def test_a_wrong_statement_still_answers_500(how: str) -> None:
    problem = to_problem_error(_wrapped(asyncpg.PostgresSyntaxError('syntax error at or near "SELEC"'), how))
    assert (problem.status, problem.slug) == (500, "internal")
