"""Helpers that set up organisations and members directly, then act through the HTTP API."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import event, select

from crmapi.access.actor import Actor
from crmapi.app import create_app
from crmapi.identity.models import AuthSession
from crmapi.identity.schemas import MemberCreate
from crmapi.identity.security import Keys, load_or_create_secret
from crmapi.identity.service import add_member, create_organisation
from crmapi.kit.db import Database, bind_org
from crmapi.kit.ids import new_id
from crmapi.settings import Settings

PASSWORD = "password-123"


# An id no record has.
NOBODY = "00000000-0000-7000-8000-000000000000"


@dataclass
class Member:
    id: UUID
    email: str
    headers: dict[str, str]


@dataclass
class Tenant:
    org_id: UUID
    admin: Member
    members: list[Member] = field(default_factory=list)


class Tenants:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.keys = Keys(load_or_create_secret(settings.secret_key, settings.data_dir))

    async def create(self, name: str = "Acme") -> Tenant:
        email = f"admin-{new_id().hex[-12:]}@{name.lower()}.test"
        async with self.db.sessions() as session:
            org, member = await create_organisation(
                session, name=name, admin_email=email, admin_password=PASSWORD, currency="PLN"
            )
            headers = await self._headers(session, org.id, member.id, member.user_id)
            await session.commit()
        return Tenant(org_id=org.id, admin=Member(member.id, email, headers))

    async def member(self, tenant: Tenant, kind: str = "staff", email: str | None = None) -> Member:
        email = email or f"{kind}-{new_id().hex[-12:]}@example.test"
        async with self.db.sessions() as session:
            await bind_org(session, tenant.org_id)
            admin = Actor(org_id=tenant.org_id, kind="staff", member_id=tenant.admin.id)
            row = await add_member(session, admin, MemberCreate(email=email, password=PASSWORD, kind=kind))
            headers = await self._headers(session, tenant.org_id, row["id"], row["user_id"])
            await session.commit()
        member = Member(row["id"], email, headers)
        tenant.members.append(member)
        return member

    async def _headers(self, session: object, org_id: UUID, member_id: UUID, user_id: UUID) -> dict[str, str]:
        auth = AuthSession(
            org_id=org_id,
            id=new_id(),
            member_id=member_id,
            refresh_hash=b"-",
            expires_at=datetime.now(UTC) + timedelta(days=1),
        )
        session.add(auth)  # type: ignore[attr-defined]
        await session.flush()  # type: ignore[attr-defined]
        token = self.keys.access_token(
            user_id=user_id, org_id=org_id, member_id=member_id, session_id=auth.id, minutes=60
        )
        return {"Authorization": f"Bearer {token}"}


def ok(r: Response, status: int = 200) -> Any:
    """The answer's JSON body (None when it has none), after checking its status."""
    assert r.status_code == status, r.text
    return r.json() if r.content else None


def assert_problem(r: Response, status: int, slug: str) -> dict[str, Any]:
    """The answer is a problem+json document of this status and type; its body."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    return body


def error_fields(r: Response) -> set[str]:
    """The fields a 422 validation error names."""
    return {e["field"] for e in assert_problem(r, 422, "validation-error")["errors"]}


async def rows_of(db: Database, tenant: Tenant, model: Any, **where: Any) -> list[Any]:
    """The tenant's rows of a table, read directly (history, outbox, link tables), in the order
    they were made where they have an id (a UUIDv7): not the heap's order, which reuses the space
    of rows deleted before."""
    stmt = select(model).filter_by(**where)
    if hasattr(model, "id"):
        stmt = stmt.order_by(model.id)
    async with db.sessions() as session:
        await bind_org(session, tenant.org_id)
        return list((await session.execute(stmt)).scalars())


@asynccontextmanager
async def rate_limited(db: Database, settings: Settings, redis_url: str) -> AsyncIterator[AsyncClient]:
    """A client whose app counts calls in Redis (the rate limits), from an address of its own."""
    app = create_app(settings.model_copy(update={"redis_url": redis_url}), db=db, background=False)
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    async with AsyncClient(
        transport=ASGITransport(app=app, client=(address, 1234)), base_url="http://test"
    ) as c:
        yield c
    await app.state.limiter.close()


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements sent while the block runs."""
    sent: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
