"""The auth dependency: bearer token (member JWT or API key) -> Actor, and capability checks."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.capabilities import capabilities_of
from crmapi.access.policy import Grants, PolicyCache
from crmapi.access.problems import InvalidApiKey, InvalidToken, MissingCapability, SessionEnded, StaffOnly
from crmapi.identity.models import ApiKey, AuthSession, Member, Organisation
from crmapi.identity.security import Keys, same
from crmapi.kit import direct, idempotency
from crmapi.kit.db import DbSession, bind_org
from crmapi.kit.errors import Unauthorized

bearer = HTTPBearer(auto_error=False, description="An access token from /v1/auth/token, or an API key.")

# Built once: the statement object memoizes its cache key, so each request only binds values.
MEMBER_ROW = (
    select(Member.kind, Member.time_zone, Organisation.policy_version)
    .join(AuthSession, (AuthSession.org_id == Member.org_id) & (AuthSession.member_id == Member.id))
    .join(Organisation, Organisation.id == Member.org_id)
    .where(
        Member.org_id == bindparam("org_id"),
        Member.id == bindparam("member_id"),
        Member.status == "active",
        AuthSession.id == bindparam("session_id"),
        AuthSession.revoked_at.is_(None),
        # An access token lives at most its minutes, but never past its session.
        AuthSession.expires_at > func.now(),
    )
)
# Every request's check, a statement of its own outside the request's transaction (kit.direct).
_MEMBER_ROW = direct.direct(MEMBER_ROW)
# A key has no time zone of its own: it works in its organisation's (months, "today").
_API_KEY = (
    select(ApiKey, Organisation.time_zone)
    .join(Organisation, Organisation.id == ApiKey.organisation_id)
    .where(ApiKey.id == bindparam("key_id"))
)


async def current_actor(
    request: Request,
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    if credentials is None:
        raise Unauthorized("Send a bearer token: an access token or an API key.")
    keys: Keys = request.app.state.keys
    token = credentials.credentials
    if token.startswith("crm_"):
        actor = await _api_key_actor(session, keys, token)
    else:
        claims = keys.read_access_token(token)
        try:
            org, member, sid = UUID(claims["org"]), UUID(claims["member"]), UUID(claims["sid"])
        except ValueError as exc:
            raise InvalidToken("The access token is not valid.") from exc
        actor = await _member_actor(session, request.app.state.policies, org, member, sid)
    request.state.actor = actor
    return actor


async def _member_actor(
    session: AsyncSession, policies: PolicyCache, org_id: UUID, member_id: UUID, session_id: UUID
) -> Actor:
    # Bound before the connection is taken, so the request's BEGIN, if it comes, carries it.
    await bind_org(session, org_id)
    row = await direct.fetch(
        session, _MEMBER_ROW, org_id, org_id=org_id, member_id=member_id, session_id=session_id
    )
    if row is None:
        raise SessionEnded("The session has ended or the member is not active.")
    kind, time_zone, policy_version = row
    grants = await policies.grants(session, org_id, policy_version, member_id)
    return member_actor(org_id, member_id, session_id, kind, time_zone, grants)


def member_actor(
    org_id: UUID, member_id: UUID, session_id: UUID, kind: str, time_zone: str, grants: Grants
) -> Actor:
    """The Actor of a member's request, from its row and its cached grants."""
    return Actor(
        org_id=org_id,
        kind=kind,
        member_id=member_id,
        session_id=session_id,
        time_zone=time_zone,
        capabilities=capabilities_of(kind=kind, granted=grants.capabilities),
        sales_rep_codes=grants.sales_rep_codes if kind == "staff" else (),
        unit_ids=grants.unit_ids,
    )


async def _api_key_actor(session: AsyncSession, keys: Keys, token: str) -> Actor:
    try:
        _, key_hex, secret = token.split("_", 2)
        key_id = UUID(hex=key_hex)
    except ValueError as exc:
        raise InvalidApiKey("The API key is not valid.") from exc
    found = (await session.execute(_API_KEY, {"key_id": key_id})).one_or_none()
    if found is None or found.ApiKey.revoked_at is not None:
        raise InvalidApiKey("The API key is not valid.")
    key, time_zone = found.ApiKey, found.time_zone
    if not same(key.secret_hash, keys.secret_hash(secret)):
        raise InvalidApiKey("The API key is not valid.")
    await bind_org(session, key.organisation_id)
    return Actor(
        org_id=key.organisation_id,
        kind="api_key",
        api_key_id=key.id,
        time_zone=time_zone,
        # A key never administers (the API refuses to give it org.admin); a row written by other
        # means is held to the same rule, so no route has to remember it.
        capabilities=frozenset(key.capabilities) - {"org.admin"},
    )


CurrentActor = Annotated[Actor, Depends(current_actor)]


def require(capability: str) -> Any:
    """A dependency that answers 403 unless the actor holds (or is implied) the capability."""

    async def check(actor: CurrentActor) -> Actor:
        if not actor.can(capability):
            raise MissingCapability(f"This needs the capability '{capability}'.")
        return actor

    check.__name__ = f"require_{capability.replace('.', '_')}"
    return Depends(check)


def require_staff(actor: CurrentActor) -> Actor:
    if actor.kind == "customer":
        raise StaffOnly("Customers cannot use this endpoint.")
    if actor.kind != "staff":
        raise StaffOnly("This endpoint is for staff members, not API keys.")
    return actor


StaffActor = Annotated[Actor, Depends(require_staff)]


def staff_or(capability: str) -> Any:
    """Staff members, and API keys that hold (or are implied) the capability."""

    async def check(actor: CurrentActor) -> Actor:
        if actor.kind == "customer":
            raise StaffOnly("Customers cannot use this endpoint.")
        if actor.kind != "staff" and not actor.can(capability):
            raise MissingCapability(f"An API key needs the capability '{capability}' here.")
        return actor

    check.__name__ = f"staff_or_{capability.replace('.', '_')}"
    return Depends(check)


@idempotency.claims_key
async def claim_idempotency_key(request: Request, session: DbSession, actor: CurrentActor) -> None:
    """The caller's `Idempotency-Key`, claimed for the caller: a router-wide dependency."""
    await idempotency.claim(request, session, actor)


Idempotent = Depends(claim_idempotency_key)
