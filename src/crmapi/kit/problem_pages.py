"""The pages every problem's `type` URI names: `/problems/{slug}` describes one problem type,
`/problems` lists them all (RFC 9457, 3.1.1: a type URI that resolves to documentation for
humans). HTML by default, JSON when the client asks for it; no credential needed.
"""

from __future__ import annotations

import html
from inspect import cleandoc
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from crmapi.kit.errors import PROBLEM_TYPES, TYPE_PREFIX, NotFound, ProblemError

router = APIRouter(include_in_schema=False)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;
line-height:1.5}}code{{background:#f3f3f3;padding:0 .2em}}td,th{{text-align:left;padding:.2em .6em;
vertical-align:top}}</style></head><body>{body}</body></html>"""


def describe(problem: type[ProblemError]) -> dict[str, Any]:
    """A problem type as the pages and the contract show it."""
    return {
        "type": TYPE_PREFIX + problem.slug,
        "title": problem.title,
        "status": problem.status,
        "description": " ".join(cleandoc(problem.__doc__ or "").split()),
    }


def described() -> list[dict[str, Any]]:
    """Every problem type, by status, then slug."""
    return [describe(p) for p in sorted(PROBLEM_TYPES.values(), key=lambda p: (p.status, p.slug))]


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "json" in accept and "text/html" not in accept


@router.get("/problems")
async def list_problem_types(request: Request) -> Response:
    found = described()
    if _wants_json(request):
        return JSONResponse(found)
    rows = "".join(
        f'<tr><td><a href="{html.escape(p["type"])}"><code>{html.escape(p["type"])}</code></a></td>'
        f"<td>{p['status']}</td><td>{html.escape(p['description'])}</td></tr>"
        for p in found
    )
    body = (
        "<h1>Problem types</h1><p>Every error answer is <code>application/problem+json</code>; its "
        "<code>type</code> is one of these.</p><table><tr><th>type</th><th>status</th><th>meaning</th>"
        f"</tr>{rows}</table>"
    )
    return HTMLResponse(_PAGE.format(title="Problem types", body=body))


@router.get("/problems/{slug}")
async def get_problem_type(request: Request, slug: str) -> Response:
    problem = PROBLEM_TYPES.get(slug)
    if problem is None:
        raise NotFound("No problem type has this name; GET /problems lists them.")
    found = describe(problem)
    if _wants_json(request):
        return JSONResponse(found)
    body = (
        f"<h1><code>{html.escape(found['type'])}</code></h1>"
        f"<p>{found['status']} {html.escape(found['title'])}</p><p>{html.escape(found['description'])}</p>"
        '<p><a href="/problems">All problem types</a></p>'
    )
    return HTMLResponse(_PAGE.format(title=html.escape(found["type"]), body=body))
