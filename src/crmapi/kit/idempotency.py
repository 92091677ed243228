"""Idempotency-Key for POST: claimed first in the request's transaction, the answer stored with the data.

A concurrent duplicate waits on the unique index until the first commits, then replays
its answer; the same key with another body is 409. 2xx and 4xx answers are kept, 5xx not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar
from uuid import UUID

from fastapi import Request, Response
from sqlalchemy import Index, LargeBinary, UniqueConstraint, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction
from sqlalchemy.orm import Mapped, mapped_column

from crmapi.kit.base import Base, Tenant, utcnow
from crmapi.kit.errors import Conflict, Unprocessable
from crmapi.kit.ids import new_id

HEADER = "Idempotency-Key"
_READS_ONLY = "__crmapi_reads_only__"
_CLAIMS = "__crmapi_claims_key__"
EndpointT = TypeVar("EndpointT", bound=Callable[..., Any])
_KEPT_HEADERS = ("content-type", "location", "etag")


class IdempotencyKey(Tenant, Base):
    __tablename__ = "idempotency_keys"
    __extra_table_args__ = (
        UniqueConstraint("org_id", "actor", "key"),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )

    actor: Mapped[str]
    key: Mapped[str]
    method: Mapped[str]
    path: Mapped[str]
    body_sha256: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[int | None]
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdempotencyKeyReused(Conflict):
    """The `Idempotency-Key` was used with another request (method, path or body); use a new key
    for a new request."""

    slug = "idempotency-key-reused"


class IdempotencyInProgress(Conflict):
    """A request with this `Idempotency-Key` is still being answered; ask again shortly for its
    answer."""

    slug = "idempotency-in-progress"


class Caller(Protocol):
    """Whose keys these are: a key is unique per caller within an organisation."""

    @property
    def org_id(self) -> UUID: ...

    @property
    def key(self) -> str: ...


class Replay(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


class Claim:
    """A key this request holds; the answer is stored in the same transaction."""

    def __init__(self, actor: Caller, key: str, method: str, path: str, digest: bytes, row_id: UUID) -> None:
        self.actor, self.key, self.method, self.path, self.digest, self.row_id = (
            actor,
            key,
            method,
            path,
            digest,
            row_id,
        )
        # The savepoint the request's work runs in, once the key is claimed.
        self.work: AsyncSessionTransaction | None = None

    async def store(self, session: AsyncSession, response: Response) -> None:
        await session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.org_id == self.actor.org_id, IdempotencyKey.id == self.row_id)
            .values(
                status=response.status_code,
                body=bytes(response.body),
                headers={k: v for k, v in response.headers.items() if k in _KEPT_HEADERS},
            )
        )

    def _identity(self) -> dict[str, Any]:
        return {
            "org_id": self.actor.org_id,
            "id": self.row_id,
            "actor": self.actor.key,
            "key": self.key,
            "method": self.method,
            "path": self.path,
            "body_sha256": self.digest,
        }


def reads_only(endpoint: EndpointT) -> EndpointT:
    """Marks a POST that only reads (a search with its filter in the body): it takes no part in
    idempotency, so a repeat runs again and answers with what the caller may see now, not
    with a stored answer that may hold rows it has since lost access to."""
    setattr(endpoint, _READS_ONLY, True)
    return endpoint


def claims_key(dependency: EndpointT) -> EndpointT:
    """Marks the dependency that calls `claim`, so the contract declares the header on the
    routes that depend on it."""
    setattr(dependency, _CLAIMS, True)
    return dependency


async def claim(request: Request, session: AsyncSession, actor: Caller) -> None:
    """Claim the request's `Idempotency-Key` for `actor`, or replay the answer stored for it
    (`Replay`, which the route class answers with)."""
    key = request.headers.get(HEADER)
    if key is None or request.method != "POST":
        return
    if getattr(getattr(request.scope.get("route"), "endpoint", None), _READS_ONLY, False):
        return
    if not 1 <= len(key) <= 255:
        raise Unprocessable.on("header.Idempotency-Key", "Must be 1 to 255 characters.")
    digest = hashlib.sha256(await request.body()).digest()
    claim = Claim(actor, key, request.method, request.url.path, digest, new_id())
    inserted = await session.execute(
        insert(IdempotencyKey)
        .values(**claim._identity())
        .on_conflict_do_nothing()
        .returning(IdempotencyKey.id)
    )
    if inserted.scalar_one_or_none() is not None:
        # The work runs in a savepoint: a 4xx rolls back the work alone and keeps the claim row,
        # whose index entry holds concurrent requests with this key until the answer is stored.
        claim.work = await session.begin_nested()
        request.state.idempotency = claim
        return
    stored = (
        await session.execute(
            select(IdempotencyKey).where(IdempotencyKey.actor == actor.key, IdempotencyKey.key == key)
        )
    ).scalar_one()
    if (stored.method, stored.path, stored.body_sha256) != (claim.method, claim.path, digest):
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used with another request; use a new key.",
        )
    if stored.status is None or stored.body is None:
        raise IdempotencyInProgress("A request with this Idempotency-Key is still in progress.")
    raise Replay(
        Response(
            content=stored.body,
            status_code=stored.status,
            headers={**stored.headers, "Idempotent-Replayed": "true"},
        )
    )


def honours_key(route: Any) -> bool:
    """Whether a route claims an `Idempotency-Key` (a POST depending on a `claims_key`
    dependency, not `reads_only`), so the contract declares the header on it."""
    if "POST" not in route.methods or getattr(route.endpoint, _READS_ONLY, False):
        return False
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        if getattr(dependant.call, _CLAIMS, False):
            return True
        pending.extend(dependant.dependencies)
    return False


def refused_here(why: str) -> Callable[[Request], None]:
    """A route's dependency that answers 422 to an `Idempotency-Key`: its answer holds a secret
    that is never stored, so no replay could give it back (`why` says what to do instead)."""

    def refuse(request: Request) -> None:
        if HEADER in request.headers:
            raise Unprocessable.on(f"header.{HEADER}", f"Not accepted here: {why}")

    return refuse
