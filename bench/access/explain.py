"""EXPLAIN (ANALYZE, BUFFERS) of a list exactly as the app issues it.

The list handler (`accounts.router.listed`, `contacts.router._list`) runs in process as crmapi_app
for an Actor made by `_member_actor`, with the organisation bound as every request binds it
(`bind_org`, then `set_config('app.org_id', ..., true)` in the transaction). The statement and
parameters the driver receives are caught on their way out and explained on the same connection,
in the same transaction, so row-level security and the parameters are the request's own.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench.access.load import Member
from crmapi.access.dependencies import _member_actor
from crmapi.access.policy import PolicyCache
from crmapi.accounts import router as account_router
from crmapi.accounts.schemas import AccountListQuery
from crmapi.contacts import router as contact_router
from crmapi.contacts.schemas import ContactListQuery
from crmapi.kit.pagination import Cursors

# The big tables a scope reads; a sequential scan of any of them means the scope is not indexed.
# account_assignments is left out: it holds a customer's handful of rows here, and reading a
# table of one page whole is what the planner should do.
SCOPE_TABLES = {
    "accounts": ("accounts", "account_sales_reps"),
    "contacts": ("contacts", "accounts", "account_contacts", "account_sales_reps"),
}
EXPLAINS = 3  # the first may read from disk; the median execution time is reported


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def verdict(kind: str, plan: dict[str, Any]) -> dict[str, Any]:
    """Which scans touch the scope's tables, and whether all of them go through an index."""
    scans = []
    for node in _nodes(plan["Plan"]):
        relation = node.get("Relation Name")
        if relation in SCOPE_TABLES[kind]:
            # A bitmap heap scan names no index; the bitmap index scans below it do.
            below = [str(n["Index Name"]) for n in _nodes(node) if n.get("Index Name")]
            scans.append(
                {
                    "node": node["Node Type"],
                    "relation": relation,
                    "index": ", ".join(below) or None,
                    "rows": node.get("Actual Rows"),
                    "loops": node.get("Actual Loops"),
                }
            )
    sequential = [s for s in scans if s["node"] == "Seq Scan"]
    return {"scans": scans, "uses_indexes": bool(scans) and not sequential, "sequential": sequential}


async def _issued(session: AsyncSession, engine: AsyncEngine, kind: str, actor: Any) -> tuple[str, Any]:
    """Run the list handler; return the page query it sent (the first SELECT with ORDER BY ... LIMIT)."""
    caught: list[tuple[str, Any]] = []

    def catch(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        caught.append((statement, parameters))

    request = cast(
        Any, SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(cursors=Cursors(b"k" * 32))))
    )
    event.listen(engine.sync_engine, "before_cursor_execute", catch)
    try:
        if kind == "accounts":
            await account_router.listed(request, session, actor, AccountListQuery(limit=50))
        else:
            await contact_router._list(request, session, actor, ContactListQuery(limit=50))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", catch)
    for statement, parameters in caught:
        if (
            statement.lstrip().upper().startswith("SELECT")
            and "ORDER BY" in statement
            and "LIMIT" in statement
        ):
            return statement, parameters
    raise RuntimeError(f"the {kind} list issued no paged SELECT: {[s for s, _ in caught]}")


async def explain(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], m: Member, kinds: tuple[str, ...]
) -> dict[str, Any]:
    """Per list kind: the SQL, the JSON and text plans, execution times, the index verdict."""
    out: dict[str, Any] = {}
    async with sessions() as session:
        actor = await _member_actor(session, PolicyCache(), m.org_id, m.member_id, m.session_id)
        for kind in kinds:
            statement, parameters = await _issued(session, engine, kind, actor)
            conn = await session.connection()
            times, plan = [], {}
            for _ in range(EXPLAINS):
                raw = (
                    await conn.exec_driver_sql(
                        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters
                    )
                ).scalar_one()
                plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]
                times.append(plan["Execution Time"])
            text = (
                await conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            ).scalars()
            out[kind] = {
                "sql": statement,
                "parameters": [str(p) for p in parameters],
                "execution_ms": statistics.median(times),
                "planning_ms": plan["Planning Time"],
                "plan_text": list(text),
                "plan": plan,
                **verdict(kind, plan),
            }
        await session.rollback()
    return out
