"""X-Forwarded-For counts only when a configured proxy sends it (a served instance, its rate limit)."""

from __future__ import annotations

import os
import secrets
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from pydantic import ValidationError

from crmapi.kit.embedded import free_port
from crmapi.kit.ratelimit import BY_ADDRESS
from crmapi.settings import Settings
from tests.served import Served, data_folder


def test_a_forged_forwarded_for_does_not_change_the_address_counted(owner_url: str) -> None:
    with _served(owner_url, proxies="") as base:
        answers = [_open_a_link(base, forwarded_for=f"198.51.100.{n}") for n in range(BY_ADDRESS.hits + 1)]

    assert answers[: BY_ADDRESS.hits] == [404] * BY_ADDRESS.hits
    assert answers[-1] == 429, "each made-up address got a limit of its own"


def test_a_configured_proxy_names_the_client(owner_url: str) -> None:
    with _served(owner_url, proxies="127.0.0.1") as base:
        one_client = [_open_a_link(base, forwarded_for="203.0.113.7") for _ in range(BY_ADDRESS.hits + 1)]
        another_client = _open_a_link(base, forwarded_for="203.0.113.8")

    assert one_client[-1] == 429
    assert another_client == 404


def test_a_mistyped_proxy_address_stops_the_start_instead_of_trusting_nobody() -> None:
    assert Settings(forwarded_allow_ips="10.0.0.0/8, 192.168.1.7,::1").forwarded_allow_ips
    for mistyped in ("10.0.0.300", "10.1.2.3/8", "proxy.local"):
        with pytest.raises(ValidationError):
            Settings(forwarded_allow_ips=mistyped)


@contextmanager
def _served(owner_url: str, proxies: str) -> Iterator[str]:
    """`crmapi serve` with FORWARDED_ALLOW_IPS=proxies; an embedded Valkey of its own keeps the counts."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "WORKERS", "FORWARDED_ALLOW_IPS")}
    # One server process: the counting is what is tried here, and a second process took the start
    # of each of these tests from ~12 s to ~25 s on a loaded two-core machine.
    env |= {"DATABASE_URL": owner_url, "PORT": str(port), "WORKERS": "1"}
    if proxies:
        env["FORWARDED_ALLOW_IPS"] = proxies
    with data_folder() as data_dir:
        server = Served(env | {"DATA_DIR": str(data_dir)}, data_dir / "serve.log")
        try:
            server.wait_for(f"http://127.0.0.1:{port}/healthz")
            yield f"http://127.0.0.1:{port}"
        finally:
            assert server.stop(signal.SIGTERM) == 0, server.output()


def _open_a_link(base: str, forwarded_for: str) -> int:
    # A new token each time: the limit per token is not what is counted here.
    answer = httpx.get(
        f"{base}/v1/feedback-links/{secrets.token_urlsafe(16)}",
        headers={"X-Forwarded-For": forwarded_for},
        timeout=10,
    )
    return answer.status_code
