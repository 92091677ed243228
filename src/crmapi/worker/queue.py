"""The one place that talks to arq for enqueueing."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from redis.asyncio import ConnectionPool

QUEUE_NAME = "crmapi:queue"


CONNECT_TIMEOUT_SECONDS = 2
# The worker's commands are short polls, never blocking reads: one that has no answer after this
# long has met a silent Redis.
COMMAND_TIMEOUT_SECONDS = 5.0


def redis_settings(url: str) -> RedisSettings:
    # No connection retries here: the relay retries on its own schedule and must not stall.
    settings = RedisSettings.from_dsn(url)
    settings.conn_retries = 0
    settings.conn_timeout = CONNECT_TIMEOUT_SECONDS
    return settings


def worker_pool(url: str, queue_name: str = QUEUE_NAME) -> ArqRedis:
    """The worker's Redis client. arq's own has no socket timeout: a Redis that stops answering
    would hold the worker for good; this one fails the worker's run, which is started again."""
    connections = ConnectionPool.from_url(
        url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_timeout=COMMAND_TIMEOUT_SECONDS
    )
    return ArqRedis(connections, default_queue_name=queue_name)


class Queue:
    def __init__(self, redis_url: str, queue_name: str = QUEUE_NAME, timeout: float = 5.0) -> None:
        self.redis_url = redis_url
        self.queue_name = queue_name
        # A Redis that accepts connections but never answers (a partition, a paused server)
        # would otherwise hold the relay, its transaction and its lock for good.
        self.timeout = timeout
        self._pool: ArqRedis | None = None

    async def enqueue(self, job: str, *args: Any, job_id: str) -> None:
        """Enqueue once per job id. TimeoutError when Redis does not answer within `timeout`
        seconds."""
        try:
            async with asyncio.timeout(self.timeout):
                if self._pool is None:
                    settings = redis_settings(self.redis_url)
                    self._pool = await create_pool(settings, default_queue_name=self.queue_name)
                await self._pool.enqueue_job(job, *args, _job_id=job_id, _queue_name=self.queue_name)
        except Exception:
            await self.close()
            raise

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.timeout):
                    await pool.aclose()
