"""The outbox relay: stamps committed events in commit order and hands them to the queue; on the
side, it announces reminders falling due (an outbox event each, once per reminder time).

One relay works at a time (advisory lock inside crmapi_outbox_claim); events whose job
never finished are handed over again after five minutes. If Redis is down nothing is
marked enqueued, so the next tick tries again: losing Redis loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crmapi.worker.queue import Queue

log = logging.getLogger("crmapi.relay")
BATCH = 500
STALE_AFTER = timedelta(minutes=5)
PURGE_EVERY_SECONDS = 600
REMINDERS_EVERY_SECONDS = 30
REMINDERS_BATCH = 1000  # per kind and round
DELIVER_JOB = "deliver_outbox"


class Relay:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], queue: Queue, interval: float = 0.5
    ) -> None:
        self.sessions = sessions
        self.queue = queue
        self.interval = interval
        self._last_purge = 0.0
        self._last_reminders = 0.0
        self._failing = False

    async def tick(self) -> int:
        """Hand over what is waiting; returns how many events were enqueued."""
        if time.monotonic() - self._last_reminders > REMINDERS_EVERY_SECONDS:
            await self._reminders()
        async with self.sessions() as session, session.begin():
            rows = (
                await session.execute(
                    text("SELECT org_id, id, stale FROM crmapi_outbox_claim(:batch, :stale)"),
                    {"batch": BATCH, "stale": STALE_AFTER},
                )
            ).all()
            orgs, ids = [], []
            for org_id, event_id, stale in rows:
                try:
                    await self.queue.enqueue(
                        DELIVER_JOB, str(org_id), str(event_id), job_id=f"outbox:{event_id}", replace=stale
                    )
                except Exception as exc:
                    self._report(exc)
                    break
                orgs.append(org_id)
                ids.append(event_id)
            if ids:
                await session.execute(
                    text("SELECT crmapi_outbox_mark_enqueued(:orgs, :ids)"), {"orgs": orgs, "ids": ids}
                )
            if time.monotonic() - self._last_purge > PURGE_EVERY_SECONDS:
                await session.execute(text("SELECT crmapi_idempotency_purge()"))
                self._last_purge = time.monotonic()
        if ids and self._failing:
            log.info("relay resumed")
            self._failing = False
        return len(ids)

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
