"""The route class every router uses: JSON bodies parsed with the collector paused, a one-valued
query parameter sent twice refused, and idempotent POSTs replayed or stored (kit.idempotency);
and `add`, how a declaration that several kinds share adds a route to a kind's router."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

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
