"""What the routes every work item has alike share (leads, activities, service requests: remove,
restore, take from the unit, close the reminder, history), whichever kind's router declares them:
how an item is answered, and each route's answers and documentation written for the kind."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, Generic, TypeVar

from fastapi import Response, status
from pydantic import BaseModel

from crmapi.kit.concurrency import etag
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, render
from crmapi.kit.words import a
from crmapi.lifecycle.work import WorkKind
from crmapi.records import history

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


def delete(spec: WorkKind[Any]) -> dict[str, Any]:
    return {
        "summary": f"Remove {a(spec.noun)} (soft)",
        "description": f"Gone from every read until `{spec.manage}` restores it.",
        "status_code": status.HTTP_204_NO_CONTENT,
        "responses": problem_responses(401, 403, 404, 412, 422, 503),
    }


def restore(spec: WorkKind[Any], answers: Answers[Any]) -> dict[str, Any]:
    return {
        "summary": f"Restore a removed {spec.noun}",
        "description": f"Needs `{spec.manage}`.",
        "response_model": answers.read_model,
        "responses": problem_responses(401, 403, 404, 412, 422, 503),
    }


def accept(spec: WorkKind[Any], answers: Answers[Any]) -> dict[str, Any]:
    return {
        "summary": f"Take {a(spec.noun)} assigned to your unit",
        "description": f"A member of its business unit becomes the assignee, while it is "
        f"{spec.kind.initial} and nobody is assigned (409 otherwise), only a unit member "
        "(403 `not-unit-member`).",
        "response_model": answers.read_model,
        "responses": MOVE,
    }


def close_reminder(spec: WorkKind[Any], answers: Answers[Any]) -> dict[str, Any]:
    return {
        "summary": f"Close {a(spec.noun)}'s reminder",
        "description": "The reminder leaves the caller's reminders (`GET /v1/me/reminders`) until "
        "`reminder_at` is set again; 409 `no-reminder` when none is set.",
        "response_model": answers.read_model,
        "responses": MOVE,
    }


def history_of(spec: WorkKind[Any]) -> dict[str, Any]:
    return {
        "summary": f"{a(spec.noun, start=True)}'s history",
        "description": "Who changed or moved it and when, newest first; a move's row has action "
        "`transition` with the old and new status and state (and the rule that let it through).",
        "response_model": Page[history.HistoryRead],
        "response_model_exclude_unset": True,
        "responses": problem_responses(400, 401, 403, 404, 422, 503),
    }
