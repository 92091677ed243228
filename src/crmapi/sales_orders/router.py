"""HTTP for sales orders placed in the CRM."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.dependencies import CurrentActor, Idempotent
from crmapi.kit import rendered
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, paginate, select_fields, sorted_by
from crmapi.kit.routes import CrmRoute
from crmapi.records import answers
from crmapi.sales_orders import queries, service
from crmapi.sales_orders.schemas import (
    SalesOrderCreate,
    SalesOrderListQuery,
    SalesOrderRead,
    SalesOrderUpdate,
)

router = APIRouter(
    prefix="/v1/sales-orders", tags=["sales orders"], route_class=CrmRoute, dependencies=[Idempotent]
)
OrderPath = Annotated[UUID, Path(description="sales order id")]
Fields = Annotated[str | None, Query(max_length=2048, description="Comma-separated fields.")]
MOVE = problem_responses(401, 403, 404, 409, 412, 422, 503)


async def answer(
    session: AsyncSession,
    actor: Actor,
    order_id: UUID,
    fields: set[str] | None = None,
    status_code: int = 200,
) -> Response:
    """The order as the API answers it, rendered by PostgreSQL, with its ETag."""
    body, version = await answers.by_id(
        session, actor, queries.answer, order_id, fields, "No sales order with this id."
    )
    response = rendered.one(body, {"ETag": etag(version)})
    response.status_code = status_code
    return response


async def listed(
    request: Request,
    session: DbSession,
    actor: Actor,
    query: SalesOrderListQuery,
    account_id: UUID | None = None,
) -> Response:
    bodies, cursor, count = await paginate(
        session,
        queries.filtered(actor, query, account_id),
        sorting=queries.SORTING,
        params=query,
        cursors=request.app.state.cursors,
        rendered=queries.rendered_as(select_fields(SalesOrderRead, query.fields)),
    )
    return rendered.page(bodies, cursor, count)


@router.get(
    "",
    operation_id="list_sales_orders",
    summary="List sales orders",
    response_model=Page[SalesOrderRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 422, 503),
)
@sorted_by(queries.SORTING)
async def list_sales_orders(
    request: Request, session: DbSession, actor: CurrentActor, query: Annotated[SalesOrderListQuery, Query()]
) -> Response:
    """The orders of the accounts the caller sees (every order with `sales_orders.view_any`; a
    customer its own accounts'), newest first."""
    return await listed(request, session, actor, query)


@router.post(
    "",
    operation_id="create_sales_order",
    summary="Place a sales order (a draft)",
    status_code=status.HTTP_201_CREATED,
    response_model=SalesOrderRead,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def create_sales_order(session: DbSession, actor: CurrentActor, body: SalesOrderCreate) -> Response:
    """A draft on an account the caller sees (404 otherwise): staff need `sales_orders.create`
    (every staff member holds it), a customer orders for its own accounts. Lines are priced to
    the cent in exact decimals; the currency is the account's. Submit it to send it to the ERP."""
    order = await service.create(session, actor, body)
    response = await answer(session, actor, order.id, status_code=201)
    response.headers["Location"] = f"/v1/sales-orders/{order.id}"
    return response


@router.get(
    "/{order_id}",
    operation_id="get_sales_order",
    summary="Get a sales order",
    response_model=SalesOrderRead,
    response_model_exclude_unset=True,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_sales_order(
    session: DbSession, actor: CurrentActor, order_id: OrderPath, fields: Fields = None
) -> Response:
    return await answer(session, actor, order_id, select_fields(SalesOrderRead, fields))


@router.patch(
    "/{order_id}",
    operation_id="update_sales_order",
    summary="Change a draft sales order",
    response_model=SalesOrderRead,
    responses=MOVE,
)
async def update_sales_order(
    session: DbSession,
    actor: CurrentActor,
    order_id: OrderPath,
    body: SalesOrderUpdate,
    if_match: IfMatch = None,
) -> Response:
    """Its placer or `sales_orders.manage`, while it is a draft: a submitted order answers 409
    `order-not-editable`."""
    await service.update(session, actor, order_id, body, expected_version(if_match))
    return await answer(session, actor, order_id)


@router.post(
    "/{order_id}/submit",
    operation_id="submit_sales_order",
    summary="Submit a draft to the ERP",
    response_model=SalesOrderRead,
    responses=MOVE,
)
async def submit_sales_order(
    session: DbSession, actor: CurrentActor, order_id: OrderPath, if_match: IfMatch = None
) -> Response:
    """The draft becomes `submitted` and no longer changes; `sales_order.submitted` goes out to
    webhooks and the change feed for the ERP. Send an `Idempotency-Key` to retry safely."""
    await service.submit(session, actor, order_id, expected_version(if_match))
    return await answer(session, actor, order_id)


@router.post(
    "/{order_id}/cancel",
    operation_id="cancel_sales_order",
    summary="Cancel a draft or submitted sales order",
    response_model=SalesOrderRead,
    responses=MOVE,
)
async def cancel_sales_order(
    session: DbSession, actor: CurrentActor, order_id: OrderPath, if_match: IfMatch = None
) -> Response:
    """Its placer or `sales_orders.manage`; once the ERP acknowledged the order, only the ERP
    cancels it (409)."""
    await service.cancel(session, actor, order_id, expected_version(if_match))
    return await answer(session, actor, order_id)
