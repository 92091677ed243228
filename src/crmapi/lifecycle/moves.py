"""Bulk moves written as sets: every record of the call locked in one statement, each decided in
Python by the same engine and checks as a single move, the moves written in one UPDATE and
their history rows and events in one INSERT each.

A record whose move does more than change its own row (a won lead whose type converts) takes
the single path, in its savepoint, after the others are written.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.kit.db import remembering
from crmapi.kit.errors import NotFound, ProblemError
from crmapi.lifecycle import engine
from crmapi.lifecycle.decide import Status
from crmapi.records.bulk import BulkMove, Outcome, answer, refused, step_outcome
from crmapi.records.changes import Changed, announce_many

Planned = tuple[Any, engine.Transition, dict[str, Any]]  # a record, its move, further column values
# Called with the record, its loaded type, the target status (None: one the type does not offer,
# which the engine refuses) and the move's time.
Ready = Callable[
    [AsyncSession, Actor, Any, engine.Loaded, Status | None, datetime], Awaitable[dict[str, Any]]
]


def _never(record: Any, loaded: engine.Loaded, target: Status | None) -> bool:
    return False


@dataclass(frozen=True)
class Moves:
    """What a kind's bulk move needs besides the engine: its records, and the checks and column
    values of its single move."""

    entity: str  # the history entity and the lifecycle kind: "lead"
    noun: str
    model: Any
    completed: str  # the column a final state stamps once
    readable: Callable[[Actor], Select[Any]]
    changer: Callable[[AsyncSession, Actor, Any], Awaitable[None]]  # refuses who may not change it
    # The single move's own refusals after `changer` (read-only, not assigned, ...) and the
    # further column values it writes.
    ready: Ready
    # The single move of one record by id (its service's `settle`), for those that take it.
    settle: Callable[..., Awaitable[bool]]
    alone: Callable[[Any, engine.Loaded, Status | None], bool] = _never  # it takes the single path


async def move_all(session: AsyncSession, actor: Actor, kind: Moves, body: BulkMove) -> dict[str, Any]:
    """The call's StepResult: each distinct id decided as `records.bulk.each` would decide it
    record by record."""
    status_id, lost_reason_id = body.status_id, body.lost_reason_id

    async def single(record_id: UUID) -> bool:
        return bool(
            await kind.settle(session, actor, record_id, status_id=status_id, lost_reason_id=lost_reason_id)
        )

    wanted = sorted(set(body.ids))  # the lock order of `each`, so overlapping calls take turns
    stmt = kind.readable(actor).where(kind.model.id.in_(wanted)).order_by(kind.model.id)
    locked = await session.execute(stmt.with_for_update().execution_options(populate_existing=True))
    found = {record.id: record for record in locked.scalars()}
    outcomes: dict[UUID, Outcome] = {}
    moves: list[Planned] = []
    singles: list[UUID] = []
    now = datetime.now(UTC)
    with remembering(session):
        for record_id in wanted:
            record = found.get(record_id)
            try:
                if record is None:
                    raise NotFound(f"No {kind.noun} with this id.")
                await kind.changer(session, actor, record)
                if engine.arrived(record, status_id, lost_reason_id):
                    outcomes[record_id] = {"outcome": "unchanged"}
                    continue
                loaded = await engine.load_type(session, kind.entity, record.type_id)
                target = loaded.status(status_id)
                if kind.alone(record, loaded, target):
                    singles.append(record_id)
                    continue
                extra = await kind.ready(session, actor, record, loaded, target, now)
                transition = await engine.plan(
                    session,
                    actor,
                    record,
                    loaded,
                    to_status_id=status_id,
                    lost_reason_id=lost_reason_id,
                    completed=kind.completed,
                    now=now,
                )
            except ProblemError as refusal:
                outcomes[record_id] = refused(refusal)
                continue
            moves.append((record, transition, extra))
            outcomes[record_id] = {"outcome": "updated"}
        await _write(session, actor, kind, moves)
        for record_id in singles:
            outcomes[record_id] = await step_outcome(session, record_id, single)
    return answer(body.ids, outcomes)


async def _write(session: AsyncSession, actor: Actor, kind: Moves, moves: list[Planned]) -> None:
    """One UPDATE for every moved row (under the locks taken, so no version check is needed),
    then one INSERT of their history rows and one of their events."""
    if not moves:
        return
    columns = sorted({column for _, t, extra in moves for column in (*t.values, *extra)})
    table = kind.model.__table__
    stmt = (
        update(table)
        .where(table.c.id == bindparam("moved_id"))
        .values(
            {**{column: bindparam(f"new_{column}") for column in columns}, "version": table.c.version + 1}
        )
    )
    rows = []
    for record, transition, extra in moves:
        new = {column: getattr(record, column) for column in columns} | transition.values | extra
        rows.append({"moved_id": record.id, **{f"new_{column}": new[column] for column in columns}})
    await session.execute(stmt, rows)
    moved = [Changed(record.id, record.version + 1, t.recorded, t.event) for record, t, _ in moves]
    await announce_many(session, actor, moved, entity=kind.entity, action="transition")
    for record, _, _ in moves:
        session.expire(record)  # its row moved on underneath
