"""/docs and /redoc as a person sees them: a served instance opened in headless Chromium.

A 200 for the page is not enough: Swagger UI 4 answered 200 and then showed "Unable to render this
definition" for our OpenAPI 3.1 document. The browser runs the pages' scripts, fetches the
document and renders it; the assertions read the DOM it ends with.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from filelock import FileLock
from httpx import AsyncClient

from crmapi.embedded import free_port

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, installed here when missing; the test fails (never skips) without it."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.fail(f"{CHROMIUM} is missing: install Debian's package (apt-get install chromium)")
    (ROOT / ".crmapi").mkdir(exist_ok=True)
    with FileLock(str(ROOT / ".crmapi" / "chromium.lock")):  # one install for all xdist workers
        if not CHROMIUM.exists():
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            steps = (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"])
            for step in steps:
                done = subprocess.run(step, env=env, capture_output=True, text=True, timeout=900)
                if done.returncode != 0:
                    pytest.fail(f"could not install Chromium ({' '.join(step)}):\n{done.stderr[-2000:]}")
    if not CHROMIUM.exists():
        pytest.fail(f"apt-get installed chromium but {CHROMIUM} is still missing")
    return CHROMIUM


@pytest.fixture(scope="module")
def served(owner_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`crmapi serve` on a free port, as a user starts it."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": owner_url,
        "REDIS_URL": redis_url,
        "PORT": str(port),
        "DATA_DIR": str(tmp_path_factory.mktemp("docs-data")),
        "SECRET_KEY": "docs-test-" + "x" * 32,
        "WORKERS": "1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "crmapi.cli", "serve"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_live(base, server)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _wait_until_live(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while server.poll() is None and time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/livez", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"crmapi serve did not answer on {base} (exit code {server.poll()})")


def _rendered(chromium: Path, url: str, tmp_path: Path) -> str:
    """The DOM once the page's scripts have run (virtual time lets them finish without real waits)."""
    done = subprocess.run(
        [
            str(chromium),
            "--headless",
            "--no-sandbox",  # the suite runs as root, where Chromium's sandbox refuses to start
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium'}",
            "--virtual-time-budget=15000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _operations(base: str) -> list[dict[str, Any]]:
    document = httpx.get(f"{base}/openapi.json", timeout=10).json()
    return [operation for item in document["paths"].values() for operation in item.values()]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_pages_load_only_their_own_assets(client: AsyncClient, page: str) -> None:
    """No CDN is reachable where the service runs: every script, style and icon is served here."""
    answer = await client.get(page)
    assert answer.status_code == 200
    links = re.findall(r'(?:src|href)="([^"]+)"', answer.text)
    assert links
    for link in links:
        assert link.startswith("/docs/assets/"), link
        assert (await client.get(link)).status_code == 200, link


def test_swagger_ui_renders_the_operations(chromium: Path, served: str, tmp_path: Path) -> None:
    dom = _rendered(chromium, f"{served}/docs", tmp_path)

    assert "Unable to render this definition" not in dom
    assert "OAS 3.1" in dom
    # Swagger UI renders the operations in view (its list is virtualised): at least the first few,
    # each the document's, under its summary.
    shown = re.findall(r'<div class="opblock opblock-\w+" id="operations-[^"]+-([^"]+)"', dom)
    assert len(shown) >= 3
    summaries = {operation["operationId"]: operation["summary"] for operation in _operations(served)}
    for operation_id in shown:
        assert operation_id in summaries
        assert f">{html.escape(summaries[operation_id], quote=False)}<" in dom


def test_redoc_renders_the_operations(chromium: Path, served: str, tmp_path: Path) -> None:
    dom = _rendered(chromium, f"{served}/redoc", tmp_path)

    assert "Something went wrong" not in dom
    operations = _operations(served)
    sections = set(re.findall(r'data-section-id="operation/([^"]+)"', dom))
    assert sections == {operation["operationId"] for operation in operations}
    for operation in operations:
        assert html.escape(operation["summary"], quote=False) in dom
