"""Bulk calls' bodies and answers, and bulk assignments: one record at a time through the same
rules as a single change, each in a savepoint, so one refusal is that record's outcome and the
others go on. Bulk moves are written as sets (lifecycle.moves) and answer alike."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from crmapi.kit.db import remembering
from crmapi.kit.errors import ProblemError
from crmapi.kit.scalars import Input

log = logging.getLogger("crmapi.records.bulk")
# One call's records are locked together for the whole transaction; a thousand keeps the call
# within a second or two and another caller's wait for those rows short.
MAX_STEPS = 1_000
_IDS = Field(min_length=1, max_length=MAX_STEPS, description=f"Up to {MAX_STEPS:,} ids.")


class BulkMove(Input):
    """Move many records to one status through the engine; each is decided on its own."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "ids": ["0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c01"],
                    "status_id": "0192f0a8-0000-7000-8000-000000000002",
                }
            ]
        },
    )
    ids: list[UUID] = _IDS
    status_id: UUID
    lost_reason_id: UUID | None = Field(None, description="Required when the status is a lost one.")


class BulkAssign(Input):
    """Assign many records to a member and/or a business unit (null clears)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "ids": ["0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c01"],
                    "assigned_member_id": "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c09",
                }
            ]
        },
    )
    ids: list[UUID] = _IDS
    assigned_member_id: UUID | None = None
    business_unit_id: UUID | None = None

    @model_validator(mode="after")
    def _something_to_assign(self) -> BulkAssign:
        if not self.model_fields_set & {"assigned_member_id", "business_unit_id"}:
            raise ValueError("give assigned_member_id, business_unit_id or both")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(include=self.model_fields_set & {"assigned_member_id", "business_unit_id"})


class StepOutcome(BaseModel):
    id: UUID
    outcome: Literal["updated", "unchanged", "error"] = Field(
        description="`unchanged`: the record was already where the call sends it (already in the "
        "status, already assigned so), so a replayed call reports no errors for what it did."
    )
    reason: str | None = Field(
        None,
        description="With `error`: the problem type's slug a single call would have answered "
        "(`not-found`, `not-owner`, `transition-rule`, `no-such-transition`, `read-only`, "
        "`validation-error`, ...) or `duplicate` (the id came earlier in this call).",
        examples=["transition-rule"],
    )
    detail: str | None = Field(None, examples=["Refused by the transition rule 'Key accounts close'."])


class StepResult(BaseModel):
    results: list[StepOutcome] = Field(description="One per id sent, in the order sent.")
    updated: int
    unchanged: int
    errors: int


Step = Callable[[UUID], Awaitable[bool]]  # True when the record changed
Outcome = dict[str, Any]  # a StepOutcome without its id


def refused(refusal: ProblemError) -> Outcome:
    return {"outcome": "error", "reason": refusal.slug, "detail": refusal.detail}


async def step_outcome(session: AsyncSession, record_id: UUID, step: Step) -> Outcome:
    """One record's outcome, its work in a savepoint that a refusal rolls back."""
    try:
        async with session.begin_nested():
            changed = await step(record_id)
    except ProblemError as refusal:
        return refused(refusal)
    except ValidationError as invalid:  # a record the step cannot make from this one
        return {"outcome": "error", "reason": "validation-error", "detail": str(invalid)}
    except (DBAPIError, StaleDataError) as failed:  # rolled back to the savepoint; the rest go on
        log.warning("bulk step failed: %s", type(failed).__name__)
        return {
            "outcome": "error",
            "reason": "conflict",
            "detail": "Changed or locked by another request meanwhile; send it again.",
        }
    return {"outcome": "updated" if changed else "unchanged"}


async def each(session: AsyncSession, ids: list[UUID], step: Step) -> dict[str, Any]:
    """Run `step` for every id in its own savepoint; a refusal rolls back that record only.

    Records are taken in id order (two overlapping calls lock in one order and take turns
    instead of deadlocking); the answer keeps the order sent."""
    outcomes: dict[UUID, Outcome] = {}
    # The steps change records, not the configuration they read: a type and the caller's units
    # are loaded once for the call (kit.db.remembering), not once a record.
    with remembering(session):
        for record_id in sorted(set(ids)):
            outcomes[record_id] = await step_outcome(session, record_id, step)
    return answer(ids, outcomes)


def answer(ids: list[UUID], outcomes: dict[UUID, Outcome]) -> dict[str, Any]:
    """The StepResult of a call: one outcome per id in the order sent, a repeated id an error."""
    results: list[dict[str, Any]] = []
    seen: set[UUID] = set()
    for record_id in ids:
        duplicate = record_id in seen
        seen.add(record_id)
        results.append(
            {
                "id": record_id,
                **({"outcome": "error", "reason": "duplicate"} if duplicate else outcomes[record_id]),
            }
        )
    counts = {
        name: sum(r["outcome"] == outcome for r in results)
        for name, outcome in (("updated", "updated"), ("unchanged", "unchanged"), ("errors", "error"))
    }
    return {"results": results, **counts}
