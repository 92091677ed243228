"""Debtors pushed by an ERP: customer accounts upserted by their code, with their sales-rep codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Text, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.models import SalesRep
from crmapi.accounts import service as accounts
from crmapi.custom_fields import service as custom_fields
from crmapi.integrations import feed
from crmapi.integrations.feed import Batch, Column, created_only, same
from crmapi.integrations.schemas import DebtorRecord
from crmapi.kit import search
from crmapi.kit.errors import FieldError
from crmapi.kit.garbage import quiet_gc
from crmapi.kit.ids import new_id

# The record's fields and their bits in the staged `sent` mask (name is always sent).
_BITS = {
    "classification": 1,
    "credit_rating": 2,
    "credit_limit": 4,
    "payment_terms": 8,
    "payment_methods": 16,
    "price_level": 32,
    "status": 64,
    "custom": 128,
    "sales_rep_codes": 256,
}
_MONEY = (
    "CASE WHEN m.{v}credit_limit_amount IS NULL THEN NULL ELSE jsonb_build_object("
    "'amount', m.{v}credit_limit_amount::text, 'currency', m.{v}credit_limit_currency) END"
)

SPEC = feed.Spec(
    table="accounts",
    entity=accounts.ENTITY,
    stage="erp_debtors",
    conflict="(org_id, code) WHERE code IS NOT NULL",
    columns=(
        Column("name", "text"),
        Column("classification", "text", _BITS["classification"]),
        Column("credit_rating", "text", _BITS["credit_rating"]),
        Column("credit_limit_amount", "numeric(19, 4)", _BITS["credit_limit"]),
        Column("credit_limit_currency", "char(3)", _BITS["credit_limit"]),
        Column("payment_terms", "text", _BITS["payment_terms"]),
        Column("payment_methods", "text[]", _BITS["payment_methods"]),
        Column("price_level", "text", _BITS["price_level"]),
        Column("status", "text", _BITS["status"]),
        # Merged key by key; a null value removes its key.
        Column(
            "custom",
            "text",
            _BITS["custom"],
            merge="jsonb_strip_nulls(coalesce(o.custom, '{}') || s.custom::jsonb)",
        ),
        Column("sales_rep_codes", "text[]", _BITS["sales_rep_codes"], stored=False),
    ),
    history=(
        same("name"),
        created_only("code", "m.code"),
        created_only("number", "m.number"),
        same("classification"),
        same("credit_rating"),
        ("credit_limit", _MONEY.format(v="old_"), _MONEY.format(v="new_")),
        same("payment_terms"),
        same("payment_methods"),
        same("price_level"),
        same("status"),
        same("custom"),
        same("sales_rep_codes"),
    ),
    current="""
        SELECT a.name, a.classification, a.credit_rating, a.credit_limit_amount,
            a.credit_limit_currency, a.payment_terms, a.payment_methods, a.price_level, a.status,
            a.custom, a.deleted_at,
            coalesce((SELECT array_agg(r.sales_rep_code ORDER BY r.sales_rep_code COLLATE "C")
                      FROM account_sales_reps r WHERE r.org_id = $1 AND r.account_id = a.id),
                     '{}') AS sales_rep_codes
        FROM accounts a WHERE a.org_id = $1 AND a.id = s.id""",
    staged={"number": "bigint", "search_text": "text"},
    inserted={
        "number": "m.number",
        "search_text": "m.search_text",
        "is_retail_default": "false",
        "tags": "'{}'",
    },
    updated={"search_text": "coalesce(j.search_text, t.search_text)"},
    # The account's sales-rep links become the record's codes; personal assignments stay.
    extra=""",
links_gone AS (
    DELETE FROM account_sales_reps r USING judged j
    WHERE r.org_id = $1 AND r.account_id = j.id AND NOT j.is_new AND j.changes ? 'sales_rep_codes'
        AND r.sales_rep_code <> ALL (j.new_sales_rep_codes)
),
links_new AS (
    INSERT INTO account_sales_reps (org_id, id, account_id, sales_rep_code)
    SELECT $1, crmapi_uuid7(), j.id, c.code
    FROM judged j JOIN written w ON w.id = j.id CROSS JOIN LATERAL unnest(j.new_sales_rep_codes) AS c(code)
    WHERE c.code <> ALL (coalesce(j.old_sales_rep_codes, '{}'))
)""",
    restores=True,
)


async def push(session: AsyncSession, actor: Actor, records: list[Any]) -> dict[str, Any]:
    """Upsert the debtors by code; every record is answered on its own, in the order sent."""
    batch = feed.parse(records, DebtorRecord)
    conn = await feed.driver(session)
    await _known_sales_reps(session, batch)
    codes = [r.code for _, r in batch.valid]
    existing = {
        row["code"]: row
        for row in await feed.lock_existing(
            conn, actor, SPEC, "id, code, number, name, classification", codes
        )
    }
    custom = await _checked_custom(session, actor, batch, existing)
    new = [r for _, r in batch.valid if r.code not in existing]
    numbers = iter(await accounts.next_numbers(session, actor.org_id, "account", len(new)) if new else ())
    currency = await accounts.org_currency(session, actor) if _needs_currency(batch) else None
    rows, staged = [], []
    with quiet_gc():
        for index, record in batch.valid:
            current = existing.get(record.code)
            number = current["number"] if current else next(numbers)
            record_id = current["id"] if current else new_id()
            text = _search_text(record, current, number)
            row = _row(record, current, currency, custom.get(index, {}))
            rows.append((index, record_id, current is None, *row, number, text))
            staged.append((index, record.code, record_id))
    written = await feed.write(conn, actor, SPEC, rows, datetime.now(UTC)) if rows else []
    return feed.outcomes(batch, staged, written)


def _search_text(record: DebtorRecord, current: Any, number: int) -> str | None:
    """The account's search text, or None where its parts (name, classification) stay as they are."""
    classification = record.classification
    if current is not None:
        if "classification" not in record.model_fields_set:
            classification = current["classification"]
        if (record.name, classification) == (current["name"], current["classification"]):
            return None
    return search.search_text(record.name, str(number), record.code, classification)


def _row(record: DebtorRecord, current: Any, currency: str | None, custom: dict[str, Any]) -> tuple[Any, ...]:
    """The staged values from `sent` to `sales_rep_codes` (a new account's defaults where the
    record leaves a field out)."""
    mask = feed.sent_mask(_BITS, record, current is None)
    limit = record.credit_limit
    return (
        mask,
        record.code,
        record.name,
        record.classification,
        record.credit_rating,
        limit.amount if limit else None,
        (limit.currency or currency) if limit else None,
        record.payment_terms,
        record.payment_methods or [],
        record.price_level,
        record.status or "active",
        json.dumps(custom),
        sorted(set(record.sales_rep_codes or [])),
    )


async def _known_sales_reps(session: AsyncSession, batch: Batch[DebtorRecord]) -> None:
    """A code no sales-rep record has is its record's error (inactive records count: an ERP may
    push a rep's accounts before the CRM makes the rep active)."""
    wanted = sorted({c for _, r in batch.valid for c in r.sales_rep_codes or []})
    if not wanted:
        return
    codes = bindparam("codes", wanted, type_=ARRAY(Text))
    known = set((await session.execute(select(SalesRep.code).where(SalesRep.code == any_(codes)))).scalars())
    valid = []
    for index, record in batch.valid:
        unknown = [
            FieldError(
                field=feed.at(index, "sales_rep_codes", i),
                message=f"No sales-rep record has the code '{code}'.",
            )
            for i, code in enumerate(record.sales_rep_codes or [])
            if code not in known
        ]
        if unknown:
            batch.fail(index, record.code, "unknown-sales-rep", unknown)
        else:
            valid.append((index, record))
    batch.valid = valid


async def _checked_custom(
    session: AsyncSession, actor: Actor, batch: Batch[DebtorRecord], existing: dict[str, Any]
) -> dict[int, dict[str, Any]]:
    """Each record's custom values as stored (one query for the definitions), by index; a null
    removes its key from an existing account. A new account needs the required ones."""
    definitions = await custom_fields.definitions(session, actor, accounts.ENTITY)
    if not definitions and not any(r.custom for _, r in batch.valid):
        return {}
    valid, custom = [], {}
    for index, record in batch.valid:
        creating = record.code not in existing
        values, errors = custom_fields.check_values(
            definitions,
            accounts.ENTITY,
            record.custom or {},
            creating=creating,
            field=feed.at(index, "custom"),
        )
        if errors:
            batch.fail(index, record.code, "invalid", errors)
            continue
        custom[index] = {k: v for k, v in values.items() if v is not None} if creating else values
        valid.append((index, record))
    batch.valid = valid
    return custom


def _needs_currency(batch: Batch[DebtorRecord]) -> bool:
    """A credit limit came without its currency: the organisation's is used."""
    return any(r.credit_limit and not r.credit_limit.currency for _, r in batch.valid)
