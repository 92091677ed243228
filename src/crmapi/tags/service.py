"""Tags: the organisation's catalogue, and tagging records one at a time or in bulk.

Records keep the names they carry in `tags text[]`; the catalogue is the list an administrator
manages. A rename or a delete rewrites every record set-based, with one history row on the tag.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ARRAY, Text, Uuid, any_, bindparam, column, func
from sqlalchemy import update as update_rows
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.kit.concurrency import check_version
from crmapi.kit.errors import Conflict, NotFound, Unprocessable
from crmapi.kit.ids import new_id
from crmapi.records import changes, history
from crmapi.tags import queries
from crmapi.tags.models import Tag
from crmapi.tags.problems import TagExists
from crmapi.tags.queries import TaggedKind
from crmapi.tags.schemas import BulkTags, TagCreate, TagUpdate

ENTITY = "tag"
# The expression index of uq_tags_name: names are unique per organisation ignoring case.
# (SQLAlchemy accepts expressions as conflict targets; its stubs only list columns.)
_UNIQUE_NAME: list[Any] = [Tag.org_id, func.lower(Tag.name)]


def _snapshot(tag: Tag) -> dict[str, Any]:
    return {"name": tag.name, "colour": tag.colour}


def _exists(name: str) -> Conflict:
    return TagExists(f"A tag named '{name}' already exists (names ignore case).")


def _unique(names: Iterable[str]) -> list[str]:
    """Names once each, ignoring case; the first spelling wins."""
    first: dict[str, str] = {}
    for name in names:
        first.setdefault(name.lower(), name)
    return list(first.values())


# --- the catalogue ---------------------------------------------------------------------------


async def create(session: AsyncSession, actor: Actor, data: TagCreate) -> Tag:
    """Add a tag to the catalogue; 409 when one by that name exists in any case."""
    now = datetime.now(UTC)
    stmt = (
        insert(Tag)
        .values(
            org_id=actor.org_id,
            id=new_id(),
            name=data.name,
            colour=data.colour,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=_UNIQUE_NAME)
        .returning(Tag)
    )
    tag = (await session.execute(stmt)).scalar_one_or_none()
    if tag is None:
        raise _exists(data.name)
    changes.announce(
        session, actor, tag, entity=ENTITY, action="created", changes=history.diff({}, _snapshot(tag))
    )
    return tag


async def get(session: AsyncSession, actor: Actor, tag_id: UUID) -> Tag:
    """A tag of the actor's organisation; 404 otherwise."""
    tag = (await session.execute(queries.readable(actor).where(Tag.id == tag_id))).scalar_one_or_none()
    if tag is None:
        raise NotFound("No tag with this id.")
    return tag


async def _for_change(session: AsyncSession, actor: Actor, tag_id: UUID) -> Tag:
    stmt = queries.readable(actor).where(Tag.id == tag_id).with_for_update()
    tag = (await session.execute(stmt)).scalar_one_or_none()
    if tag is None:
        raise NotFound("No tag with this id.")
    return tag


async def _rewrite_everywhere(session: AsyncSession, actor: Actor, old: str, new: str | None) -> int:
    """Rename (or, with new=None, remove) a name on every contact and account carrying it."""
    now, rewritten = datetime.now(UTC), 0
    for carrier in queries.CARRIERS.values():
        table = carrier.model.__table__
        tags = table.c.tags
        value = (
            func.array_remove(tags, old)
            if new is None
            else func.array_replace(func.array_remove(tags, new), old, new)
        )
        result = await session.execute(
            update_rows(table)
            # Deleted records too: restoring one must not bring back a name the catalogue lost.
            .where(table.c.org_id == actor.org_id, tags.contains([old]))
            .values(tags=value, version=table.c.version + 1, updated_at=now)
        )
        rewritten += result.rowcount  # type: ignore[attr-defined]
    return rewritten


async def update(
    session: AsyncSession, actor: Actor, tag_id: UUID, data: TagUpdate, expected: int | None
) -> Tag:
    """Rename and/or recolour; a rename is written on every record carrying the old name."""
    tag = await _for_change(session, actor, tag_id)
    check_version(tag.version, expected)
    sent = data.model_dump(include=data.model_fields_set)
    before = _snapshot(tag)
    for key, value in sent.items():
        setattr(tag, key, value)
    changed = history.diff(before, _snapshot(tag))
    if not changed:
        return tag
    tag.updated_at = datetime.now(UTC)
    try:
        await session.flush()
    except IntegrityError as exc:
        # Another tag has this name in some case: the unique index decides, so a race cannot slip by.
        raise _exists(str(sent.get("name"))) from exc
    about: dict[str, Any] = {}
    if "name" in changed:
        about["records"] = await _rewrite_everywhere(session, actor, before["name"], tag.name)
        about["name"] = changed["name"]
    changes.announce(session, actor, tag, entity=ENTITY, action="updated", changes=changed, about=about)
    return tag


async def delete(session: AsyncSession, actor: Actor, tag_id: UUID, expected: int | None) -> None:
    """Take the name off every record, then drop the tag from the catalogue."""
    tag = await _for_change(session, actor, tag_id)
    check_version(tag.version, expected)
    records = await _rewrite_everywhere(session, actor, tag.name, None)
    await session.delete(tag)
    await session.flush()
    changes.write(
        session,
        actor,
        entity=ENTITY,
        entity_id=tag.id,
        action="deleted",
        changes=history.diff(_snapshot(tag), {}),
        event={"name": tag.name, "records": records},
    )


async def ensure_catalogued(session: AsyncSession, actor: Actor, names: list[str]) -> list[str]:
    """Add the names the catalogue lacks; answer the names as the catalogue spells them.

    A record should carry the catalogue's spelling ("VIP" given, "vip" catalogued -> "vip"), so
    that `tag=` filters, renames and deletes, which compare exactly, find it.
    """
    wanted = _unique(names)
    if not wanted:
        return []
    now = datetime.now(UTC)
    rows = [
        {
            "org_id": actor.org_id,
            "id": new_id(),
            "name": n,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        for n in wanted
    ]
    added = await session.execute(
        insert(Tag)
        .values(rows)
        .on_conflict_do_nothing(index_elements=_UNIQUE_NAME)
        .returning(Tag.id, Tag.name)
    )
    created = [changes.Changed(tag_id, 1, {"name": {"old": None, "new": name}}) for tag_id, name in added]
    if created:
        await changes.announce_many(session, actor, created, entity=ENTITY, action="created")
    spelled = {n.lower(): n for n in (await session.execute(queries.by_names(actor, wanted))).scalars()}
    return [spelled.get(n.lower(), n) for n in wanted]


# --- tags on one record ----------------------------------------------------------------------


async def _retag(session: AsyncSession, actor: Actor, kind: TaggedKind, record: Any, tags: list[str]) -> None:
    before = list(record.tags)
    if tags == before:
        return
    record.tags = tags
    record.updated_at = datetime.now(UTC)
    await session.flush()
    changes.announce(
        session, actor, record, entity=kind, action="updated", changes={"tags": {"old": before, "new": tags}}
    )


async def add_to_record(
    session: AsyncSession, actor: Actor, kind: TaggedKind, record: Any, name: str, expected: int | None
) -> Any:
    """Put a tag on a record the actor may change (locked by its kind's `get_for_change`),
    cataloguing the name when it is new."""
    check_version(record.version, expected)
    [spelled] = await ensure_catalogued(session, actor, [name])
    await _retag(session, actor, kind, record, _apply(record.tags, add=[spelled], remove=set()))
    return record


async def remove_from_record(
    session: AsyncSession, actor: Actor, kind: TaggedKind, record: Any, name: str, expected: int | None
) -> Any:
    """Take a tag off a record the actor may change (locked by its kind's `get_for_change`); a
    tag it does not carry changes nothing."""
    check_version(record.version, expected)
    await _retag(session, actor, kind, record, _apply(record.tags, add=[], remove={name.strip().lower()}))
    return record


def _apply(tags: list[str], *, add: list[str], remove: set[str]) -> list[str]:
    """The tags after removing (ignoring case) and appending the ones not carried yet."""
    kept = [t for t in tags if t.lower() not in remove]
    carried = {t.lower() for t in kept}
    return kept + [t for t in add if t.lower() not in carried]


# --- bulk ------------------------------------------------------------------------------------


async def _catalogued(session: AsyncSession, actor: Actor, names: list[str]) -> list[str]:
    """The catalogue's spelling of each name; 422 on `body.add` naming the ones it lacks."""
    if not names:
        return []
    spelled = {n.lower(): n for n in (await session.execute(queries.by_names(actor, names))).scalars()}
    missing = [n for n in names if n.lower() not in spelled]
    if missing:
        raise Unprocessable.on(
            "body.add",
            f"Not in the tag catalogue: {', '.join(missing)}. Bulk tagging uses existing tags: "
            "create them first (POST /v1/tags) or add one on a record.",
        )
    return _unique(spelled[n.lower()] for n in names)


async def bulk(session: AsyncSession, actor: Actor, kind: TaggedKind, data: BulkTags) -> list[dict[str, Any]]:
    """Add and remove tags on many records; one outcome per id, in the order sent.

    One statement locks the readable records, one rewrites the changed ones; history and
    outbox rows go in as batches, so the cost does not grow by a query per record.
    """
    carrier = queries.CARRIERS[kind]
    add = await _catalogued(session, actor, data.add)
    remove = {n.lower() for n in data.remove}
    model = carrier.model
    ids = bindparam("ids", list(dict.fromkeys(data.ids)), type_=ARRAY(Uuid))
    stmt = (
        carrier.readable(actor)
        .with_only_columns(
            model.id,
            model.tags,
            model.version,
            carrier.changer(actor).label("changer"),
            carrier.writable().label("writable"),
        )
        .where(model.id == any_(ids))
        .order_by(model.id)  # one lock order, so two overlapping bulk calls cannot deadlock
        .with_for_update()
    )
    found = {row.id: row for row in (await session.execute(stmt)).all()}
    results: list[dict[str, Any]] = []
    changed: list[changes.Changed] = []
    seen: set[UUID] = set()
    for record_id in data.ids:
        row = found.get(record_id)
        if record_id in seen:
            results.append(_outcome(record_id, "error", "duplicate"))
        elif row is None:
            results.append(_outcome(record_id, "error", "not-found"))
        elif not row.changer:
            results.append(_outcome(record_id, "error", "forbidden"))
        else:
            tags = _apply(row.tags, add=add, remove=remove)
            if tags == row.tags:  # a replayed call: even a read-only record is where it was sent
                results.append(_outcome(record_id, "unchanged"))
            elif not row.writable:
                results.append(_outcome(record_id, "error", "forbidden"))
            else:
                results.append(_outcome(record_id, "updated"))
                changed.append(
                    changes.Changed(record_id, row.version + 1, {"tags": {"old": row.tags, "new": tags}})
                )
        seen.add(record_id)
    if changed:
        await _write_bulk(session, actor, carrier, changed)
    return results


def _outcome(record_id: UUID, outcome: str, reason: str | None = None) -> dict[str, Any]:
    return {"id": record_id, "outcome": outcome, "reason": reason}


async def _write_bulk(
    session: AsyncSession, actor: Actor, carrier: queries.Carrier, changed: list[changes.Changed]
) -> None:
    table = carrier.model.__table__
    # Each record's new tags travel in one JSON parameter; jsonb_to_recordset turns the arrays into text[].
    new_tags = [{"id": str(c.id), "tags": c.changes["tags"]["new"]} for c in changed]
    rows = (
        func.jsonb_to_recordset(bindparam("rows", new_tags, type_=JSONB))
        .table_valued(column("id", Uuid), column("tags", ARRAY(Text)))
        .render_derived(name="v", with_types=True)
    )
    await session.execute(
        update_rows(table)
        .where(table.c.org_id == actor.org_id, table.c.id == rows.c.id)
        .values(tags=rows.c.tags, version=table.c.version + 1, updated_at=datetime.now(UTC))
    )
    await changes.announce_many(session, actor, changed, entity=carrier.kind, action="updated")
