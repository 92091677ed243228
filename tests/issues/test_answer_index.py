"""Filtering a type's issues by a select answer is found through the answers' GIN index, not by
reading every issue of the organisation, and pages by keyset."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from crmapi.access.actor import Actor
from crmapi.issues import queries
from crmapi.issues.models import Issue
from crmapi.kit.db import libpq_dsn
from crmapi.kit.ids import new_id

ROWS = 30_000


@pytest.fixture
async def owner(owner_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(libpq_dsn(owner_url))
    yield conn
    await conn.close()


async def test_a_select_answer_filter_reads_the_answers_index(owner: asyncpg.Connection) -> None:
    org, kind = new_id(), new_id()
    admin = Actor(org_id=org, kind="staff", member_id=new_id(), capabilities=frozenset({"org.admin"}))
    conditions = queries.answer_conditions({"terms": "select"}, {"terms": "NET5"})
    stmt = (
        queries.readable(admin)
        .where(Issue.type_id == kind, *conditions)
        .order_by(Issue.created_at.desc(), Issue.id.desc())
        .limit(51)
    )
    compiled = stmt.compile(dialect=asyncpg_dialect())
    params = [compiled.params[name] for name in compiled.positiontup or ()]
    params = [json.dumps(p) if isinstance(p, dict) else p for p in params]
    work = owner.transaction()
    await work.start()
    try:
        await owner.execute("SET LOCAL session_replication_role = replica")  # no foreign keys to fill
        # 30,000 issues of five types, a type's "terms" answered with one of 40 codes.
        await owner.execute(
            "INSERT INTO issues (org_id, id, number, type_id, form_version, status_id, state, account_id,"
            " subject, priority, answers, filed_by_customer, logged_minutes, start_at, search_text,"
            " created_at, updated_at, version)"
            " SELECT $1, gen_random_uuid(), n, CASE WHEN n % 5 = 0 THEN $2 ELSE gen_random_uuid() END, 1,"
            " gen_random_uuid(), 'open', gen_random_uuid(), 'Credit', 5,"
            " jsonb_build_object('terms', 'NET' || (n % 40), 'limit', n), false, 0, now(), '',"
            " now() - n * interval '1 minute', now(), 1 FROM generate_series(1, $3) AS n",
            org,
            kind,
            ROWS,
        )
        await owner.execute("ANALYZE issues")
        plan = "\n".join(r[0] for r in await owner.fetch(f"EXPLAIN {compiled}", *params))
    finally:
        await work.rollback()
    assert "ix_issues_answers" in plan, plan
    assert "Seq Scan on issues" not in plan, plan
