"""The reads over a large trading record: the bulk of invoices written in SQL, the balances made
consistent, then `GET /v1/accounts?overdue_days_gt=60` and `GET /v1/accounts/{id}/balance` under wrk."""

from __future__ import annotations

import statistics
import sys
from dataclasses import asdict
from typing import Any
from uuid import UUID

import httpx

from bench import database, wrk
from bench.trading import records

PREFIX = "BULK"
OVERDUE = "/v1/accounts?overdue_days_gt=60"
LATE_EVERY = 5  # one account in five pays late: invoices of the last 150 days still owed
LATE_DAYS, ON_TIME_DAYS = 150, 45  # invoices issued this many days ago or later are still owed
BALANCE_ACCOUNTS = 10  # the balance scenario cycles through this many accounts
WARMUP_SECONDS = 2


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# Invoice n of the bulk: account n % accounts, issued (n * 7919) % 365 days ago, due 30 days
# later, one line; owed in full while recent (see LATE_DAYS), else paid.
_BULK = """
WITH made AS (
    INSERT INTO documents (org_id, id, kind, number, account_id, status, issued_on, due_on, currency, net,
        tax, gross, outstanding, line_count, fingerprint, created_at, updated_at, version)
    SELECT $1, crmapi_uuid7(), 'invoice', 'BULK/FV/' || lpad(n::text, 7, '0'),
        ($2::uuid[])[(1 + n % $4)::integer], CASE WHEN o.owed THEN 'open' ELSE 'paid' END,
        i.issued, i.issued + 30, 'PLN', v.net, v.tax, v.net + v.tax,
        CASE WHEN o.owed THEN v.net + v.tax ELSE 0 END, 1, sha256(convert_to('BULK/FV/' || n, 'UTF8')),
        now(), now(), 1
    FROM generate_series(1, $3::bigint) AS n
    CROSS JOIN LATERAL (SELECT current_date - (n * 7919 % 365)::integer AS issued) AS i
    CROSS JOIN LATERAL (SELECT (100 + n % 900)::numeric AS net, round((100 + n % 900) * 0.23, 2) AS tax) AS v
    CROSS JOIN LATERAL (SELECT current_date - i.issued
        < CASE WHEN n % $4 % $5 = 0 THEN $6::integer ELSE $7::integer END AS owed) AS o
    RETURNING id, net, tax
)
INSERT INTO document_lines (org_id, document_id, position, product_code, description, quantity, unit_price,
    net, tax)
SELECT $1, m.id, 1, 'P-BULK', 'Bulk line', 1, m.net, m.net, m.tax FROM made m
"""

# account_balances as every invoice push keeps it: per account and currency, what its invoices
# with something outstanding owe, and the oldest of their due dates.
_SUMMED = """
SELECT d.account_id, d.currency, sum(d.outstanding) AS outstanding, min(d.due_on) AS oldest_due_on
FROM documents d WHERE d.org_id = $1 AND d.kind = 'invoice' AND d.outstanding > 0
GROUP BY d.account_id, d.currency
"""
_KEPT = "SELECT account_id, currency, outstanding, oldest_due_on FROM account_balances WHERE org_id = $1"


async def load(
    url: str, org_id: UUID, client: httpx.AsyncClient, key: dict[str, str], bulk: int, accounts: int
) -> tuple[list[UUID], int]:
    """The bulk's accounts pushed through the API, its invoices (and a line each) in one SQL
    statement as the owner, the organisation's balances summed again. Answers the accounts' ids in
    order, and how many balances the pushes before had left different from their sums (none, if
    the pushes keep them right)."""
    ids: list[UUID] = []
    debtors = records.debtors(PREFIX, accounts)
    for start in range(0, accounts, 10_000):
        answer = await client.post(
            "/v1/integrations/erp/debtors", json={"records": debtors[start : start + 10_000]}, headers=key
        )
        answer.raise_for_status()
        ids += [UUID(r["id"]) for r in answer.json()["results"]]
    conn = await database.connect(url)
    try:
        kept = {tuple(row) for row in await conn.fetch(_KEPT, org_id)}
        stale = len(kept ^ {tuple(row) for row in await conn.fetch(_SUMMED, org_id)})
        progress(f"bench-trading: balances the pushes kept: {len(kept)}, differing from their sums: {stale}")
        async with conn.transaction():
            await conn.execute(_BULK, org_id, ids, bulk, accounts, LATE_EVERY, LATE_DAYS, ON_TIME_DAYS)
            await conn.execute("DELETE FROM account_balances WHERE org_id = $1", org_id)
            await conn.execute(
                "INSERT INTO account_balances (org_id, account_id, currency, outstanding, oldest_due_on, "
                f"updated_at) SELECT $1, s.*, now() FROM ({_SUMMED}) AS s",
                org_id,
            )
        await conn.execute("ANALYZE documents, document_lines, account_balances")
    finally:
        await conn.close()
    return ids, stale


async def check(
    url: str, org_id: UUID, client: httpx.AsyncClient, admin: dict[str, str], ids: list[UUID]
) -> dict[str, Any]:
    """One answer of each read against the database: the overdue list's count and a late payer's
    balance. What one answer holds, for the table."""
    conn = await database.connect(url)
    try:
        invoices = await conn.fetchval(
            "SELECT count(*) FROM documents WHERE org_id = $1 AND kind = 'invoice'", org_id
        )
        owed = await conn.fetchval(
            "SELECT coalesce(sum(outstanding), 0) FROM documents WHERE org_id = $1 AND account_id = $2 "
            "AND kind = 'invoice' AND outstanding > 0",
            org_id,
            ids[0],
        )
    finally:
        await conn.close()
    listed = await client.get(f"{OVERDUE}&count=true", headers=admin)
    listed.raise_for_status()
    page = listed.json()
    if not page["items"]:
        raise RuntimeError("the overdue list is empty: the bulk has no late payers")
    balance = await client.get(f"/v1/accounts/{ids[0]}/balance", headers=admin)
    balance.raise_for_status()
    currencies = balance.json()["currencies"]
    if [(c["currency"], float(c["outstanding"])) for c in currencies] != [("PLN", float(owed))]:
        raise RuntimeError(f"the balance of {ids[0]} is {currencies}, its invoices owe {owed} PLN")
    return {
        "invoices": invoices,
        "overdue_accounts": page["count"],
        "overdue_page": {"items": len(page["items"]), "bytes": len(listed.content)},
        "balance": {"open_invoices": currencies[0]["open_invoices"], "bytes": len(balance.content)},
    }


def loads(admin: dict[str, str], ids: list[UUID]) -> dict[str, wrk.Load]:
    step = max(1, len(ids) // BALANCE_ACCOUNTS)
    chosen = ids[::step][:BALANCE_ACCOUNTS]
    return {
        "overdue list": wrk.Load("GET", [OVERDUE], admin),
        "balance": wrk.Load("GET", [f"/v1/accounts/{i}/balance" for i in chosen], admin),
    }


async def measure(
    base_url: str, scenarios: dict[str, wrk.Load], *, connections: int, seconds: int, runs: int
) -> dict[str, Any]:
    """Each read under wrk, a warm-up each, then the runs taking turns; medians."""
    for load in scenarios.values():
        await wrk.run(base_url, load, connections=connections, seconds=WARMUP_SECONDS)
    done: dict[str, list[wrk.Run]] = {name: [] for name in scenarios}
    for n in range(runs):
        for name, load in scenarios.items():  # taking turns, so a burst elsewhere lands on both
            run = await wrk.run(base_url, load, connections=connections, seconds=seconds)
            if run.non_2xx or run.socket_errors:
                raise RuntimeError(
                    f"{name}: {run.non_2xx} answers outside 2xx, {run.socket_errors} socket errors"
                )
            done[name].append(run)
            progress(f"bench-trading: run {n + 1} {name:<12} {run.rate:7.1f} req/s  p95 {run.p95_ms:6.1f} ms")
    return {
        name: {
            "paths": len(scenarios[name].paths),
            "req_per_s": round(statistics.median(r.rate for r in rs), 1),
            "p50_ms": round(statistics.median(r.p50_ms for r in rs), 1),
            "p95_ms": round(statistics.median(r.p95_ms for r in rs), 1),
            "p99_ms": round(statistics.median(r.p99_ms for r in rs), 1),
            "runs": [asdict(r) for r in rs],
        }
        for name, rs in done.items()
    }
