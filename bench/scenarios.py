"""What each scenario asks: one Call per request number, cycling through prepared parameters."""

from __future__ import annotations

import random
from dataclasses import dataclass
from uuid import UUID

import httpx

from bench import catalogue
from bench.load import Call, MakeCall

LIST = "/v1/contacts"
TAG_ORDER = tuple(catalogue.TAGS)


@dataclass(frozen=True)
class Scenario:
    name: str
    request: str  # what the table shows
    make: MakeCall


@dataclass(frozen=True)
class Context:
    admin: dict[str, str]
    staff: dict[str, str]
    ids: list[UUID]
    deep_cursor: str
    deep_page: int


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def cursor_of_page(client: httpx.AsyncClient, headers: dict[str, str], page: int) -> str:
    """The cursor that `GET /v1/contacts?limit=50` reaches after `page - 1` pages."""
    cursor: str | None = None
    for _ in range(page - 1):
        params: dict[str, str | int] = {"limit": 50}
        if cursor:
            params["cursor"] = cursor
        answer = await client.get(LIST, headers=headers, params=params)
        answer.raise_for_status()
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            raise RuntimeError(f"the list has fewer than {page} pages")
    if cursor is None:
        raise RuntimeError("the deep page must be at least 2")
    return cursor


def build(ctx: Context, seed: int) -> list[Scenario]:
    create_rng = random.Random(seed + 1)

    def create(n: int) -> Call:
        headers = {**ctx.admin, "Idempotency-Key": f"bench-{seed}-{n}-{create_rng.getrandbits(64):x}"}
        return Call("POST", LIST, headers, body=catalogue.person(create_rng))

    prefixes, ids = catalogue.SEARCH_PREFIXES, ctx.ids
    return [
        Scenario("list", "GET /v1/contacts?limit=50", lambda n: Call("GET", LIST, ctx.admin, {"limit": 50})),
        Scenario(
            "search q",
            "GET /v1/contacts?q=<surname prefix>",
            lambda n: Call("GET", LIST, ctx.admin, {"q": prefixes[n % len(prefixes)]}),
        ),
        Scenario(
            "tag + sort",
            "GET /v1/contacts?tag=<tag>&sort=display_name",
            lambda n: Call(
                "GET", LIST, ctx.admin, {"tag": TAG_ORDER[n % len(TAG_ORDER)], "sort": "display_name"}
            ),
        ),
        Scenario(
            "count", "GET /v1/contacts?count=true", lambda n: Call("GET", LIST, ctx.admin, {"count": "true"})
        ),
        Scenario(
            f"page {ctx.deep_page}",
            f"GET /v1/contacts?limit=50&cursor=<page {ctx.deep_page}>",
            lambda n: Call("GET", LIST, ctx.admin, {"limit": 50, "cursor": ctx.deep_cursor}),
        ),
        Scenario(
            "get by id",
            "GET /v1/contacts/{id}",
            lambda n: Call("GET", f"{LIST}/{ids[n % len(ids)]}", ctx.admin),
        ),
        Scenario(
            "list as staff", "GET /v1/contacts (staff: own only)", lambda n: Call("GET", LIST, ctx.staff)
        ),
        Scenario("create", "POST /v1/contacts (Idempotency-Key)", create),
    ]
