"""Boards: a kind's records in columns by status (in `position` order), the first cards of each
column in the order they came, with a cursor to the rest of the column.

One statement answers a board: a LATERAL probe per status column reads at most MAX_CARDS + 1
cards through the (org_id, status_id, created_at, id) index, in the list's scope and filters,
and PostgreSQL writes the cards' JSON; Python only adds the columns' signed cursors.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import Select, Text, cast, func, literal_column, select, true
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from crmapi.access.actor import Actor
from crmapi.kit.pagination import Cursors
from crmapi.lifecycle.models import LifecycleStatus

MAX_CARDS = 100
CardT = TypeVar("CardT", bound=BaseModel)
SORT = "created_at"  # a column's cursor continues the list sorted so, filtered to the status
EMPTY: ColumnElement[Any] = literal_column("'[]'")


def utc(column: Any) -> Any:
    """A timestamp as the API renders it (RFC 3339, UTC, `Z`)."""
    return func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')


async def board(
    session: AsyncSession,
    actor: Actor,
    *,
    kind: str,
    filters: BaseModel,
    matching: Callable[[], Select[Any]],
    model: Any,
    card: Mapping[str, Any],
    cursors: Cursors,
    status_ids: list[UUID] | None = None,
) -> str:
    """The board as JSON text. `matching` makes the list's scoped statement over `model` for
    `filters`; `card` names the SQL expressions a card shows; `status_ids` limits the columns (a
    type's). The unfiltered board's statement is built once per caller scope (Actor.remember):
    building it cost as much Python time as running it. Filtered ones are built each time, so
    varying filters cannot crowd the shared cache."""
    if filters.model_dump(exclude_none=True):  # a filtered board: not worth a cache entry each
        stmt = _statement(kind, matching(), model, card, status_ids)
    else:
        key = f"{kind}.board:{status_ids}"
        stmt = actor.remember(key, lambda _: _statement(kind, matching(), model, card, status_ids))
    parts = []
    for row in await session.execute(stmt):
        more = row.found > MAX_CARDS
        head = {
            "status_id": str(row.id),
            "code": row.code,
            "name": row.name,
            "state": row.state,
            "position": row.position,
            "next_cursor": cursors.encode(SORT, row.last_at, UUID(row.last_id)) if more else None,
        }
        parts.append(f'{json.dumps(head)[:-1]}, "cards": {row.cards}}}')
    return '{"columns": [' + ", ".join(parts) + "]}"


def _statement(
    kind: str, matching: Select[Any], model: Any, card: Mapping[str, Any], status_ids: list[UUID] | None
) -> Select[Any]:
    status = LifecycleStatus
    order = (model.created_at, model.id)
    cards = (
        matching.with_only_columns(
            func.json_build_object(*[part for name, expr in card.items() for part in (name, expr)]).label(
                "card"
            ),
            model.created_at.label("at"),
            cast(model.id, Text).label("card_id"),
            func.row_number().over(order_by=order).label("n"),
        )
        .where(model.status_id == status.id)
        .order_by(*order)
        .limit(MAX_CARDS + 1)
        .lateral("cards")
    )
    shown = cards.c.n <= MAX_CARDS
    last = cards.c.n == MAX_CARDS
    columns = (
        select(
            status.id,
            status.code,
            status.name,
            status.state,
            status.position,
            cast(
                func.coalesce(
                    func.json_agg(aggregate_order_by(cards.c.card, cards.c.n)).filter(shown), EMPTY
                ),
                Text,
            ).label("cards"),
            func.count(cards.c.n).label("found"),
            func.min(cards.c.at).filter(last).label("last_at"),
            func.min(cards.c.card_id).filter(last).label("last_id"),
        )
        .select_from(status)
        .outerjoin(cards, true())
        .where(status.kind == kind, status.active)
        .group_by(status.id, status.code, status.name, status.state, status.position)
        .order_by(status.position, status.id)
    )
    if status_ids is not None:
        columns = columns.where(status.id.in_(status_ids))
    return columns  # type: ignore[return-value]


class BoardColumn(BaseModel, Generic[CardT]):
    status_id: UUID
    code: str
    name: str
    state: str
    position: int
    next_cursor: str | None = Field(
        description="More cards: pass it as `cursor` to the list with `status_id` set to this "
        "column's status (sorted by `created_at`, the board's order)."
    )
    cards: list[CardT] = Field(description=f"The first {MAX_CARDS} in the order they came.")


class Board(BaseModel, Generic[CardT]):
    columns: list[BoardColumn[CardT]] = Field(description="One per active status, in `position` order.")
