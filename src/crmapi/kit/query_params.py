"""A query parameter that takes one value, sent twice, is bad input (422), not "the last one wins".

FastAPI keeps the last value of a repeated scalar parameter and drops the others, so a client
that sends `q=a&q=b` would never learn that `a` was ignored.
"""

from __future__ import annotations

import types
from collections import Counter
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi.dependencies.models import Dependant
from pydantic import BaseModel
from starlette.requests import Request

from crmapi.kit.errors import FieldError, Unprocessable

_MANY = (list, set, frozenset, tuple)


def _takes_many(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _takes_many(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return any(_takes_many(a) for a in get_args(annotation))
    return origin in _MANY or annotation in _MANY


def one_valued(dependant: Dependant) -> frozenset[str]:
    """The names of the query parameters a route (its dependencies included) takes once."""
    names: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        pending.extend(current.dependencies)
        for param in current.query_params:
            annotation = param.field_info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                names.update(
                    f.alias or name
                    for name, f in annotation.model_fields.items()
                    if not _takes_many(f.annotation)
                )
            elif not _takes_many(annotation):
                names.add(param.alias)
    return frozenset(names)


def refuse_repeated(request: Request, names: frozenset[str]) -> None:
    """422 naming each one-valued parameter the request repeats."""
    counts = Counter(key for key, _ in request.query_params.multi_items())
    repeated = sorted(key for key, n in counts.items() if n > 1 and key in names)
    if repeated:
        errors = [FieldError(field=f"query.{key}", message="Give one value.") for key in repeated]
        raise Unprocessable("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)
