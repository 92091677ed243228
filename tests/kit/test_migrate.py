"""`crmapi migrate` with nothing to migrate: quick, and the app role still made ready."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import asyncpg

from crmapi.kit.db import libpq_dsn
from crmapi.kit.migrate import alembic_config, head_revisions
from tests.served import ROOT

# What alembic's environment imports (the models, so the whole application): seconds of CPU.
THE_APPLICATION = ("crmapi.metadata", "crmapi.app", "fastapi")
EXPLICIT_CONNECT = """
SELECT count(*) FROM pg_database d, aclexplode(d.datacl) a
WHERE d.datname = current_database() AND a.grantee = 'crmapi_app'::regrole AND a.privilege_type = 'CONNECT'
"""


async def test_migrate_at_head_does_not_load_the_application(owner_url: str) -> None:
    loaded = await _migrate_in_a_process(owner_url)

    assert loaded == [], "a schema at head should not cost loading the application"


async def test_migrate_at_head_still_grants_what_the_app_role_needs(owner_url: str) -> None:
    conn = await asyncpg.connect(libpq_dsn(owner_url))
    try:
        database = await conn.fetchval("SELECT current_database()")
        await conn.execute(f'REVOKE CONNECT ON DATABASE "{database}" FROM crmapi_app')
        assert await conn.fetchval(EXPLICIT_CONNECT) == 0

        await _migrate_in_a_process(owner_url)

        assert await conn.fetchval(EXPLICIT_CONNECT) == 1
    finally:
        await conn.close()


def test_the_heads_read_from_the_files_are_alembics() -> None:
    from alembic.script import ScriptDirectory

    assert head_revisions() == set(ScriptDirectory.from_config(alembic_config("unused")).get_heads())


async def _migrate_in_a_process(owner_url: str) -> list[str]:
    """crmapi.kit.migrate.migrate(owner_url) in a fresh interpreter; which of THE_APPLICATION it loaded."""
    script = (
        "import sys\n"
        "from crmapi.kit.migrate import migrate\n"
        "migrate(sys.argv[1])\n"
        f"print(','.join(m for m in {THE_APPLICATION!r} if m in sys.modules))\n"
    )
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", script, owner_url],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    return [name for name in done.stdout.strip().split(",") if name]
