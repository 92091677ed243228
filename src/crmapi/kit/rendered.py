"""Answers PostgreSQL renders: a Read schema's fields built as one JSON object in SQL, each in
the API's format, so a read passes the database's text on without ORM entities or pydantic.

The Read schema stays the contract: `tests/demo/test_reads.py` reads every answer back through
its route's response model, and `make same` compares the answers with an earlier revision's.
"""

from __future__ import annotations

import datetime as dt
import json
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import Text, cast, func, literal_column, select, text
from sqlalchemy.sql.elements import ColumnElement

from crmapi.kit.concurrency import etag
from crmapi.kit.pagination import CUSTOM

JSON = "application/json"


def json_object(
    model: type[BaseModel], source: Mapping[str, ColumnElement[Any]], fields: set[str] | None = None
) -> ColumnElement[str]:
    """The JSON text of `model` from `source` (an expression per field), as `render` would
    write it: with `fields`, only those (`custom.<key>` picks keys of `custom`)."""
    top = None if fields is None else {f.partition(".")[0] for f in fields}
    picked = sorted(f.partition(".")[2] for f in fields or () if "." in f)
    pairs: list[ColumnElement[Any]] = []
    for name, info in model.model_fields.items():
        if top is not None and name not in top:
            continue
        value = source[name]
        if name == CUSTOM and picked and fields is not None and CUSTOM not in fields:
            value = _keys_of(value, picked)
        elif _is_time(info.annotation):
            value = func.crmapi_api_time(value)
        # A field name is an identifier: safe inline, and no parameter to bind per field.
        pairs += [literal_column(f"'{name}'"), value]
    return cast(func.json_build_object(*pairs), Text)


def build(**values: Any) -> ColumnElement[Any]:
    """A JSON object of the values by name, for nested parts of an answer (a document's lines);
    names are identifiers, inlined as `json_object` inlines them."""
    pairs: list[Any] = []
    for name, value in values.items():
        pairs += [literal_column(f"'{name}'"), value]
    return func.json_build_object(*pairs)


def amount(column: Any) -> ColumnElement[Any]:
    """An amount as the API writes it: NUMERIC's text, not a JSON number."""
    return cast(column, Text)


def columns(model: type[BaseModel], table: Any) -> dict[str, ColumnElement[Any]]:
    """The model's fields that are columns of the mapped `table`, by name."""
    mapped = table.__table__.columns
    return {name: getattr(table, name) for name in model.model_fields if name in mapped}


def page(bodies: Sequence[str], next_cursor: str | None, count: int | None) -> Response:
    """A page answer around items PostgreSQL rendered."""
    tail = f'],"next_cursor":{json.dumps(next_cursor)},"count":{json.dumps(count)}}}'
    return Response('{"items":[' + ",".join(bodies) + tail, media_type=JSON)


def one(body: str, headers: Mapping[str, str] | None = None) -> Response:
    return Response(body, media_type=JSON, headers=headers)


def tagged(body: BaseModel, version: int, status_code: int = 200, *, exclude_unset: bool = False) -> Response:
    """A Read schema's JSON with the record's version as its ETag (for answers built in Python)."""
    json_text = body.model_dump_json(exclude_unset=exclude_unset)
    return Response(json_text, status_code=status_code, media_type=JSON, headers={"ETag": etag(version)})


def row(record: Any) -> dict[str, Any]:
    """A mapped record's column values by name: what a Read schema with computed fields besides
    (counts, the caller's marker) is validated from."""
    return {c.key: getattr(record, c.key) for c in record.__table__.columns}


def _keys_of(value: ColumnElement[Any], keys: list[str]) -> ColumnElement[Any]:
    each = func.jsonb_each(value).table_valued("key", "value")
    chosen = select(func.jsonb_object_agg(each.c.key, each.c.value)).where(each.c.key.in_(keys))
    return func.coalesce(chosen.scalar_subquery(), text("'{}'::jsonb"))


def _is_time(annotation: Any) -> bool:
    if annotation is dt.datetime:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, typing.Annotated):
        return any(_is_time(a) for a in typing.get_args(annotation))
    return False
