"""The API's documentation pages: Swagger UI at /docs and ReDoc at /redoc, from vendored assets.

The scripts come from this package (see assets/README.md), never a CDN: the service often runs
where none is reachable. Swagger UI 5 and ReDoc 2 both read OpenAPI 3.1, which FastAPI writes.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(__file__).parent / "assets"
TITLE = "crmapi — API docs"


def install(app: FastAPI) -> None:
    """Serve both pages and their assets (under /docs/assets); none of them is in the contract."""
    app.mount("/docs/assets", StaticFiles(directory=ASSETS), name="docs-assets")

    # The pages read the app from the request, not from this closure: FastAPI keeps every
    # endpoint function in a process-wide cache, and a closure over `app` kept each app alive.
    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root_path(request)
        return get_swagger_ui_html(
            openapi_url=f"{root}{request.app.openapi_url}",
            title=TITLE,
            swagger_js_url=f"{root}/docs/assets/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/docs/assets/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{root}/docs/assets/swagger-ui/favicon-32x32.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = _root_path(request)
        return get_redoc_html(
            openapi_url=f"{root}{request.app.openapi_url}",
            title=TITLE,
            redoc_js_url=f"{root}/docs/assets/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{root}/docs/assets/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )


def _root_path(request: Request) -> str:
    """The prefix a proxy serves the app under (uvicorn's --root-path), so the links still resolve."""
    return str(request.scope.get("root_path", "")).rstrip("/")
