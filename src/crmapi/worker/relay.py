"""The outbox relay: stamps committed events in commit order and hands them to the queue; on the
side, it announces reminders falling due (an outbox event each, once per reminder time).

One relay claims at a time (advisory lock inside crmapi_outbox_claim), up to BATCH events in
one statement that marks them handed over, and enqueues them as one job; events whose job
never finished are handed over again after five minutes. If Redis is down the claim is given
back, so the next tick tries again: losing Redis loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crmapi.events.sending import SEND_JOB, job_id
from crmapi.kit.ids import new_id
from crmapi.worker.queue import Queue

log = logging.getLogger("crmapi.relay")
BATCH = 5000
STALE_AFTER = timedelta(minutes=5)
PURGE_EVERY_SECONDS = 600
REMINDERS_EVERY_SECONDS = 30
REMINDERS_BATCH = 1000  # per kind and round
DELIVER_JOB = "deliver_outbox"


class Relay:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        queue: Queue,
        interval: float = 0.5,
        sweep_grace: timedelta = timedelta(seconds=30),
    ) -> None:
        self.sessions = sessions
        self.queue = queue
        self.interval = interval
        self.sweep_grace = sweep_grace  # Settings.webhook_sweep_grace_seconds
        self._last_purge = 0.0
        self._last_reminders = 0.0
        self._failing = False

    async def tick(self) -> int:
        """Hand over what is waiting, as one job; returns how many events it holds."""
        if time.monotonic() - self._last_reminders > REMINDERS_EVERY_SECONDS:
            await self._reminders()
        # The claim commits before Redis is asked: no transaction waits on Redis.
        async with self.sessions() as session, session.begin():
            claimed = (
                await session.execute(
                    text("SELECT org_id, id, seq FROM crmapi_outbox_claim(:batch, :stale)"),
                    {"batch": BATCH, "stale": STALE_AFTER},
                )
            ).all()
            if time.monotonic() - self._last_purge > PURGE_EVERY_SECONDS:
                await session.execute(text("SELECT crmapi_idempotency_purge()"))
                self._last_purge = time.monotonic()
        await self._sweep_webhooks()
        if not claimed:
            return 0
        rows = sorted(claimed, key=lambda row: row.seq)
        events = [[str(row.org_id), str(row.id)] for row in rows]
        # One job id per claim: a stale event handed over again comes in another batch.
        job_id = f"outbox:{rows[0].seq}-{rows[-1].seq}:{new_id().hex}"
        try:
            await self.queue.enqueue(DELIVER_JOB, events, job_id=job_id)
        except Exception as exc:
            self._report(exc)
            await self._release(rows)
            return 0
        if self._failing:
            log.info("relay resumed")
            self._failing = False
        return len(rows)

    async def _release(self, rows: Sequence[Row[Any]]) -> None:
        """Give claimed events back, so the next tick hands them over (not after STALE_AFTER)."""
        try:
            async with self.sessions() as session, session.begin():
                await session.execute(
                    text("SELECT crmapi_outbox_release(:orgs, :ids)"),
                    {"orgs": [row.org_id for row in rows], "ids": [row.id for row in rows]},
                )
        except Exception as exc:  # they are handed over again after STALE_AFTER
            log.warning("claimed events not given back: %s", exc)

    async def _sweep_webhooks(self) -> None:
        """Enqueue the webhook deliveries that are due with no job on the way (events.fanout)."""
        try:
            async with self.sessions() as session, session.begin():
                due = (
                    await session.execute(
                        text("SELECT org_id, id, attempts FROM crmapi_webhooks_due(:limit, :grace)"),
                        {"limit": BATCH, "grace": self.sweep_grace},
                    )
                ).all()
            for org_id, delivery_id, attempts in due:
                # Another id than the first job's, which a dead worker may still hold: the
                # delivery's attempt count lets only one of them record the attempt.
                swept = f"{job_id(delivery_id, attempts)}:swept:{new_id().hex}"
                await self.queue.enqueue(SEND_JOB, str(org_id), str(delivery_id), attempts, job_id=swept)
        except Exception as exc:  # swept again once their grace has passed
            self._report(exc)

    async def announce_reminders(self) -> int:
        """Stamp the activities' and leads' reminders that fell due, each with an outbox event
        (`activity.reminder_due`, `lead.reminder_due`); returns how many."""
        async with self.sessions() as session, session.begin():
            due = await session.scalar(
                text("SELECT crmapi_reminders_due(:limit)"), {"limit": REMINDERS_BATCH}
            )
        if due:
            log.info("announced %d reminders falling due", due)
        return due or 0

    async def _reminders(self) -> None:
        # Before the claim, so their events are handed over in the same tick. A failure must not
        # hold the outbox back and is tried again next round, not every tick; a full batch soon.
        self._last_reminders = time.monotonic()
        try:
            if await self.announce_reminders() >= REMINDERS_BATCH:
                self._last_reminders = 0.0
        except Exception as exc:
            log.warning("reminders falling due not announced: %s", exc)

    def _report(self, exc: Exception) -> None:
        if not self._failing:
            log.warning("relay paused, events stay in the outbox: %s", exc)
            self._failing = True

    async def run(self) -> None:
        while True:
            try:
                enqueued = await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._report(exc)
                enqueued = 0
            await asyncio.sleep(0 if enqueued == BATCH else self.interval)
