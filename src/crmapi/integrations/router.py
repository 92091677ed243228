"""HTTP for the ERP feeds: bulk upserts of sales-rep records and debtors by their codes."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Response

from crmapi.access.actor import Actor
from crmapi.access.dependencies import Idempotent, require
from crmapi.integrations import debtors, sales_reps
from crmapi.integrations.schemas import DebtorBatch, PushResult, SalesRepBatch
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.garbage import quiet_gc
from crmapi.kit.routes import CrmRoute

router = APIRouter(
    prefix="/v1/integrations/erp", tags=["integrations"], route_class=CrmRoute, dependencies=[Idempotent]
)
Pusher = Annotated[Actor, require("integrations.push")]
_ANSWERS = problem_responses(401, 403, 409, 413, 422, 503)


@router.post(
    "/sales-reps",
    operation_id="push_sales_reps",
    summary="Upsert sales-rep records by code",
    response_model=PushResult,
    response_model_exclude_none=True,
    responses=_ANSWERS,
)
async def push_sales_reps(session: DbSession, actor: Pusher, body: SalesRepBatch) -> Response:
    """Needs `integrations.push`. Up to 10,000 records, each validated and answered on its own
    (`created`, `updated`, `unchanged` or `error` with its reason), in the order sent; a record
    equal to what is stored writes nothing. Fields left out keep their value. Making a record
    inactive (or active) changes what its linked members see from their next request."""
    return _answer(await sales_reps.push(session, actor, body.records))


@router.post(
    "/debtors",
    operation_id="push_debtors",
    summary="Upsert debtors (customer accounts) by code",
    response_model=PushResult,
    response_model_exclude_none=True,
    responses=_ANSWERS,
)
async def push_debtors(session: DbSession, actor: Pusher, body: DebtorBatch) -> Response:
    """Needs `integrations.push`. Up to 10,000 debtors keyed by their ERP `code`, each validated
    and answered on its own (`created`, `updated`, `unchanged` or `error` with its reason), in
    the order sent. A debtor equal to its account writes nothing (no version, history or
    event); a deleted account with the code comes back. `sales_rep_codes` replaces the
    account's sales-rep codes, each of which must name a sales-rep record; the members linked
    to those records see the account from their next request. Bodies over 20 MB answer 413."""
    return _answer(await debtors.push(session, actor, body.records))


def _answer(result: dict[str, Any]) -> Response:
    """The outcomes as JSON, written directly: they are built JSON-ready, and validating 10,000
    of them against `PushResult` again cost more than the rest of an unchanged push's Python."""
    with quiet_gc():
        return Response(json.dumps(result, separators=(",", ":")), media_type="application/json")
