"""The ERP feed's writes in SQL alone: what a database engineer would write by hand.

COPY into a temporary table, then one statement: `INSERT ... ON CONFLICT DO UPDATE ... WHERE
(...) IS DISTINCT FROM (...)` on accounts, the sales-rep links replaced, and a history row (the
changed fields, old and new) and an outbox row for every account written. No per-record
validation, no merge of fields left out (every record carries every field), no answer per record:
the floor the API is compared with.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

COLUMNS = {
    "code": "text",
    "name": "text",
    "classification": "text",
    "credit_rating": "text",
    "credit_limit_amount": "numeric(19, 4)",
    "credit_limit_currency": "char(3)",
    "payment_terms": "text",
    "payment_methods": "text[]",
    "price_level": "text",
    "status": "text",
    "custom": "jsonb",
    "sales_rep_codes": "text[]",
}
_FIELDS = [c for c in COLUMNS if c not in ("code", "sales_rep_codes")]


def _doc(alias: str, codes: str) -> str:
    """The history view of a row: the fields an ERP sends, as JSON."""
    plain = ", ".join(f"'{c}', {alias}.{c}" for c in _FIELDS if not c.startswith("credit_limit"))
    money = (
        f"'credit_limit', CASE WHEN {alias}.credit_limit_amount IS NULL THEN NULL ELSE jsonb_build_object("
        f"'amount', {alias}.credit_limit_amount::text, 'currency', {alias}.credit_limit_currency) END"
    )
    return f"jsonb_build_object({plain}, {money}, 'sales_rep_codes', {codes})"


_OLD_CODES = """coalesce((SELECT array_agg(r.sales_rep_code ORDER BY r.sales_rep_code COLLATE "C")
    FROM account_sales_reps r WHERE r.org_id = a.org_id AND r.account_id = a.id), '{}')"""

_STATEMENT = f"""
WITH old AS (
    SELECT a.id, a.code, {_doc("a", _OLD_CODES)} AS doc
    FROM accounts a JOIN erp_baseline s ON a.org_id = $1 AND a.code = s.code
),
counter AS (
    INSERT INTO counters (org_id, id, name, value)
    VALUES ($1, gen_random_uuid(), 'account', (SELECT count(*) FROM erp_baseline))
    ON CONFLICT (org_id, name) DO UPDATE SET value = counters.value + excluded.value
    RETURNING value - (SELECT count(*) FROM erp_baseline) AS first
),
up AS (
    INSERT INTO accounts AS a (org_id, id, number, code, {", ".join(_FIELDS)},
        is_retail_default, tags, search_text, created_at, updated_at, version)
    SELECT $1, gen_random_uuid(), (SELECT first FROM counter) + row_number() OVER (), s.code,
        {", ".join(f"s.{c}" for c in _FIELDS)}, false, '{{}}',
        lower(concat_ws(' ', s.name, s.code, s.classification)), now(), now(), 1
    FROM erp_baseline s
    ON CONFLICT (org_id, code) WHERE code IS NOT NULL DO UPDATE SET
        {", ".join(f"{c} = excluded.{c}" for c in _FIELDS)},
        search_text = lower(concat_ws(' ', excluded.name, a.number, excluded.code, excluded.classification)),
        deleted_at = NULL, version = a.version + 1, updated_at = now()
    WHERE ({", ".join(f"a.{c}" for c in _FIELDS)}, a.deleted_at)
        IS DISTINCT FROM ({", ".join(f"excluded.{c}" for c in _FIELDS)}, NULL)
    RETURNING a.id, a.code, a.version, xmax = 0 AS created
),
new AS (SELECT s.code, s.sales_rep_codes, {_doc("s", "s.sales_rep_codes")} AS doc FROM erp_baseline s),
links_gone AS (
    DELETE FROM account_sales_reps r USING up JOIN new n ON n.code = up.code
    WHERE r.org_id = $1 AND r.account_id = up.id AND r.sales_rep_code <> ALL (n.sales_rep_codes)
),
links_new AS (
    INSERT INTO account_sales_reps (org_id, id, account_id, sales_rep_code)
    SELECT $1, gen_random_uuid(), up.id, c.code
    FROM up JOIN new n ON n.code = up.code CROSS JOIN LATERAL unnest(n.sales_rep_codes) AS c(code)
    ON CONFLICT (org_id, account_id, sales_rep_code) DO NOTHING
),
history_rows AS (
    INSERT INTO history (org_id, id, entity, entity_id, at, actor_api_key_id, action, changes)
    SELECT $1, gen_random_uuid(), 'account', up.id, now(), $2,
        CASE WHEN up.created THEN 'created' ELSE 'updated' END,
        (SELECT coalesce(jsonb_object_agg(k.key, jsonb_build_object('old', o.doc -> k.key, 'new', k.value)),
            '{{}}') FROM jsonb_each(n.doc) AS k
         WHERE k.value IS DISTINCT FROM coalesce(o.doc -> k.key, 'null'::jsonb))
    FROM up JOIN new n ON n.code = up.code LEFT JOIN old o ON o.code = up.code
),
events AS (
    INSERT INTO outbox (org_id, id, topic, entity, entity_id, payload, created_at, attempts)
    SELECT $1, gen_random_uuid(), CASE WHEN up.created THEN 'account.created' ELSE 'account.updated' END,
        'account', up.id, jsonb_build_object('version', up.version), now(), 0
    FROM up
)
SELECT count(*) FILTER (WHERE created) AS created, count(*) FILTER (WHERE NOT created) AS updated FROM up
"""


async def push(
    conn: asyncpg.Connection, org_id: UUID, key_id: UUID, rows: list[tuple[Any, ...]]
) -> tuple[int, int]:
    """Write the rows (in COLUMNS order); answers how many accounts were created and updated."""
    async with conn.transaction():
        await conn.execute(f"SELECT set_config('app.org_id', '{org_id}', true)")
        definition = ", ".join(f"{name} {kind}" for name, kind in COLUMNS.items())
        await conn.execute(f"CREATE TEMP TABLE erp_baseline ({definition}) ON COMMIT DROP")
        await conn.copy_records_to_table("erp_baseline", records=rows, columns=list(COLUMNS))
        await conn.execute("ANALYZE erp_baseline")
        await conn.execute("SET LOCAL jit = off")  # as the API does: compiling took longer than running
        row = await conn.fetchrow(_STATEMENT, org_id, key_id)
    assert row is not None
    return int(row["created"]), int(row["updated"])
