"""HTTP for customer accounts, their linked contacts and personal assignments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.dependencies import CurrentActor, Idempotent, require, staff_or
from crmapi.accounts import queries, service
from crmapi.accounts.models import Account
from crmapi.accounts.schemas import (
    AccountContactLink,
    AccountContactRead,
    AccountCreate,
    AccountListQuery,
    AccountRead,
    AccountSearch,
    AccountUpdate,
    AssignmentCreate,
    AssignmentRead,
)
from crmapi.custom_fields import service as custom_fields
from crmapi.documents import queries as document_queries
from crmapi.documents import service as documents
from crmapi.documents.schemas import Balance, DocumentPageQuery, DocumentRead
from crmapi.kit import rendered
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.idempotency import reads_only
from crmapi.kit.pagination import Page, PageParams, paginate, select_fields, sorted_by
from crmapi.kit.routes import CrmRoute, add
from crmapi.notes import router as notes
from crmapi.records import history
from crmapi.sales_orders import queries as order_queries
from crmapi.sales_orders import router as orders
from crmapi.sales_orders.schemas import SalesOrderListQuery, SalesOrderRead
from crmapi.tags import router as tags

router = APIRouter(prefix="/v1/accounts", tags=["accounts"], route_class=CrmRoute, dependencies=[Idempotent])

Creator = Annotated[Actor, require("accounts.create")]
# History and assignments are internal: staff, or an integration holding the view capability.
Insider = Annotated[Actor, staff_or("accounts.view_any")]
ONE = problem_responses(401, 403, 404, 422, 503)
LIST = problem_responses(400, 401, 403, 422, 503)


# The Read fields an account carries as attributes; the others are computed below.
_COPIED = tuple(k for k in AccountRead.model_fields if hasattr(Account, k))


async def _one(session: AsyncSession, account: Account, response: Response) -> AccountRead:
    """A written account's answer, its sales-rep codes read back."""
    response.headers["ETag"] = etag(account.version)
    codes = await service.sales_rep_codes(session, [account.id])
    copied = {k: getattr(account, k) for k in _COPIED}
    return AccountRead.model_validate(
        {**copied, "credit_limit": service.money(account), "sales_rep_codes": codes[account.id]}
    )


async def listed(
    request: Request, session: AsyncSession, actor: Actor, query: AccountListQuery | AccountSearch
) -> Response:
    chosen = select_fields(AccountRead, query.fields, query.LOCATION)
    matching, relevance = queries.filtered(actor, query)
    stmt = await custom_fields.narrow(session, actor, "account", matching, query.custom_filter())
    # Each account's sales-rep codes come with the page, in the same statement.
    bodies, cursor, count = await paginate(
        session,
        stmt,
        sorting=queries.SORTING,
        params=query,
        cursors=request.app.state.cursors,
        relevance=relevance,
        load=queries.page_loader(actor),
        rendered=queries.rendered_as(chosen),
    )
    return rendered.page(bodies, cursor, count)


@router.get(
    "",
    operation_id="list_accounts",
    summary="List customer accounts",
    response_model=Page[AccountRead],
    response_model_exclude_unset=True,
    responses=LIST,
)
@sorted_by(queries.SORTING, relevance=True)
async def list_accounts(
    request: Request, session: DbSession, actor: CurrentActor, query: Annotated[AccountListQuery, Query()]
) -> Response:
    """Accounts in the caller's scope; with `q`, best matches first.

    `custom.<key>=value` (any number of them) keeps accounts whose custom field has that value;
    `fields=name,code,custom.<key>` shows single custom fields as columns.
    """
    return await listed(request, session, actor, query)


@router.post(
    "/search",
    operation_id="search_accounts",
    summary="List accounts with a structured filter",
    response_model=Page[AccountRead],
    response_model_exclude_unset=True,
    responses=LIST,
)
@reads_only
@sorted_by(queries.SORTING, relevance=True)
async def search_accounts(
    request: Request, session: DbSession, actor: CurrentActor, body: AccountSearch
) -> Response:
    """The list's filters, sort and paging as a JSON body; custom field values go in `custom`."""
    return await listed(request, session, actor, body)


@router.post(
    "",
    operation_id="create_account",
    summary="Create a customer account",
    status_code=status.HTTP_201_CREATED,
    response_model=AccountRead,
    responses=problem_responses(401, 403, 409, 422, 503),
)
async def create_account(
    session: DbSession, actor: Creator, body: AccountCreate, response: Response
) -> AccountRead:
    """The account gets the next number of the organisation's series."""
    account = await service.create(session, actor, body)
    response.headers["Location"] = f"/v1/accounts/{account.id}"
    return await _one(session, account, response)


@router.get(
    "/{account_id}",
    operation_id="get_account",
    summary="Get a customer account",
    response_model=AccountRead,
    response_model_exclude_unset=True,
    responses=ONE,
)
async def get_account(
    session: DbSession,
    actor: CurrentActor,
    account_id: UUID,
    fields: Annotated[str | None, Query(max_length=2048, description="Comma-separated fields.")] = None,
) -> Response:
    body, version = await service.get_rendered(session, actor, account_id, select_fields(AccountRead, fields))
    return rendered.one(body, {"ETag": etag(version)})


@router.patch(
    "/{account_id}",
    operation_id="update_account",
    summary="Change a customer account",
    response_model=AccountRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
)
async def update_account(
    session: DbSession,
    actor: CurrentActor,
    account_id: UUID,
    body: AccountUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> AccountRead:
    """Merge semantics: fields left out stay as they are."""
    account = await service.update(session, actor, account_id, body, expected_version(if_match))
    return await _one(session, account, response)


@router.delete(
    "/{account_id}",
    operation_id="delete_account",
    summary="Delete a customer account (soft)",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 412, 422, 503),
)
async def delete_account(
    session: DbSession, actor: CurrentActor, account_id: UUID, if_match: IfMatch = None
) -> Response:
    await service.delete(session, actor, account_id, expected_version(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{account_id}/restore",
    operation_id="restore_account",
    summary="Restore a deleted account",
    response_model=AccountRead,
    responses=problem_responses(401, 403, 404, 412, 422, 503),
)
async def restore_account(
    session: DbSession, actor: CurrentActor, account_id: UUID, response: Response, if_match: IfMatch = None
) -> AccountRead:
    account = await service.restore(session, actor, account_id, expected_version(if_match))
    return await _one(session, account, response)


@router.get(
    "/{account_id}/history",
    operation_id="list_account_history",
    summary="An account's history",
    response_model=Page[history.HistoryRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 404, 422, 503),
)
@sorted_by(history.HISTORY_SORTING)
async def list_account_history(
    request: Request,
    session: DbSession,
    actor: Insider,
    account_id: UUID,
    page: Annotated[PageParams, Query()],
) -> dict[str, Any]:
    """Who changed what and when, newest first."""
    await service.get(session, actor, account_id)
    return await history.page_of(session, service.ENTITY, account_id, page, request.app.state.cursors)


@router.get(
    "/{account_id}/contacts",
    operation_id="list_account_contacts",
    summary="An account's contacts",
    response_model=list[AccountContactRead],
    responses=ONE,
)
async def list_account_contacts(
    session: DbSession, actor: CurrentActor, account_id: UUID
) -> list[dict[str, Any]]:
    """The primary contact first, then the others by name."""
    return await service.linked_contacts(session, actor, account_id)


@router.post(
    "/{account_id}/contacts",
    operation_id="link_account_contact",
    summary="Link a contact to an account",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def link_account_contact(
    session: DbSession, actor: CurrentActor, account_id: UUID, body: AccountContactLink
) -> Response:
    """Linking again changes the role; the contact must be one the caller can see."""
    await service.link_contact(session, actor, account_id, body.contact_id, body.role)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/{account_id}/contacts/{contact_id}",
    operation_id="unlink_account_contact",
    summary="Unlink a contact from an account",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def unlink_account_contact(
    session: DbSession, actor: CurrentActor, account_id: UUID, contact_id: UUID
) -> Response:
    await service.unlink_contact(session, actor, account_id, contact_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{account_id}/assignments",
    operation_id="list_account_assignments",
    summary="Members personally assigned to an account",
    response_model=list[AssignmentRead],
    responses=ONE,
)
async def list_account_assignments(
    session: DbSession, actor: Insider, account_id: UUID
) -> list[dict[str, Any]]:
    """Staff (and API keys with accounts.view_any) only: customers do not see who else is assigned."""
    return await service.assignments(session, actor, account_id)


@router.post(
    "/{account_id}/assignments",
    operation_id="assign_account_member",
    summary="Personally assign a member to an account",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=ONE,
)
async def assign_account_member(
    session: DbSession, actor: CurrentActor, account_id: UUID, body: AssignmentCreate
) -> Response:
    """Staff and customers alike: an assigned member sees the account and its contacts."""
    await service.assign(session, actor, account_id, body.member_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/{account_id}/assignments/{member_id}",
    operation_id="unassign_account_member",
    summary="Remove a personal assignment",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=ONE,
)
async def unassign_account_member(
    session: DbSession, actor: CurrentActor, account_id: UUID, member_id: UUID
) -> Response:
    await service.unassign(session, actor, account_id, member_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# An account's notes: their own router, which app.py includes after the accounts, so the OpenAPI
# document keeps the order clients were generated from.
notes_router = APIRouter(
    prefix="/v1/accounts", tags=["notes"], route_class=CrmRoute, dependencies=[Idempotent]
)


notes.declare(
    notes_router,
    "account",
    service.get,
    listing=notes.Route(
        "list_account_notes",
        "List an account's notes",
        "The notes of an account the caller can see, newest first, paged by cursor.",
    ),
    adding=notes.Route(
        "create_account_note",
        "Add a note to an account",
        """Staff who can see the account may add a note; they become its author.

            Send `Idempotency-Key` to make a retry safe: the same key replays the first answer.
            """,
    ),
)


# Tagging accounts: its own router, which app.py includes after the notes, so the OpenAPI document
# keeps the order clients were generated from.
tags_router = APIRouter(
    prefix="/v1/accounts", tags=["accounts"], route_class=CrmRoute, dependencies=[Idempotent]
)
tags.declare(
    tags_router,
    "account",
    "accounts",
    service.get_for_change,
    bulk="bulk_tag_accounts",
    add="add_account_tag",
    remove="remove_account_tag",
)


# --- the account's trading record ---------------------------------------------------------------

AccountPath = Annotated[UUID, Path(description="account id")]


def _documents(kind: str) -> Callable[..., Any]:
    async def endpoint(
        request: Request,
        session: DbSession,
        actor: CurrentActor,
        account_id: AccountPath,
        query: Annotated[DocumentPageQuery, Query()],
    ) -> Response:
        return await documents.page(request, session, actor, account_id, kind, query)

    return sorted_by(document_queries.SORTING)(endpoint)


for _kind, _path, _operation, _noun in (
    ("invoice", "invoices", "list_account_invoices", "invoices"),
    ("credit", "credits", "list_account_credits", "credit notes"),
    ("back_order", "back-orders", "list_account_back_orders", "back orders"),
    ("payment", "payments", "list_account_payments", "payments"),
):
    add(
        router,
        "GET",
        f"/{{account_id}}/{_path}",
        _documents(_kind),
        _operation,
        summary=f"List the account's {_noun}",
        description=f"The {_noun} the ERP pushed for the account, newest first, for whoever may see the "
        "account (a rep its accounts', a customer its own). Filters combine; `overdue_days_gt` keeps "
        "documents with something outstanding more than that many days past their due date, counted "
        "in the organisation's time zone. With `source=live` the organisation's ERP connector is asked "
        "first (see `PUT /v1/integrations/erp/connector`); the `Crmapi-Source` header says whether the page "
        "came `live`, from the connector's `cache` time, or `stored`.",
        response_model=Page[DocumentRead],
        response_model_exclude_unset=True,
        responses=problem_responses(400, 401, 403, 404, 422, 503),
    )


@router.get(
    "/{account_id}/balance",
    operation_id="get_account_balance",
    summary="The account's balance and overdue buckets",
    response_model=Balance,
    responses=ONE,
)
async def get_account_balance(
    session: DbSession, actor: CurrentActor, account_id: AccountPath
) -> dict[str, Any]:
    """Per currency (never added across currencies): what the account's invoices still owe, how
    much of it is past due and by how long (1-30, 31-60, 61-90, over 90 days, counted in the
    organisation's time zone), and what credit notes and payments have not yet settled; and the
    last payment. Summed from the stored documents when asked."""
    return await documents.balance(session, actor, account_id)


@router.get(
    "/{account_id}/sales-orders",
    operation_id="list_account_sales_orders",
    summary="List the account's sales orders",
    response_model=Page[SalesOrderRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 404, 422, 503),
)
@sorted_by(order_queries.SORTING)
async def list_account_sales_orders(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    account_id: AccountPath,
    query: Annotated[SalesOrderListQuery, Query()],
) -> Response:
    """The orders placed for the account, newest first; 404 when the caller cannot see it."""
    await service.get(session, actor, account_id)
    return await orders.listed(request, session, actor, query, account_id)
