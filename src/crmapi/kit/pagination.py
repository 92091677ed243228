"""Keyset pagination with signed cursors, allow-listed sorts, `fields` and capped counts."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import Select, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from crmapi.kit.errors import BadRequest, Unprocessable
from crmapi.kit.scalars import CUSTOM_KEY_PATTERN, Input

COUNT_CAP = 10_000
# The Read schemas' object of custom field values, whose keys `fields` may pick one by one.
CUSTOM = "custom"
_CUSTOM_KEY = re.compile(CUSTOM_KEY_PATTERN)
RELEVANCE = "relevance"
ModelT = TypeVar("ModelT", bound=BaseModel)
EndpointT = TypeVar("EndpointT", bound=Callable[..., Any])
_SORTS = "__crmapi_sorts__"


class InvalidCursor(BadRequest):
    """The cursor was not made by this API for this list and sort (cursors are signed): start the
    list again without it."""

    slug = "invalid-cursor"


class PageParams(Input):
    """The query parameters every list shares."""

    # Where the values came from, for the field an error names (`query.sort` or `body.sort`).
    LOCATION: ClassVar[str] = "query"

    limit: int = Field(50, ge=1, le=200, description="Items per page (at most 200).")
    cursor: str | None = Field(None, max_length=2048, description="`next_cursor` of the previous page.")
    sort: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="A sortable field, `-` in front for descending.",
        examples=["-created_at"],
    )
    fields: str | None = Field(
        None,
        max_length=2048,
        description="Comma-separated fields to return (`id` always is).",
        examples=["id,display_name,emails"],
    )
    count: bool = Field(False, description="Also return the exact in-scope count, capped at 10,000.")


class PageBody(PageParams):
    """Paging inside a JSON body: numbers and booleans must be JSON numbers and booleans."""

    LOCATION: ClassVar[str] = "body"

    limit: int = Field(50, ge=1, le=200, strict=True, description="Items per page (at most 200).")
    count: bool = Field(
        False, strict=True, description="Also return the exact in-scope count, capped at 10,000."
    )


class Page(BaseModel, Generic[ModelT]):
    items: list[ModelT]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; null on the last.")
    count: int | None = Field(None, description="With `count=true`: matching rows, capped at 10,000.")


@dataclass(frozen=True)
class Sorting:
    """The allow-listed sort keys of one list; each is NOT NULL and indexed with the id."""

    columns: Mapping[str, InstrumentedAttribute[Any]]
    id_column: InstrumentedAttribute[Any]
    default: str

    def values(self, relevance: bool = False) -> list[str]:
        """Every `sort` a list takes: each key ascending, then descending, then `relevance`."""
        keys = sorted(self.columns)
        return [*keys, *(f"-{key}" for key in keys), *([RELEVANCE] if relevance else [])]

    def resolve(
        self, sort: str | None, location: str = "query"
    ) -> tuple[str, InstrumentedAttribute[Any], bool]:
        spec = sort or self.default
        name, descending = spec.removeprefix("-"), spec.startswith("-")
        if name not in self.columns:
            allowed = ", ".join(sorted(self.columns))
            message = f"Cannot sort by '{name}'; sortable fields: {allowed}."
            raise Unprocessable.on(f"{location}.sort", message)
        return spec, self.columns[name], descending


def sorted_by(sorting: Sorting, *, relevance: bool = False) -> Callable[[EndpointT], EndpointT]:
    """Marks a list endpoint with the sorts it takes, which the contract lists as `sort`'s values
    (`relevance`: best match first, with `q`)."""

    def mark(endpoint: EndpointT) -> EndpointT:
        setattr(endpoint, _SORTS, SortValues(sorting.default, tuple(sorting.values(relevance))))
        return endpoint

    return mark


@dataclass(frozen=True)
class SortValues:
    default: str
    values: tuple[str, ...]


def sort_values(endpoint: Callable[..., Any]) -> SortValues | None:
    """The sorts `sorted_by` marked the endpoint with."""
    return getattr(endpoint, _SORTS, None)


class Cursors:
    """Opaque cursors: the last row's sort value and id, HMAC-signed so clients cannot forge them."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, data: bytes) -> str:
        return _b64(hmac.new(self._key, data, hashlib.sha256).digest()[:16])

    def encode(self, sort: str, value: Any, row_id: UUID) -> str:
        data = json.dumps({"s": sort, "v": _plain(value), "i": str(row_id)}, separators=(",", ":")).encode()
        return f"{_b64(data)}.{self._mac(data)}"

    def decode(self, token: str, sort: str) -> tuple[Any, UUID]:
        try:
            body, mac = token.split(".", 1)
            data = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            if not hmac.compare_digest(mac, self._mac(data)):
                raise ValueError("signature")
            payload = json.loads(data)
            if payload["s"] != sort:
                raise ValueError("sort changed")
            return payload["v"], UUID(payload["i"])
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidCursor(
                "The cursor is not valid for this list and sort; start again without it.",
            ) from exc


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    *,
    sorting: Sorting,
    params: PageParams,
    cursors: Cursors,
    scalars: bool = True,
    relevance: ColumnElement[Any] | None = None,
    load: Select[Any] | None = None,
    rendered: ColumnElement[str] | None = None,
) -> tuple[list[Any], str | None, int | None]:
    """One page of `stmt` (already scoped and filtered) and the cursor to the next.

    With `rendered` (a row's answer as JSON text, `kit.rendered`), the page is that text, row by
    row, instead of `stmt`'s entities.

    With a `relevance` (a search), the default order is best match first, paged by offset:
    relevance is computed per query, so there is no index to seek on.

    With `load` (the page's columns, unfiltered), the page is found first by id and sort key
    alone, and only its rows are read by `load`. A scoped list gathers every visible row before
    it can sort them; this way a covering index answers that part, not the table.
    """
    count = None
    if params.count:
        capped = stmt.order_by(None).limit(COUNT_CAP).subquery()
        count = (await session.execute(select(func.count()).select_from(capped))).scalar_one()
    if params.sort in (None, RELEVANCE) and relevance is not None:
        ranked = await _ranked(session, stmt, sorting, params, cursors, relevance, scalars, rendered)
        return (*ranked, count)
    if params.sort == RELEVANCE:
        raise Unprocessable.on(f"{params.LOCATION}.sort", "Sorting by relevance needs `q`.")
    spec, column, descending = sorting.resolve(params.sort, params.LOCATION)
    key = tuple_(column, sorting.id_column)
    if params.cursor:
        raw, last_id = cursors.decode(params.cursor, spec)
        value = _typed(column, raw)
        bound = tuple_(_literal(column, value), _literal(sorting.id_column, last_id))
        stmt = stmt.where(key < bound if descending else key > bound)
    order = (
        (column.desc(), sorting.id_column.desc()) if descending else (column.asc(), sorting.id_column.asc())
    )
    if load is None:
        paged = stmt.order_by(*order).limit(params.limit + 1)
    else:
        paged = _deferred(stmt, load, sorting.id_column, column, descending, params.limit + 1)
    if rendered is not None:
        paged = paged.with_only_columns(rendered, column, sorting.id_column)
        found = list((await session.execute(paged)).all())
        bodies = [r[0] for r in found[: params.limit]]
        cursor = None if len(found) <= params.limit else cursors.encode(spec, *found[params.limit - 1][1:])
        return bodies, cursor, count
    result = await session.execute(paged)
    rows: list[Any] = list(result.scalars()) if scalars else list(result.all())
    next_cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        last = rows[-1] if scalars else rows[-1][0]
        next_cursor = cursors.encode(spec, getattr(last, column.key or ""), last.id)
    return rows, next_cursor, count


def _deferred(
    stmt: Select[Any],
    load: Select[Any],
    id_column: InstrumentedAttribute[Any],
    column: InstrumentedAttribute[Any],
    descending: bool,
    limit: int,
) -> Select[Any]:
    """`load`'s rows for the page `stmt` would give, `stmt` reading only ids and sort keys."""
    keys = (column.label("page_key"), id_column.label("page_id"))
    page = (
        stmt.with_only_columns(*keys)
        .order_by(*(k.desc() if descending else k.asc() for k in keys))
        .limit(limit)
        .subquery("page")
    )
    order = (page.c.page_key, page.c.page_id)
    return load.join(page, id_column == page.c.page_id).order_by(
        *(k.desc() if descending else k.asc() for k in order)
    )


async def _ranked(
    session: AsyncSession,
    stmt: Select[Any],
    sorting: Sorting,
    params: PageParams,
    cursors: Cursors,
    relevance: ColumnElement[Any],
    scalars: bool = True,
    rendered: ColumnElement[str] | None = None,
) -> tuple[list[Any], str | None]:
    offset = 0
    if params.cursor:
        raw, _ = cursors.decode(params.cursor, RELEVANCE)
        if not isinstance(raw, int) or raw < 0:
            raise InvalidCursor("The cursor is not valid for this list and sort.")
        offset = raw
    ordered = stmt.order_by(relevance.desc(), sorting.id_column.asc()).offset(offset).limit(params.limit + 1)
    if rendered is not None:
        ordered = ordered.with_only_columns(rendered, sorting.id_column)
        found = list((await session.execute(ordered)).all())
        bodies = [r[0] for r in found[: params.limit]]
        if len(found) <= params.limit:
            return bodies, None
        return bodies, cursors.encode(RELEVANCE, offset + params.limit, found[params.limit - 1][1])
    result = await session.execute(ordered)
    rows: list[Any] = list(result.scalars()) if scalars else list(result.all())
    if len(rows) <= params.limit:
        return rows, None
    rows = rows[: params.limit]
    last = rows[-1] if scalars else rows[-1][0]
    return rows, cursors.encode(RELEVANCE, offset + params.limit, last.id)


def _known(model: type[BaseModel], name: str) -> bool:
    head, dot, key = name.partition(".")
    if not dot:
        return name in model.model_fields
    # `custom.<key>`: one custom field as a column. A well-formed key without a definition shows
    # nothing rather than failing, so a saved column layout survives a deleted field.
    return head == CUSTOM and CUSTOM in model.model_fields and _CUSTOM_KEY.match(key) is not None


def select_fields(model: type[ModelT], fields: str | None, location: str = "query") -> set[str] | None:
    """The `fields` parameter checked against the Read schema; `id` is always included.

    `custom.<key>` entries pick single keys of a Read schema's `custom` object.
    """
    if not fields:
        return None
    wanted = {f.strip() for f in fields.split(",") if f.strip()}
    unknown = {f for f in wanted if not _known(model, f)}
    if unknown:
        raise Unprocessable.on(f"{location}.fields", f"Unknown fields: {', '.join(sorted(unknown))}.")
    return wanted | {"id"}


def render(model: type[ModelT], obj: Any, fields: set[str] | None = None) -> ModelT:
    """A Read schema from an ORM object (or a dict); with `fields`, only those are set (and serialized)."""
    full = model.model_validate(obj, from_attributes=True)
    if fields is None:
        return full
    top = {f.partition(".")[0] for f in fields}
    values = {f: getattr(full, f) for f in top}
    picked = {f.partition(".")[2] for f in fields if "." in f}
    if picked and CUSTOM not in fields:
        values[CUSTOM] = {k: v for k, v in (values[CUSTOM] or {}).items() if k in picked}
    return model.model_construct(_fields_set=top, **values)


def render_page(
    model: type[ModelT], rows: Sequence[Any], next_cursor: str | None, count: int | None, fields: str | None
) -> dict[str, Any]:
    chosen = select_fields(model, fields)
    return {"items": [render(model, r, chosen) for r in rows], "next_cursor": next_cursor, "count": count}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    return value


def _typed(column: InstrumentedAttribute[Any], raw: Any) -> Any:
    python_type = column.type.python_type
    if python_type is dt.datetime:
        return dt.datetime.fromisoformat(raw)
    if python_type is dt.date:
        return dt.date.fromisoformat(raw)
    if python_type in (UUID, Decimal, int):
        return python_type(raw)
    return raw


def _literal(column: InstrumentedAttribute[Any], value: Any) -> ColumnElement[Any]:
    return literal(value, type_=column.type)
