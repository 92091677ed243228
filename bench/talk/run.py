"""The conversations benchmark from start to end: database, organisation, rep and customer,
accounts, the conversations and the inbox in SQL, the server, one answer of each request checked,
the reads and then the posts under wrk, medians and the table."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from bench import database, server, wrk
from bench.report import RESULTS, machine
from bench.scenarios import bearer
from bench.talk import data

NAME = "crmapi_bench_talk"
ADMIN = ("talk-admin@bench.test", "bench-password-1")
REP = ("talk-rep@bench.test", "bench-password-1")
CUSTOMER = ("talk-customer@bench.test", "bench-password-1")
WARMUP_SECONDS = 2
INBOX = "/v1/me/notifications?limit=50"
UNREAD = "/v1/me/notifications/unread"
MINE = "/v1/conversations?mine=true&limit=50"
BODY = json.dumps({"body": "Thank you, the corrected invoice and the delivery note are on their way."})
# What the table shows for each case, and the brief's threshold worth a look at its p95.
REQUESTS = {
    "inbox": ("GET /v1/me/notifications?limit=50, as the rep", 50.0),
    "unread": ("GET /v1/me/notifications/unread, as the rep", 50.0),
    "mine": ("GET /v1/conversations?mine=true&limit=50, as the rep", 50.0),
    "messages": ("GET /v1/conversations/{id}/messages (newest 50), as the customer", 50.0),
    "post": ("POST /v1/conversations/{id}/messages, as the rep, spread over conversations", 100.0),
    "post one": ("POST /v1/conversations/{id}/messages, as the rep, all into one conversation", 100.0),
}


@dataclass(frozen=True)
class Options:
    conversations: int
    messages: int
    accounts: int
    notifications: int
    connections: int
    seconds: int
    runs: int
    workers: int = 1
    keep: bool = False


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def _people(client: httpx.AsyncClient, admin: dict[str, str], accounts: int) -> dict[str, Any]:
    """The rep and the customer through the API; accounts owned by the rep, the customer assigned
    to each (so it sees them), eight calls at a time."""
    ids = {}
    for who, (email, password), kind in (("rep", REP, "staff"), ("customer", CUSTOMER, "customer")):
        made = await client.post(
            "/v1/members", json={"email": email, "password": password, "kind": kind}, headers=admin
        )
        made.raise_for_status()
        ids[who] = UUID(made.json()["id"])
    gate = asyncio.Semaphore(8)

    async def account(n: int) -> UUID:
        async with gate:
            made = await client.post(
                "/v1/accounts",
                json={"name": f"Talk account {n:04d}", "owner_member_id": str(ids["rep"])},
                headers=admin,
            )
            made.raise_for_status()
            account_id = UUID(made.json()["id"])
            assigned = await client.post(
                f"/v1/accounts/{account_id}/assignments",
                json={"member_id": str(ids["customer"])},
                headers=admin,
            )
            assigned.raise_for_status()
            return account_id

    account_ids = list(await asyncio.gather(*(account(n) for n in range(1, accounts + 1))))
    return {"rep": ids["rep"], "customer": ids["customer"], "accounts": account_ids}


async def _check(
    url: str,
    client: httpx.AsyncClient,
    org_id: UUID,
    callers: dict[str, dict[str, str]],
    rep_id: UUID,
    conversation_id: UUID,
    messages: int,
) -> dict[str, Any]:
    """One answer of each read against the database: what it holds, for the table."""
    conn = await database.connect(url)
    try:
        unread_total = await conn.fetchval(
            "SELECT count(*) FROM notifications WHERE org_id = $1 AND member_id = $2 AND read_at IS NULL",
            org_id,
            rep_id,
        )
        newest = await conn.fetch(
            """
            SELECT c.id, (SELECT count(*) FROM conversation_messages m WHERE m.org_id = $1
                AND m.conversation_id = c.id AND m.author_member_id <> $2 AND m.deleted_at IS NULL
                AND m.seq > (SELECT r.seq FROM conversation_reads r WHERE r.org_id = $1
                    AND r.conversation_id = c.id AND r.member_id = $2)) AS unread
            FROM conversations c WHERE c.org_id = $1 ORDER BY c.created_at DESC, c.id DESC LIMIT 50
            """,
            org_id,
            rep_id,
        )
    finally:
        await conn.close()
    shown: dict[str, Any] = {}

    async def get(name: str, path: str, caller: str) -> Any:
        answer = await client.get(path, headers=callers[caller])
        if answer.status_code != 200:
            raise RuntimeError(f"{name}: GET {path} answered {answer.status_code}: {answer.text[:300]}")
        shown[name] = {"bytes": len(answer.content)}
        return answer.json()

    inbox = await get("inbox", INBOX, "rep")
    if len(inbox["items"]) != 50:
        raise RuntimeError(f"inbox: {len(inbox['items'])} notifications on the first page, not 50")
    shown["inbox"]["items"] = len(inbox["items"])
    unread = await get("unread", UNREAD, "rep")
    if unread["total"] != unread_total:
        raise RuntimeError(f"unread: {unread['total']} answered, {unread_total} in the database")
    shown["unread"]["total"] = unread["total"]
    mine = await get("mine", MINE, "rep")
    answered = [(UUID(c["id"]), c["unread_count"]) for c in mine["items"]]
    if answered != [(r["id"], r["unread"]) for r in newest]:
        raise RuntimeError("mine: the page or its unread counts differ from the database's")
    shown["mine"] |= {"items": len(answered), "unread": sum(n for _, n in answered)}
    listed = await get("messages", f"/v1/conversations/{conversation_id}/messages", "customer")
    seqs = [m["seq"] for m in listed["items"]]
    if seqs != list(range(messages, max(0, messages - 50), -1)):
        raise RuntimeError(f"messages: seqs {seqs[:5]}... answered, not the newest 50 of {messages}")
    shown["messages"]["items"] = len(seqs)
    return shown


async def _post_once(client: httpx.AsyncClient, rep: dict[str, str], conversation_id: UUID) -> dict[str, Any]:
    answer = await client.post(
        f"/v1/conversations/{conversation_id}/messages",
        content=BODY,
        headers={**rep, "Content-Type": "application/json"},
    )
    if answer.status_code != 201:
        raise RuntimeError(f"post: answered {answer.status_code}: {answer.text[:300]}")
    return {"bytes": len(answer.content), "seq": answer.json()["seq"]}


def _summary(load: wrk.Load, rs: list[wrk.Run]) -> dict[str, Any]:
    return {
        "paths": len(load.paths),
        "req_per_s": round(statistics.median(r.rate for r in rs), 1),
        "p50_ms": round(statistics.median(r.p50_ms for r in rs), 1),
        "p95_ms": round(statistics.median(r.p95_ms for r in rs), 1),
        "p99_ms": round(statistics.median(r.p99_ms for r in rs), 1),
        "requests": sum(r.requests for r in rs),
        "non_2xx": sum(r.non_2xx for r in rs),
        "socket_errors": sum(r.socket_errors for r in rs),
        "runs": [asdict(r) for r in rs],
    }


async def _measure(opts: Options, base_url: str, loads: dict[str, wrk.Load]) -> dict[str, Any]:
    """Each case under wrk, a warm-up each, then the runs taking turns; medians. Answers outside
    2xx and socket errors are counted, not raised: the table says which cases are no result."""
    for load in loads.values():
        await wrk.run(base_url, load, connections=opts.connections, seconds=WARMUP_SECONDS)
    done: dict[str, list[wrk.Run]] = {name: [] for name in loads}
    for n in range(opts.runs):
        for name, load in loads.items():  # taking turns, so a burst elsewhere lands on all
            run = await wrk.run(base_url, load, connections=opts.connections, seconds=opts.seconds)
            done[name].append(run)
            errors = ""
            if run.non_2xx or run.socket_errors:
                errors = f"  {run.non_2xx} non-2xx, {run.socket_errors} socket errors"
            progress(
                f"bench-talk: run {n + 1} {name:<9} {run.rate:7.1f} req/s  p95 {run.p95_ms:6.1f} ms{errors}"
            )
    return {name: _summary(loads[name], rs) for name, rs in done.items()}


async def _collect(opts: Options) -> dict[str, Any]:
    wrk.binary()
    began = time.perf_counter()
    server_url, where = database.server_url()
    url = await database.create(server_url, NAME)
    progress(f"bench-talk: database {NAME} on {where}")
    proc = None
    try:
        org_id = await server.create_org(url, "Talk bench", *ADMIN)
        state = database.STATE
        # As bench-trading: no job worker, so the posts' events wait in the queue and no fan-out
        # of notifications competes with the requests measured.
        proc = await server.start(
            url,
            os.environ.get("TEST_REDIS_URL"),
            state / "talk",
            state / "talk.log",
            workers=opts.workers,
            extra_env={"IN_PROCESS_WORKER": "false"},
        )
        async with httpx.AsyncClient(base_url=proc.base_url, timeout=60) as client:
            await server.wait_healthy(proc, client)
            admin = bearer(await server.token(client, *ADMIN))
            people = await _people(client, admin, opts.accounts)
            progress(f"bench-talk: rep, customer and {opts.accounts} accounts through the API")
            loaded = await data.load(
                url,
                org_id,
                people["rep"],
                people["customer"],
                people["accounts"],
                conversations=opts.conversations,
                messages=opts.messages,
                notifications=opts.notifications,
            )
            progress(f"bench-talk: {loaded['rows']} written in SQL, {loaded['seconds']} s")
            setup_seconds = round(time.perf_counter() - began, 1)
            ids: list[UUID] = loaded["conversation_ids"]
            rep = bearer(await server.token(client, *REP))
            customer = bearer(await server.token(client, *CUSTOMER))
            shown = await _check(
                url, client, org_id, {"rep": rep, "customer": customer}, people["rep"], ids[0], opts.messages
            )
            progress(f"bench-talk: one answer of each read holds {shown}")
            posting = {**rep, "Content-Type": "application/json"}
            one, spread = ids[len(ids) // 2], [i for i in ids if i != ids[len(ids) // 2]] or ids
            reads = await _measure(
                opts,
                proc.base_url,
                {
                    "inbox": wrk.Load("GET", [INBOX], rep),
                    "unread": wrk.Load("GET", [UNREAD], rep),
                    "mine": wrk.Load("GET", [MINE], rep),
                    "messages": wrk.Load("GET", [f"/v1/conversations/{i}/messages" for i in ids], customer),
                },
            )
            shown["post"] = await _post_once(client, rep, spread[0])
            posts = await _measure(
                opts,
                proc.base_url,
                {
                    "post": wrk.Load(
                        "POST",
                        [f"/v1/conversations/{i}/messages" for i in spread],
                        posting,
                        BODY,
                        idempotency_keys=True,
                    ),
                    "post one": wrk.Load(
                        "POST", [f"/v1/conversations/{one}/messages"], posting, BODY, idempotency_keys=True
                    ),
                },
            )
            posted = await _posted(url, org_id, one)
        return {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "options": asdict(opts),
            "machine": machine(),
            "postgres": await database.version(url),
            "database": where,
            "setup_seconds": setup_seconds,
            "loaded": {"rows": loaded["rows"], "seconds": loaded["seconds"]},
            "shown": shown,
            "cases": reads | posts,
            "one_conversation": {"id": str(one), **posted},
        }
    finally:
        if proc is not None:
            await server.stop(proc)
        if opts.keep:
            progress(f"bench-talk: kept {NAME} ({url})")
        else:
            await database.drop(server_url, NAME)


async def _posted(url: str, org_id: UUID, one: UUID) -> dict[str, Any]:
    """The one conversation's numbers after the posts: gapless, as the row lock promises."""
    conn = await database.connect(url)
    try:
        row = await conn.fetchrow(
            "SELECT c.last_seq, count(m.*) AS messages, max(m.seq) AS top FROM conversations c "
            "JOIN conversation_messages m ON m.org_id = c.org_id AND m.conversation_id = c.id "
            "WHERE c.org_id = $1 AND c.id = $2 GROUP BY c.last_seq",
            org_id,
            one,
        )
    finally:
        await conn.close()
    assert row is not None
    return {
        "last_seq": row["last_seq"],
        "messages": row["messages"],
        "gapless": row["messages"] == row["top"],
    }


def collect(opts: Options) -> dict[str, Any]:
    return asyncio.run(_collect(opts))


def failed(result: dict[str, Any]) -> list[str]:
    """The cases with answers outside 2xx or socket errors: not results."""
    return [n for n, c in result["cases"].items() if c["non_2xx"] or c["socket_errors"]]


def table(result: dict[str, Any]) -> str:
    o, rows = result["options"], result["loaded"]["rows"]
    lines = [
        f"Conversations: {rows['conversations']:,} of {o['messages']} messages ({rows['messages']:,}) "
        f"over {o['accounts']} accounts, {rows['notifications']:,} notifications in the rep's inbox "
        f"({rows['unread_notifications']:,} unread); {o['connections']} connections, {o['workers']} "
        f"server process(es), medians of {o['runs']} x {o['seconds']} s (PostgreSQL {result['postgres']}, "
        f"{result['machine']['cores']} cores)",
        f"setup {result['setup_seconds']} s (of it in SQL: {result['loaded']['seconds']})",
        "",
        f"{'case':9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'requests':>9} {'non-2xx':>8} "
        f"{'errors':>7}  request",
    ]
    for name, c in result["cases"].items():
        request, threshold = REQUESTS[name]
        mark = f"  (p95 over {threshold:.0f} ms)" if c["p95_ms"] > threshold else ""
        lines.append(
            f"{name:9} {c['req_per_s']:>8} {c['p50_ms']:>8} {c['p95_ms']:>8} {c['p99_ms']:>8} "
            f"{c['requests']:>9,} {c['non_2xx']:>8} {c['socket_errors']:>7}  {request}{mark}"
        )
    one = result["one_conversation"]
    lines.append(
        f"the one conversation: {one['messages']:,} messages after the posts, last_seq {one['last_seq']}, "
        f"{'gapless' if one['gapless'] else 'WITH GAPS'}"
    )
    bad = failed(result)
    if bad:
        lines.append(f"NOT A RESULT: answers outside 2xx or socket errors in {', '.join(bad)}")
    else:
        lines.append("every answer 2xx, no socket errors")
    return "\n".join(lines)


def write(result: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "talk.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    return path
