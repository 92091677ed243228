"""HTTP for the ERP feeds: bulk upserts of sales-rep records and debtors by their codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Response
from pydantic import BaseModel

from crmapi.access.actor import Actor
from crmapi.access.dependencies import Idempotent, require
from crmapi.documents import live
from crmapi.documents import push as documents
from crmapi.documents.schemas import (
    BackOrderBatch,
    ConnectorInput,
    ConnectorRead,
    CreditBatch,
    DocumentPushResult,
    InvoiceBatch,
    PaymentBatch,
)
from crmapi.integrations import debtors, sales_reps
from crmapi.integrations.schemas import DebtorBatch, PushResult, SalesRepBatch
from crmapi.kit.db import DbSession
from crmapi.kit.errors import NotFound, problem_responses
from crmapi.kit.garbage import quiet_gc
from crmapi.kit.routes import CrmRoute, add
from crmapi.sales_orders import acknowledgements
from crmapi.sales_orders.schemas import AcknowledgementBatch, AcknowledgementResult

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


_DOCUMENTS = """Needs `integrations.push`. Up to 10,000 documents keyed by their ERP `number`, each
validated and answered on its own (`created`, `updated`, `unchanged` or `error` with its reason),
in the order sent. The account is found by its debtor `account_code`; totals must add up from
the lines (and allocations), or the record is refused with `totals-mismatch` naming what they
should be. A document equal to what is stored writes nothing; a changed one replaces its lines
and allocations. Each written document emits `<kind>.created` or `<kind>.updated`."""


def _pushing(kind: str, batch: type[BaseModel]) -> Callable[..., Any]:
    async def endpoint(session: DbSession, actor: Pusher, body: Any) -> Response:
        return _answer(await documents.push(session, actor, kind, body.records))

    # The body's model is the kind's batch (FastAPI reads the annotation; a string could not name it).
    endpoint.__annotations__["body"] = batch
    return endpoint


_ALLOCATING = " Allocations name invoices of the same account, pushed before."
for _kind, _path, _operation, _noun, _batch, _more in (
    (
        "invoice",
        "invoices",
        "push_invoices",
        "invoices",
        InvoiceBatch,
        " An invoice naming the ERP number of a sales order acknowledged here links to it; the account's"
        " balance is summed again.",
    ),
    ("credit", "credits", "push_credits", "credit notes", CreditBatch, _ALLOCATING),
    ("back_order", "back-orders", "push_back_orders", "back orders", BackOrderBatch, ""),
    ("payment", "payments", "push_payments", "payments", PaymentBatch, _ALLOCATING),
):
    add(
        router,
        "POST",
        f"/{_path}",
        _pushing(_kind, _batch),
        _operation,
        summary=f"Upsert {_noun} by number",
        description=_DOCUMENTS + _more,
        response_model=DocumentPushResult,
        response_model_exclude_none=True,
        responses=_ANSWERS,
    )


@router.post(
    "/sales-orders/acknowledgements",
    operation_id="acknowledge_sales_orders",
    summary="The ERP's answers to submitted sales orders",
    response_model=AcknowledgementResult,
    response_model_exclude_none=True,
    responses=_ANSWERS,
)
async def acknowledge_sales_orders(session: DbSession, actor: Pusher, body: AcknowledgementBatch) -> Response:
    """Needs `integrations.push`. Up to 1,000 records, each naming a submitted order by the CRM's
    `number` with the ERP's own `erp_number` and the state it reached (`acknowledged`,
    `fulfilled` or `cancelled`), answered on its own in the order sent. The order moves through
    its life cycle (a submitted order reported fulfilled is acknowledged first); a record the
    order already matches writes nothing; a move the life cycle refuses is that record's
    `not-allowed`. An invoice pushed later with `sales_order_number` = the ERP number links to
    the order."""
    return _answer(await acknowledgements.acknowledge(session, actor, body.records))


Admin = Annotated[Actor, require("org.admin")]


@router.get(
    "/connector",
    operation_id="get_erp_connector",
    summary="The ERP connector for live document lookups",
    response_model=ConnectorRead,
    responses=problem_responses(401, 403, 404, 503),
)
async def get_erp_connector(session: DbSession, actor: Admin) -> dict[str, Any]:
    """Needs `org.admin`. The header's value is never shown, only whether one is set."""
    found = await live.connector(session, actor)
    if found is None:
        raise NotFound("The organisation has no ERP connector.")
    return live.as_read(found)


@router.put(
    "/connector",
    operation_id="set_erp_connector",
    summary="Set the ERP connector for live document lookups",
    response_model=ConnectorRead,
    responses=problem_responses(401, 403, 422, 503),
)
async def set_erp_connector(session: DbSession, actor: Admin, body: ConnectorInput) -> dict[str, Any]:
    """Needs `org.admin`. The account document lists then take `source=live`: the ERP is asked
    `GET {base_url}/debtors/{code}/{invoices|credits|back-orders|payments}` with the header, and
    answers `{"records": [...]}` in the push's format."""
    return live.as_read(await live.configure(session, actor, body))


@router.delete(
    "/connector",
    operation_id="delete_erp_connector",
    summary="Remove the ERP connector",
    status_code=204,
    responses=problem_responses(401, 403, 404, 503),
)
async def delete_erp_connector(session: DbSession, actor: Admin) -> Response:
    """Needs `org.admin`. Document lists answer from the stored copy only."""
    await live.remove(session, actor)
    return Response(status_code=204)


def _answer(result: dict[str, Any]) -> Response:
    """The outcomes as JSON, written directly: they are built JSON-ready, and validating 10,000
    of them against `PushResult` again cost more than the rest of an unchanged push's Python."""
    with quiet_gc():
        return Response(json.dumps(result, separators=(",", ":")), media_type="application/json")
