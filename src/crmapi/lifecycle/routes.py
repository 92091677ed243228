"""The routes every work item has alike (leads, activities, service requests): remove, restore,
take from the unit, close the reminder, history. Each kind's router adds them with its own path
parameter, answer model and reader; the moves, which differ, stay in the kind's router.

"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import BaseModel

from crmapi.access.actor import Actor
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, PageParams, render, sorted_by
from crmapi.kit.words import a
from crmapi.lifecycle import work
from crmapi.records import history

# Every change of an existing item takes its ETag in If-Match (a stale one: 412).
RESTORE = problem_responses(401, 403, 404, 412, 422, 503)


R = TypeVar("R", bound=BaseModel)


@dataclass(frozen=True)
class Answers(Generic[R]):
    """How a kind's work items are answered: the read model's fields the record has, plus
    `overdue` (open and past its expected completion), with the ETag for one."""

    read_model: type[R]
    model: type[Any]

    @cached_property
    def copied(self) -> tuple[str, ...]:
        return tuple(k for k in self.read_model.model_fields if hasattr(self.model, k))

    def rows(self, found: Sequence[Any]) -> list[dict[str, Any]]:
        now, copied = datetime.now(UTC), self.copied
        return [
            {
                **{k: getattr(r, k) for k in copied},
                "overdue": r.completed_at is None
                and r.expected_completion_at is not None
                and r.expected_completion_at < now,
            }
            for r in found
        ]

    def one(self, record: Any, response: Response, fields: set[str] | None = None) -> R:
        response.headers["ETag"] = etag(record.version)
        return render(self.read_model, self.rows([record])[0], fields)


MOVE = problem_responses(401, 403, 404, 409, 412, 422, 503)


@dataclass(frozen=True)
class WorkRoutes:
    spec: work.WorkKind[Any]
    param: str  # the path parameter: lead_id
    answers: Answers[Any]
    reader: Any  # the actor dependency: `Depends(current_actor)`, `staff_or(...)`
    reminders: bool = False  # the kind has a reminder to close

    def add(self, router: APIRouter) -> None:
        """Register the routes on the kind's router."""
        spec, render, noun = self.spec, self.answers.one, self.spec.noun
        reader = self.reader

        def item_id() -> Any:
            return Path(alias=self.param, description=f"{noun} id")

        one = f"/{{{self.param}}}"

        @router.delete(
            one,
            operation_id=f"delete_{spec.entity}",
            summary=f"Remove {a(noun)} (soft)",
            description=f"Gone from every read until `{spec.manage}` restores it.",
            status_code=status.HTTP_204_NO_CONTENT,
            responses=problem_responses(401, 403, 404, 412, 422, 503),
        )
        async def delete(
            session: DbSession, actor: Actor = reader, item: UUID = item_id(), if_match: IfMatch = None
        ) -> Response:
            await work.remove(session, actor, spec, item, expected_version(if_match))
            return Response(status_code=status.HTTP_204_NO_CONTENT)

        @router.post(
            f"{one}/restore",
            operation_id=f"restore_{spec.entity}",
            summary=f"Restore a removed {noun}",
            description=f"Needs `{spec.manage}`.",
            response_model=self.answers.read_model,
            responses=RESTORE,
        )
        async def restore(
            session: DbSession,
            response: Response,
            actor: Actor = reader,
            item: UUID = item_id(),
            if_match: IfMatch = None,
        ) -> Any:
            return render(
                await work.restore(session, actor, spec, item, expected_version(if_match)), response
            )

        @router.post(
            f"{one}/accept",
            operation_id=f"accept_{spec.entity}",
            summary=f"Take {a(noun)} assigned to your unit",
            description=f"A member of its business unit becomes the assignee, while it is "
            f"{spec.kind.initial} and nobody is assigned (409 otherwise), only a unit member "
            "(403 `not-unit-member`).",
            response_model=self.answers.read_model,
            responses=MOVE,
        )
        async def accept(
            session: DbSession,
            response: Response,
            actor: Actor = reader,
            item: UUID = item_id(),
            if_match: IfMatch = None,
        ) -> Any:
            return render(await work.take(session, actor, spec, item, expected_version(if_match)), response)

        if self.reminders:

            @router.post(
                f"{one}/reminder/close",
                operation_id=f"close_{spec.entity}_reminder",
                summary=f"Close {a(noun)}'s reminder",
                description="The reminder leaves the caller's reminders (`GET /v1/me/reminders`) until "
                "`reminder_at` is set again; 409 `no-reminder` when none is set.",
                response_model=self.answers.read_model,
                responses=MOVE,
            )
            async def close_reminder(
                session: DbSession,
                response: Response,
                actor: Actor = reader,
                item: UUID = item_id(),
                if_match: IfMatch = None,
            ) -> Any:
                found = await work.close_reminder_of(session, actor, spec, item, expected_version(if_match))
                return render(found, response)

        @router.get(
            f"{one}/history",
            operation_id=f"list_{spec.entity}_history",
            summary=f"{a(noun, start=True)}'s history",
            description="Who changed or moved it and when, newest first; a move's row has action "
            "`transition` with the old and new status and state (and the rule that let it through).",
            response_model=Page[history.HistoryRead],
            response_model_exclude_unset=True,
            responses=problem_responses(400, 401, 403, 404, 422, 503),
        )
        @sorted_by(history.HISTORY_SORTING)
        async def list_history(
            request: Request,
            session: DbSession,
            page: Annotated[PageParams, Query()],
            actor: Actor = reader,
            item: UUID = item_id(),
        ) -> dict[str, Any]:
            await work.fetch(session, actor, spec, item)
            return await history.page_of(session, spec.entity, item, page, request.app.state.cursors)
