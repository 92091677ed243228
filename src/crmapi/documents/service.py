"""Reading documents: an account's lists and balance, one document by id."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.accounts import service as accounts
from crmapi.documents import live, queries
from crmapi.documents.schemas import DocumentPageQuery, DocumentRead
from crmapi.kit import rendered
from crmapi.kit.concurrency import etag
from crmapi.kit.pagination import paginate, select_fields
from crmapi.records import answers


async def page(
    request: Request,
    session: AsyncSession,
    actor: Actor,
    account_id: UUID,
    kind: str,
    query: DocumentPageQuery,
) -> Response:
    """A page of the account's documents of a kind (asked of the ERP first with `source=live`);
    404 when the account is not in the scope. `Crmapi-Source` says where the page came from."""
    chosen = select_fields(DocumentRead, query.fields)
    account = await accounts.get(session, actor, account_id)
    source = "stored"
    if query.source == "live":
        source = await live.refresh(session, actor, account, kind, fallback=query.fallback == "stored")
    bodies, cursor, count = await paginate(
        session,
        queries.filtered(actor, account_id, kind, query),
        sorting=queries.SORTING,
        params=query,
        cursors=request.app.state.cursors,
        rendered=queries.rendered_as(chosen),
    )
    answer = rendered.page(bodies, cursor, count)
    answer.headers["Crmapi-Source"] = source
    return answer


async def one(session: AsyncSession, actor: Actor, document_id: UUID, fields: str | None) -> Response:
    chosen = select_fields(DocumentRead, fields)
    body, version = await answers.by_id(
        session, actor, queries.answer, document_id, chosen, "No document with this id."
    )
    return rendered.one(body, {"ETag": etag(version)})


async def balance(session: AsyncSession, actor: Actor, account_id: UUID) -> dict[str, Any]:
    await accounts.get(session, actor, account_id)
    return await queries.balance(session, actor, account_id)
