"""ERP documents pushed by number: invoices, credit notes, back orders and payments.

Each record is validated and its figures checked on its own (`totals`), its account found by
debtor code and its allocations' invoices by number. What it hashes to decides whether it
changed: the head (the scalar fields), the lines and the allocations each have a sha-256 digest
in `fingerprint`, so a replayed record writes nothing and a changed one knows which part
changed. Changed documents are staged with COPY and written set-based, with their lines,
allocations, history rows and events, as the debtor feed writes accounts; the balances of the
accounts whose invoices changed are summed again in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic_core import to_json
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.documents import totals
from crmapi.documents.schemas import RECORDS, BackOrderRecord, PaymentRecord
from crmapi.integrations import feed
from crmapi.integrations.feed import Batch, at
from crmapi.kit.errors import FieldError
from crmapi.kit.garbage import quiet_gc
from crmapi.kit.ids import new_id
from crmapi.kit.logs import request_id_var

# The scalar columns a record sets, in staging order (history compares them field by field).
HEAD = (
    "account_id",
    "status",
    "issued_on",
    "due_on",
    "currency",
    "net",
    "tax",
    "gross",
    "outstanding",
    "method",
    "reference",
    "sales_order_number",
    "sales_order_id",
)
_TYPES = {
    "account_id": "uuid",
    "issued_on": "date",
    "due_on": "date",
    "currency": "char(3)",
    "net": "numeric(19,4)",
    "tax": "numeric(19,4)",
    "gross": "numeric(19,4)",
    "outstanding": "numeric(19,4)",
    "sales_order_id": "uuid",
}
STAGE = "erp_documents"
LINES = "erp_document_lines"
ALLOCATIONS = "erp_document_allocations"
_STAGING = {
    "ord": "integer",
    "id": "uuid",
    "is_new": "boolean",
    "number": "text",
    **{name: _TYPES.get(name, "text") for name in HEAD},
    "line_count": "integer",
    "fingerprint": "bytea",
    "raw_digest": "bytea",
    "changes": "jsonb",
    "lines_changed": "boolean",
    "allocations_changed": "boolean",
}
_LINE_COLUMNS = (
    "document_id",
    "position",
    "product_code",
    "description",
    "quantity",
    "quantity_outstanding",
    "unit_price",
    "net",
    "tax",
)
_LINE_TYPES = (
    "uuid",
    "integer",
    "text",
    "text",
    "numeric(19,4)",
    "numeric(19,4)",
    "numeric(19,4)",
    "numeric(19,4)",
    "numeric(19,4)",
)
_ALLOCATION_COLUMNS = ("document_id", "invoice_id", "amount")
_ALLOCATION_TYPES = ("uuid", "uuid", "numeric(19,4)")
DIGEST = 32  # bytes of each of the fingerprint's three parts


@dataclass
class Staged:
    """A record ready to write: its head values, lines and allocations as rows."""

    index: int
    number: str
    id: UUID
    head: dict[str, Any]
    lines: list[tuple[Any, ...]]
    allocations: list[tuple[UUID, Decimal]]
    fingerprint: bytes
    raw: bytes


FOUR_PLACES = Decimal("0.0001")


def _digest(rows: Iterable[Iterable[Any]]) -> bytes:
    """sha-256 of the values, row by row, each spelled canonically: amounts to four places ("37.5"
    and "37.50" are one amount, so a replay spelling it differently is unchanged), the rest by
    `repr` (None, text and numbers stay apart); a unit separator between values, a record
    separator between rows. Written inline: a function call per value was a third of its cost."""
    four = FOUR_PLACES
    text = "\x1e".join(
        ["\x1f".join([str(v.quantize(four)) if type(v) is Decimal else repr(v) for v in row]) for row in rows]
    )
    return hashlib.sha256(text.encode()).digest()


async def push(session: AsyncSession, actor: Actor, kind: str, records: list[Any]) -> dict[str, Any]:
    """Upsert the documents of one kind by number; every record is answered on its own, in the
    order sent."""
    conn = await feed.driver(session)
    raw = [hashlib.sha256(to_json(r)).digest() if isinstance(r, dict) else b"" for r in records]
    existing = await _locked(conn, actor, kind, records)
    batch = feed.parse(records, RECORDS[kind], key="number", unchanged=_replayed(records, raw, existing))
    figures = _figured(batch)
    accounts = await _accounts(conn, actor, batch)
    invoices = await _invoices(conn, actor, batch, accounts)
    orders = await _orders(conn, actor, batch)
    with quiet_gc():
        staged = [
            _staged(index, record, figures[index], accounts, invoices, orders, raw[index])
            for index, record in batch.valid
        ]
    written = await _write(conn, actor, kind, staged, existing) if staged else []
    touched = {s.head["account_id"] for s in staged} | {
        row["account_id"] for s in staged if (row := existing.get(s.number)) is not None
    }
    if kind == "invoice" and written:
        await _rebalance(conn, actor, sorted(touched))
    return feed.outcomes(batch, [(s.index, s.number, _id(s, existing)) for s in staged], written)


async def _locked(conn: Any, actor: Actor, kind: str, records: list[Any]) -> dict[str, Any]:
    """The stored documents the records' numbers name, locked in id order (two pushes naming the
    same documents take turns instead of deadlocking), by number."""
    numbers = {n.strip() for r in records if isinstance(r, dict) and isinstance(n := r.get("number"), str)}
    rows = await conn.fetch(
        f"SELECT id, number, fingerprint, raw_digest, line_count, {', '.join(HEAD)} FROM documents "
        "WHERE org_id = $1 AND kind = $2 AND number = ANY($3::text[]) ORDER BY id FOR UPDATE",
        actor.org_id,
        kind,
        sorted(numbers),
    )
    return {row["number"]: row for row in rows}


def _replayed(records: list[Any], raw: list[bytes], existing: dict[str, Any]) -> dict[int, tuple[str, UUID]]:
    """Records sent byte for byte as their document was last written: unchanged, with no need to
    validate them again (they were valid then; their account and invoices do not go away). Not
    one naming a sales order, which the CRM may have linked since, nor a number sent twice."""
    seen: set[str] = set()
    found = {}
    for index, record in enumerate(records):
        number = record.get("number") if isinstance(record, dict) else None
        if not isinstance(number, str) or number.strip() in seen:
            continue
        seen.add(number.strip())
        row = existing.get(number)
        if row is not None and row["raw_digest"] == raw[index] and "sales_order_number" not in record:
            found[index] = (number, row["id"])
    return found


def _id(staged: Staged, existing: dict[str, Any]) -> UUID:
    row = existing.get(staged.number)
    return row["id"] if row is not None else staged.id


def _figured(batch: Batch[Any]) -> dict[int, totals.Figures]:
    found, valid = {}, []
    for index, record in batch.valid:
        result = totals.figures(index, record)
        if isinstance(result, list):
            batch.fail(index, record.number, "totals-mismatch", result)
            continue
        found[index] = result
        valid.append((index, record))
    batch.valid = valid
    return found


async def _accounts(conn: Any, actor: Actor, batch: Batch[Any]) -> dict[str, UUID]:
    """The live accounts the records' debtor codes name; an unknown code is its record's error."""
    codes = sorted({r.account_code for _, r in batch.valid})
    rows = await conn.fetch(
        "SELECT code, id FROM accounts WHERE org_id = $1 AND code = ANY($2::text[]) AND deleted_at IS NULL",
        actor.org_id,
        codes,
    )
    found = {row["code"]: row["id"] for row in rows}
    valid = []
    for index, record in batch.valid:
        if record.account_code not in found:
            message = f"No account has the debtor code '{record.account_code}'."
            batch.fail(
                index,
                record.number,
                "unknown-account",
                [FieldError(field=at(index, "account_code"), message=message)],
            )
            continue
        valid.append((index, record))
    batch.valid = valid
    return found


async def _invoices(conn: Any, actor: Actor, batch: Batch[Any], accounts: dict[str, UUID]) -> dict[str, UUID]:
    """The invoices the allocations name, by number; one that is not the record's account's
    invoice is its record's error."""
    numbers = sorted({a.invoice_number for _, r in batch.valid for a in getattr(r, "allocations", ())})
    if not numbers:
        return {}
    rows = await conn.fetch(
        "SELECT number, id, account_id FROM documents WHERE org_id = $1 AND kind = 'invoice' "
        "AND number = ANY($2::text[])",
        actor.org_id,
        numbers,
    )
    found = {row["number"]: row for row in rows}
    valid = []
    for index, record in batch.valid:
        account_id = accounts[record.account_code]
        unknown = [
            FieldError(
                field=at(index, "allocations", n, "invoice_number"),
                message=f"The account has no invoice '{a.invoice_number}'.",
            )
            for n, a in enumerate(getattr(record, "allocations", ()))
            if a.invoice_number not in found or found[a.invoice_number]["account_id"] != account_id
        ]
        if unknown:
            batch.fail(index, record.number, "unknown-invoice", unknown)
            continue
        valid.append((index, record))
    batch.valid = valid
    return {number: row["id"] for number, row in found.items()}


async def _orders(conn: Any, actor: Actor, batch: Batch[Any]) -> dict[str, UUID]:
    """The CRM's sales orders the records name by the ERP's order number (none: not placed here)."""
    numbers = sorted({n for _, r in batch.valid if (n := getattr(r, "sales_order_number", None))})
    if not numbers:
        return {}
    rows = await conn.fetch(
        "SELECT erp_number, id FROM sales_orders WHERE org_id = $1 AND erp_number = ANY($2::text[])",
        actor.org_id,
        numbers,
    )
    return {row["erp_number"]: row["id"] for row in rows}


def _staged(
    index: int,
    record: Any,
    figures: totals.Figures,
    accounts: dict[str, UUID],
    invoices: dict[str, UUID],
    orders: dict[str, UUID],
    raw: bytes,
) -> Staged:
    # Fields a kind lacks are read from the record's __dict__: pydantic answers a missing
    # attribute through its slow __getattr__, which was a tenth of this function's time.
    sent = record.__dict__
    order_number = sent.get("sales_order_number")
    if isinstance(record, PaymentRecord):
        issued_on, due_on = record.paid_on, None
    elif isinstance(record, BackOrderRecord):
        issued_on, due_on = record.ordered_on, record.expected_on
    else:
        issued_on, due_on = record.issued_on, sent.get("due_on")
    order_id = orders.get(order_number) if order_number else None
    head = {
        "account_id": accounts[record.account_code],
        "status": record.status or ("received" if isinstance(record, PaymentRecord) else "open"),
        "issued_on": issued_on,
        "due_on": due_on,
        "currency": record.currency,
        "net": figures.net,
        "tax": figures.tax,
        "gross": figures.gross,
        "outstanding": figures.outstanding,
        "method": sent.get("method"),
        "reference": record.reference,
        "sales_order_number": order_number,
        "sales_order_id": order_id,
    }
    record_id = new_id()
    lines = [
        (
            record_id,
            n,
            line.product_code,
            line.description,
            line.quantity,
            line.__dict__.get("quantity_outstanding"),
            line.unit_price,
            net,
            line.tax,
        )
        for n, (line, net) in enumerate(zip(sent.get("lines", ()), figures.line_nets, strict=True), 1)
    ]
    allocations = [(invoices[a.invoice_number], a.amount) for a in sent.get("allocations", ())]
    # The head as sent (the account by its code: the code names one account for good, and
    # spelling a UUID out cost more than the rest of the head), the order link by its id.
    said = (*(v for k, v in head.items() if k not in ("account_id", "sales_order_id")), record.account_code)
    fingerprint = (
        _digest([(*said, order_id and order_id.hex)])
        + _digest(line[2:] for line in lines)
        + _digest((invoice_id.hex, amount) for invoice_id, amount in allocations)
    )
    return Staged(index, record.number, record_id, head, lines, allocations, fingerprint, raw)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _changes(staged: Staged, old: Any) -> dict[str, Any]:
    """History's field changes: the head field by field, lines and allocations by count."""
    changes = {
        name: {"old": None if old is None else _jsonable(old[name]), "new": _jsonable(value)}
        for name, value in staged.head.items()
        if (old is None and value is not None) or (old is not None and old[name] != value)
    }
    parts = (("lines", len(staged.lines)), ("allocations", len(staged.allocations)))
    for n, (name, count) in enumerate(parts, 1):
        part = slice(n * DIGEST, (n + 1) * DIGEST)
        if old is None or bytes(old["fingerprint"])[part] != staged.fingerprint[part]:
            if old is None and not count:
                continue
            before = None if old is None else (old["line_count"] if name == "lines" else None)
            changes[name] = {"old": before, "new": count}
    return changes


async def _write(
    conn: Any, actor: Actor, kind: str, staged: list[Staged], existing: dict[str, Any]
) -> list[Any]:
    """Stage the changed records, lines and allocations with COPY and write them; answers the
    records created, updated, or that lost a race to create."""
    rows: list[tuple[Any, ...]] = []
    lines: list[tuple[Any, ...]] = []
    allocations: list[tuple[Any, ...]] = []
    for s in staged:
        old = existing.get(s.number)
        if old is not None and bytes(old["fingerprint"]) == s.fingerprint:
            continue
        record_id = s.id if old is None else old["id"]
        lines_changed = (
            old is None
            or bytes(old["fingerprint"])[DIGEST : 2 * DIGEST] != s.fingerprint[DIGEST : 2 * DIGEST]
        )
        allocations_changed = (
            old is None or bytes(old["fingerprint"])[2 * DIGEST :] != s.fingerprint[2 * DIGEST :]
        )
        rows.append(
            (
                s.index,
                record_id,
                old is None,
                s.number,
                *s.head.values(),
                len(s.lines),
                s.fingerprint,
                s.raw,
                json.dumps(_changes(s, old)),
                lines_changed,
                allocations_changed,
            )
        )
        if lines_changed:
            lines.extend((record_id, *line[1:]) for line in s.lines)
        if allocations_changed:
            allocations.extend((record_id, invoice_id, amount) for invoice_id, amount in s.allocations)
    if not rows:
        return []
    await feed.stage(conn, STAGE, _STAGING, rows)
    await feed.stage(conn, LINES, dict(zip(_LINE_COLUMNS, _LINE_TYPES, strict=True)), lines)
    await feed.stage(
        conn, ALLOCATIONS, dict(zip(_ALLOCATION_COLUMNS, _ALLOCATION_TYPES, strict=True)), allocations
    )
    now = datetime.now(UTC)
    result = await conn.fetch(
        _STATEMENT, actor.org_id, now, actor.member_id, actor.api_key_id, request_id_var.get(), kind
    )
    await conn.execute(_DETAILS_GONE, actor.org_id)
    await conn.execute(_DETAILS_NEW, actor.org_id)
    await feed.unstage(conn, STAGE, LINES, ALLOCATIONS)
    return list(result)


_SETS = ", ".join(f"{name} = s.{name}" for name in (*HEAD, "line_count", "fingerprint", "raw_digest"))
_ACTION = "CASE WHEN s.is_new THEN 'created' ELSE 'updated' END"
_STATEMENT = f"""
WITH inserted AS (
    INSERT INTO documents (org_id, id, kind, number, {", ".join(HEAD)}, line_count, fingerprint,
        raw_digest, created_at, updated_at, version)
    SELECT $1, s.id, $6, s.number, {", ".join(f"s.{name}" for name in HEAD)}, s.line_count, s.fingerprint,
        s.raw_digest, $2, $2, 1
    FROM {STAGE} s WHERE s.is_new
    ON CONFLICT (org_id, kind, number) DO NOTHING
    RETURNING id, version
),
updated AS (
    UPDATE documents d SET {_SETS}, version = d.version + 1, updated_at = $2
    FROM {STAGE} s WHERE d.org_id = $1 AND d.id = s.id AND NOT s.is_new
    RETURNING d.id, d.version
),
written AS (SELECT id, version FROM inserted UNION ALL SELECT id, version FROM updated),
history_rows AS (
    INSERT INTO history
        (org_id, id, entity, entity_id, at, actor_member_id, actor_api_key_id, request_id, action, changes)
    SELECT $1, crmapi_uuid7(), $6, s.id, $2, $3, $4, $5, {_ACTION}, s.changes
    FROM {STAGE} s JOIN written w ON w.id = s.id
),
events AS (
    INSERT INTO outbox (org_id, id, topic, entity, entity_id, payload, created_at, attempts, actor_member_id)
    SELECT $1, crmapi_uuid7(), $6 || '.' || {_ACTION}, $6, s.id,
        jsonb_build_object('version', w.version, 'action', {_ACTION}, 'source', 'erp',
            'number', s.number, 'account_id', s.account_id)
            || CASE WHEN s.is_new THEN '{{}}'::jsonb ELSE jsonb_build_object('fields', coalesce(
                (SELECT jsonb_agg(k ORDER BY k) FROM jsonb_object_keys(s.changes) AS k), '[]'::jsonb))
            END,
        $2, 0, $3
    FROM {STAGE} s JOIN written w ON w.id = s.id
)
SELECT s.ord, s.is_new, w.id IS NOT NULL AS written, false AS changed
FROM {STAGE} s LEFT JOIN written w ON w.id = s.id
"""
# The replaced lines and allocations of updated documents go first, in a statement of their own:
# an INSERT in the same statement would still meet the rows its sibling DELETE removes.
_DETAILS_GONE = f"""
WITH lines_gone AS (
    DELETE FROM document_lines l USING {STAGE} s
    WHERE l.org_id = $1 AND l.document_id = s.id AND NOT s.is_new AND s.lines_changed
)
DELETE FROM document_allocations a USING {STAGE} s
WHERE a.org_id = $1 AND a.document_id = s.id AND NOT s.is_new AND s.allocations_changed
"""
# Then those of the documents written (a record that lost a race to create has no row, and the
# join leaves its lines out).
_DETAILS_NEW = f"""
WITH lines_new AS (
    INSERT INTO document_lines (org_id, {", ".join(_LINE_COLUMNS)})
    SELECT $1, {", ".join(f"l.{c}" for c in _LINE_COLUMNS)}
    FROM {LINES} l JOIN documents d ON d.org_id = $1 AND d.id = l.document_id
)
INSERT INTO document_allocations (org_id, {", ".join(_ALLOCATION_COLUMNS)})
SELECT $1, {", ".join(f"a.{c}" for c in _ALLOCATION_COLUMNS)}
FROM {ALLOCATIONS} a JOIN documents d ON d.org_id = $1 AND d.id = a.document_id
"""


async def _rebalance(conn: Any, actor: Actor, account_ids: list[UUID]) -> None:
    """Sum the accounts' open invoices again, per currency, into `account_balances`."""
    await conn.execute(
        """
        INSERT INTO account_balances (org_id, account_id, currency, outstanding, oldest_due_on, updated_at)
        SELECT $1, d.account_id, d.currency, sum(d.outstanding), min(d.due_on), now()
        FROM documents d
        WHERE d.org_id = $1 AND d.account_id = ANY($2::uuid[]) AND d.kind = 'invoice' AND d.outstanding > 0
        GROUP BY d.account_id, d.currency ORDER BY d.account_id, d.currency
        ON CONFLICT (org_id, account_id, currency) DO UPDATE SET outstanding = EXCLUDED.outstanding,
            oldest_due_on = EXCLUDED.oldest_due_on, updated_at = EXCLUDED.updated_at
        """,
        actor.org_id,
        account_ids,
    )
    await conn.execute(
        """
        DELETE FROM account_balances b
        WHERE b.org_id = $1 AND b.account_id = ANY($2::uuid[]) AND NOT EXISTS (
            SELECT 1 FROM documents d WHERE d.org_id = $1 AND d.account_id = b.account_id
              AND d.kind = 'invoice' AND d.outstanding > 0 AND d.currency = b.currency)
        """,
        actor.org_id,
        account_ids,
    )
