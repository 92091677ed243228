"""What each scenario asks, built from the demo organisation the run loaded.

`bare` is the ceiling every rate is read against; the issue's scenarios follow in its order, each
read the lean reference (bench/reference.py) also answers measured right after it, as `ref ...`,
so the two figures come from one run. `create contact` runs last, so the rows it adds cannot
change what the reads measured.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

import httpx

from bench.targets import Criterion, at_least, at_most
from bench.wrk import Load

# Ids cycled by `get contact`: several pages, so the reads are spread over the table.
CONTACT_PAGES = 5
ACTIVE_ACCOUNTS = "/v1/accounts?limit=50&status=active"
CONTACTS_PAGE = "/v1/contacts?limit=50"
# The search target is at 4 connections: a search's latency, not the server's saturation.
SEARCHERS = 4


@dataclass(frozen=True)
class Scenario:
    name: str
    request: str  # what the table shows
    load: Load
    targets: tuple[Criterion, ...] = ()
    server: str = "crmapi"  # or "reference": the lean reference server
    versus: str | None = None  # the reference scenario its `share_of_reference` is read against
    connections: int | None = None  # instead of the run's


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


async def check_reference(crmapi: httpx.AsyncClient, reference: httpx.AsyncClient, ctx: Context) -> None:
    """The reference answers what crmapi answers, so the two rates compare like with like: the same
    contact field for field, the same first page of accounts."""
    path = f"/v1/contacts/{ctx.contact_ids[0]}"
    ours, theirs = (await crmapi.get(path, headers=ctx.admin)), (await reference.get(path, headers=ctx.admin))
    if ours.status_code != 200 or theirs.status_code != 200:
        raise RuntimeError(f"get contact: crmapi {ours.status_code}, reference {theirs.status_code}")
    differing = sorted(k for k, v in ours.json().items() if _normal(theirs.json().get(k)) != _normal(v))
    if differing:
        raise RuntimeError(f"the reference's contact differs from crmapi's in {differing}")
    page = "/v1/accounts?limit=50&status=active"
    ours, theirs = (await crmapi.get(page, headers=ctx.admin)), (await reference.get(page, headers=ctx.admin))
    if [a["id"] for a in ours.json()["items"]] != [a["id"] for a in theirs.json()["items"]]:
        raise RuntimeError("the reference's first page of accounts is not crmapi's")


def _normal(value: object) -> object:
    """Timestamps as PostgreSQL's JSON writes them (`+00:00`, trailing zeros of the fraction cut)
    and as the API does (`Z`, six digits) differ only in form."""
    if isinstance(value, str) and len(value) >= 19 and value[10] == "T":
        return datetime.fromisoformat(value)
    return value


def build(ctx: Context) -> list[Scenario]:
    """The issue's scenarios and targets (issue 19), each read the reference answers beside it."""
    person = json.dumps({"kind": "person", "first_name": "Bench", "last_name": "Kowalczyk"})
    contacts = Load("GET", [f"/v1/contacts/{i}" for i in ctx.contact_ids], ctx.admin)
    accounts = Load("GET", [ACTIVE_ACCOUNTS], ctx.admin)
    searches = [quote(p) for p in ctx.prefixes]
    return [
        Scenario(
            "bare",
            "GET /livez (no database)",
            Load("GET", ["/livez"], {}),
            (at_least("req_per_s", 0.5, versus="ref bare"),),
            versus="ref bare",
        ),
        Scenario("ref bare", "the reference's GET /livez", Load("GET", ["/livez"], {}), server="reference"),
        Scenario(
            "get contact",
            f"GET /v1/contacts/{{id}} ({len(ctx.contact_ids)} ids)",
            contacts,
            (at_least("req_per_s", 0.5, versus="ref get contact"),),
            versus="ref get contact",
        ),
        Scenario("ref get contact", "the reference's, one statement", contacts, server="reference"),
        Scenario(
            "list accounts",
            f"GET {ACTIVE_ACCOUNTS}",
            accounts,
            (at_least("req_per_s", 0.5, versus="ref list accounts"),),
            versus="ref list accounts",
        ),
        Scenario("ref list accounts", "the reference's page, json_agg", accounts, server="reference"),
        Scenario(
            "list as rep",
            f"GET {ACTIVE_ACCOUNTS} as a sales rep",
            Load("GET", [ACTIVE_ACCOUNTS], ctx.rep),
            (at_least("req_per_s", 0.7, versus="list accounts"),),
        ),
        Scenario("contacts", "GET /v1/contacts?limit=50", Load("GET", [CONTACTS_PAGE], ctx.admin)),
        Scenario(
            "contacts as rep",
            "GET /v1/contacts?limit=50 as a sales rep",
            Load("GET", [CONTACTS_PAGE], ctx.rep),
            (at_most("p99_ms", 1.5, versus="contacts"),),
        ),
        Scenario(
            "search q",
            f"GET /v1/contacts?q=<surname prefix> ({len(ctx.prefixes)} prefixes), {SEARCHERS} connections",
            Load("GET", [f"/v1/contacts?q={p}" for p in searches], ctx.admin),
            (at_most("p95_ms", 25),),
            connections=SEARCHERS,
        ),
        Scenario(
            "search accounts",
            f"GET /v1/accounts?q=<surname prefix>, {SEARCHERS} connections",
            Load("GET", [f"/v1/accounts?q={p}" for p in searches], ctx.admin),
            (at_most("p95_ms", 25),),
            connections=SEARCHERS,
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
            (at_least("req_per_s", 3.0, baseline=True),),
        ),
    ]
