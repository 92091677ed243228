"""Forget the arq jobs the bench server enqueued on a shared Redis (nobody consumes them there)."""

from __future__ import annotations

from arq.constants import job_key_prefix
from redis.asyncio import Redis

from bench.database import connect
from crmapi.worker.queue import QUEUE_NAME


async def forget(redis_url: str, owner_url: str) -> int:
    """Remove the queue entries and job records of every outbox event of the bench database."""
    conn = await connect(owner_url)
    try:
        ids = [f"outbox:{row['id']}" for row in await conn.fetch("SELECT id FROM outbox")]
    finally:
        await conn.close()
    client = Redis.from_url(redis_url)
    removed = 0
    try:
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            removed += int(await client.zrem(QUEUE_NAME, *chunk))
            await client.delete(*(job_key_prefix + job_id for job_id in chunk))
    finally:
        await client.aclose()
    return removed
