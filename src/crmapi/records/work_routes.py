"""The routes work items have alike, declared by each kind's router under the operation ids it
spells out: remove, restore, take from the unit, close the reminder and history (leads,
activities, service requests), and the named moves (start, win, lose, cancel, complete, and the
general `transitions`), each a target state and a body, of leads, opportunities and activities.

No `from __future__ import annotations` here: the handlers' parameter types (the kind's path
parameter, reader and move bodies) are made at run time, and FastAPI must see them as objects.
"""

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Body, Query, Request, Response, status
from pydantic import BaseModel

from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, PageParams, render, sorted_by
from crmapi.kit.routes import add
from crmapi.kit.words import a
from crmapi.lifecycle import work
from crmapi.records import history
from crmapi.records.targets import Target, target

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
RESTORE = problem_responses(401, 403, 404, 412, 422, 503)


def declare_common(
    router: APIRouter,
    spec: work.WorkKind[Any],
    answers: Answers[Any],
    *,
    param: str,
    reader: Any,
    delete: str,
    restore: str,
    accept: str,
    history_of: str,
    close_reminder: str | None = None,
) -> None:
    """Declare on the kind's `router` its remove, restore, accept, history and (when the kind has
    a reminder) close-reminder routes, under the operation ids given; `reader` is the kind's
    actor dependency (`CurrentActor`, `Annotated[Actor, staff_or(...)]`)."""
    noun, one, render, on = spec.noun, f"/{{{param}}}", answers.one, target(param, f"{spec.noun} id", reader)
    answered = {"response_model": answers.read_model}

    async def remove(t: Target = on, if_match: IfMatch = None) -> Response:
        await work.remove(t.session, t.actor, spec, t.id, expected_version(if_match))
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    async def bring_back(response: Response, t: Target = on, if_match: IfMatch = None) -> Any:
        return render(
            await work.restore(t.session, t.actor, spec, t.id, expected_version(if_match)), response
        )

    async def take(response: Response, t: Target = on, if_match: IfMatch = None) -> Any:
        return render(await work.take(t.session, t.actor, spec, t.id, expected_version(if_match)), response)

    async def close(response: Response, t: Target = on, if_match: IfMatch = None) -> Any:
        return render(
            await work.close_reminder_of(t.session, t.actor, spec, t.id, expected_version(if_match)), response
        )

    async def changes_of(
        request: Request, page: Annotated[PageParams, Query()], t: Target = on
    ) -> dict[str, Any]:
        await work.fetch(t.session, t.actor, spec, t.id)
        return await history.page_of(t.session, spec.entity, t.id, page, request.app.state.cursors)

    add(
        router,
        "DELETE",
        one,
        remove,
        delete,
        summary=f"Remove {a(noun)} (soft)",
        description=f"Gone from every read until `{spec.manage}` restores it.",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=RESTORE,
    )
    add(
        router,
        "POST",
        f"{one}/restore",
        bring_back,
        restore,
        summary=f"Restore a removed {noun}",
        description=f"Needs `{spec.manage}`.",
        responses=RESTORE,
        **answered,
    )
    add(
        router,
        "POST",
        f"{one}/accept",
        take,
        accept,
        summary=f"Take {a(noun)} assigned to your unit",
        description=f"A member of its business unit becomes the assignee, while it is {spec.kind.initial} "
        "and nobody is assigned (409 otherwise), only a unit member (403 `not-unit-member`).",
        responses=MOVE,
        **answered,
    )
    if close_reminder is not None:
        add(
            router,
            "POST",
            f"{one}/reminder/close",
            close,
            close_reminder,
            summary=f"Close {a(noun)}'s reminder",
            description="The reminder leaves the caller's reminders (`GET /v1/me/reminders`) until "
            "`reminder_at` is set again; 409 `no-reminder` when none is set.",
            responses=MOVE,
            **answered,
        )
    add(
        router,
        "GET",
        f"{one}/history",
        sorted_by(history.HISTORY_SORTING)(changes_of),
        history_of,
        summary=f"{a(noun, start=True)}'s history",
        description="Who changed or moved it and when, newest first; a move's row has action "
        "`transition` with the old and new status and state (and the rule that let it through).",
        response_model=Page[history.HistoryRead],
        response_model_exclude_unset=True,
        responses=problem_responses(400, 401, 403, 404, 422, 503),
    )


@dataclass(frozen=True)
class Move:
    """POST /{id}/`path`: the move to `state` (its type's default status there unless the body
    names another), or, with `state` None, the general move to the status the body names. The
    body's fields are the kind's `move` keywords (`status_id`, `lost_reason_id`, ...); it is
    required when it has a required field, optional otherwise."""

    path: str
    operation_id: str
    summary: str
    body: type[BaseModel]
    state: str | None
    description: str


# The kind's move, as a route makes it: the target, the answer to set headers on, and the move's
# keywords (`state`, `expected` and the body's fields); it answers the moved item.
Mover = Callable[[Target, Response, dict[str, Any]], Awaitable[Any]]


def declare_moves(
    router: APIRouter,
    moves: Sequence[Move],
    *,
    param: str,
    noun: str,
    reader: Any,
    move: Mover,
    read_model: type[BaseModel],
) -> None:
    """Declare on the kind's `router` its moves, in order, each answered by the kind's `move`."""
    on = target(param, f"{noun} id", reader)
    for step in moves:
        add(
            router,
            "POST",
            f"/{{{param}}}/{step.path}",
            _mover(step, on, move),
            step.operation_id,
            summary=step.summary,
            description=inspect.cleandoc(step.description),
            response_model=read_model,
            responses=MOVE,
        )


def _mover(step: Move, on: Any, move: Mover) -> Callable[..., Any]:
    """The handler of one move."""

    async def moved(t: Target, sent: BaseModel, response: Response, if_match: str | None) -> Any:
        keywords = {"state": step.state, "expected": expected_version(if_match), **sent.model_dump()}
        return await move(t, response, keywords)

    if any(field.is_required() for field in step.body.model_fields.values()):

        async def required(
            body: step.body,  # type: ignore[name-defined]
            response: Response,
            t: Target = on,
            if_match: IfMatch = None,
        ) -> Any:
            return await moved(t, body, response, if_match)

        return required

    async def optional(
        response: Response,
        t: Target = on,
        body: Annotated[step.body | None, Body()] = None,  # type: ignore[name-defined]
        if_match: IfMatch = None,
    ) -> Any:
        return await moved(t, body or step.body(), response, if_match)

    return optional
