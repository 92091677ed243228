"""What each scenario asks, built from the demo organisation the run loaded.

`bare` is the ceiling every rate is read against; the issue's scenarios follow in its order.
`create contact` runs last, so the rows it adds cannot change what the reads measured.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from bench.targets import Criterion, at_least, at_most
from bench.wrk import Load

# Ids cycled by `get contact`: several pages, so the reads are spread over the table.
CONTACT_PAGES = 5


@dataclass(frozen=True)
class Scenario:
    name: str
    request: str  # what the table shows
    load: Load
    targets: tuple[Criterion, ...] = ()


@dataclass(frozen=True)
class Context:
    admin: dict[str, str]
    rep: dict[str, str]
    contact_ids: list[str]
    prefixes: list[str]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def context(client: httpx.AsyncClient, admin: dict[str, str], rep: dict[str, str]) -> Context:
    """Contact ids to cycle through, and surname prefixes of real demo people to search for."""
    people: list[dict[str, str]] = []
    params: dict[str, str | int] = {"limit": 200, "kind": "person", "fields": "id,last_name"}
    for _ in range(CONTACT_PAGES):
        answer = await client.get("/v1/contacts", params=params, headers=admin)
        answer.raise_for_status()
        page = answer.json()
        people += page["items"]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    # As a user types them, accents and all; the server folds them.
    prefixes = sorted({p["last_name"][:4] for p in people if len(p.get("last_name") or "") >= 4})
    if not people or not prefixes:
        raise RuntimeError("the demo data has no people with surnames to read or search for")
    return Context(admin=admin, rep=rep, contact_ids=[p["id"] for p in people], prefixes=prefixes)


def build(ctx: Context) -> list[Scenario]:
    person = json.dumps({"kind": "person", "first_name": "Bench", "last_name": "Kowalczyk"})
    return [
        Scenario("bare", "GET /livez (no database)", Load("GET", ["/livez"], {})),
        Scenario(
            "get contact",
            f"GET /v1/contacts/{{id}} ({len(ctx.contact_ids)} ids)",
            Load("GET", [f"/v1/contacts/{i}" for i in ctx.contact_ids], ctx.admin),
            (at_least("req_per_s", 2000), at_least("share_of_bare", 0.40), at_most("p99_ms", 25)),
        ),
        Scenario(
            "list accounts",
            "GET /v1/accounts?limit=50&status=active",
            Load("GET", ["/v1/accounts?limit=50&status=active"], ctx.admin),
            (at_least("req_per_s", 1500),),
        ),
        Scenario(
            "search q",
            f"GET /v1/contacts?q=<surname prefix> ({len(ctx.prefixes)} prefixes)",
            Load("GET", [f"/v1/contacts?q={quote(p)}" for p in ctx.prefixes], ctx.admin),
            (at_most("p95_ms", 30),),
        ),
        Scenario(
            "search accounts",
            "GET /v1/accounts?q=<surname prefix>",
            Load("GET", [f"/v1/accounts?q={quote(p)}" for p in ctx.prefixes], ctx.admin),
        ),
        Scenario(
            "list as rep",
            "GET /v1/accounts?limit=50 (a sales rep's scope)",
            Load("GET", ["/v1/accounts?limit=50"], ctx.rep),
        ),
        Scenario(
            "create contact",
            "POST /v1/contacts, a new Idempotency-Key each",
            Load(
                "POST",
                ["/v1/contacts"],
                {**ctx.admin, "Content-Type": "application/json"},
                person,
                idempotency_keys=True,
            ),
        ),
    ]
