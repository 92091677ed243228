"""Custom fields: the definitions an administrator manages, and checking the values records carry.

Values live in each contact's and account's `custom` JSON object under the definition's key.
Deleting a definition removes its key from every record set-based (`custom - key`), so a key
created again later never meets old values of another type.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, Text, func, literal, select, tuple_
from sqlalchemy import update as update_rows
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.custom_fields import queries
from crmapi.custom_fields.models import CustomFieldDefinition
from crmapi.custom_fields.problems import CustomFieldExists
from crmapi.custom_fields.schemas import (
    CustomFieldCreate,
    CustomFieldListQuery,
    CustomFieldUpdate,
    CustomFilter,
)
from crmapi.kit.concurrency import check_version
from crmapi.kit.errors import FieldError, NotFound, Unprocessable
from crmapi.kit.ids import new_id
from crmapi.kit.pagination import COUNT_CAP, Cursors, InvalidCursor
from crmapi.kit.scalars import storable
from crmapi.records import changes, history

ENTITY = "custom_field"
MAX_TEXT = 2000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INTEGER = re.compile(r"^-?\d{1,30}$")
_DECIMAL = re.compile(r"^-?\d{1,30}(\.\d{1,30})?([eE][-+]?\d{1,3})?$")


def _snapshot(d: CustomFieldDefinition) -> dict[str, Any]:
    return {
        "kind": d.kind,
        "key": d.key,
        "label": d.label,
        "type": d.type,
        "options": list(d.options),
        "required": d.required,
        "position": d.position,
    }


# --- the definitions -------------------------------------------------------------------------


async def create(session: AsyncSession, actor: Actor, data: CustomFieldCreate) -> CustomFieldDefinition:
    """Define a field; 409 when the kind already has one with this key."""
    d, now = CustomFieldDefinition, datetime.now(UTC)
    after_last = select(func.max(d.position) + 1).where(d.org_id == actor.org_id, d.kind == data.kind)
    stmt = (
        insert(d)
        .values(
            org_id=actor.org_id,
            id=new_id(),
            kind=data.kind,
            key=data.key,
            label=data.label,
            type=data.type,
            options=data.options or [],
            required=data.required,
            position=(
                data.position if data.position is not None else func.coalesce(after_last.scalar_subquery(), 0)
            ),
            created_at=now,
            updated_at=now,
            version=1,
        )
        .on_conflict_do_nothing(index_elements=[d.org_id, d.kind, d.key])
        .returning(d)
    )
    definition = (await session.execute(stmt)).scalar_one_or_none()
    if definition is None:
        raise CustomFieldExists(f"The {data.kind} custom field '{data.key}' already exists.")
    changes.write(
        session,
        actor,
        entity=ENTITY,
        entity_id=definition.id,
        action="created",
        changes=history.diff({}, _snapshot(definition)),
        event={"version": definition.version, "kind": definition.kind, "key": definition.key},
    )
    return definition


async def get(session: AsyncSession, actor: Actor, field_id: UUID) -> CustomFieldDefinition:
    """A definition of the actor's organisation; 404 otherwise."""
    stmt = queries.readable(actor).where(CustomFieldDefinition.id == field_id)
    definition = (await session.execute(stmt)).scalar_one_or_none()
    if definition is None:
        raise NotFound("No custom field with this id.")
    return definition


async def _for_change(session: AsyncSession, actor: Actor, field_id: UUID) -> CustomFieldDefinition:
    stmt = queries.readable(actor).where(CustomFieldDefinition.id == field_id).with_for_update()
    definition = (await session.execute(stmt)).scalar_one_or_none()
    if definition is None:
        raise NotFound("No custom field with this id.")
    return definition


async def page(
    session: AsyncSession, actor: Actor, query: CustomFieldListQuery, cursors: Cursors
) -> tuple[list[CustomFieldDefinition], str | None, int | None]:
    """One page of definitions by kind, position and key, and the cursor to the next."""
    stmt = queries.filtered(actor, query)
    count = None
    if query.count:
        capped = stmt.order_by(None).limit(COUNT_CAP).subquery()
        count = (await session.execute(select(func.count()).select_from(capped))).scalar_one()
    if query.cursor:
        after, _ = cursors.decode(query.cursor, queries.ORDER_NAME)
        if not (
            isinstance(after, list)
            and len(after) == 3
            and isinstance(after[0], str)
            and isinstance(after[1], int)
            and isinstance(after[2], str)
        ):
            raise InvalidCursor("The cursor is not valid for this list.")
        kind, position, key = after
        bound = tuple_(literal(kind, Text), literal(position), literal(key, Text))
        stmt = stmt.where(tuple_(*queries.ORDER) > bound)
    rows = list((await session.execute(stmt.order_by(*queries.ORDER).limit(query.limit + 1))).scalars())
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        last = rows[-1]
        next_cursor = cursors.encode(queries.ORDER_NAME, [last.kind, last.position, last.key], last.id)
    return rows, next_cursor, count


async def update(
    session: AsyncSession, actor: Actor, field_id: UUID, data: CustomFieldUpdate, expected: int | None
) -> CustomFieldDefinition:
    """Change label, options, required or position; nothing is written when nothing changes."""
    definition = await _for_change(session, actor, field_id)
    check_version(definition.version, expected)
    sent = data.model_dump(include=data.model_fields_set)
    if "options" in sent:
        if definition.type == "select" and not sent["options"]:
            raise Unprocessable.on("body.options", "A select field needs at least one option.")
        if definition.type != "select" and sent["options"]:
            raise Unprocessable.on("body.options", "Only select fields have options.")
    before = _snapshot(definition)
    for key, value in sent.items():
        setattr(definition, key, value)
    changed = history.diff(before, _snapshot(definition))
    if not changed:
        return definition
    definition.updated_at = datetime.now(UTC)
    await session.flush()
    changes.write(
        session,
        actor,
        entity=ENTITY,
        entity_id=definition.id,
        action="updated",
        changes=changed,
        event={"version": definition.version, "fields": sorted(changed)},
    )
    return definition


async def delete(session: AsyncSession, actor: Actor, field_id: UUID, expected: int | None) -> None:
    """Drop the definition and take its key out of every record of the kind, deleted ones too."""
    definition = await _for_change(session, actor, field_id)
    check_version(definition.version, expected)
    table = queries.RECORDS[definition.kind].__table__
    key = literal(definition.key, Text)
    removed = await session.execute(
        update_rows(table)
        .where(table.c.org_id == actor.org_id, table.c.custom.has_key(key))
        .values(custom=table.c.custom.op("-")(key), version=table.c.version + 1, updated_at=datetime.now(UTC))
    )
    records: int = removed.rowcount  # type: ignore[attr-defined]
    await session.delete(definition)
    await session.flush()
    changes.write(
        session,
        actor,
        entity=ENTITY,
        entity_id=definition.id,
        action="deleted",
        changes=history.diff(_snapshot(definition), {}),
        event={"kind": definition.kind, "key": definition.key, "records": records},
    )


# --- values on records -----------------------------------------------------------------------


def _unknown(kind: str) -> str:
    return f"No {kind} custom field has this key; see GET /v1/custom-fields?kind={kind}."


def _raise(errors: list[FieldError]) -> None:
    if errors:
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
        raise Unprocessable(detail, errors=errors)


def _checked(definition: Any, value: Any) -> Any:
    """A JSON value as the definition's type stores it; ValueError says what was expected."""
    kind = definition.type
    if kind == "text":
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise ValueError(f"expected text of at most {MAX_TEXT} characters")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError("expected a number")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError("expected true or false")
        return value
    if kind == "date":
        if not isinstance(value, str) or not _DATE.match(value):
            raise ValueError("expected a date as YYYY-MM-DD")
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise ValueError("expected a date as YYYY-MM-DD") from None
    if not isinstance(value, str) or value not in definition.options:
        raise ValueError(f"expected one of: {', '.join(definition.options)}")
    return value


def _parsed(definition: Any, text: Any) -> Any:
    """A query parameter's text as the definition's type stores it."""
    if not isinstance(text, str):
        raise ValueError("give one value")
    storable(text)
    kind = definition.type
    if kind == "number":
        if _INTEGER.match(text):
            return int(text)
        if _DECIMAL.match(text) and math.isfinite(number := float(text)):
            return number
        raise ValueError("expected a number")
    if kind == "bool":
        if text not in ("true", "false"):
            raise ValueError("expected true or false")
        return text == "true"
    return _checked(definition, text)


async def validate_values(
    session: AsyncSession,
    actor: Actor,
    kind: str,
    values: dict[str, Any] | None,
    *,
    creating: bool,
    current: dict[str, Any] | None,
) -> dict[str, Any]:
    """A record's `custom` object once `values` are merged in; 422 naming `body.custom.<key>`.

    A null value removes its key (on update); `values=None` removes every key. On create, every
    required field needs a value. Keys a record carries without a definition may be removed.
    """
    result = {} if creating else dict(current or {})
    if values is None:
        values = dict.fromkeys(result)
    sent, errors = check_values(
        await definitions(session, actor, kind), kind, values, creating=creating, field="body.custom"
    )
    _raise(errors)
    for key, value in sent.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


async def definitions(session: AsyncSession, actor: Actor, kind: str) -> dict[str, Any]:
    """The kind's definitions by key, in one query (for `check_values`)."""
    return {row.key: row for row in (await session.execute(queries.of_kind(actor, kind))).all()}


def check_values(
    definitions: dict[str, Any], kind: str, values: dict[str, Any], *, creating: bool, field: str
) -> tuple[dict[str, Any], list[FieldError]]:
    """The sent values as stored, a null kept (it removes its key), and what is wrong with them,
    each error naming `<field>.<key>`. Creating, every required field needs a value."""
    result: dict[str, Any] = {}
    errors: list[FieldError] = []
    for key, value in values.items():
        where = f"{field}.{key}"
        definition = definitions.get(key)
        if value is None:
            if not creating and definition is not None and definition.required:
                errors.append(FieldError(field=where, message="A required field cannot be removed."))
            result[key] = None
        elif definition is None:
            errors.append(FieldError(field=where, message=_unknown(kind)))
        else:
            try:
                result[key] = _checked(definition, value)
            except ValueError as exc:
                errors.append(FieldError(field=where, message=str(exc)))
    if creating:
        errors += [
            FieldError(field=f"{field}.{key}", message="Field required.")
            for key, definition in definitions.items()
            if definition.required and result.get(key) is None
        ]
    return result, errors


async def narrow(
    session: AsyncSession, actor: Actor, kind: str, stmt: Select[Any], filters: CustomFilter
) -> Select[Any]:
    """`stmt` limited to records whose `custom` contains every value given (GIN, `@>`).

    Values are converted by their definition's type first, so `custom.size=10` finds the number 10.
    """
    if not filters.values:
        return stmt
    defined = await definitions(session, actor, kind)
    wanted: dict[str, Any] = {}
    errors: list[FieldError] = []
    for key, raw in filters.values.items():
        field = f"{filters.source}.custom.{key}"
        definition = defined.get(key)
        if definition is None:
            errors.append(FieldError(field=field, message=_unknown(kind)))
            continue
        try:
            wanted[key] = _parsed(definition, raw) if filters.from_text else _checked(definition, raw)
        except ValueError as exc:
            errors.append(FieldError(field=field, message=str(exc)))
    _raise(errors)
    return stmt.where(queries.RECORDS[kind].custom.contains(wanted))
