"""Life-cycle configuration as the actor reads it: every staff member and API key reads all of it."""

from __future__ import annotations

from sqlalchemy import Select, select

from crmapi.access.actor import Actor
from crmapi.lifecycle.models import LifecycleStatus
from crmapi.lifecycle.schemas import StatusListQuery
from crmapi.pagination import Sorting

STATUS_SORTING = Sorting(
    columns={"position": LifecycleStatus.position, "name": LifecycleStatus.name},
    id_column=LifecycleStatus.id,
    default="position",
)


def statuses(actor: Actor) -> Select[LifecycleStatus]:
    return select(LifecycleStatus).where(LifecycleStatus.org_id == actor.org_id)


def filtered_statuses(actor: Actor, f: StatusListQuery) -> Select[LifecycleStatus]:
    stmt = statuses(actor)
    if f.kind:
        stmt = stmt.where(LifecycleStatus.kind == f.kind)
    if f.state:
        stmt = stmt.where(LifecycleStatus.state == f.state)
    if f.active is not None:
        stmt = stmt.where(LifecycleStatus.active.is_(f.active))
    return stmt
