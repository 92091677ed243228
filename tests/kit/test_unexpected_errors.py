"""An unexpected error answers problem+json 500 on a real server and keeps the connection open."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from crmapi.app import create_app
from crmapi.kit.embedded import free_port
from crmapi.settings import Settings


def _request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: test\r\nX-Request-Id: probe-1\r\n\r\n".encode()


def _answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 answer read off the socket (the server sends a Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"the server closed the connection after {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    while len(body) < int(headers["content-length"]):
        body += sock.recv(65536)
    return int(status_line.split()[1]), headers, body


@pytest.fixture
def served(settings: Settings) -> Iterator[int]:
    """The app with a route that fails unexpectedly, served by uvicorn on a thread (no lifespan:
    neither route needs the database)."""
    app = create_app(settings, background=False)

    async def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom, include_in_schema=False)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="critical")
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield port
    server.should_exit = True
    thread.join(timeout=10)


def test_an_unexpected_error_answers_500_and_keeps_the_connection(served: int) -> None:
    with socket.create_connection(("127.0.0.1", served), timeout=5) as sock:
        sock.sendall(_request("/boom"))
        status, headers, body = _answer(sock)
        assert status == 500
        assert headers["content-type"] == "application/problem+json"
        assert headers["x-request-id"] == "probe-1"
        assert json.loads(body)["type"] == "/problems/internal"
        assert "a bug" not in body.decode()
        sock.sendall(_request("/livez"))
        status, _, _ = _answer(sock)
        assert status == 200
