"""Life-cycle configuration: the statuses of each kind, mapped to the kind's fixed states."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi import history, outbox, search
from crmapi.access.actor import Actor
from crmapi.concurrency import check_version
from crmapi.errors import Conflict, NotFound, Unprocessable
from crmapi.ids import new_id
from crmapi.lifecycle import queries
from crmapi.lifecycle.defaults import STEP
from crmapi.lifecycle.kinds import KINDS
from crmapi.lifecycle.models import LifecycleStatus
from crmapi.lifecycle.schemas import StatusCreate, StatusUpdate

STATUS = "lifecycle_status"
_FIELDS = ("kind", "state", "code", "name", "description", "position", "active")
_NOT_CODE = re.compile(r"[^A-Z0-9]+")


def _snapshot(status: LifecycleStatus) -> dict[str, Any]:
    return {k: getattr(status, k) for k in _FIELDS}


def _taken(code: str) -> Conflict:
    return Conflict(f"Another status of this kind has the code '{code}'.", slug="code-taken")


async def _codes(session: AsyncSession, actor: Actor, kind: str) -> set[str]:
    rows = await session.execute(
        select(LifecycleStatus.code).where(
            LifecycleStatus.org_id == actor.org_id, LifecycleStatus.kind == kind
        )
    )
    return set(rows.scalars())


def _code_from(name: str, taken: set[str]) -> str:
    """The name folded to upper-case letters, digits and underscores, numbered when taken."""
    base = _NOT_CODE.sub("_", search.fold(name).upper()).strip("_")[:60] or "STATUS"
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base}_{n}"
    return code


def _emit(
    session: AsyncSession, actor: Actor, status: LifecycleStatus, action: str, changes: dict[str, Any]
) -> None:
    history.record(session, actor, entity=STATUS, entity_id=status.id, action=action, changes=changes)
    outbox.emit(
        session,
        actor,
        topic=f"{STATUS}.{action}",
        entity=STATUS,
        entity_id=status.id,
        payload={"version": status.version, "kind": status.kind, "fields": sorted(changes)},
    )


async def create_status(session: AsyncSession, actor: Actor, data: StatusCreate) -> LifecycleStatus:
    """Add a status to a kind; the state must be one of the kind's, the code unique in the kind."""
    kind = KINDS[data.kind]
    if data.state not in kind.states:
        raise Unprocessable.on("body.state", f"A {data.kind} has the states {', '.join(kind.states)}.")
    taken = await _codes(session, actor, data.kind)
    if data.code is not None and data.code in taken:
        raise _taken(data.code)
    position = data.position
    if position is None:
        last = await session.scalar(
            select(func.max(LifecycleStatus.position)).where(
                LifecycleStatus.org_id == actor.org_id, LifecycleStatus.kind == data.kind
            )
        )
        position = (last or 0) + STEP
    now = datetime.now(UTC)
    status = LifecycleStatus(
        org_id=actor.org_id,
        id=new_id(),
        kind=data.kind,
        state=data.state,
        code=data.code or _code_from(data.name, taken),
        name=data.name,
        description=data.description,
        position=position,
        active=data.active,
        created_at=now,
        updated_at=now,
    )
    session.add(status)
    try:
        await session.flush()
    except IntegrityError as exc:  # the same code made by a concurrent request
        raise _taken(status.code) from exc
    _emit(session, actor, status, "created", history.diff({}, _snapshot(status)))
    return status


async def get_status(
    session: AsyncSession, actor: Actor, status_id: UUID, *, lock: bool = False
) -> LifecycleStatus:
    """A status of the actor's organisation; 404 otherwise."""
    stmt = queries.statuses(actor).where(LifecycleStatus.id == status_id)
    found = (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()
    if found is None:
        raise NotFound("No status with this id.")
    return found


async def update_status(
    session: AsyncSession, actor: Actor, status_id: UUID, data: StatusUpdate, expected: int | None
) -> LifecycleStatus:
    """Rename, recode, reorder or (de)activate a status; its kind and state stay."""
    status = await get_status(session, actor, status_id, lock=True)
    check_version(status.version, expected)
    sent = data.model_dump(include=data.model_fields_set)
    for key in ("name", "code", "position", "active"):
        if key in sent and sent[key] is None:
            raise Unprocessable.on(f"body.{key}", "May not be null.")
    before = _snapshot(status)
    with session.no_autoflush:
        for key, value in sent.items():
            setattr(status, key, value)
        changes = history.diff(before, _snapshot(status))
        if not changes:
            return status
        if "code" in changes and status.code in await _codes(session, actor, status.kind):
            raise _taken(status.code)
    status.updated_at = datetime.now(UTC)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise _taken(status.code) from exc
    _emit(session, actor, status, "updated", changes)
    return status
