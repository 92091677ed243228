"""Sliding-window rate limits for what anyone may call without being signed in — the link routes
and sign-in — and for wrong passwords, counted in Redis so a flood costs the database (and
Argon2) nothing. Without Redis (a test app) or while it is down, requests pass: the tokens are
unguessable and the passwords hashed, the limits only blunt abuse."""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Path, Request
from redis.asyncio import Redis
from redis.exceptions import RedisError

from crmapi.kit.errors import ProblemError
from crmapi.kit.ids import new_id

log = logging.getLogger("crmapi.kit.ratelimit")
PREFIX = "crmapi:rate:"
PAUSE_SECONDS = 30.0  # after Redis fails, how long calls go uncounted before it is tried again


class TooManyRequests(ProblemError):
    """Too many calls from this address, with this token, or wrong passwords for this user:
    wait `Retry-After` seconds."""

    status, slug, title = 429, "too-many-requests", "Too many requests"


@dataclass(frozen=True)
class Limit:
    name: str  # what is limited: link-address, link-token, sign-in-address, password-failures
    hits: int  # allowed within any `seconds`
    seconds: int


class Limiter:
    def __init__(self, redis_url: str | None) -> None:
        self._client = (
            Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1) if redis_url else None
        )
        self._paused_until = 0.0

    async def hit(self, limit: Limit, subject: str) -> None:
        """Count one call of `subject` (an address, a token): 429 with `Retry-After` when
        `limit.hits` calls were already let through in the last `limit.seconds`. Subjects are
        hashed: no token is written to Redis."""
        now = time.time()
        if self._client is None or now < self._paused_until:
            return
        key = _key(limit, subject)
        call = new_id().hex
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.zremrangebyscore(key, 0, now - limit.seconds)
                pipe.zadd(key, {call: now})
                pipe.zcard(key)
                pipe.zrange(key, 0, 0, withscores=True)
                pipe.expire(key, limit.seconds)
                _, _, calls, oldest, _ = await pipe.execute()
            if calls > limit.hits:
                await self._client.zrem(key, call)  # a refused call does not hold the window open
        except (RedisError, OSError) as exc:
            self._pause(now, exc)
            return
        if calls > limit.hits:
            retry = max(1, math.ceil(oldest[0][1] + limit.seconds - now))
            raise TooManyRequests(
                f"At most {limit.hits} calls in {limit.seconds} s; try again in {retry} s.",
                headers={"Retry-After": str(retry)},
            )

    async def forget(self, limit: Limit, subject: str) -> None:
        """Drop what was counted for `subject` (a password that turned out right)."""
        now = time.time()
        if self._client is None or now < self._paused_until:
            return
        try:
            await self._client.delete(_key(limit, subject))
        except (RedisError, OSError) as exc:
            self._pause(now, exc)

    def _pause(self, now: float, exc: Exception) -> None:
        log.warning("rate limits paused for %.0f s, Redis unavailable: %s", PAUSE_SECONDS, exc)
        self._paused_until = now + PAUSE_SECONDS

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def _key(limit: Limit, subject: str) -> str:
    return f"{PREFIX}{limit.name}:{hashlib.sha256(subject.encode()).hexdigest()[:32]}"


BY_ADDRESS = Limit("link-address", hits=10, seconds=60)
BY_TOKEN = Limit("link-token", hits=5, seconds=60)
# Password attempts per user (e-mail), at sign-in and at a password change: counted before the
# hash and forgotten once a password is right, so they count the wrong ones.
PASSWORD_FAILURES = Limit("password-failures", hits=10, seconds=15 * 60)
Token = Annotated[str, Path(min_length=10, max_length=100, description="The token from the link.")]


def client_address(request: Request) -> str:
    """The caller's address; an IPv6 one by its /64, which one host holds whole."""
    host = request.client.host if request.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


async def sign_in_limits(request: Request) -> None:
    """A dependency of sign-in: each call counts before its form is read."""
    limiter: Limiter = request.app.state.limiter
    per_minute: int = request.app.state.settings.sign_in_per_minute
    await limiter.hit(Limit("sign-in-address", hits=per_minute, seconds=60), client_address(request))


async def link_limits(request: Request, token: Token) -> None:
    """A dependency of every public link route: each call counts, valid token or not, bad body or
    not, so guessing is as slow as rating: 10 a minute from one address, 5 with one token."""
    limiter: Limiter = request.app.state.limiter
    await limiter.hit(BY_ADDRESS, client_address(request))
    await limiter.hit(BY_TOKEN, token)
