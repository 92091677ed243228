"""One history table written by every write path: who changed what, when, from which request."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Index, Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from crmapi.kit.base import Base, Tenant, utcnow
from crmapi.kit.logs import request_id_var
from crmapi.kit.pagination import Cursors, PageParams, Sorting, paginate, render_page

if TYPE_CHECKING:
    from crmapi.access.actor import Actor


class HistoryEntry(Tenant, Base):
    __tablename__ = "history"
    __extra_table_args__ = (Index("ix_history_entity", "org_id", "entity", "entity_id", "at"),)

    entity: Mapped[str]
    entity_id: Mapped[UUID]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_member_id: Mapped[UUID | None]
    actor_api_key_id: Mapped[UUID | None]
    request_id: Mapped[str | None]
    action: Mapped[str]
    # {"field": {"old": ..., "new": ...}}
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)


def jsonable(value: Any) -> Any:
    if isinstance(value, (UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """Field-level old/new pairs for the keys whose values differ."""
    changes: dict[str, Any] = {}
    for key in after.keys() | before.keys():
        old, new = jsonable(before.get(key)), jsonable(after.get(key))
        if old != new:
            changes[key] = {"old": old, "new": new}
    return changes


def record(
    session: AsyncSession,
    actor: Actor,
    *,
    entity: str,
    entity_id: UUID,
    action: str,
    changes: Mapping[str, Any] | None = None,
) -> HistoryEntry:
    """Add a history row to the current transaction."""
    entry = HistoryEntry(
        org_id=actor.org_id,
        entity=entity,
        entity_id=entity_id,
        actor_member_id=actor.member_id,
        actor_api_key_id=actor.api_key_id,
        request_id=request_id_var.get(),
        action=action,
        changes=dict(changes or {}),
    )
    session.add(entry)
    return entry


class HistoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    entity: str | None = None
    entity_id: UUID | None = None
    at: datetime | None = None
    actor_member_id: UUID | None = None
    actor_api_key_id: UUID | None = None
    request_id: str | None = None
    action: str | None = Field(None, examples=["updated"])
    changes: dict[str, Any] | None = Field(None, examples=[{"job_title": {"old": None, "new": "CFO"}}])


HISTORY_SORTING = Sorting(columns={"at": HistoryEntry.at}, id_column=HistoryEntry.id, default="-at")


def of(entity: str, entity_id: UUID) -> Select[HistoryEntry]:
    """The history of one record; the caller has already checked the record is in scope."""
    return select(HistoryEntry).where(HistoryEntry.entity == entity, HistoryEntry.entity_id == entity_id)


async def page_of(
    session: AsyncSession, entity: str, entity_id: UUID, page: PageParams, cursors: Cursors
) -> dict[str, Any]:
    """One page of a record's history, newest first, as every `/{id}/history` route answers it;
    the caller has already checked the record is in scope."""
    rows, cursor, count = await paginate(
        session, of(entity, entity_id), sorting=HISTORY_SORTING, params=page, cursors=cursors
    )
    return render_page(HistoryRead, rows, cursor, count, page.fields)
