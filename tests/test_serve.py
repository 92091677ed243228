"""`crmapi serve` with several server processes answers like one."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from crmapi.embedded import free_port

ROOT = Path(__file__).resolve().parents[1]


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
    server = _serve(env)
    try:
        health = _wait_for(f"http://127.0.0.1:{port}/healthz")
        docs = httpx.get(f"http://127.0.0.1:{port}/docs", timeout=5)
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)
    assert health.json() == {"status": "ok", "database": "ok"}
    assert docs.status_code == 200
    assert "2 server process(es)" in output
    assert output.count("Application startup complete") == 2, output
    assert server.returncode == 0, output


def _serve(env: dict[str, str]) -> subprocess.Popen[str]:
    """`crmapi serve` as a user starts it, its output kept for the assertions."""
    return subprocess.Popen(
        [sys.executable, "-m", "crmapi.cli", "serve"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(url: str) -> httpx.Response:
    deadline = time.monotonic() + 60
    while True:
        try:
            answer = httpx.get(url, timeout=2)
            if answer.status_code == 200:
                return answer
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer 200 within 60 s")
        time.sleep(0.2)


def test_a_stopped_server_leaves_no_embedded_server_behind(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "WORKERS")}
    env |= {"PORT": str(port), "DATA_DIR": str(tmp_path)}
    server = _serve(env)
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz")
        assert (tmp_path / "pg" / "postmaster.pid").exists()
        assert _valkeys_in(tmp_path), "the embedded Valkey should run in the data folder"
    finally:
        # What a service manager or `kill` sends; uvicorn re-raises it once it has shut down.
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 0, output
    assert not (tmp_path / "pg" / "postmaster.pid").exists(), "embedded PostgreSQL outlived the server"
    assert not _valkeys_in(tmp_path), "embedded Valkey outlived the server"


def _valkeys_in(folder: Path) -> list[int]:
    """Valkey servers working in the folder (their working directory is their data folder)."""
    found = []
    for process in psutil.process_iter(["name", "cwd"]):
        with contextlib.suppress(psutil.Error):
            if "valkey" in (process.info["name"] or "") and str(folder) in (process.info["cwd"] or ""):
                found.append(process.pid)
    return found
