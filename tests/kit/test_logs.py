"""Log lines are JSON, a line each, and reach stderr's file in batches: a warning at once, the
access log's lines within the flush interval, none lost at shutdown."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time

from crmapi.kit.logs import BatchedHandler, JsonFormatter


def _lines(path: str) -> list[dict[str, object]]:
    with open(path) as f:
        return [json.loads(line) for line in f.read().splitlines()]


def test_info_lines_wait_for_the_batch_and_a_warning_goes_at_once() -> None:
    with tempfile.NamedTemporaryFile("w", delete=False) as f:
        path = f.name
    fd = os.open(path, os.O_WRONLY)
    handler = BatchedHandler(fd)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("tests.kit.batched")
    log.propagate, log.handlers = False, [handler]
    log.setLevel(logging.INFO)
    try:
        log.info("GET /livez 200", extra={"fields": {"status": 200}})
        assert _lines(path) == []  # buffered: no write system call per line
        deadline = time.monotonic() + 5
        while not _lines(path) and time.monotonic() < deadline:
            time.sleep(0.05)
        [first] = _lines(path)
        assert first["message"] == "GET /livez 200" and first["status"] == 200 and first["level"] == "info"

        log.warning("database unavailable")
        assert [line["message"] for line in _lines(path)] == ["GET /livez 200", "database unavailable"]

        log.info("last words")
        handler.close()  # as at exit, or when the handler is replaced
        assert _lines(path)[-1]["message"] == "last words"
    finally:
        log.handlers = []
        os.close(fd)
        os.unlink(path)
