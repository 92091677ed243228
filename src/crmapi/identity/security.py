"""Passwords, signed tokens and API-key secrets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any
from uuid import UUID

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from crmapi.access.problems import InvalidToken
from crmapi.identity.problems import TokenExpired

_hasher = PasswordHasher()
# Verifying against this keeps an unknown email as slow as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def load_or_create_secret(configured: str | None, data_dir: Path) -> bytes:
    """SECRET_KEY when set; otherwise a generated secret kept in the data folder."""
    if configured:
        return configured.encode()
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip().encode()


# Access tokens already verified, per process: a token's claims never change, so a token seen
# again only needs its expiry checked. Bounded; the oldest entry goes first.
VERIFIED_TOKENS = 4096


@dataclass(frozen=True)
class Keys:
    """Every secret the API derives from the one signing secret."""

    secret: bytes
    _verified: dict[str, dict[str, Any]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def derive(self, purpose: str) -> bytes:
        return hmac.new(self.secret, purpose.encode(), hashlib.sha256).digest()

    @cached_property
    def _jwt_key(self) -> bytes:
        return self.derive("jwt")

    @cached_property
    def _secrets_key(self) -> bytes:
        return self.derive("secrets")

    @cached_property
    def kid(self) -> str:
        return hashlib.sha256(self._jwt_key).hexdigest()[:12]

    def access_token(
        self,
        *,
        user_id: UUID,
        org_id: UUID,
        member_id: UUID,
        session_id: UUID,
        minutes: int,
        issued_at: datetime | None = None,
    ) -> str:
        """A signed access token; the same claims and `issued_at` give the same token again."""
        now = issued_at or datetime.now(UTC)
        claims = {
            "sub": str(user_id),
            "org": str(org_id),
            "member": str(member_id),
            "sid": str(session_id),
            "iat": now,
            "exp": now + timedelta(minutes=minutes),
        }
        return jwt.encode(claims, self._jwt_key, algorithm="HS256", headers={"kid": self.kid})

    def read_access_token(self, token: str) -> dict[str, Any]:
        """The token's claims; 401 when it is forged, malformed or expired. Do not change them."""
        known = self._verified.get(token)
        if known is not None:
            # PyJWT's own rule: expired once exp <= now.
            if int(known["exp"]) <= time.time():
                raise TokenExpired("The access token has expired.")
            return known
        claims = self._verify(token)
        if len(self._verified) >= VERIFIED_TOKENS:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = claims
        return claims

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("kid") != self.kid:
                raise InvalidToken("The token was signed with an unknown key.")
            claims: dict[str, Any] = jwt.decode(
                token,
                self._jwt_key,
                algorithms=["HS256"],
                options={"require": ["exp", "sub", "org", "member", "sid"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenExpired("The access token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("The access token is not valid.") from exc
        return claims

    @cached_property
    def _rotation_key(self) -> bytes:
        return self.derive("refresh-rotation")

    def next_refresh_secret(self, secret: str) -> str:
        """The secret that replaces a refresh token's on rotation: a keyed hash of the old one,
        so the old token (and only it, with the server's key) yields its successor again when
        presented within the grace interval; nothing that could recover it is stored."""
        digest = hmac.new(self._rotation_key, secret.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def secret_hash(self, secret: str) -> bytes:
        """HMAC-SHA256 of a refresh-token, API-key or link-token secret (cheap, unlike argon2)."""
        return hmac.new(self._secrets_key, secret.encode(), hashlib.sha256).digest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def same(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)
