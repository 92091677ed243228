"""A shutdown step that hangs is given up on, named in the log with where it waited."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import pytest

from crmapi.kit.stopping import cancel_all, close_within


async def _deaf(hearing: asyncio.Event) -> None:
    """Swallows its cancellation and goes on waiting, as a library that mishandles one would,
    until `hearing` is set."""
    while True:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            if hearing.is_set():
                raise


async def _obliging() -> None:
    await asyncio.Event().wait()


async def test_a_task_deaf_to_its_cancellation_is_left_and_named(caplog: pytest.LogCaptureFixture) -> None:
    hearing = asyncio.Event()
    deaf = asyncio.create_task(_deaf(hearing), name="deaf-relay")
    obliging = asyncio.create_task(_obliging(), name="worker")
    await asyncio.sleep(0)
    started = time.monotonic()

    with caplog.at_level(logging.WARNING, logger="crmapi.stopping"):
        await cancel_all([deaf, obliging], seconds=0.3)

    assert time.monotonic() - started < 5
    assert obliging.cancelled()
    [report] = caplog.records
    assert "deaf-relay did not stop" in report.getMessage()
    assert "_deaf" in report.getMessage(), "where it was waiting"
    hearing.set()
    deaf.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await deaf


async def test_a_close_that_hangs_is_given_up(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="crmapi.stopping"):
        await close_within("the queue's Redis client", asyncio.Event().wait(), seconds=0.2)

    assert "the queue's Redis client did not close within" in caplog.text


async def test_a_task_that_failed_before_the_end_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    async def fail() -> None:
        raise RuntimeError("relay broke")

    failed = asyncio.create_task(fail(), name="relay")
    await asyncio.sleep(0)

    with caplog.at_level(logging.WARNING, logger="crmapi.stopping"):
        await cancel_all([failed], seconds=0.2)

    assert "relay ended with RuntimeError('relay broke')" in caplog.text
