"""The document pushes' writes in SQL alone: what a database engineer would write by hand.

COPY the documents, their lines and their allocations into three temporary tables; find each
record's account by debtor code, its current row by number and each allocation's invoice by
number (one index probe per row, so no plan rests on the statistics of tables the run has just
filled); then one statement: `INSERT ... ON CONFLICT (org_id, kind, number) DO UPDATE ... WHERE`
the fingerprint differs, on documents (a line's net and a payment's unallocated amount computed in
SQL, the fingerprint a sha-256 of the staged record), the lines and allocations of the documents
written, a history row (the changed fields, old and new) and an outbox row for each. Then, for
invoices, the touched accounts' balances summed again as the API does. No per-record validation,
no check that the totals add up, no answer per record: the floor the API is compared with. A
replayed batch hashes the same and writes nothing.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from crmapi.documents.push import HEAD

DOCUMENTS = {
    "number": "text",
    "account_code": "text",
    "status": "text",
    "issued_on": "date",
    "due_on": "date",
    "currency": "char(3)",
    "net": "numeric(19, 4)",
    "tax": "numeric(19, 4)",
    "gross": "numeric(19, 4)",
    "outstanding": "numeric(19, 4)",  # null for a payment: its amount less what it allocates
    "method": "text",
    "reference": "text",
}
LINES = {
    "number": "text",
    "position": "integer",
    "product_code": "text",
    "description": "text",
    "quantity": "numeric(19, 4)",
    "unit_price": "numeric(19, 4)",
    "tax": "numeric(19, 4)",
}
ALLOCATIONS = {"number": "text", "invoice_number": "text", "amount": "numeric(19, 4)"}
# Besides what is copied: what the probes find.
_FOUND: dict[str, dict[str, str]] = {
    "trading_docs": {"account_id": "uuid", "old_doc": "jsonb"},
    "trading_lines": {},
    "trading_allocations": {"invoice_id": "uuid"},
}
_STAGES = {"trading_docs": DOCUMENTS, "trading_lines": LINES, "trading_allocations": ALLOCATIONS}

# The head a history row compares, as the API's (sales orders left out: none are named).
_HEAD = tuple(name for name in HEAD if not name.startswith("sales_order"))
_TEXT = {"account_id", "net", "tax", "gross", "outstanding"}  # as text in history, as the API writes them


def _doc(alias: str) -> str:
    """A document's head and line count as JSON, for history."""
    fields = ", ".join(f"'{c}', {alias}.{c}::text" if c in _TEXT else f"'{c}', {alias}.{c}" for c in _HEAD)
    return f"jsonb_build_object({fields}, 'lines', nullif({alias}.line_count, 0))"


_FIND_DOCUMENTS = f"""
UPDATE trading_docs s SET
    account_id = (SELECT a.id FROM accounts a
        WHERE a.org_id = $1 AND a.code IS NOT NULL AND a.code = s.account_code AND a.deleted_at IS NULL),
    old_doc = (SELECT {_doc("d")} FROM documents d
        WHERE d.org_id = $1 AND d.kind = $2 AND d.number = s.number)
"""
_FIND_INVOICES = """
UPDATE trading_allocations s SET invoice_id = (SELECT i.id FROM documents i
    WHERE i.org_id = $1 AND i.kind = 'invoice' AND i.number = s.invoice_number)
"""

_STATEMENT = f"""
WITH lines_of AS (
    SELECT l.number, count(*) AS n, string_agg(concat_ws(',', l.position, l.product_code, l.description,
        l.quantity, l.unit_price, l.tax), ';' ORDER BY l.position) AS text
    FROM trading_lines l GROUP BY l.number
),
allocations_of AS (
    SELECT a.number, sum(a.amount) AS total,
        string_agg(a.invoice_number || ',' || a.amount, ';' ORDER BY a.invoice_number) AS text
    FROM trading_allocations a GROUP BY a.number
),
up AS (
    INSERT INTO documents AS d (org_id, id, kind, number, {", ".join(_HEAD)}, line_count, fingerprint,
        created_at, updated_at, version)
    SELECT $1, crmapi_uuid7(), $3, s.number, s.account_id, s.status, s.issued_on, s.due_on, s.currency, s.net,
        s.tax, s.gross, coalesce(s.outstanding, s.gross - coalesce(al.total, 0)), s.method, s.reference,
        coalesce(li.n, 0),
        sha256(convert_to(concat_ws('|', s.account_code, s.status, s.issued_on, s.due_on, s.currency, s.net,
            s.tax, s.gross, s.outstanding, s.method, s.reference, li.text, al.text), 'UTF8')),
        now(), now(), 1
    FROM trading_docs s
    LEFT JOIN lines_of li ON li.number = s.number
    LEFT JOIN allocations_of al ON al.number = s.number
    WHERE s.account_id IS NOT NULL
    ON CONFLICT (org_id, kind, number) DO UPDATE SET
        {", ".join(f"{c} = excluded.{c}" for c in (*_HEAD, "line_count", "fingerprint"))},
        version = d.version + 1, updated_at = now()
    WHERE d.fingerprint IS DISTINCT FROM excluded.fingerprint
    RETURNING d.*, xmax = 0 AS created
),
lines_gone AS (
    DELETE FROM document_lines l USING up
    WHERE l.org_id = $1 AND l.document_id = up.id AND l.position > up.line_count
),
lines_new AS (
    INSERT INTO document_lines AS l (org_id, document_id, position, product_code, description, quantity,
        unit_price, net, tax)
    SELECT $1, up.id, s.position, s.product_code, s.description, s.quantity, s.unit_price,
        round(s.quantity * s.unit_price, 2), s.tax
    FROM trading_lines s JOIN up ON up.number = s.number
    ON CONFLICT (org_id, document_id, position) DO UPDATE SET product_code = excluded.product_code,
        description = excluded.description, quantity = excluded.quantity, unit_price = excluded.unit_price,
        net = excluded.net, tax = excluded.tax
),
allocations_gone AS (
    DELETE FROM document_allocations a USING up
    WHERE a.org_id = $1 AND a.document_id = up.id AND NOT EXISTS (
        SELECT 1 FROM trading_allocations s WHERE s.number = up.number AND s.invoice_id = a.invoice_id)
),
allocations_new AS (
    INSERT INTO document_allocations (org_id, document_id, invoice_id, amount)
    SELECT $1, up.id, s.invoice_id, s.amount
    FROM trading_allocations s JOIN up ON up.number = s.number
    WHERE s.invoice_id IS NOT NULL
    ON CONFLICT (org_id, document_id, invoice_id) DO UPDATE SET amount = excluded.amount
),
history_rows AS (
    INSERT INTO history (org_id, id, entity, entity_id, at, actor_api_key_id, action, changes)
    SELECT $1, crmapi_uuid7(), $3, up.id, now(), $2, CASE WHEN up.created THEN 'created' ELSE 'updated' END,
        (SELECT coalesce(jsonb_object_agg(k.key,
            jsonb_build_object('old', s.old_doc -> k.key, 'new', k.value)), '{{}}')
         FROM jsonb_each({_doc("up")}) AS k
         WHERE k.value IS DISTINCT FROM coalesce(s.old_doc -> k.key, 'null'::jsonb))
    FROM trading_docs s JOIN up ON up.number = s.number
),
events AS (
    INSERT INTO outbox (org_id, id, topic, entity, entity_id, payload, created_at, attempts)
    SELECT $1, crmapi_uuid7(), $3 || '.' || CASE WHEN up.created THEN 'created' ELSE 'updated' END, $3, up.id,
        jsonb_build_object('version', up.version, 'source', 'erp', 'number', up.number,
            'account_id', up.account_id), now(), 0
    FROM up
)
SELECT up.account_id, up.created FROM up
"""

# The API's own (`crmapi.documents.push._rebalance`): the touched accounts' open invoices summed
# per currency, and the balances of those left owing nothing removed.
_BALANCES = """
INSERT INTO account_balances (org_id, account_id, currency, outstanding, oldest_due_on, updated_at)
SELECT $1, d.account_id, d.currency, sum(d.outstanding), min(d.due_on), now()
FROM documents d
WHERE d.org_id = $1 AND d.account_id = ANY($2::uuid[]) AND d.kind = 'invoice' AND d.outstanding > 0
GROUP BY d.account_id, d.currency ORDER BY d.account_id, d.currency
ON CONFLICT (org_id, account_id, currency) DO UPDATE SET outstanding = EXCLUDED.outstanding,
    oldest_due_on = EXCLUDED.oldest_due_on, updated_at = EXCLUDED.updated_at
"""
_PAID_UP = """
DELETE FROM account_balances b
WHERE b.org_id = $1 AND b.account_id = ANY($2::uuid[]) AND NOT EXISTS (
    SELECT 1 FROM documents d WHERE d.org_id = $1 AND d.account_id = b.account_id
      AND d.kind = 'invoice' AND d.outstanding > 0 AND d.currency = b.currency)
"""


async def push(
    conn: asyncpg.Connection,
    org_id: UUID,
    key_id: UUID,
    kind: str,
    staged: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]],
) -> tuple[int, int]:
    """Write one kind's documents, lines and allocations (rows in DOCUMENTS, LINES and
    ALLOCATIONS order); answers how many documents were created and updated."""
    async with conn.transaction():
        await conn.execute(f"SELECT set_config('app.org_id', '{org_id}', true)")
        await conn.execute("SET LOCAL jit = off")  # as the API does: compiling took longer than running
        for (table, columns), rows in zip(_STAGES.items(), staged, strict=True):
            every = {**columns, **_FOUND[table]}
            definition = ", ".join(f"{name} {type_}" for name, type_ in every.items())
            await conn.execute(f"CREATE TEMP TABLE {table} ({definition}) ON COMMIT DROP")
            if rows:
                await conn.copy_records_to_table(table, records=rows, columns=list(columns))
        await conn.execute(_FIND_DOCUMENTS, org_id, kind)
        await conn.execute(_FIND_INVOICES, org_id)
        for table in _STAGES:
            await conn.execute(f"ANALYZE {table}")
        written = await conn.fetch(_STATEMENT, org_id, key_id, kind)
        accounts = sorted({row["account_id"] for row in written})
        if kind == "invoice" and accounts:
            await conn.execute(_BALANCES, org_id, accounts)
            await conn.execute(_PAID_UP, org_id, accounts)
    created = sum(1 for row in written if row["created"])
    return created, len(written) - created
