"""The transition: load the record's type as a TypeConfig, ask `decide`, write the move.

Every kind's service locks its record (`FOR UPDATE`) and calls `move`; the decision itself is
the pure `decide`, so what is allowed is tested without a database (tests/lifecycle/test_lifecycle_decide.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.models import MemberUnit
from crmapi.config.models import CancellationReason, LostReason
from crmapi.kit.db import remembered
from crmapi.kit.errors import FieldError, NotFound, ProblemError, Unprocessable
from crmapi.lifecycle.decide import (
    NEEDS_REASON,
    Allowed,
    Move,
    Mover,
    Refused,
    Rule,
    Status,
    TypeConfig,
    decide,
)
from crmapi.lifecycle.kinds import KINDS
from crmapi.lifecycle.models import LifecycleStatus, LifecycleType, TransitionRule
from crmapi.records import history
from crmapi.records.changes import write


@dataclass(frozen=True)
class Loaded:
    """A type with the active statuses it allows (and their codes, for history) and its active
    rules."""

    type: LifecycleType
    config: TypeConfig

    def status(self, status_id: UUID) -> Status | None:
        return self.config.statuses.get(status_id)

    def target(self, state: str | None, status_id: UUID | None) -> UUID:
        """The status a move goes to: the one named, which must be in `state` when the move is
        to a state (an action like "win"), or the type's default status of `state`."""
        if status_id is None:
            assert state is not None
            return self.default_status(state).id
        named = self.config.statuses.get(status_id)
        if state is not None and named is not None and named.state != state:
            raise Unprocessable.on("body.status_id", f"Not a status in the state '{state}'.")
        return status_id

    def default_status(self, state: str) -> Status:
        """The type's default status of a state; when that one was retired, the type's first
        active status of the state."""
        for status_id in (*self.type.default_status_ids, *self.type.status_ids):
            status = self.config.statuses.get(status_id)
            if status is not None and status.state == state:
                return status
        raise Unprocessable.on("body.status_id", f"This type has no status in the state '{state}'.")


async def load_type(
    session: AsyncSession, kind: str, type_id: UUID | None, field: str = "body.type_id"
) -> Loaded:
    """The record's type (the kind's default when `type_id` is None), with its statuses and rules;
    loaded once for a whole bulk call (`kit.db.remembering`)."""
    return await remembered(
        session, ("lifecycle.type", kind, type_id), lambda: _load_type(session, kind, type_id, field)
    )


async def _load_type(session: AsyncSession, kind: str, type_id: UUID | None, field: str) -> Loaded:
    stmt = select(LifecycleType).where(LifecycleType.kind == kind)
    stmt = stmt.where(LifecycleType.id == type_id) if type_id else stmt.where(LifecycleType.is_default)
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        if type_id is None:
            raise NotFound(f"The organisation has no default {kind} type.")
        raise Unprocessable.on(field, f"No {kind.replace('_', ' ')} type with this id.")
    statuses = (
        await session.execute(
            # A retired status is not offered for new moves; records in it keep it (`current_status`).
            select(LifecycleStatus.id, LifecycleStatus.code, LifecycleStatus.state).where(
                LifecycleStatus.id.in_(found.status_ids), LifecycleStatus.active
            )
        )
    ).all()
    rules = await session.execute(
        select(TransitionRule).where(TransitionRule.type_id == found.id, TransitionRule.active)
    )
    config = TypeConfig(
        kind=KINDS[kind],
        statuses={s.id: Status(s.id, s.code, s.state) for s in statuses},
        rules=tuple(
            Rule(
                r.id, r.name, r.from_status_id, r.to_status_id, frozenset(r.member_ids), frozenset(r.unit_ids)
            )
            for r in rules.scalars()
        ),
        uses=frozenset(KINDS[kind].optional & {s.state for s in statuses}),
    )
    return Loaded(found, config)


async def current_status(session: AsyncSession, status_id: UUID) -> Status:
    """A record's status even when its type no longer lists it."""
    row = (
        await session.execute(
            select(LifecycleStatus.id, LifecycleStatus.code, LifecycleStatus.state).where(
                LifecycleStatus.id == status_id
            )
        )
    ).one()
    return Status(row.id, row.code, row.state)


async def mover(session: AsyncSession, actor: Actor) -> Mover:
    """The actor as rules see it: the member and the business units it belongs to (read once for
    a whole bulk call)."""
    if actor.member_id is None:
        return Mover(None)
    member_id = actor.member_id

    async def load() -> Mover:
        units = await session.execute(
            select(MemberUnit.business_unit_id).where(MemberUnit.member_id == member_id)
        )
        return Mover(member_id, frozenset(units.scalars()))

    return await remembered(session, ("lifecycle.mover", member_id), load)


def refusal(refused: Refused) -> ProblemError:
    errors = [FieldError(field=refused.field, message=refused.message)] if refused.field else None
    return refused.problem(refused.message, errors=errors)


async def require_row(session: AsyncSession, stmt: Any, field: str, message: str) -> None:
    """422 naming `field` unless `stmt` finds a row (a reference the body makes)."""
    if (await session.execute(stmt)).first() is None:
        raise Unprocessable.on(field, message)


async def _reason(session: AsyncSession, model: Any, reason_id: UUID | None, field: str) -> None:
    """422 naming `field` unless the reason is an active one (looked up once for a bulk call)."""

    async def active() -> bool:
        stmt = select(model.id).where(model.id == reason_id, model.active)
        return (await session.execute(stmt)).first() is not None

    if not await remembered(session, ("lifecycle.reason", model.__tablename__, reason_id), active):
        raise Unprocessable.on(field, "No active reason with this id.")


@dataclass(frozen=True)
class Checked:
    """A move the engine allows: from which status, and the decision (target and rule)."""

    current: Status
    allowed: Allowed


async def check(
    session: AsyncSession,
    actor: Actor,
    record: Any,
    loaded: Loaded,
    to_status_id: UUID,
    lost_reason_id: UUID | None = None,
) -> Checked:
    """The move's decision, or the refusal: kinds that check more of their own before writing
    ask first, so the engine's answer comes first, and hand the result to `move`."""
    current = loaded.status(record.status_id) or await current_status(session, record.status_id)
    reason = str(lost_reason_id) if lost_reason_id else None
    decision = decide(loaded.config, current, Move(to_status_id, reason), await mover(session, actor))
    if isinstance(decision, Refused):
        raise refusal(decision)
    return Checked(current, decision)


def arrived(record: Any, to_status_id: UUID, lost_reason_id: UUID | None = None) -> bool:
    """The record is already where a move would take it: in that status and, when a lost reason
    is sent, lost for that reason. A bulk move leaves such a record alone (`unchanged`), so a
    replayed call reports no failures; a single move there is still refused (409)."""
    return record.status_id == to_status_id and lost_reason_id in (None, record.lost_reason_id)


@dataclass(frozen=True)
class Transition:
    """A move decided and ready to write: the record's new column values, its history row's
    field changes and its event."""

    target: Status
    values: dict[str, Any]
    recorded: dict[str, Any]
    event: dict[str, Any]


async def plan(
    session: AsyncSession,
    actor: Actor,
    record: Any,
    loaded: Loaded,
    *,
    to_status_id: UUID,
    lost_reason_id: UUID | None = None,
    cancellation_reason_id: UUID | None = None,
    completed: str | None = None,
    changes: dict[str, Any] | None = None,
    checked: Checked | None = None,
    now: datetime | None = None,
) -> Transition:
    """The move of a locked record (with `status_id`, `state` and, for kinds that can be lost or
    cancelled with a reason, `lost_reason_id` / `cancellation_reason_id`) to another status of its
    type, or the refusal; the record is left as it is. Entering a final state stamps the
    record's `completed` column once; `updated_at` moves on. `changes` are the move's other
    field changes, recorded in the same row; `checked` is this move's `check`, when the caller
    asked it already."""
    checked = checked or await check(session, actor, record, loaded, to_status_id, lost_reason_id)
    current, decision = checked.current, checked.allowed
    reason = str(lost_reason_id) if lost_reason_id else None
    target = decision.status
    recorded = {
        "status": {"old": current.code, "new": target.code},
        "state": {"old": current.state, "new": target.state},
        **(changes or {}),
    }
    now = now or datetime.now(UTC)
    values: dict[str, Any] = {"status_id": target.id, "state": target.state, "updated_at": now}
    if target.state in NEEDS_REASON:
        await _reason(session, LostReason, lost_reason_id, "body.lost_reason_id")
        recorded["lost_reason_id"] = {"old": history.jsonable(record.lost_reason_id), "new": reason}
        values["lost_reason_id"] = lost_reason_id
    if target.state == "cancelled" and cancellation_reason_id is not None:
        await _reason(session, CancellationReason, cancellation_reason_id, "body.cancellation_reason_id")
        recorded["cancellation_reason_id"] = {"old": None, "new": str(cancellation_reason_id)}
        values["cancellation_reason_id"] = cancellation_reason_id
    if (
        completed is not None
        and loaded.config.kind.final(target.state)
        and getattr(record, completed) is None
    ):
        recorded[completed] = {"old": None, "new": history.jsonable(now)}
        values[completed] = now
    if decision.rule is not None:
        recorded["rule"] = {"old": None, "new": decision.rule.name}
    event = {
        "from": current.state,
        "to": target.state,
        "status": target.code,
        # As `records.changes.versioned`: the version the move's write gives the record.
        "version": record.version + 1,
        "fields": sorted(column for column in values if column != "updated_at"),
    }
    return Transition(target, values, recorded, event)


async def move(
    session: AsyncSession,
    actor: Actor,
    record: Any,
    loaded: Loaded,
    *,
    entity: str,
    to_status_id: UUID,
    lost_reason_id: UUID | None = None,
    cancellation_reason_id: UUID | None = None,
    completed: str | None = None,
    changes: dict[str, Any] | None = None,
    checked: Checked | None = None,
) -> Status:
    """`plan` the move and make it: the record changed, its history row and its event written."""
    transition = await plan(
        session,
        actor,
        record,
        loaded,
        to_status_id=to_status_id,
        lost_reason_id=lost_reason_id,
        cancellation_reason_id=cancellation_reason_id,
        completed=completed,
        changes=changes,
        checked=checked,
    )
    for column, value in transition.values.items():
        setattr(record, column, value)
    write(
        session,
        actor,
        entity=entity,
        entity_id=record.id,
        action="transition",
        changes=transition.recorded,
        event=transition.event,
    )
    return transition.target
