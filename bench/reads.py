"""Every read route over the data at hand: the URLs found by walking the API from its lists.

A route's path parameters are filled with ids its lists hand out: `/v1/contacts/{contact_id}`
with the first ids of `/v1/contacts`, `/v1/notes/{note_id}` with ids of any list ending in
`/notes`, `/v1/documents/{document_id}` with the first id of each of an account's document
lists (`/invoices`, `/credits`, `/back-orders`, `/payments`). A list is also read a page of two
at a time, and the second page through its own cursor. `python -m bench.same` compares two
revisions' answers to these reads; the demo tests check each answer against its route's schema.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

PER_PARAMETER = 3  # ids tried for each path parameter
SMALL_PAGE = 2
_PARAMETER = re.compile(r"\{([^}]+)\}")
# Reads through a POST: the lists' structured search.
_SEARCH = re.compile(r"/search$")
# Segments no list ends in, and the lists whose ids they take (the first of each).
_FROM = {"documents": ("invoices", "credits", "back-orders", "payments")}
_NESTED = "/v1/attachments/"  # routes whose ids only other lists' items carry


@dataclass(frozen=True)
class Route:
    method: str
    template: str

    @property
    def parameters(self) -> list[str]:
        return _PARAMETER.findall(self.template)


@dataclass(frozen=True)
class Read:
    """One concrete read: a route with its parameters filled, a page size and a page."""

    route: Route
    url: str
    limit: int | None = None
    second_page: bool = False

    def __str__(self) -> str:
        page = f" (limit {self.limit}{', page 2' if self.second_page else ''})" if self.limit else ""
        return f"{self.route.method} {self.url}{page}"


@dataclass
class Answer:
    status: int
    body: Any
    etag: str | None
    content_type: str | None


@dataclass
class Walk:
    reads: list[Read] = field(default_factory=list)
    unreached: list[Route] = field(default_factory=list)


async def complete(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    """Add, as an administrator, one of each thing the demo organisation has none of, so that
    every read route has something to read."""
    for url, body in (
        ("/v1/activities", {"subject": "Call about the offer", "priority": 3}),
        ("/v1/api-keys", {"name": "ERP feed", "capabilities": ["integrations.push"]}),
        ("/v1/config/competitors", {"name": "Globex", "website": "https://globex.example"}),
        ("/v1/config/services", {"name": "Box replacement", "minimum_minutes": 30}),
    ):
        _created(await client.post(url, json=body, headers=headers))
    # An ERP connector to read (nothing asks it: the walk reads the stored documents).
    connector = {
        "base_url": "https://erp.example.com/crm",
        "header_name": "X-Api-Key",
        "header_value": "demo",
    }
    answer = await client.put("/v1/integrations/erp/connector", json=connector, headers=headers)
    if answer.status_code != 200:
        raise RuntimeError(f"{answer.request.url} answered {answer.status_code}: {answer.text}")
    # A rule on the first type the walk reads, between two of its kind's statuses.
    kind = _first(await client.get("/v1/config/types", headers=headers))
    statuses = await client.get("/v1/config/statuses", params={"limit": 200}, headers=headers)
    start, end = [s["id"] for s in statuses.json()["items"] if s["kind"] == kind["kind"]][:2]
    rule = {"name": "Sales closes", "from_status_id": start, "to_status_id": end}
    _created(await client.post(f"/v1/config/types/{kind['id']}/rules", json=rule, headers=headers))


def _created(response: httpx.Response) -> None:
    if response.status_code != 201:
        raise RuntimeError(f"{response.request.url} answered {response.status_code}: {response.text}")


def _first(response: httpx.Response) -> dict[str, Any]:
    first: dict[str, Any] = response.json()["items"][0]
    return first


def read_routes(openapi: dict[str, Any]) -> list[Route]:
    """The read routes a contract documents: every GET and the lists' POST searches."""
    routes = []
    for template, operations in openapi["paths"].items():
        for method in operations:
            if method == "get" or (method == "post" and _SEARCH.search(template)):
                routes.append(Route(method.upper(), template))
    return routes


async def walk(client: httpx.AsyncClient, headers: dict[str, str], routes: Iterable[Route]) -> Walk:
    """Fill each route's parameters with ids the caller's lists hand out, fewest parameters first."""
    by_list: dict[str, list[str]] = {}  # a concrete list URL: the ids it answered
    by_segment: dict[str, list[str]] = defaultdict(list)  # the last segment of any list URL: ids
    result = Walk()
    # Files are found inside other lists' items: read them after every list of as many parameters.
    order = sorted(routes, key=lambda r: (len(r.parameters), r.template.startswith(_NESTED), r.template))
    for route in order:
        urls = [""]
        for segment in route.template.strip("/").split("/"):
            if not _PARAMETER.fullmatch(segment):
                urls = [f"{url}/{segment}" for url in urls]
                continue
            expanded = []
            for url in urls:
                kind = url.rsplit("/", 1)[-1]
                if url in by_list:
                    ids = _spread(by_list[url])
                elif kind in _FROM:
                    ids = [by_segment[source][0] for source in _FROM[kind] if by_segment.get(source)]
                else:
                    ids = _spread(by_segment.get(kind, []))
                expanded += [f"{url}/{id_}" for id_ in ids]
            urls = expanded
        if not urls:
            result.unreached.append(route)
            continue
        for url in urls:
            read = Read(route, url)
            result.reads.append(read)
            answer = await fetch(client, headers, read)
            ids = _ids(answer.body) if answer.status == 200 else None
            if ids is None:
                continue
            by_list[url] = ids
            kind = url.rsplit("/", 1)[-1]
            by_segment[kind] += [i for i in ids if i not in by_segment[kind]]
            # Files hang off a list's items (a message's, a post's): read under /attachments.
            by_segment["attachments"] += [
                i for i in _attached(answer.body) if i not in by_segment["attachments"]
            ]
            if isinstance(answer.body, dict) and "next_cursor" in answer.body:
                result.reads += [Read(route, url, SMALL_PAGE), Read(route, url, SMALL_PAGE, second_page=True)]
    return result


async def fetch(client: httpx.AsyncClient, headers: dict[str, str], read: Read) -> Answer:
    """The answer to a read; a second page is read through the cursor this server handed out."""
    page: dict[str, Any] = {"limit": read.limit} if read.limit else {}
    if read.second_page:
        first = await _call(client, headers, read.route.method, read.url, page)
        cursor = first.json().get("next_cursor") if first.status_code == 200 else None
        if cursor is None:
            return _answer(first)
        page["cursor"] = cursor
    return _answer(await _call(client, headers, read.route.method, read.url, page))


async def _call(
    client: httpx.AsyncClient, headers: dict[str, str], method: str, url: str, page: dict[str, Any]
) -> httpx.Response:
    if method == "POST":
        return await client.post(url, json=page, headers=headers)
    return await client.get(url, params=page, headers=headers)


def _answer(response: httpx.Response) -> Answer:
    kind = response.headers.get("content-type")
    body: Any = response.json() if kind and "json" in kind else response.text
    return Answer(response.status_code, body, response.headers.get("etag"), kind)


def _ids(body: Any) -> list[str] | None:
    """The ids a list answered (a page's items, or a bare array); None for anything else. Items
    addressed by their number name it `version` (an issue type's form versions)."""
    items = body.get("items") if isinstance(body, dict) else body
    if not isinstance(items, list):
        return None
    keys = [
        next((k for k in ("id", "version") if k in item), None) if isinstance(item, dict) else None
        for item in items
    ]
    return [str(item[k]) for item, k in zip(items, keys, strict=True) if k is not None]


def _attached(body: Any) -> list[str]:
    """The ids of the attachments a list's items carry."""
    items = body.get("items") if isinstance(body, dict) else body
    return [
        str(attachment["id"])
        for item in items or ()
        if isinstance(item, dict)
        for attachment in item.get("attachments") or ()
    ]


def _spread(ids: list[str]) -> list[str]:
    """A few ids from the start, the middle and the end, so neither end alone is tried."""
    if len(ids) <= PER_PARAMETER:
        return ids
    picks = {0, len(ids) // 2, len(ids) - 1}
    return [ids[i] for i in sorted(picks)]
