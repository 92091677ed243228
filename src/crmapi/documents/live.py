"""Live lookups: an account's documents asked of the organisation's ERP at read time.

What the ERP answers is merged into the stored copy through the push (a document equal to its
stored copy writes nothing), and the list is then read from there: one shape of answer, the
same filters and paging, and the stored copy to fall back on. A lookup repeated within the
connector's cache time is not sent again (per process: each worker keeps its own).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit
from uuid import UUID

import httpx
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.accounts.models import Account
from crmapi.documents import push
from crmapi.documents.models import ErpConnector
from crmapi.documents.problems import ErpTimeout, ErpUnavailable
from crmapi.documents.schemas import ConnectorInput
from crmapi.kit.errors import NotFound, Unprocessable

log = logging.getLogger("crmapi.documents")
PATHS = {"invoice": "invoices", "credit": "credits", "back_order": "back-orders", "payment": "payments"}
_asked: dict[tuple[UUID, UUID, str], float] = {}  # (organisation, account, kind): when last asked


async def connector(session: AsyncSession, actor: Actor) -> ErpConnector | None:
    found: ErpConnector | None = await session.get(ErpConnector, actor.org_id)
    return found


async def configure(session: AsyncSession, actor: Actor, data: ConnectorInput) -> ErpConnector:
    values = data.model_dump() | {"updated_at": datetime.now(UTC)}
    stmt = insert(ErpConnector).values(org_id=actor.org_id, **values)
    await session.execute(stmt.on_conflict_do_update(index_elements=[ErpConnector.org_id], set_=values))
    _forget(actor.org_id)
    found = await session.get(ErpConnector, actor.org_id, populate_existing=True)
    assert found is not None
    return found


async def remove(session: AsyncSession, actor: Actor) -> None:
    found = await connector(session, actor)
    if found is None:
        raise NotFound("The organisation has no ERP connector.")
    await session.delete(found)
    _forget(actor.org_id)


def _forget(org_id: UUID) -> None:
    for key in [k for k in _asked if k[0] == org_id]:
        del _asked[key]


async def refresh(session: AsyncSession, actor: Actor, account: Account, kind: str, *, fallback: bool) -> str:
    """Ask the ERP for the account's documents of `kind` and merge them; where the answer comes
    from: `live`, `cache` (asked within the cache time) or `stored` (the ERP did not answer and
    the caller asked to fall back)."""
    found = await connector(session, actor)
    if found is None:
        raise Unprocessable.on(
            "query.source", "The organisation has no ERP connector: only `stored` is available."
        )
    if account.code is None:
        raise Unprocessable.on("query.source", "The account has no debtor code to ask the ERP with.")
    key = (actor.org_id, account.id, kind)
    if time.monotonic() - _asked.get(key, float("-inf")) < found.cache_seconds:
        return "cache"
    try:
        records = await _fetch(found, account.code, kind)
    except (ErpTimeout, ErpUnavailable) as failed:
        if fallback:
            log.warning("live lookup failed, the stored copy answers: %s", failed.detail)
            return "stored"
        raise
    for record in records:
        if isinstance(record, dict):
            record["account_code"] = account.code  # the ERP answers for this account only
    if records:
        answer = await push.push(session, actor, kind, records)
        if answer["failed"]:
            log.warning("live lookup: %d of %d %s records refused", answer["failed"], len(records), kind)
    _asked[key] = time.monotonic()
    return "live"


async def _fetch(found: ErpConnector, code: str, kind: str) -> list[Any]:
    url = f"{found.base_url.rstrip('/')}/debtors/{quote(code, safe='')}/{PATHS[kind]}"
    headers = {found.header_name: found.header_value} if found.header_name and found.header_value else {}
    erp = urlsplit(found.base_url).netloc
    try:
        # The whole lookup is bounded, not each phase of it: httpx's timeout is per phase.
        async with (
            asyncio.timeout(found.timeout_seconds),
            httpx.AsyncClient(timeout=found.timeout_seconds) as http,
        ):
            answer = await http.get(url, headers=headers)
    except (TimeoutError, httpx.TimeoutException) as exc:
        raise ErpTimeout(f"The ERP at {erp} did not answer within {found.timeout_seconds:g} s.") from exc
    except httpx.HTTPError as exc:
        raise ErpUnavailable(f"The ERP at {erp} could not be reached: {type(exc).__name__}.") from exc
    if answer.status_code != 200:
        raise ErpUnavailable(f"The ERP at {erp} answered {answer.status_code}.")
    try:
        records = answer.json()["records"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ErpUnavailable(f'The ERP at {erp} answered something other than {{"records": [...]}}.') from exc
    if not isinstance(records, list) or len(records) > 10_000:
        raise ErpUnavailable(
            f"The ERP at {erp} answered something other than a list of up to 10,000 records."
        )
    return records


def as_read(found: ErpConnector) -> dict[str, Any]:
    return {
        "base_url": found.base_url,
        "header_name": found.header_name,
        "has_header_value": found.header_value is not None,
        "timeout_seconds": found.timeout_seconds,
        "cache_seconds": found.cache_seconds,
        "updated_at": found.updated_at,
    }
