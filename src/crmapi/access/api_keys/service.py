"""API keys: an organisation's credentials for other systems (an ERP feed), each with capabilities.

`api_keys` is a global table (a key is resolved before its organisation is known), so row-level
security does not guard it: every statement here names the actor's organisation itself.
The secret is shown once, in the answer to create; only its HMAC is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.api_keys.schemas import ApiKeyCreate, ApiKeyListQuery, ApiKeyUpdate
from crmapi.access.problems import ApiKeyRevoked
from crmapi.identity.models import ApiKey
from crmapi.identity.security import Keys, new_secret
from crmapi.kit.errors import NotFound
from crmapi.kit.ids import new_id
from crmapi.kit.pagination import Sorting
from crmapi.records import changes, history

ENTITY = "api_key"
PREFIX = "crm_"
# A handful of keys per organisation, found through ix_api_keys_organisation_id: no sort index.
SORTING = Sorting(
    columns={"created_at": ApiKey.created_at, "name": ApiKey.name},
    id_column=ApiKey.id,
    default="created_at",
)


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    token: str


def token_of(key_id: UUID, secret: str) -> str:
    """The bearer token `crm_<id hex>_<secret>` that `access.dependencies` takes apart."""
    return f"{PREFIX}{key_id.hex}_{secret}"


def _snapshot(key: ApiKey) -> dict[str, Any]:
    return {"name": key.name, "capabilities": list(key.capabilities)}


def readable(actor: Actor) -> Select[ApiKey]:
    """The organisation's keys, revoked ones included; no RLS here, so the filter is explicit."""
    return select(ApiKey).where(ApiKey.organisation_id == actor.org_id)


def filtered(actor: Actor, f: ApiKeyListQuery) -> Select[ApiKey]:
    stmt = readable(actor)
    if f.revoked is not None:
        stmt = stmt.where(ApiKey.revoked_at.is_not(None) if f.revoked else ApiKey.revoked_at.is_(None))
    return stmt


async def create(session: AsyncSession, actor: Actor, keys: Keys, data: ApiKeyCreate) -> NewKey:
    """Make a key and answer it with its token; the secret itself is never stored."""
    secret = new_secret()
    key = ApiKey(
        id=new_id(),
        organisation_id=actor.org_id,
        name=data.name,
        secret_hash=keys.secret_hash(secret),
        capabilities=data.capabilities,
        created_at=datetime.now(UTC),
    )
    session.add(key)
    await session.flush()
    changed = history.diff({}, _snapshot(key))
    changes.write(session, actor, entity=ENTITY, entity_id=key.id, action="created", changes=changed)
    return NewKey(key, token_of(key.id, secret))


async def get(session: AsyncSession, actor: Actor, key_id: UUID, *, lock: bool = False) -> ApiKey:
    """A key of the actor's organisation, optionally locked; 404 otherwise (another
    organisation's key included)."""
    stmt = readable(actor).where(ApiKey.id == key_id)
    if lock:
        stmt = stmt.with_for_update()
    key = (await session.execute(stmt)).scalar_one_or_none()
    if key is None:
        raise NotFound("No API key with this id.")
    return key


async def update(session: AsyncSession, actor: Actor, key_id: UUID, data: ApiKeyUpdate) -> ApiKey:
    """Rename a key or change its capabilities (from its next request); a revoked key is 409."""
    key = await get(session, actor, key_id, lock=True)
    sent = data.model_dump(include=data.model_fields_set)
    if key.revoked_at is not None:
        raise ApiKeyRevoked("This API key is revoked; make a new one.")
    before = _snapshot(key)
    for field, value in sent.items():
        setattr(key, field, value)
    changed = history.diff(before, _snapshot(key))
    if not changed:
        return key
    await session.flush()
    changes.write(
        session,
        actor,
        entity=ENTITY,
        entity_id=key.id,
        action="updated",
        changes=changed,
        event={"fields": sorted(changed)},
    )
    return key


async def revoke(session: AsyncSession, actor: Actor, key_id: UUID) -> None:
    """Revoke a key: its next request answers 401. Revoking a revoked key changes nothing."""
    key = await get(session, actor, key_id, lock=True)
    if key.revoked_at is not None:
        return
    key.revoked_at = datetime.now(UTC)
    await session.flush()
    changes.write(
        session,
        actor,
        entity=ENTITY,
        entity_id=key.id,
        action="revoked",
        changes=history.diff({"revoked_at": None}, {"revoked_at": key.revoked_at}),
    )
