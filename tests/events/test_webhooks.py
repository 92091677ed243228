"""Webhooks tried as an integrator would: a real local receiver, the relay and the worker
running as `crmapi serve` runs them, signed events checked with the README's own helper."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from bench.receiver import receiving
from httpx import ASGITransport, AsyncClient

from crmapi.app import create_app
from crmapi.kit import stopping
from crmapi.kit.db import Database
from crmapi.kit.ids import new_id
from crmapi.settings import Settings
from crmapi.worker.queue import Queue
from crmapi.worker.relay import Relay
from crmapi.worker.runner import make_worker
from tests.events.test_changes import relay_orders
from tests.permissions import api_key
from tests.support import Tenant, Tenants, ok

pytestmark = pytest.mark.committed

ROOT = Path(__file__).resolve().parents[2]
ENDPOINTS = "/v1/webhook-endpoints"
DEBTORS = "/v1/integrations/erp/debtors"


def readme_verifier() -> Callable[[str, str, bytes], bool]:
    """The README's `verified`, run as a receiver would copy it."""
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(import hashlib.*?)```", readme, re.S)
    assert code, "the README shows how to verify a signature"
    scope: dict[str, Any] = {}
    exec(code.group(1), scope)
    verified: Callable[[str, str, bytes], bool] = scope["verified"]
    return verified


@pytest.fixture
def fast(settings: Settings) -> Settings:
    """Local testing: plain http, retries from 0.3 s, a 2 s timeout, small answers."""
    return settings.model_copy(
        update={
            "webhooks_allow_http": True,
            "webhook_retry_base_seconds": 0.3,
            "webhook_timeout_seconds": 2.0,
            "webhook_answer_bytes": 4096,
            "webhook_sweep_grace_seconds": 1.0,
        }
    )


@pytest.fixture
async def api(committed_db: Database, fast: Settings) -> AsyncIterator[AsyncClient]:
    app = create_app(fast, background=False)
    app.state.db = committed_db
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        yield client


@contextlib.asynccontextmanager
async def serving(db: Database, redis_url: str, settings: Settings) -> AsyncIterator[None]:
    """The relay (ticking every 0.1 s) and a job worker, on a queue of their own."""
    name = f"crmapi:test-hooks:{new_id().hex}"
    queue = Queue(redis_url, name)
    worker = make_worker(db, redis_url, settings, name, poll_delay=0.02)
    tasks = [
        asyncio.create_task(Relay(db.sessions, queue, 0.1, settings.sweep_grace).run()),
        asyncio.create_task(worker.async_run()),
    ]
    try:
        yield
    finally:
        # Bounded, as the app's shutdown is: arq's worker can miss its cancellation (kit/stopping.py).
        await stopping.cancel_all(tasks, seconds=5)
        # arq's close cancels the jobs still running (a retry due later) and re-raises their
        # cancellation before its shutdown hook, which closes the HTTP client.
        with contextlib.suppress(asyncio.CancelledError):
            await stopping.close_within("the test's worker", worker.close(), seconds=5)
        if "http" in worker.ctx:
            await worker.ctx.pop("http").aclose()
        await queue.close()


@pytest.fixture
async def running(committed_db: Database, redis_url: str, fast: Settings) -> AsyncIterator[None]:
    async with serving(committed_db, redis_url, fast):
        yield


async def subscribe(api: AsyncClient, tenant: Tenant, url: str, **body: Any) -> dict[str, Any]:
    """An endpoint on this machine: the organisation allows private addresses first."""
    h = tenant.admin.headers
    ok(await api.patch("/v1/organisation", json={"webhooks_private_addresses": True}, headers=h))
    made: dict[str, Any] = ok(await api.post(ENDPOINTS, json={"url": url, **body}, headers=h), 201)
    return made


async def eventually(check: Callable[[], Any], seconds: float = 15) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = await check()
        if found or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


async def test_an_erp_change_arrives_signed_within_a_second_and_failures_are_retried_then_replayed(
    api: AsyncClient, committed_tenants: Tenants, committed_db: Database, running: None
) -> None:
    verified = readme_verifier()
    acme = await committed_tenants.create()
    erp = await api_key(committed_db, committed_tenants, acme, ["integrations.push"])
    h = acme.admin.headers
    started = datetime.now(UTC)
    with receiving() as receiver, receiving() as late:
        endpoint = await subscribe(api, acme, receiver.url, event_types=["account.*"])
        assert endpoint["secret"].startswith("whsec_") and "secret" not in ok(
            await api.get(f"{ENDPOINTS}/{endpoint['id']}", headers=h)
        )

        # A debtor pushed, then changed by the ERP: each arrives signed, promptly. How fast is
        # `make bench-events`'s figure; a unit test's bound only holds a generous line, with room
        # for the suite's load on two cores (1.67 s was seen once under it against 1 s asked).
        pushed = ok(
            await api.post(DEBTORS, json={"records": [{"code": "D-1", "name": "Nowak"}]}, headers=erp)
        )
        committed = time.time()
        [first] = await asyncio.to_thread(receiver.wait_for, 1)
        ok(await api.post(DEBTORS, json={"records": [{"code": "D-1", "name": "Nowak S.A."}]}, headers=erp))
        changed_at = time.time()
        second = (await asyncio.to_thread(receiver.wait_for, 2))[1]
        assert first.at - committed < 2.5 and second.at - changed_at < 2.5, (
            first.at - committed,
            second.at - changed_at,
        )
        account_id = pushed["results"][0]["id"]
        for got, kind in ((first, "account.created"), (second, "account.updated")):
            assert verified(endpoint["secret"], got.headers["Crmapi-Signature"], got.body)
            assert not verified("whsec_not-the-secret", got.headers["Crmapi-Signature"], got.body)
            assert (got.event["type"], got.event["record_id"]) == (kind, account_id)
            assert got.headers["Crmapi-Event-Id"] == got.event["id"]
        assert second.event["data"] == ok(await api.get(f"/v1/accounts/{account_id}", headers=h))
        assert second.event["fields"] == ["name"] and second.event["version"] == 2

        # The receiver fails three times: retried with growing delays, then delivered.
        receiver.script = [500, 500, 500]
        ok(await api.patch(f"/v1/accounts/{account_id}", json={"name": "Nowak Group"}, headers=h))
        got = await asyncio.to_thread(receiver.wait_for, 6)
        assert len({r.event["id"] for r in got[2:6]}) == 1, "the same event each time"

        async def settled() -> list[dict[str, Any]] | None:
            listed: list[dict[str, Any]] = ok(
                await api.get(f"{ENDPOINTS}/{endpoint['id']}/deliveries", headers=h)
            )["items"]
            return listed if listed[0]["status"] != "pending" else None

        deliveries = await eventually(settled)
        newest = deliveries[0]
        assert (newest["status"], newest["attempts"], newest["last_status_code"]) == ("delivered", 4, 200)
        log = ok(await api.get(f"{ENDPOINTS}/{endpoint['id']}/deliveries/{newest['id']}", headers=h))
        assert [a["status_code"] for a in log["attempts_made"]] == [500, 500, 500, 200]
        times = [datetime.fromisoformat(a["at"]) for a in log["attempts_made"]]
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
        assert gaps[0] < gaps[1] < gaps[2], gaps

        # One redelivered: the same event again, under a new delivery.
        again = ok(
            await api.post(
                f"{ENDPOINTS}/{endpoint['id']}/deliveries/{deliveries[-1]['id']}/redeliveries", headers=h
            ),
            202,
        )
        redelivered = (await asyncio.to_thread(receiver.wait_for, 7))[6]
        assert redelivered.event["id"] == first.event["id"] and again["id"] != deliveries[-1]["id"]
        assert verified(endpoint["secret"], redelivered.headers["Crmapi-Signature"], redelivered.body)

        # The range replayed to a second endpoint: the same events, in the same order.
        other = await subscribe(api, acme, late.url, event_types=["account.*"])
        window = {"from": started.isoformat(), "to": datetime.now(UTC).isoformat()}
        replayed = ok(await api.post(f"{ENDPOINTS}/{other['id']}/replays", json=window, headers=h), 202)
        assert replayed["deliveries"] == 3
        copies = await asyncio.to_thread(late.wait_for, 3)
        assert [c.event["id"] for c in copies] == [first.event["id"], second.event["id"], got[2].event["id"]]
        assert all(verified(other["secret"], c.headers["Crmapi-Signature"], c.body) for c in copies)


async def test_bad_receivers_end_as_failed_attempts_and_the_worker_goes_on(
    api: AsyncClient, committed_tenants: Tenants, running: None
) -> None:
    acme = await committed_tenants.create()
    h = acme.admin.headers
    with receiving() as slow, receiving() as moved, receiving() as huge, receiving() as fine:
        slow.script, moved.script, huge.script = ["slow"], ["redirect"], ["huge"]
        closed = f"http://127.0.0.1:{_closed_port()}/events"
        targets = {
            "unreachable": closed,
            "dns": "http://no-such-host.invalid/events",
            "tls": fine.url.replace("http://", "https://"),
            "slow": slow.url,
            "redirect": moved.url,
            "huge": huge.url,
        }
        ids = {}
        for name, url in targets.items():
            ids[name] = (await subscribe(api, acme, url, event_types=["contact.created"]))["id"]
        good = await subscribe(api, acme, fine.url, event_types=["contact.created"])
        ok(await api.post("/v1/contacts", json={"kind": "person", "last_name": "Kowalski"}, headers=h), 201)

        async def first_attempts() -> dict[str, Any] | None:
            found = {}
            for name, endpoint_id in ids.items():
                made = ok(await api.get(f"{ENDPOINTS}/{endpoint_id}/deliveries", headers=h))["items"]
                if not made or made[0]["attempts"] < 1:
                    return None
                delivery = made[0]
                log = ok(await api.get(f"{ENDPOINTS}/{endpoint_id}/deliveries/{delivery['id']}", headers=h))
                found[name] = log["attempts_made"][0]
            return found

        attempts = await eventually(first_attempts)
        assert attempts, "every bad receiver's first attempt is recorded"
        assert all(a["error"] for a in attempts.values()), attempts
        assert (
            attempts["unreachable"]["status_code"] is None and "Connect" in attempts["unreachable"]["error"]
        )
        assert "does not resolve" in attempts["dns"]["error"]
        assert attempts["tls"]["status_code"] is None
        assert "within 2 s" in attempts["slow"]["error"] and attempts["slow"]["latency_ms"] < 3000
        assert attempts["redirect"]["status_code"] == 307 and "not followed" in attempts["redirect"]["error"]
        assert "longer than 4,096 bytes" in attempts["huge"]["error"]
        # The worker was never stuck: the good endpoint had its event meanwhile.
        assert len(fine.received) >= 1 and any(
            r.headers.get("Crmapi-Event-Type") == "contact.created" for r in fine.received
        )
        delivered = ok(await api.get(f"{ENDPOINTS}/{good['id']}/deliveries", headers=h))["items"]
        assert [d["status"] for d in delivered] == ["delivered"]


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`crmapi worker` as an operator runs it: the relay and the job worker, in a process."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "crmapi.cli", "worker"], env=env, cwd=ROOT, stdout=out, stderr=out
        )


async def test_a_worker_killed_mid_delivery_loses_no_event(
    api: AsyncClient, committed_tenants: Tenants, owner_url: str, redis_url: str, tmp_path: Path
) -> None:
    acme = await committed_tenants.create()
    h = acme.admin.headers
    env = {
        **os.environ,
        "DATABASE_URL": owner_url,
        "REDIS_URL": redis_url,
        "DATA_DIR": str(tmp_path),
        "WEBHOOKS_ALLOW_HTTP": "true",
        "WEBHOOK_SWEEP_GRACE_SECONDS": "1",
        "WEBHOOK_TIMEOUT_SECONDS": "5",
        "RELAY_INTERVAL_SECONDS": "0.1",
    }
    log = tmp_path / "worker.log"
    with receiving() as receiver:
        receiver.script = ["slow"]  # the first request is held for 3 s: the worker dies meanwhile
        endpoint = await subscribe(api, acme, receiver.url, event_types=["contact.created"])
        made = [
            ok(await api.post("/v1/contacts", json={"kind": "person", "last_name": f"K{n}"}, headers=h), 201)
            for n in range(5)
        ]
        first = _worker(env, log)
        try:
            await asyncio.to_thread(receiver.wait_for, 5, 30)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        second = _worker(env, log)

        async def all_delivered() -> list[dict[str, Any]] | None:
            listed = ok(await api.get(f"{ENDPOINTS}/{endpoint['id']}/deliveries", headers=h))["items"]
            return listed if [d["status"] for d in listed] == ["delivered"] * len(made) else None

        try:
            deliveries = await eventually(all_delivered, seconds=45)
        finally:
            second.terminate()
            second.wait(30)
        assert deliveries, log.read_text()[-3000:]
        got = list(receiver.received)
        events: dict[str, set[str]] = {}
        for r in got:
            events.setdefault(r.event["record_id"], set()).add(r.event["id"])
        assert set(events) == {c["id"] for c in made}, log.read_text()[-3000:]
        assert all(len(ids) == 1 for ids in events.values()), "a duplicate carries the same event id"
        assert len(got) >= 6, "the one in flight when the worker died came again"


async def test_filters_rotation_and_an_endpoint_disabled_after_failures(
    api: AsyncClient, committed_tenants: Tenants, committed_db: Database, redis_url: str, fast: Settings
) -> None:
    """An account filter lets through only that account's events (its opportunities' too); a
    rotated secret signs beside the old one for the overlap; an endpoint whose deliveries are
    given up in a row is disabled, and the change feed says so."""
    verified = readme_verifier()
    acme = await committed_tenants.create()
    h = acme.admin.headers
    # No retry fits the window: a failed first attempt is given up, and one such disables.
    brief = fast.model_copy(update={"webhook_retry_window_seconds": 0.1, "webhook_disable_after": 1})
    wanted = ok(await api.post("/v1/accounts", json={"name": "Nowak"}, headers=h), 201)
    other = ok(await api.post("/v1/accounts", json={"name": "Kowalski"}, headers=h), 201)
    with receiving() as filtered, receiving() as failing:
        failing.script = [500]
        watched = await subscribe(api, acme, filtered.url, event_types=["*"], account_id=wanted["id"])
        doomed = await subscribe(
            api, acme, failing.url, event_types=["opportunity.created"], account_id=other["id"]
        )
        rotated = ok(
            await api.post(
                f"{ENDPOINTS}/{watched['id']}/secret-rotations", json={"overlap_seconds": 3600}, headers=h
            )
        )
        assert rotated["secret"] != watched["secret"] and rotated["previous_secret_until"]
        async with serving(committed_db, redis_url, brief):
            deal = {"account_id": wanted["id"], "name": "Web shop"}
            ok(await api.post("/v1/opportunities", json=deal, headers=h), 201)
            ok(await api.post("/v1/opportunities", json={**deal, "account_id": other["id"]}, headers=h), 201)
            ok(await api.patch(f"/v1/accounts/{other['id']}", json={"name": "Kowalski S.A."}, headers=h))
            ok(await api.patch(f"/v1/accounts/{wanted['id']}", json={"name": "Nowak S.A."}, headers=h))
            got = await asyncio.to_thread(filtered.wait_for, 3)

            async def disabled() -> dict[str, Any] | None:
                found: dict[str, Any] = ok(await api.get(f"{ENDPOINTS}/{doomed['id']}", headers=h))
                return None if found["enabled"] else found

            off = await eventually(disabled)
        await asyncio.sleep(0.5)  # anything else would have arrived by now
        # Its account's events only: made before the endpoint, relayed after it, so sent to it too.
        heard = sorted(
            (r.event["type"], r.event["data"].get("account_id", r.event["record_id"]))
            for r in filtered.received
        )
        assert heard == [
            ("account.created", wanted["id"]),
            ("account.updated", wanted["id"]),
            ("opportunity.created", wanted["id"]),
        ]
        for r in got:
            assert verified(rotated["secret"], r.headers["Crmapi-Signature"], r.body)
            assert verified(watched["secret"], r.headers["Crmapi-Signature"], r.body), (
                "the old one, in the overlap"
            )
        assert off and off["disabled_reason"] == "Deliveries given up in a row: 1."
        # The other account's opportunity: refused once, and given up.
        given_up = ok(await api.get(f"{ENDPOINTS}/{doomed['id']}/deliveries", headers=h))["items"]
        assert [(d["status"], d["attempts"], d["last_status_code"]) for d in given_up] == [("failed", 1, 500)]
    await relay_orders(committed_db)
    feed = ok(await api.get("/v1/changes", params={"kinds": "webhook_endpoint", "limit": 1000}, headers=h))
    assert ("webhook_endpoint.disabled", doomed["id"]) in {(c["type"], c["record_id"]) for c in feed["items"]}
