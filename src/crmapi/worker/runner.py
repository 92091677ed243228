"""The arq worker, in its own process (`crmapi worker`) or inside the API in embedded mode."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from arq import Worker
from arq.worker import func

from crmapi.kit.db import Database
from crmapi.worker.jobs import deliver_outbox
from crmapi.worker.queue import QUEUE_NAME, worker_pool
from crmapi.worker.relay import DELIVER_JOB

log = logging.getLogger("crmapi.worker")
RESTART_DELAY_SECONDS = 2.0


def make_worker(db: Database, redis_url: str, queue_name: str = QUEUE_NAME, **kw: Any) -> Worker:
    return Worker(
        # No kept result: an event whose job failed can be enqueued again under the same id.
        functions=[func(deliver_outbox, name=DELIVER_JOB, keep_result=0, max_tries=5)],
        redis_pool=worker_pool(redis_url, queue_name),
        queue_name=queue_name,
        ctx={"sessions": db.sessions},
        handle_signals=False,
        keep_result=0,
        **kw,
    )


async def run_supervised(db: Database, redis_url: str, queue_name: str = QUEUE_NAME) -> None:
    """Run the worker; when Redis goes away, start it again once Redis answers."""
    failing = False
    while True:
        worker = make_worker(db, redis_url, queue_name)
        try:
            await worker.async_run()
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
