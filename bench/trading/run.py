"""The trading-record benchmark from start to end: database, organisation, server, the pushes
against SQL alone, the bulk of invoices, the reads under wrk, medians and the tables."""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from bench import database, server, wrk
from bench.erp.run import drained
from bench.report import RESULTS, machine
from bench.scenarios import bearer
from bench.trading import balances, baseline, records

NAME = "crmapi_bench_trading"
ADMIN = ("trading-admin@bench.test", "bench-password-1")
# Each case: what is pushed, the kind, the API's path and the outcome every record must have.
CASES = {
    "new invoices": ("invoice", "invoices", "created"),
    "replay": ("invoice", "invoices", "unchanged"),
    "payments": ("payment", "payments", "created"),
}
TARGET = 0.5  # the API's records/s as a share of SQL alone's, per case


@dataclass(frozen=True)
class Options:
    invoices: int
    lines: int
    accounts: int
    payments: int
    bulk: int
    connections: int
    seconds: int
    runs: int
    seed: int


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def _post(client: httpx.AsyncClient, key: dict[str, str], path: str, body: bytes) -> tuple[float, Any]:
    start = time.perf_counter()
    answer = await client.post(f"/v1/integrations/erp/{path}", content=body, headers=key)
    elapsed = time.perf_counter() - start
    if answer.status_code != 200:
        raise RuntimeError(f"push to {path} failed: {answer.status_code} {answer.text[:500]}")
    return elapsed, answer.json()


# What a side wrote for its documents (numbers `prefix/...`) and accounts (`prefix-D...`): both
# sides must have written the same.
_WRITTEN = """
WITH docs AS (SELECT id, kind, outstanding FROM documents WHERE org_id = $1 AND number LIKE $2 || '/%'),
accs AS (SELECT id FROM accounts WHERE org_id = $1 AND code LIKE $2 || '-D%')
SELECT
    (SELECT jsonb_object_agg(kind, n) FROM (SELECT kind, count(*) AS n FROM docs GROUP BY kind) k)
        AS documents,
    (SELECT sum(outstanding) FROM docs) AS outstanding,
    (SELECT count(*) FROM document_lines l JOIN docs d ON l.org_id = $1 AND l.document_id = d.id) AS lines,
    (SELECT count(*) FROM document_allocations a JOIN docs d ON a.org_id = $1 AND a.document_id = d.id)
        AS allocations,
    (SELECT count(*) FROM history h JOIN docs d ON h.org_id = $1 AND h.entity_id = d.id) AS history,
    (SELECT count(*) FROM outbox o JOIN docs d ON o.org_id = $1 AND o.entity_id = d.id) AS events,
    (SELECT count(*) FROM account_balances b JOIN accs a ON b.org_id = $1 AND b.account_id = a.id)
        AS balances,
    (SELECT sum(outstanding) FROM account_balances b JOIN accs a ON b.org_id = $1 AND b.account_id = a.id)
        AS balances_outstanding
"""


async def _written(owner: asyncpg.Connection, org_id: UUID, prefix: str) -> dict[str, Any]:
    row = await owner.fetchrow(_WRITTEN, org_id, prefix)
    assert row is not None
    return {k: (json.loads(v) if k == "documents" else str(v)) for k, v in row.items()}


async def _settled(owner: asyncpg.Connection) -> None:
    """Before a timed step: every event queued by the relay, a checkpoint (`bench.erp`), and the
    tables the pushes read analyzed. On a database this young their statistics would otherwise
    still say a few rows, and plans on either side would probe the wrong index, as they would not
    on a database of any age (autovacuum analyzes as the tables grow)."""
    await drained(owner)
    await owner.execute("ANALYZE accounts, documents, document_lines, document_allocations, account_balances")


async def _pushes(
    opts: Options, url: str, client: httpx.AsyncClient, org_id: UUID, key: dict[str, str], key_id: UUID
) -> tuple[dict[str, dict[str, list[float]]], dict[str, Any]]:
    owner = await database.connect(url)
    app = await database.connect(database.app_url(url))
    timings: dict[str, dict[str, list[float]]] = {side: {c: [] for c in CASES} for side in ("api", "sql")}
    written: dict[str, Any] = {}
    try:
        for run in range(1, opts.runs + 1):
            for side in ("api", "sql"):
                prefix = f"{side.upper()}{run}"
                debtors = records.debtors(prefix, opts.accounts)
                for start in range(0, opts.accounts, 10_000):
                    body = json.dumps({"records": debtors[start : start + 10_000]}).encode()
                    await _post(client, key, "debtors", body)
                # The same figures on both sides (one seed a run), on their own numbers and accounts.
                invoices = records.invoices(
                    prefix, opts.invoices, opts.accounts, opts.lines, opts.seed * 1000 + run
                )
                batches = {
                    "invoice": invoices,
                    "payment": records.payments(prefix, opts.payments, opts.accounts, invoices),
                }
                for case, (kind, path, outcome) in CASES.items():
                    batch = batches[kind]
                    await _settled(owner)
                    if side == "api":
                        body = json.dumps({"records": batch}).encode()
                        elapsed, answer = await _post(client, key, path, body)
                        if answer[outcome] != len(batch):
                            counts = {k: answer[k] for k in ("created", "updated", "unchanged", "failed")}
                            errors = [r for r in answer["results"] if r["outcome"] == "error"][:3]
                            raise RuntimeError(
                                f"{case}: expected {len(batch)} {outcome}, got {counts} {errors}"
                            )
                    else:
                        rows = records.as_rows(kind, batch)
                        began = time.perf_counter()
                        created, updated = await baseline.push(app, org_id, key_id, kind, rows)
                        elapsed = time.perf_counter() - began
                        wanted = (0, 0) if outcome == "unchanged" else (len(batch), 0)
                        if (created, updated) != wanted:
                            raise RuntimeError(f"sql {case}: wrote {created} new, {updated} changed")
                    timings[side][case].append(elapsed)
                    progress(
                        f"bench-trading: run {run} {side:3} {case:12} {len(batch) / elapsed:8.0f} records/s"
                    )
            api = await _written(owner, org_id, f"API{run}")
            sql = await _written(owner, org_id, f"SQL{run}")
            if api != sql:
                raise RuntimeError(f"run {run}: the API wrote {api}, SQL alone {sql}")
            written[f"run {run}"] = api
    finally:
        await owner.close()
        await app.close()
    return timings, written


def _summary(opts: Options, timings: dict[str, dict[str, list[float]]]) -> list[dict[str, Any]]:
    rows = []
    for case, (kind, _, _) in CASES.items():
        count = opts.invoices if kind == "invoice" else opts.payments
        api = statistics.median(timings["api"][case])
        sql = statistics.median(timings["sql"][case])
        ratio = sql / api
        rows.append(
            {
                "case": case,
                "records": count,
                "api_seconds": [round(t, 3) for t in timings["api"][case]],
                "sql_seconds": [round(t, 3) for t in timings["sql"][case]],
                "api_records_per_s": round(count / api),
                "sql_records_per_s": round(count / sql),
                "ratio": round(ratio, 2),
                "target_met": ratio >= TARGET,
            }
        )
    return rows


async def _collect(opts: Options) -> dict[str, Any]:
    wrk.binary()
    server_url, where = database.server_url()
    url = await database.create(server_url, NAME)
    progress(f"bench-trading: database {NAME} on {where}")
    state = database.STATE
    proc = None
    try:
        org_id = await server.create_org(url, "Trading bench", *ADMIN)
        # As bench-erp: an embedded queue without a worker. The relay hands every event to the queue
        # between steps and nothing delivers them.
        proc = await server.start(
            url, None, state / "trading", state / "trading.log", extra_env={"IN_PROCESS_WORKER": "false"}
        )
        async with httpx.AsyncClient(base_url=proc.base_url, timeout=600) as client:
            await server.wait_healthy(proc, client)
            admin = bearer(await server.token(client, *ADMIN))
            made = await client.post(
                "/v1/api-keys",
                json={"name": "Trading bench", "capabilities": ["integrations.push"]},
                headers=admin,
            )
            made.raise_for_status()
            key = {"Authorization": f"Bearer {made.json()['token']}", "Content-Type": "application/json"}
            timings, written = await _pushes(opts, url, client, org_id, key, UUID(made.json()["id"]))
            ids, stale = await balances.load(url, org_id, client, key, opts.bulk, opts.accounts)
            shown = await balances.check(url, org_id, client, admin, ids)
            progress(f"bench-trading: {shown}")
            reads = await balances.measure(
                proc.base_url,
                balances.loads(admin, ids),
                connections=opts.connections,
                seconds=opts.seconds,
                runs=opts.runs,
            )
        return {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "options": asdict(opts),
            "machine": machine(),
            "postgres": await database.version(url),
            "pushes": _summary(opts, timings),
            "written": written,
            "balances_stale_after_pushes": stale,
            "shown": shown,
            "reads": reads,
        }
    finally:
        if proc is not None:
            await server.stop(proc)
        await database.drop(server_url, NAME)


def collect(opts: Options) -> dict[str, Any]:
    return asyncio.run(_collect(opts))


def table(result: dict[str, Any]) -> str:
    o, shown = result["options"], result["shown"]
    lines = [
        f"Document pushes: {o['invoices']:,} invoices of {o['lines']} lines over {o['accounts']:,} accounts, "
        f"then again unchanged, then {o['payments']:,} payments; medians of {o['runs']} "
        f"(PostgreSQL {result['postgres']}, {result['machine']['cores']} cores)",
        f"{'case':13} {'API rec/s':>10} {'SQL rec/s':>10} {'API/SQL':>8}  "
        f"target >= {TARGET:.0%} of SQL alone",
    ]
    for c in result["pushes"]:
        margin = c["ratio"] - TARGET
        verdict = f"met by {margin:.2f}" if c["target_met"] else f"MISSED by {-margin:.2f}"
        rates = f"{c['api_records_per_s']:>10,} {c['sql_records_per_s']:>10,}"
        lines.append(f"{c['case']:13} {rates} {c['ratio']:>8.2f}  {verdict}")
    met = sum(c["target_met"] for c in result["pushes"])
    lines.append(f"{met} of {len(result['pushes'])} met")
    if result["balances_stale_after_pushes"]:
        lines.append(
            f"WARNING: {result['balances_stale_after_pushes']} account balances kept by the pushes differed "
            "from their invoices' sums"
        )
    lines += [
        "",
        f"Balances over {shown['invoices']:,} invoices ({o['bulk']:,} written in SQL over {o['accounts']:,} "
        f"accounts), as the administrator, {o['connections']} connections, medians of {o['runs']} x "
        f"{o['seconds']} s",
        f"{'read':13} {'answer':>22} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  (no target)",
    ]
    answers = {
        "overdue list": f"{shown['overdue_page']['items']} of {shown['overdue_accounts']:,} accounts",
        "balance": f"{result['reads']['balance']['paths']} accounts cycled",
    }
    for name, s in result["reads"].items():
        figures = f"{s['req_per_s']:>8} {s['p50_ms']:>8} {s['p95_ms']:>8} {s['p99_ms']:>8}"
        lines.append(f"{name:13} {answers[name]:>22} {figures}")
    lines.append(f"  overdue list: GET {balances.OVERDUE}; balance: GET /v1/accounts/{{id}}/balance")
    return "\n".join(lines)


def write(result: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "trading.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    return path
