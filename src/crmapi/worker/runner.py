"""The arq worker, in its own process (`crmapi worker`) or inside the API in embedded mode."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
from arq import Worker
from arq.worker import func

from crmapi.events.sending import SEND_JOB, send_webhook
from crmapi.kit.db import Database
from crmapi.settings import Settings
from crmapi.worker.jobs import deliver_outbox
from crmapi.worker.queue import QUEUE_NAME, worker_pool
from crmapi.worker.relay import DELIVER_JOB

log = logging.getLogger("crmapi.worker")
RESTART_DELAY_SECONDS = 2.0
POLL_SECONDS = 0.1


def make_worker(
    db: Database, redis_url: str, settings: Settings, queue_name: str = QUEUE_NAME, **kw: Any
) -> Worker:
    return Worker(
        # No kept result: a job that failed can be enqueued again under the same id.
        functions=[
            func(deliver_outbox, name=DELIVER_JOB, keep_result=0, max_tries=5),
            # A webhook attempt records its own failure and schedules the next; arq tries a job
            # again only when the worker died under it.
            func(send_webhook, name=SEND_JOB, keep_result=0, max_tries=3),
        ],
        redis_pool=worker_pool(redis_url, queue_name),
        queue_name=queue_name,
        ctx={"sessions": db.sessions, "settings": settings},
        on_startup=_open_http,
        on_shutdown=_close_http,
        handle_signals=False,
        keep_result=0,
        # arq looks for due jobs every half second by default; an event's way to a webhook
        # receiver passes two jobs (its batch, then the attempt), so it looks more often.
        **({"poll_delay": POLL_SECONDS} | kw),
    )


async def _open_http(ctx: dict[str, Any]) -> None:
    """The webhooks' HTTP client: no redirects followed, no proxies from the environment, its own
    timeouts (a whole attempt is bounded by WEBHOOK_TIMEOUT_SECONDS besides)."""
    timeout = ctx["settings"].webhook_timeout_seconds
    ctx["http"] = httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=timeout)


async def _close_http(ctx: dict[str, Any]) -> None:
    if "http" in ctx:
        await ctx.pop("http").aclose()


async def _run(worker: Worker) -> None:
    """`worker.async_run()`, cancelled until it ends: arq's loop was seen to swallow the one
    cancellation awaiting it passes on (a task left "cancelling" at its poll, so every stop of
    `crmapi serve` waited out its 10 s bound), so it is cancelled again until it is done."""
    worker.main_task = main = asyncio.create_task(worker.main())
    try:
        await asyncio.shield(main)
    except asyncio.CancelledError:
        while not main.done():
            main.cancel()
            await asyncio.wait({main}, timeout=0.1)
        raise


async def run_supervised(
    db: Database, redis_url: str, settings: Settings, queue_name: str = QUEUE_NAME
) -> None:
    """Run the worker; when Redis goes away, start it again once Redis answers."""
    failing = False
    while True:
        worker = make_worker(db, redis_url, settings, queue_name)
        try:
            await _run(worker)
        except asyncio.CancelledError:
            await worker.close()
            raise
        except Exception as exc:
            if not failing:
                log.warning("worker lost Redis (%s); retrying every %.0f s", exc, RESTART_DELAY_SECONDS)
            failing = True
        finally:
            try:
                await worker.close()
            except Exception:
                log.debug("worker close failed", exc_info=True)
        await asyncio.sleep(RESTART_DELAY_SECONDS)
