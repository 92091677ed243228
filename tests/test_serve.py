"""`crmapi serve` with several server processes answers like one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

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
    server = subprocess.Popen(
        [sys.executable, "-m", "crmapi.cli", "serve"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
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
