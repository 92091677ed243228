"""Stopping what the lifespan started, each step within a bound.

A `crmapi serve` that does not exit on SIGTERM holds a deploy or a test run for good; a close
skipped costs a connection the server drops anyway. So every step gets `STEP_SECONDS`, and
what overran is logged with where it was waiting, for the next person to find out why.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Sequence

log = logging.getLogger("crmapi.stopping")
STEP_SECONDS = 10.0


async def cancel_all(tasks: Sequence[asyncio.Task[None]], seconds: float = STEP_SECONDS) -> None:
    """Cancel the tasks and wait up to `seconds` for all of them to end."""
    if not tasks:
        return
    for task in tasks:
        task.cancel()
    done, pending = await asyncio.wait(tasks, timeout=seconds)
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            log.warning("background task %s ended with %r", task.get_name(), task.exception())
    for task in pending:
        log.error(
            "background task %s did not stop within %.0f s of its cancellation; left waiting at:\n%s",
            task.get_name(),
            seconds,
            _where(task),
        )


async def close_within(what: str, closing: Awaitable[None], seconds: float = STEP_SECONDS) -> None:
    """Await `closing` (a pool's or client's close) for up to `seconds`; a failure is logged."""
    try:
        async with asyncio.timeout(seconds):
            await closing
    except TimeoutError:
        log.error("%s did not close within %.0f s; going on without it", what, seconds)
    except Exception as exc:
        log.warning("%s did not close cleanly: %r", what, exc)


def _where(task: asyncio.Task[None]) -> str:
    stack = io.StringIO()
    task.print_stack(file=stack)
    return stack.getvalue()
