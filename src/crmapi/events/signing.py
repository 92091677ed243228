"""A webhook's signature: HMAC-SHA256 over `<timestamp>.<body>` with the endpoint's secret, sent
as `Crmapi-Signature: t=<timestamp>,v1=<hex>`; during a rotation's overlap a second `v1` is
signed with the previous secret, so a receiver holding either secret accepts the event."""

from __future__ import annotations

import hashlib
import hmac
import secrets

HEADER = "Crmapi-Signature"
PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def header(secrets_: list[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={signature(s, timestamp, body)}" for s in secrets_)])


def verify(secret: str, value: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver does (the README shows it): a `v1` matches and the time is recent."""
    parts = [part.partition("=") for part in value.split(",")]
    stamps = [v for k, _, v in parts if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit() or abs(now - int(stamps[0])) > tolerance:
        return False
    expected = signature(secret, int(stamps[0]), body)
    return any(hmac.compare_digest(expected, v) for k, _, v in parts if k == "v1")
