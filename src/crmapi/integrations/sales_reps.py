"""Sales-rep records pushed by an ERP, upserted by their code."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access import policy
from crmapi.access.actor import Actor
from crmapi.access.sales_reps.service import ENTITY
from crmapi.integrations import feed
from crmapi.integrations.feed import Column, created_only, same
from crmapi.integrations.schemas import SalesRepRecord
from crmapi.kit.ids import new_id

_BITS = {"email": 1, "active": 2}

SPEC = feed.Spec(
    table="sales_reps",
    entity=ENTITY,
    stage="erp_sales_reps",
    conflict="(org_id, code)",
    columns=(
        Column("name", "text"),
        Column("email", "text", _BITS["email"]),
        Column("active", "boolean", _BITS["active"]),
    ),
    history=(created_only("code", "m.code"), same("name"), same("email"), same("active")),
    current="SELECT r.name, r.email, r.active FROM sales_reps r WHERE r.org_id = $1 AND r.id = s.id",
    watched="active",
)


async def push(session: AsyncSession, actor: Actor, records: list[Any]) -> dict[str, Any]:
    """Upsert the records by code; every record is answered on its own, in the order sent. A
    record made inactive (or active again) changes what its members see: the policy is bumped."""
    batch = feed.parse(records, SalesRepRecord)
    conn = await feed.driver(session)
    codes = [r.code for _, r in batch.valid]
    existing = {
        row["code"]: row["id"] for row in await feed.lock_existing(conn, actor, SPEC, "id, code", codes)
    }
    rows, staged = [], []
    for index, record in batch.valid:
        current = existing.get(record.code)
        mask = feed.sent_mask(_BITS, record, current is None)
        active = True if record.active is None else record.active
        record_id = current or new_id()
        rows.append((index, record_id, current is None, mask, record.code, record.name, record.email, active))
        staged.append((index, record.code, record_id))
    written = await feed.write(conn, actor, SPEC, rows, datetime.now(UTC)) if rows else []
    if any(row["changed"] and not row["is_new"] for row in written):
        await policy.changed(session, actor.org_id)
    return feed.outcomes(batch, staged, written)
