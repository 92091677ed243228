"""HTTP for contacts: parse, call the service, render."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status

from crmapi.access.actor import Actor
from crmapi.access.dependencies import CurrentActor, Idempotent, require, staff_or
from crmapi.accounts import queries as account_queries
from crmapi.accounts import router as accounts
from crmapi.accounts.schemas import AccountListQuery, AccountRead
from crmapi.contacts import queries, service
from crmapi.contacts.schemas import ContactCreate, ContactListQuery, ContactRead, ContactSearch, ContactUpdate
from crmapi.custom_fields import service as custom_fields
from crmapi.kit import rendered
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.idempotency import reads_only
from crmapi.kit.pagination import Page, PageParams, paginate, render, select_fields, sorted_by
from crmapi.kit.routes import CrmRoute
from crmapi.notes import router as notes
from crmapi.records import history
from crmapi.tags import router as tags

router = APIRouter(prefix="/v1/contacts", tags=["contacts"], route_class=CrmRoute, dependencies=[Idempotent])

ContactPath = Annotated[UUID, "contact id"]
Creator = Annotated[Actor, require("contacts.create")]
ONE = problem_responses(401, 403, 404, 422, 503)


async def _list(
    request: Request, session: DbSession, actor: Actor, query: ContactListQuery | ContactSearch
) -> Response:
    chosen = select_fields(ContactRead, query.fields, query.LOCATION)
    stmt = queries.filtered(actor, query)
    stmt = await custom_fields.narrow(session, actor, "contact", stmt, query.custom_filter())
    bodies, cursor, count = await paginate(
        session,
        stmt,
        sorting=queries.SORTING,
        params=query,
        cursors=request.app.state.cursors,
        relevance=queries.relevance(query),
        load=queries.page_loader(actor),
        rendered=queries.rendered_as(chosen),
    )
    return rendered.page(bodies, cursor, count)


@router.get(
    "",
    operation_id="list_contacts",
    summary="List contacts",
    response_model=Page[ContactRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 422, 503),
)
@sorted_by(queries.SORTING, relevance=True)
async def list_contacts(
    request: Request, session: DbSession, actor: CurrentActor, query: Annotated[ContactListQuery, Query()]
) -> Response:
    """Contacts in the caller's scope, filtered, sorted and paged by cursor.

    `custom.<key>=value` (any number of them) keeps contacts whose custom field has that value;
    `fields=display_name,custom.<key>` shows single custom fields as columns.
    """
    return await _list(request, session, actor, query)


@router.post(
    "/search",
    operation_id="search_contacts",
    summary="List contacts with a structured filter",
    response_model=Page[ContactRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 422, 503),
)
@reads_only
@sorted_by(queries.SORTING, relevance=True)
async def search_contacts(
    request: Request, session: DbSession, actor: CurrentActor, body: ContactSearch
) -> Response:
    """The list's filters, sort and cursor as a JSON body, for filters too long for a URL;
    custom field values go in `custom`."""
    return await _list(request, session, actor, body)


@router.post(
    "",
    operation_id="create_contact",
    summary="Create a contact",
    status_code=status.HTTP_201_CREATED,
    response_model=ContactRead,
    responses=problem_responses(401, 403, 409, 422, 503),
)
async def create_contact(
    session: DbSession, actor: Creator, body: ContactCreate, response: Response
) -> ContactRead:
    """Send `Idempotency-Key` to make a retry safe: the same key replays the first answer."""
    contact = await service.create(session, actor, body)
    response.headers["Location"] = f"/v1/contacts/{contact.id}"
    response.headers["ETag"] = etag(contact.version)
    return render(ContactRead, contact)


@router.get(
    "/{contact_id}",
    operation_id="get_contact",
    summary="Get a contact",
    response_model=ContactRead,
    response_model_exclude_unset=True,
    responses=ONE,
)
async def get_contact(
    session: DbSession,
    actor: CurrentActor,
    contact_id: ContactPath,
    fields: Annotated[str | None, Query(max_length=2048, description="Comma-separated fields.")] = None,
) -> Response:
    body, version = await service.get_rendered(session, actor, contact_id, select_fields(ContactRead, fields))
    return rendered.one(body, {"ETag": etag(version)})


@router.patch(
    "/{contact_id}",
    operation_id="update_contact",
    summary="Change a contact",
    response_model=ContactRead,
    responses=problem_responses(401, 403, 404, 412, 422, 503),
)
async def update_contact(
    session: DbSession,
    actor: CurrentActor,
    contact_id: ContactPath,
    body: ContactUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> ContactRead:
    """Merge semantics: fields left out stay as they are."""
    contact = await service.update(session, actor, contact_id, body, expected_version(if_match))
    response.headers["ETag"] = etag(contact.version)
    return render(ContactRead, contact)


@router.delete(
    "/{contact_id}",
    operation_id="delete_contact",
    summary="Delete a contact (soft)",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 412, 422, 503),
)
async def delete_contact(
    session: DbSession, actor: CurrentActor, contact_id: ContactPath, if_match: IfMatch = None
) -> Response:
    """The contact answers 404 until restored."""
    await service.delete(session, actor, contact_id, expected_version(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{contact_id}/restore",
    operation_id="restore_contact",
    summary="Restore a deleted contact",
    response_model=ContactRead,
    responses=problem_responses(401, 403, 404, 412, 422, 503),
)
async def restore_contact(
    session: DbSession,
    actor: CurrentActor,
    contact_id: ContactPath,
    response: Response,
    if_match: IfMatch = None,
) -> ContactRead:
    contact = await service.restore(session, actor, contact_id, expected_version(if_match))
    response.headers["ETag"] = etag(contact.version)
    return render(ContactRead, contact)


@router.get(
    "/{contact_id}/history",
    operation_id="list_contact_history",
    summary="A contact's history",
    response_model=Page[history.HistoryRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 404, 422, 503),
)
@sorted_by(history.HISTORY_SORTING)
async def list_contact_history(
    request: Request,
    session: DbSession,
    actor: Annotated[Actor, staff_or("contacts.view_any")],
    contact_id: ContactPath,
    page: Annotated[PageParams, Query()],
) -> dict[str, Any]:
    """Who changed what and when, newest first."""
    await service.get(session, actor, contact_id)
    return await history.page_of(session, service.ENTITY, contact_id, page, request.app.state.cursors)


# The accounts a contact is linked to: their own router, tagged accounts, which app.py includes
# after the accounts, so the OpenAPI document keeps its order.
accounts_router = APIRouter(prefix="/v1/contacts", tags=["accounts"], route_class=CrmRoute)


@accounts_router.get(
    "/{contact_id}/accounts",
    operation_id="list_contact_accounts",
    summary="The accounts a contact is linked to",
    response_model=Page[AccountRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 404, 422, 503),
)
@sorted_by(account_queries.SORTING)
async def list_contact_accounts(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    contact_id: UUID,
    page: Annotated[PageParams, Query()],
) -> Response:
    """Only the accounts the caller can see."""
    await service.get(session, actor, contact_id)
    query = AccountListQuery(**page.model_dump(), contact_id=contact_id)
    return await accounts.listed(request, session, actor, query)


# A contact's notes: their own router, which app.py includes after the contacts, so the OpenAPI
# document keeps the order clients were generated from.
notes_router = APIRouter(
    prefix="/v1/contacts", tags=["notes"], route_class=CrmRoute, dependencies=[Idempotent]
)


notes.declare(
    notes_router,
    "contact",
    service.get,
    listing=notes.Route(
        "list_contact_notes",
        "List a contact's notes",
        "The notes of a contact the caller can see, newest first, paged by cursor.",
    ),
    adding=notes.Route(
        "create_contact_note",
        "Add a note to a contact",
        """Staff who can see the contact may add a note; they become its author.

            Send `Idempotency-Key` to make a retry safe: the same key replays the first answer.
            """,
    ),
)


# Tagging contacts: its own router, which app.py includes after the notes, so the OpenAPI document
# keeps the order clients were generated from.
tags_router = APIRouter(
    prefix="/v1/contacts", tags=["contacts"], route_class=CrmRoute, dependencies=[Idempotent]
)
tags.declare(
    tags_router,
    "contact",
    "contacts",
    service.get_for_change,
    bulk="bulk_tag_contacts",
    add="add_contact_tag",
    remove="remove_contact_tag",
)
