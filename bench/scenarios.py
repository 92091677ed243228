"""What each scenario asks, built from the demo organisation the run loaded."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

from bench.wrk import Load
from crmapi.search import fold


@dataclass(frozen=True)
class Target:
    """A figure the issue asks for, checked against the scenario's medians."""

    text: str
    min_rate: float | None = None
    min_share_of_bare: float | None = None
    max_p95_ms: float | None = None
    max_p99_ms: float | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    request: str  # what the table shows
    load: Load
    target: Target | None = None


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
    answer = await client.get(
        "/v1/contacts", params={"limit": 200, "kind": "person", "fields": "id,last_name"}, headers=admin
    )
    answer.raise_for_status()
    people = answer.json()["items"]
    prefixes = sorted({fold(p["last_name"])[:4] for p in people if len(p.get("last_name") or "") >= 4})
    return Context(admin=admin, rep=rep, contact_ids=[p["id"] for p in people], prefixes=prefixes)


def build(ctx: Context) -> list[Scenario]:
    person = json.dumps({"kind": "person", "first_name": "Bench", "last_name": "Kowalczyk"})
    return [
        Scenario("bare", "GET /livez (no database)", Load("GET", ["/livez"], {})),
        Scenario(
            "get contact",
            "GET /v1/contacts/{id}",
            Load("GET", [f"/v1/contacts/{i}" for i in ctx.contact_ids], ctx.admin),
            Target(">= 2,000 req/s, >= 40% of bare, p99 <= 25 ms", 2000, 0.40, max_p99_ms=25),
        ),
        Scenario(
            "list accounts",
            "GET /v1/accounts?limit=50&status=active",
            Load("GET", ["/v1/accounts?limit=50&status=active"], ctx.admin),
            Target(">= 1,500 req/s", 1500),
        ),
        Scenario(
            "list as rep",
            "GET /v1/accounts?limit=50 (a sales rep's scope)",
            Load("GET", ["/v1/accounts?limit=50"], ctx.rep),
        ),
        Scenario(
            "search q",
            "GET /v1/contacts?q=<surname prefix>",
            Load("GET", [f"/v1/contacts?q={p}" for p in ctx.prefixes], ctx.admin),
            Target("p95 <= 30 ms", max_p95_ms=30),
        ),
        Scenario(
            "create contact",
            "POST /v1/contacts",
            Load("POST", ["/v1/contacts"], {**ctx.admin, "Content-Type": "application/json"}, person),
        ),
    ]
