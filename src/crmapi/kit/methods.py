"""The methods a path serves, and one 405 for every other method.

FastAPI answers a method that no route of a path declares from the first route whose path
matched, so its `Allow` named that route's methods only (`PUT /v1/contacts`: `GET`, though POST
is served too). And a fixed sub-path beside an `{id}` template (`/v1/contacts/search`) matches
the template as well, so a method only the template serves went to the template's route and
its id check (422 for the contact id `search`).

Here a path serves the methods of the most specific route templates that match it: at the first
segment where two templates differ, a fixed segment wins over a parameter, as a reader of the
contract reads it (`/v1/contacts/search` is not a contact). Any other method answers 405
problem+json with an `Allow` listing every method the path serves, before routing, so neither
the framework's partial match nor an id parameter ever sees it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from crmapi.kit.errors import MethodNotAllowed, problem_response


@dataclass(frozen=True)
class Template:
    regex: re.Pattern[str]
    # Per segment, whether it is a parameter: of two templates matching one path, the smaller
    # tuple has a fixed segment first.
    rank: tuple[bool, ...]
    methods: frozenset[str]


def _key(path: str) -> tuple[int, str, str]:
    """How many segments, and the first two ('v1', 'contacts'): ~160 templates narrow to the
    few of one resource and depth."""
    segments = [*path.split("/"), "", ""]
    return len(segments) - 2, segments[1], segments[2]


def _first(templates: Sequence[Template], path: str) -> Template | None:
    return next((t for t in templates if t.regex.match(path)), None)


class Paths:
    """The route templates of an app, each with every method any of its routes declares."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        # One template per shape (its parameters unnamed): two routers may name the parameter
        # of one path differently.
        methods: dict[str, set[str]] = defaultdict(set)
        regexes: dict[str, re.Pattern[str]] = {}
        for route in iter_route_contexts(routes):
            if route.methods and route.path_format:  # a mount (static files) has no methods
                shape = re.sub(r"\{[^}]*\}", "{}", route.path_format)
                methods[shape] |= route.methods
                regexes.setdefault(shape, route.path_regex)
        by_key: dict[tuple[int, str, str], list[Template]] = defaultdict(list)
        anywhere: list[Template] = []  # a parameter in the first two segments: no key holds them
        for shape, served in methods.items():
            template = Template(regexes[shape], tuple(s == "{}" for s in shape.split("/")), frozenset(served))
            key = _key(shape)
            (anywhere if "{}" in key[1:] else by_key[key]).append(template)
        # Most specific first: the first template that matches a path is the one it names.
        self._by_key = {key: sorted(ts, key=lambda t: t.rank) for key, ts in by_key.items()}
        self._anywhere = sorted(anywhere, key=lambda t: t.rank)

    def served(self, path: str) -> frozenset[str] | None:
        """The methods `path` serves; None when no route matches it (a 404)."""
        found = _first(self._by_key.get(_key(path), ()), path)
        other = _first(self._anywhere, path) if self._anywhere else None
        if other and (found is None or other.rank < found.rank):
            found = other
        return found.methods if found else None


class MethodCheck:
    """ASGI middleware: a method the path does not serve answers 405 before routing."""

    def __init__(self, app: ASGIApp, api: FastAPI) -> None:
        self.app = app
        self.api = api
        self.paths: Paths | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self.paths is None:
                # Read at the first request, when every router has been included.
                self.paths = Paths(self.api.routes)
            served = self.paths.served(_route_path(scope))
            if served is not None and scope["method"] not in served:
                error = MethodNotAllowed.serving(scope["method"], served)
                await problem_response(error, Request(scope))(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path routes are matched against: without the root path a proxy mounts the API under."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root + "/") else path


def install(app: FastAPI) -> None:
    app.add_middleware(MethodCheck, api=app)
