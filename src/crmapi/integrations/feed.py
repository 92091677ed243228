"""What the ERP feeds share: records validated one by one, staged with COPY, merged set-based.

A push is a handful of round trips however many records it carries: lock the records the codes
name (in id order, so two pushes cannot deadlock), create a temporary staging table, COPY the
records into it, and one statement that merges them with the current rows, writes only the
changed ones with their history and outbox rows, and answers which record was created or
updated. A replayed record compares equal and writes nothing: no version bump, no history, no
event. The statements go to asyncpg directly: SQLAlchemy adds nothing to hand-written SQL but
the cost of a Row object per record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.kit.errors import FieldError
from crmapi.kit.garbage import quiet_gc
from crmapi.kit.logs import request_id_var

RecordT = TypeVar("RecordT", bound=BaseModel)


# --- one record at a time ---------------------------------------------------------------------


@dataclass
class Batch(Generic[RecordT]):
    """The records of a push: each valid one with its index, and every outcome decided so far."""

    outcomes: list[dict[str, Any] | None]
    valid: list[tuple[int, RecordT]] = field(default_factory=list)
    key: str = "code"  # the field records are upserted by, named in every outcome

    def fail(self, index: int, code: str | int | None, reason: str, errors: list[FieldError]) -> None:
        outcome: dict[str, Any] = {"index": index, "outcome": "error", "reason": reason}
        if code is not None:
            outcome[self.key] = code
        outcome["errors"] = [e.model_dump() for e in errors]
        self.outcomes[index] = outcome

    def decide(self, index: int, code: str | int, outcome: str, record_id: UUID) -> None:
        self.outcomes[index] = {"index": index, self.key: code, "outcome": outcome, "id": str(record_id)}

    def answer(self) -> dict[str, Any]:
        """Counts and every record's outcome, in the order sent (JSON-ready: ids as text)."""
        results = [o for o in self.outcomes if o is not None]
        assert len(results) == len(self.outcomes), "every record gets an outcome"
        counts = Counter(o["outcome"] for o in results)
        return {
            "created": counts["created"],
            "updated": counts["updated"],
            "unchanged": counts["unchanged"],
            "failed": counts["error"],
            "results": results,
        }


def sent_mask(bits: Mapping[str, int], record: BaseModel, new: bool) -> int:
    """The record's `sent` mask: the bits of the fields it sent; a new record takes every field
    (the staged defaults where it left one out)."""
    if new:
        return sum(bits.values())
    sent = record.model_fields_set
    return sum(bit for name, bit in bits.items() if name in sent)


def at(index: int, *path: str | int) -> str:
    return ".".join(["body", "records", str(index), *map(str, path)])


def parse(
    records: list[Any],
    model: type[RecordT],
    key: str = "code",
    unchanged: Mapping[int, tuple[str, UUID]] | None = None,
) -> Batch[RecordT]:
    """Validate each record on its own; a key (code, number) seen earlier in the batch is that
    record's error (`duplicate-<key>`). Records the caller already knows `unchanged` (by index:
    their key and id) are answered so without being validated; their keys count as seen."""
    with quiet_gc():
        return _parsed(records, model, key, unchanged or {})


def _parsed(
    records: list[Any], model: type[RecordT], key: str, unchanged: Mapping[int, tuple[str, UUID]]
) -> Batch[RecordT]:
    batch: Batch[RecordT] = Batch(outcomes=[None] * len(records), key=key)
    first: dict[str, int] = {}
    for index, raw in enumerate(records):
        if index in unchanged:
            known, record_id = unchanged[index]
            first.setdefault(known, index)
            batch.decide(index, known, "unchanged", record_id)
            continue
        try:
            record = model.model_validate(raw)
        except ValidationError as exc:
            code = raw.get(key) if isinstance(raw, dict) else None
            errors = [
                FieldError(field=at(index, *e["loc"]), message=e["msg"].removeprefix("Value error, "))
                for e in exc.errors(include_url=False)
            ]
            batch.fail(index, code.strip() if isinstance(code, str) else None, "invalid", errors)
            continue
        code = getattr(record, key)
        if (earlier := first.setdefault(code, index)) != index:
            message = f"The {key} '{code}' came earlier in this call, at records.{earlier}."
            errors = [FieldError(field=at(index, key), message=message)]
            batch.fail(index, code, f"duplicate-{key}", errors)
            continue
        batch.valid.append((index, record))
    return batch


# --- staged, merged and written set-based -----------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A field the feed sets: its staging type and its bit in the record's `sent` mask (0: every
    record sends it). `stored=False` for a value kept outside the table (the account's sales-rep
    codes), which the spec's own statements write."""

    name: str
    type: str
    bit: int = 0
    stored: bool = True
    merge: str = ""  # SQL of the new value when sent, if not the staged one (over `s` and `o`)


@dataclass(frozen=True)
class Spec:
    """One feed's table and how its records merge into it. SQL fragments name the staging row
    `s`, the current row `o` (each column; no row for a new record) and the
    merged row `m`/`j` (the staged columns, `old_<column>` and `new_<column>`); `$1` is the
    organisation, `$2` the time of the push. They come from code, never from input."""

    table: str
    entity: str
    stage: str
    conflict: str  # the ON CONFLICT target: the code's unique index
    columns: tuple[Column, ...]
    # (key, old value, new value), SQL over `m`: history's changes, field by field.
    history: tuple[tuple[str, str, str], ...]
    # The SELECT of the current row of the staged record `s` (`WHERE ... id = s.id`), as `o`:
    # joined LATERAL with LIMIT 1, so it stays one primary-key probe per record however large the
    # table (without the LIMIT the planner flattened it into a hash join over the organisation's
    # every row, and ran the sales-rep codes subquery for each).
    current: str
    staged: dict[str, str] = field(default_factory=dict)  # more staging columns (name: type)
    inserted: dict[str, str] = field(default_factory=dict)  # more columns of a new row (SQL over `m`)
    updated: dict[str, str] = field(default_factory=dict)  # more columns set on a changed row (over `j`)
    extra: str = ""  # more CTEs, run with the write (may use `judged` and `written`)
    restores: bool = False  # the table soft-deletes; a pushed record comes back
    watched: str = ""  # a history key the caller wants to know changed (`changed` in the answer)

    @cached_property
    def staging(self) -> dict[str, str]:
        return {
            "ord": "integer",
            "id": "uuid",
            "is_new": "boolean",
            "sent": "integer",
            "code": "text",
            **{c.name: c.type for c in self.columns},
            **self.staged,
        }

    @cached_property
    def statement(self) -> str:
        merged = ",\n        ".join(
            f"CASE WHEN s.sent & {c.bit} <> 0 OR {c.bit} = 0 THEN {c.merge or 's.' + c.name} "
            f"ELSE o.{c.name} END AS new_{c.name}, o.{c.name} AS old_{c.name}"
            for c in self.columns
        )
        olds = ", ".join(f"m.old_{c.name}" for c in self.columns)
        news = ", ".join(f"m.new_{c.name}" for c in self.columns)
        pairs = ",\n            ".join(
            f"('{key}', to_jsonb({old}), to_jsonb({new}))" for key, old, new in self.history
        )
        stored = [c.name for c in self.columns if c.stored]
        names = ["org_id", "id", "code", *stored, *self.inserted, "created_at", "updated_at", "version"]
        values = ["$1", "m.id", "m.code", *(f"m.new_{c}" for c in stored), *self.inserted.values()]
        sets = [
            *(f"{c} = j.new_{c}" for c in stored),
            *(f"{name} = {value}" for name, value in self.updated.items()),
            *(["deleted_at = NULL"] if self.restores else []),
            "version = t.version + 1",
            "updated_at = $2",
        ]
        revived = "j.old_deleted_at IS NOT NULL" if self.restores else "false"
        old_deleted = "o.deleted_at AS old_deleted_at," if self.restores else ""
        action = f"CASE WHEN j.is_new THEN 'created' WHEN {revived} THEN 'restored' ELSE 'updated' END"
        watched = f"j.changes ? '{self.watched}'" if self.watched else "false"
        # A record equal to its row (the common case of a replayed batch) skips building the
        # field-by-field changes: one comparison of the plain values instead.
        return f"""
WITH m AS (
    SELECT s.*, {old_deleted}
        {merged}
    FROM {self.stage} s LEFT JOIN LATERAL ({self.current} AND NOT s.is_new LIMIT 1) o ON true
),
judged AS (
    SELECT m.*,
        CASE WHEN NOT m.is_new AND ROW({olds}) IS NOT DISTINCT FROM ROW({news}) THEN '{{}}'::jsonb ELSE
        (SELECT coalesce(jsonb_object_agg(d.k, jsonb_build_object('old', d.o, 'new', d.n)), '{{}}'::jsonb)
         FROM (VALUES
            {pairs}
         ) AS d(k, o, n) WHERE d.o IS DISTINCT FROM d.n) END AS changes
    FROM m
),
inserted AS (
    INSERT INTO {self.table} ({", ".join(names)})
    SELECT {", ".join(values)}, $2, $2, 1 FROM judged m WHERE m.is_new
    ON CONFLICT {self.conflict} DO NOTHING
    RETURNING id, version
),
updated AS (
    UPDATE {self.table} t SET {", ".join(sets)}
    FROM judged j
    WHERE t.org_id = $1 AND t.id = j.id AND NOT j.is_new AND (j.changes <> '{{}}'::jsonb OR {revived})
    RETURNING t.id, t.version
),
written AS (SELECT id, version FROM inserted UNION ALL SELECT id, version FROM updated),
history_rows AS (
    INSERT INTO history
        (org_id, id, entity, entity_id, at, actor_member_id, actor_api_key_id, request_id, action, changes)
    SELECT $1, crmapi_uuid7(), '{self.entity}', j.id, $2, $3, $4, $5, {action}, j.changes
    FROM judged j JOIN written w ON w.id = j.id
),
events AS (
    INSERT INTO outbox (org_id, id, topic, entity, entity_id, payload, created_at, attempts, actor_member_id)
    SELECT $1, crmapi_uuid7(), '{self.entity}.' || {action}, '{self.entity}', j.id,
        jsonb_build_object('version', w.version, 'action', {action}, 'source', 'erp')
            || CASE WHEN j.is_new THEN '{{}}'::jsonb ELSE jsonb_build_object('fields', coalesce(
                (SELECT jsonb_agg(k ORDER BY k) FROM jsonb_object_keys(j.changes) AS k), '[]'::jsonb))
            END,
        $2, 0, $3
    FROM judged j JOIN written w ON w.id = j.id
){self.extra}
SELECT j.ord, j.is_new, w.id IS NOT NULL AS written, {watched} AS changed
FROM judged j LEFT JOIN written w ON w.id = j.id
WHERE j.is_new OR w.id IS NOT NULL
"""


async def driver(session: AsyncSession) -> Any:
    """The transaction's asyncpg connection, the transaction begun and set up for a push."""
    connection = await session.connection()
    # Its estimated cost makes PostgreSQL compile the merge with LLVM first, which took longer
    # (about 3 s for 10,000 records) than running it. Sent through SQLAlchemy: it begins the
    # transaction the driver's statements then run in.
    await connection.exec_driver_sql("SET LOCAL jit = off")
    return (await connection.get_raw_connection()).driver_connection


async def lock_existing(conn: Any, actor: Actor, spec: Spec, columns: str, codes: list[str]) -> list[Any]:
    """The current rows the codes name (deleted ones too), locked in id order: two pushes naming
    the same records take turns instead of deadlocking, and nobody changes them meanwhile."""
    return list(
        await conn.fetch(
            f"SELECT {columns} FROM {spec.table} WHERE org_id = $1 AND code = ANY($2::text[]) "
            "ORDER BY id FOR UPDATE",
            actor.org_id,
            codes,
        )
    )


async def write(conn: Any, actor: Actor, spec: Spec, rows: list[tuple[Any, ...]], now: datetime) -> list[Any]:
    """Stage the rows (columns in `Spec.staging` order) with COPY and merge them; answers the
    records that were created, updated, or lost a race to create (`is_new` and not `written`)."""
    await stage(conn, spec.stage, spec.staging, rows)
    result = await conn.fetch(
        spec.statement, actor.org_id, now, actor.member_id, actor.api_key_id, request_id_var.get()
    )
    await unstage(conn, spec.stage)
    return list(result)


async def stage(conn: Any, table: str, columns: Mapping[str, str], rows: list[tuple[Any, ...]]) -> None:
    """A temporary table of `columns` (name: type) filled with `rows` by binary COPY."""
    definition = ", ".join(f"{name} {kind}" for name, kind in columns.items())
    await conn.execute(f"CREATE TEMP TABLE {table} ({definition}) ON COMMIT DROP")
    if rows:
        await conn.copy_records_to_table(table, records=rows, columns=list(columns))
    # Without statistics the planner takes the table for a few rows and reads every row of the
    # organisation's table to find the current ones.
    await conn.execute(f"ANALYZE {table}")


async def unstage(conn: Any, *tables: str) -> None:
    # ON COMMIT DROP alone would keep them for the rest of an enclosing transaction.
    for table in tables:
        await conn.execute(f"DROP TABLE {table}")


def same(column: str) -> tuple[str, str, str]:
    """A history entry for a merged column."""
    return (column, f"m.old_{column}", f"m.new_{column}")


def created_only(key: str, value: str) -> tuple[str, str, str]:
    """A history entry shown when the record is created (its code, its number)."""
    return (key, "NULL::text", f"CASE WHEN m.is_new THEN {value} END")


def outcomes(batch: Batch[Any], staged: list[tuple[int, str, UUID]], written: list[Any]) -> dict[str, Any]:
    """Decide every staged record from the rows `write` answered (the others were unchanged);
    the push's answer."""
    answered = {row["ord"]: row for row in written}
    with quiet_gc():
        for index, code, record_id in staged:
            row = answered.get(index)
            if row is None:
                batch.decide(index, code, "unchanged", record_id)
            elif row["written"]:
                batch.decide(index, code, "created" if row["is_new"] else "updated", record_id)
            else:
                message = f"Another request created a record with this {batch.key} meanwhile; send it again."
                batch.fail(index, code, "conflict", [FieldError(field=at(index, batch.key), message=message)])
        return batch.answer()
