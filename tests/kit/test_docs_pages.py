"""/docs and /redoc as a person sees them: a served instance opened in headless Chromium.

A 200 for the page is not enough: Swagger UI 4 answered 200 and then showed "Unable to render this
definition" for our OpenAPI 3.1 document. The browser runs the pages' scripts, fetches the
document and renders it; the assertions read the DOM it ends with.
"""

from __future__ import annotations

import contextlib
import html
import itertools
import json
import os
import re
import select
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from filelock import FileLock
from httpx import AsyncClient

from crmapi.app import create_app
from crmapi.kit.embedded import free_port
from crmapi.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
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
def served(owner_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served over HTTP by uvicorn on a free port (in a thread: no second interpreter to start)."""
    settings = Settings(
        database_url=owner_url,
        secret_key="docs-test-" + "x" * 32,
        data_dir=tmp_path_factory.mktemp("docs-data"),
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, background=False), port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


FLAGS = (
    "--headless",
    "--no-sandbox",  # the suite runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
)


class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe: no port, no extra package.

    A page is read as soon as it shows what the test waits for, not after a fixed wait.
    """

    def __init__(self, chromium: Path, profile: Path) -> None:
        commands, self._commands = os.pipe()
        self._events, events = os.pipe()
        # Chromium reads the protocol from fd 3 and writes to fd 4.
        self.process = subprocess.Popen(
            [
                "bash",
                "-c",
                f'exec "$@" 3<&{commands} 4>&{events}',
                "chromium",
                str(chromium),
                *FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            pass_fds=(commands, events),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(commands)
        os.close(events)
        self._buffer = b""
        self._ids = itertools.count(1)

    def page(self, url: str, ready: str, timeout: float = 120) -> str:
        """The page's DOM once the JavaScript expression `ready` is true in it."""
        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self._send("Page.navigate", {"url": url}, session)
        deadline = time.monotonic() + timeout
        while not self._evaluate(f"!!({ready})", session):
            assert time.monotonic() < deadline, f"{url} did not get to {ready} within {timeout} s"
            time.sleep(0.1)
        dom: str = self._evaluate("document.documentElement.outerHTML", session)
        self._send("Target.closeTarget", {"targetId": target})
        return dom

    def close(self) -> None:
        with contextlib.suppress(AssertionError, OSError):
            self._send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._commands)
        os.close(self._events)

    def _evaluate(self, expression: str, session: str) -> Any:
        answer = self._send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
        return answer["result"].get("value")

    def _send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        number = next(self._ids)
        message: dict[str, Any] = {"id": number, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._receive()
            if answer.get("id") == number:
                assert "error" not in answer, f"{method}: {answer['error']}"
                return answer["result"]

    def _receive(self, timeout: float = 120) -> dict[str, Any]:
        # Generous: an evaluation waits while the page's own script holds its thread, and the
        # suite shares two cores with the other xdist worker.
        while b"\0" not in self._buffer:
            readable, _, _ = select.select([self._events], [], [], timeout)
            assert readable, f"Chromium did not answer within {timeout} s"
            chunk = os.read(self._events, 1 << 16)
            assert chunk, "Chromium closed the DevTools pipe"
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        answer: dict[str, Any] = json.loads(message)
        return answer


@pytest.fixture(scope="module")
def browser(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    browser = Browser(chromium, tmp_path_factory.mktemp("chromium"))
    yield browser
    browser.close()


def _operations(base: str) -> list[dict[str, Any]]:
    """The document's operations: its paths' and the webhooks' it sends (both pages show them)."""
    document = httpx.get(f"{base}/openapi.json", timeout=10).json()
    items = [*document["paths"].values(), *document.get("webhooks", {}).values()]
    return [operation for item in items for operation in item.values()]


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


def test_swagger_ui_renders_the_operations(browser: Browser, served: str) -> None:
    dom = browser.page(
        f"{served}/docs",
        ready="document.querySelector('.opblock') || document.body.innerText.includes('Unable to render')",
    )

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


def test_redoc_renders_the_operations(browser: Browser, served: str) -> None:
    operations = _operations(served)
    dom = browser.page(
        f"{served}/redoc",
        ready=f"document.querySelectorAll('[data-section-id^=\"operation/\"]').length >= {len(operations)}"
        " || document.body.innerText.includes('Something went wrong')",
    )

    assert "Something went wrong" not in dom
    sections = set(re.findall(r'data-section-id="operation/([^"]+)"', dom))
    assert sections == {operation["operationId"] for operation in operations}
    for operation in operations:
        assert html.escape(operation["summary"], quote=False) in dom
