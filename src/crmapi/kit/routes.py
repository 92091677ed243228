"""The route class every router uses: JSON bodies parsed with the collector paused, a one-valued
query parameter sent twice refused, and idempotent POSTs replayed or stored (kit.idempotency);
`add`, how a declaration that several kinds share adds a route to a kind's router; and
`skip_unmatched_routers`, which spares a request the routes of routers its path cannot reach."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

from crmapi.kit.errors import problem_response, to_problem_error
from crmapi.kit.garbage import quiet_gc
from crmapi.kit.idempotency import Claim, Replay
from crmapi.kit.query_params import one_valued, refuse_repeated


class JsonRequest(Request):
    """Parses a JSON body with the garbage collector paused (see crmapi.kit.garbage): a 3 MB body
    took 150 ms instead of 45 ms with it running."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            with quiet_gc():
                self._json = json.loads(body)
        return self._json


class CrmRoute(APIRoute):
    """Replays stored answers and stores new ones inside the request's transaction; refuses a
    one-valued query parameter sent twice."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        once = one_valued(self.dependant)

        async def handle(request: Request) -> Response:
            request = JsonRequest(request.scope, request.receive)
            refuse_repeated(request, once)
            try:
                response = await handler(request)
            except Replay as replay:
                return replay.response
            except Exception as exc:
                claim: Claim | None = getattr(request.state, "idempotency", None)
                error = to_problem_error(exc)
                if claim is None or not 400 <= error.status < 500:
                    raise
                # The work's savepoint only: the claim stays, and with it the key's lock.
                if claim.work is not None:
                    await claim.work.rollback()
                response = problem_response(error, request)
                await claim.store(request.state.session, response)
                return response
            claim = getattr(request.state, "idempotency", None)
            if claim is not None and response.status_code < 500:
                await claim.store(request.state.session, response)
            return response

        return handle


def add(
    router: APIRouter,
    method: str,
    path: str,
    endpoint: Callable[..., Any],
    operation_id: str,
    **declared: Any,
) -> None:
    """One route, named by its operation id (the name `url_for` and the logs know it by)."""
    router.add_api_route(
        path, endpoint, methods=[method], operation_id=operation_id, name=operation_id, **declared
    )


def skip_unmatched_routers(app: FastAPI) -> None:
    """FastAPI matches a request against every route of every included router in turn, so one to
    a router included late paid ~300 µs for the regular expressions of the 200 routes before it
    (bench/README.md, issue 19). Each included router now first compares the path with the
    literal starts of its routes' paths (`/v1/contacts` of `/v1/contacts/{contact_id}`) and,
    when none fits, answers "no match" at once; what it matches is unchanged."""
    for route in app.router.routes:
        included: Any = route  # FastAPI's _IncludedRouter, which its public types do not name
        original = getattr(included, "original_router", None)
        if original is None:
            continue
        starts = _literal_starts(original.routes, included.include_context.prefix)
        if starts and "" not in starts:
            included.matches = _guarded(included.matches, tuple(sorted(starts)))


def _literal_starts(routes: list[Any], prefix: str) -> set[str]:
    """What every path a router serves starts with: each route's path up to its first parameter
    ("" for a route that is not a path, which then disables the shortcut)."""
    starts: set[str] = set()
    for route in routes:
        if isinstance(getattr(route, "path_format", None), str):
            starts.add(prefix + route.path_format.split("{", 1)[0])
        elif getattr(route, "original_router", None) is not None:
            starts |= _literal_starts(route.original_router.routes, prefix + route.include_context.prefix)
        else:
            starts.add("")
    return starts


def _guarded(
    matches: Callable[[Scope], tuple[Match, Scope]], starts: tuple[str, ...]
) -> Callable[[Scope], tuple[Match, Scope]]:
    def guarded(scope: Scope) -> tuple[Match, Scope]:
        if not get_route_path(scope).startswith(starts):
            return Match.NONE, {}
        return matches(scope)

    return guarded
