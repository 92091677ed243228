"""`crmapi serve` as a user runs it: several server processes answer like one; the embedded servers
stop with it, and a restart after a kill -9 reuses what the killed one left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from crmapi.kit.embedded import free_port
from crmapi.settings import default_workers
from tests.served import ROOT, Served, data_folder, postmasters_in, valkeys_in

ADMIN_ARGS = ("--admin-email", "a@acme.test", "--admin-password", "secret-123")


def test_serve_with_two_processes(owner_url: str, redis_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": owner_url,
        "REDIS_URL": redis_url,
        "WORKERS": "2",
        "PORT": str(port),
        "DATA_DIR": str(tmp_path),
    }
    server = Served(env, tmp_path / "serve.log")
    try:
        health = server.wait_for(f"http://127.0.0.1:{port}/healthz")
        docs = httpx.get(f"http://127.0.0.1:{port}/docs", timeout=5)
    finally:
        asked = time.monotonic()
        exit_code = server.stop(signal.SIGINT)
        stopping = time.monotonic() - asked
    output = server.output()
    # Its in-process worker stops when cancelled: it once held every stop to its 10 s bound.
    assert "did not stop" not in output and stopping < 8, output
    assert health.json() == {"status": "ok", "database": "ok"}
    assert docs.status_code == 200
    assert "2 server process(es)" in output
    assert output.count("Application startup complete") == 2, output
    assert exit_code == 0, output


@pytest.fixture
def data_dir() -> Iterator[Path]:
    with data_folder() as folder:
        yield folder


def test_a_stopped_server_leaves_no_embedded_server_behind(data_dir: Path) -> None:
    port = free_port()
    server = Served(_embedded(data_dir, port), data_dir / "serve.log")
    try:
        server.wait_for(f"http://127.0.0.1:{port}/healthz")
        assert len(postmasters_in(data_dir)) == 1
        assert len(valkeys_in(data_dir)) == 1, "the embedded Valkey should run in the data folder"
    finally:
        # What a service manager or `kill` sends; uvicorn re-raises it once it has shut down.
        exit_code = server.stop(signal.SIGTERM)
    assert exit_code == 0, server.output()
    # WORKERS unset: a server process a core (two on a two-core machine), sharing the embedded servers.
    assert f"{default_workers()} server process(es)" in server.output()
    assert not postmasters_in(data_dir), "embedded PostgreSQL outlived the server"
    assert not valkeys_in(data_dir), "embedded Valkey outlived the server"


def test_a_restart_after_kill_9_reuses_what_the_killed_server_left(data_dir: Path) -> None:
    port = free_port()
    killed = Served(_embedded(data_dir, port), data_dir / "killed.log")
    try:
        killed.wait_for(f"http://127.0.0.1:{port}/healthz")
        # A second user of the running PostgreSQL, which leaves it running when it ends.
        created = subprocess.run(
            [sys.executable, "-m", "crmapi.cli", "create-org", "--name", "Acme", *ADMIN_ARGS],
            env=_embedded(data_dir, port),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert created.returncode == 0, created.stderr
        assert len(postmasters_in(data_dir)) == 1
    finally:
        killed.stop(signal.SIGKILL)
    left = (postmasters_in(data_dir), valkeys_in(data_dir))
    assert all(len(servers) == 1 for servers in left), "a killed server's embedded servers live on"

    port = free_port()
    restarted = Served(_embedded(data_dir, port) | {"WORKERS": "2"}, data_dir / "restarted.log")
    try:
        restarted.wait_for(f"http://127.0.0.1:{port}/healthz")
        running = (postmasters_in(data_dir), valkeys_in(data_dir))
        signed_in = httpx.post(
            f"http://127.0.0.1:{port}/v1/auth/token",
            data={"username": "a@acme.test", "password": "secret-123"},
            timeout=10,
        )
    finally:
        exit_code = restarted.stop(signal.SIGTERM)
    assert running == left, "the restart should reuse the servers the killed one left, and start no other"
    assert signed_in.status_code == 200, signed_in.text
    assert exit_code == 0, restarted.output()
    assert not postmasters_in(data_dir), "embedded PostgreSQL outlived the restarted server"
    assert not valkeys_in(data_dir), "embedded Valkey outlived the restarted server"


def _embedded(data_dir: Path, port: int) -> dict[str, str]:
    """The environment of `crmapi serve` with embedded servers in data_dir."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "WORKERS")}
    return env | {"PORT": str(port), "DATA_DIR": str(data_dir)}
