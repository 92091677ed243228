"""Included routers skip a path none of their routes can match (kit.routes.skip_unmatched_routers)
and still match every path they serve."""

from __future__ import annotations

import re
from typing import Any

from starlette.routing import Match

from crmapi.app import create_app
from crmapi.settings import Settings


def _scope(path: str, method: str) -> dict[str, Any]:
    return {"type": "http", "path": path, "method": method, "root_path": "", "headers": []}


def _included(app: Any) -> list[Any]:
    return [r for r in app.router.routes if getattr(r, "original_router", None) is not None]


def test_every_route_is_still_matched_and_other_paths_are_skipped(settings: Settings) -> None:
    app = create_app(settings, background=False)
    routers = _included(app)
    served = [
        (router, re.sub(r"\{[^}]+\}", "x", route.path_format), sorted(route.methods)[0])
        for router in routers
        for route in router.original_router.routes
        if getattr(route, "methods", None)
    ]
    assert len(served) > 200
    for router, path, method in served:
        assert router.matches(_scope(path, method))[0] == Match.FULL, (path, method)
    contacts = next(r for r in routers if r.original_router.prefix == "/v1/contacts")
    assert contacts.matches(_scope("/v1/service-requests/x", "GET")) == (Match.NONE, {})
