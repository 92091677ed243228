"""Create, read and change the values of any configurable list (see spec.OptionList)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.problems import CodeTaken
from crmapi.config.models import Option
from crmapi.config.spec import OptionList, OptionQuery
from crmapi.kit import search
from crmapi.kit.concurrency import check_version
from crmapi.kit.errors import Conflict, NotFound
from crmapi.kit.ids import new_id
from crmapi.kit.pagination import PageParams, Sorting
from crmapi.kit.scalars import Input
from crmapi.records import history
from crmapi.records.changes import announce

STEP = 10  # positions leave room in between
_NOT_CODE = re.compile(r"[^A-Z0-9]+")
_SHARED = set(PageParams.model_fields)


def sorting(spec: OptionList) -> Sorting:
    return Sorting(
        columns={"position": spec.model.position, "name": spec.model.name},
        id_column=spec.model.id,
        default="position",
    )


def code_from(name: str, taken: set[str], fallback: str) -> str:
    """The name folded to upper-case letters, digits and underscores, numbered when taken:
    "Kwalifikacja wstępna" -> KWALIFIKACJA_WSTEPNA, then KWALIFIKACJA_WSTEPNA_2."""
    base = _NOT_CODE.sub("_", search.fold(name).upper()).strip("_")[:60] or fallback
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base}_{n}"
    return code


def _fields(spec: OptionList) -> list[str]:
    skip = {"org_id", "id", "created_at", "updated_at", "version"}
    return [c.key for c in spec.model.__table__.columns if c.key not in skip]


def _snapshot(spec: OptionList, option: Option) -> dict[str, Any]:
    return {k: getattr(option, k) for k in _fields(spec)}


def _group(spec: OptionList, option: Option) -> list[Any]:
    """Where the option's code must be unique: the organisation, narrowed by `within`."""
    model = spec.model
    return [getattr(model, c) == getattr(option, c) for c in spec.within]


def _taken(spec: OptionList, code: str) -> Conflict:
    return CodeTaken(f"Another {spec.noun} has the code '{code}'.")


async def _codes(session: AsyncSession, spec: OptionList, option: Option) -> set[str]:
    rows = await session.execute(
        select(spec.model.code).where(*_group(spec, option), spec.model.id != option.id)
    )
    return set(rows.scalars())


def readable(actor: Actor, spec: OptionList, parent_id: UUID | None = None) -> Select[Any]:
    stmt = select(spec.model).where(spec.model.org_id == actor.org_id)
    if spec.parent_column is not None:
        stmt = stmt.where(getattr(spec.model, spec.parent_column) == parent_id)
    return stmt


def filtered(
    actor: Actor, spec: OptionList, query: OptionQuery, parent_id: UUID | None = None
) -> Select[Any]:
    stmt = readable(actor, spec, parent_id)
    for key in type(query).model_fields.keys() - _SHARED:
        value = getattr(query, key)
        if value is not None:
            stmt = stmt.where(getattr(spec.model, key) == value)
    return stmt


async def _parent(session: AsyncSession, actor: Actor, spec: OptionList, parent_id: UUID | None) -> None:
    if spec.parent is not None:
        assert parent_id is not None
        await get(session, actor, spec.parent, parent_id)


async def get(
    session: AsyncSession,
    actor: Actor,
    spec: OptionList,
    option_id: UUID,
    parent_id: UUID | None = None,
    *,
    lock: bool = False,
) -> Any:
    """A value of the organisation's list; 404 otherwise (also under another parent)."""
    stmt = readable(actor, spec, parent_id).where(spec.model.id == option_id)
    found = (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"No {spec.noun} with this id.")
    return found


async def create(
    session: AsyncSession,
    actor: Actor,
    spec: OptionList,
    data: Input,
    parent_id: UUID | None = None,
    *,
    extra: Mapping[str, Any] | None = None,
) -> Any:
    """Add a value; a blank code is made from the name, a blank position puts it last. `extra`:
    columns the caller sets beside the body's (an issue type's form version)."""
    await _parent(session, actor, spec, parent_id)
    values = data.model_dump() | dict(extra or {})
    if spec.parent_column is not None:
        values[spec.parent_column] = parent_id
    now = datetime.now(UTC)
    option = spec.model(org_id=actor.org_id, id=new_id(), created_at=now, updated_at=now, **values)
    if spec.prepare is not None:
        await spec.prepare(session, actor, option, set(values))
    taken = await _codes(session, spec, option)
    if option.code is None:
        option.code = code_from(option.name, taken, spec.entity.upper())
    elif option.code in taken:
        raise _taken(spec, option.code)
    if option.position is None:
        last = await session.scalar(select(func.max(spec.model.position)).where(*_group(spec, option)))
        option.position = (last or 0) + STEP
    session.add(option)
    try:
        await session.flush()
    except IntegrityError as exc:  # the same code made by a concurrent request
        raise _taken(spec, option.code) from exc
    announce(
        session,
        actor,
        option,
        entity=spec.entity,
        action="created",
        changes=history.diff({}, _snapshot(spec, option)),
    )
    return option


async def update(
    session: AsyncSession,
    actor: Actor,
    spec: OptionList,
    option_id: UUID,
    data: Input,
    expected: int | None,
    parent_id: UUID | None = None,
    *,
    extra: Mapping[str, Any] | None = None,
) -> Any:
    """Merge the sent fields (and the `extra` columns the caller sets); nothing is written when
    nothing changes."""
    option = await get(session, actor, spec, option_id, parent_id, lock=True)
    check_version(option.version, expected)
    sent = data.model_dump(include=data.model_fields_set) | dict(extra or {})
    before = _snapshot(spec, option)
    with session.no_autoflush:
        for key, value in sent.items():
            setattr(option, key, value)
        changes = history.diff(before, _snapshot(spec, option))
        if not changes:
            return option
        if spec.prepare is not None:
            await spec.prepare(session, actor, option, set(changes))
        if "code" in changes and option.code in await _codes(session, spec, option):
            raise _taken(spec, option.code)
    option.updated_at = datetime.now(UTC)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise _taken(spec, option.code) from exc
    announce(session, actor, option, entity=spec.entity, action="updated", changes=changes)
    return option
