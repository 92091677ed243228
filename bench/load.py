"""A closed-loop load generator: N workers share one connection pool, bounded in time and count."""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, Any] | None = None
    body: dict[str, Any] | None = None


MakeCall = Callable[[int], Call]


@dataclass
class Run:
    requests: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)
    errors: Counter[str] = field(default_factory=Counter)
    samples: dict[str, str] = field(default_factory=dict)  # one answer body per error kind

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """Nearest rank over every completed request, errors included."""
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return math.nan
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": self.error_count,
            "error_statuses": dict(self.errors),
            "error_samples": self.samples,
            "seconds": round(self.seconds, 3),
            "req_per_s": round(self.rate, 1),
            "p50_ms": round(self.percentile(50), 2),
            "p95_ms": round(self.percentile(95), 2),
            "p99_ms": round(self.percentile(99), 2),
            "max_ms": round(max(self.latencies_ms, default=math.nan), 2),
        }


async def run(
    client: httpx.AsyncClient, make: MakeCall, *, concurrency: int, seconds: float, max_requests: int
) -> Run:
    """Keep `concurrency` requests in flight until `seconds` pass or `max_requests` have started."""
    numbers = itertools.count()
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    samples: dict[str, str] = {}
    started = time.perf_counter()
    deadline = started + seconds

    async def worker() -> None:
        for number in numbers:
            if number >= max_requests or time.perf_counter() >= deadline:
                return
            call = make(number)
            sent = time.perf_counter()
            try:
                answer = await client.request(
                    call.method, call.path, headers=call.headers, params=call.params, json=call.body
                )
                status = answer.status_code
            except httpx.HTTPError as exc:
                status, text = 0, f"{type(exc).__name__}: {exc}"
            else:
                text = answer.text
            latencies.append((time.perf_counter() - sent) * 1000)
            if not 200 <= status < 300:
                kind = str(status) if status else text.split(":", 1)[0]
                errors[kind] += 1
                samples.setdefault(kind, text[:300])

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return Run(
        requests=len(latencies), seconds=elapsed, latencies_ms=latencies, errors=errors, samples=samples
    )
