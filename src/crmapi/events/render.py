"""Records as the API answers them, for the `data` of the events webhooks carry: read in the
organisation the session is bound to, deleted ones too (a `deleted` event carries the record as
it was removed)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.accounts import queries as account_queries
from crmapi.accounts.models import Account
from crmapi.accounts.schemas import AccountRead
from crmapi.activities.router import ANSWERS as ACTIVITIES
from crmapi.activities.schemas import ActivityRead
from crmapi.contacts import queries as contact_queries
from crmapi.contacts.models import Contact
from crmapi.contacts.schemas import ContactRead
from crmapi.conversations import service as conversations
from crmapi.conversations.models import Message
from crmapi.conversations.schemas import MessageRead
from crmapi.documents import queries as document_queries
from crmapi.documents.models import Document
from crmapi.documents.schemas import DocumentRead
from crmapi.issues import service as issues
from crmapi.issues.models import Issue
from crmapi.issues.schemas import IssueRead
from crmapi.leads.router import ANSWERS as LEADS
from crmapi.leads.schemas import LeadRead
from crmapi.notes.models import Note
from crmapi.notes.schemas import NoteRead
from crmapi.opportunities.models import Opportunity
from crmapi.opportunities.router import row as opportunity_row
from crmapi.opportunities.schemas import OpportunityRead
from crmapi.records.work_routes import Answers
from crmapi.sales_orders import queries as sales_order_queries
from crmapi.sales_orders.models import SalesOrder
from crmapi.sales_orders.schemas import SalesOrderRead
from crmapi.service_requests.router import ANSWERS as SERVICE_REQUESTS
from crmapi.service_requests.schemas import ServiceRequestRead

Rendered = dict[UUID, dict[str, Any]]
Renderer = Callable[[AsyncSession, Sequence[UUID]], Awaitable[Rendered]]


def _in_sql(model: Any, rendered: Any) -> Renderer:
    """Kinds whose answer PostgreSQL renders (`kit.rendered`)."""

    async def render(session: AsyncSession, ids: Sequence[UUID]) -> Rendered:
        found = await session.execute(select(model.id, rendered).where(model.id.in_(ids)))
        return {record_id: json.loads(text) for record_id, text in found.all()}

    return render


def _from_rows(model: Any, read: type[BaseModel], rows: Callable[[Sequence[Any]], list[Any]]) -> Renderer:
    async def render(session: AsyncSession, ids: Sequence[UUID]) -> Rendered:
        found = (await session.execute(select(model).where(model.id.in_(ids)))).scalars().all()
        return {
            r.id: read.model_validate(row).model_dump(mode="json")
            for r, row in zip(found, rows(found), strict=True)
        }

    return render


def _work(answers: Answers[Any]) -> Renderer:
    return _from_rows(answers.model, answers.read_model, answers.rows)


def _opportunities(found: Sequence[Opportunity]) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [opportunity_row(o, now) for o in found]


def _notes(found: Sequence[Note]) -> list[Note]:
    return list(found)


async def _messages(session: AsyncSession, ids: Sequence[UUID]) -> Rendered:
    found = (await session.execute(select(Message).where(Message.id.in_(ids)))).scalars().all()
    return {
        row["id"]: MessageRead.model_validate(row).model_dump(mode="json")
        for row in await conversations.answers(session, found)
    }


async def _issues(session: AsyncSession, ids: Sequence[UUID]) -> Rendered:
    """Issues as staff read them (webhooks are staff's): every answer, without the form."""
    found = (await session.execute(select(Issue).where(Issue.id.in_(ids)))).scalars().all()
    return {
        row["id"]: IssueRead.model_validate(row).model_dump(mode="json", exclude={"form"})
        for row in await issues.rows(session, found, customer=False)
    }


RENDERERS: dict[str, Renderer] = {
    "contact": _in_sql(Contact, contact_queries.rendered_as(None)),
    "account": _in_sql(Account, account_queries.rendered_as(None)),
    "lead": _work(LEADS),
    "activity": _work(ACTIVITIES),
    "service_request": _work(SERVICE_REQUESTS),
    "opportunity": _from_rows(Opportunity, OpportunityRead, _opportunities),
    "note": _from_rows(Note, NoteRead, _notes),
    "sales_order": _in_sql(SalesOrder, sales_order_queries.rendered_as(None)),
    **{kind: _in_sql(Document, document_queries.RENDERED) for kind in document_queries.KINDS},
    # A message as its conversation's readers get it. Conversations (whose answer is the
    # reader's: its marker, its unread count) and feeds (exclusive) are not rendered.
    "message": _messages,
    "issue": _issues,
}
# The answer each rendered kind's `data` follows, for the OpenAPI document's webhooks.
READ_MODELS: dict[str, type[BaseModel]] = {
    "contact": ContactRead,
    "account": AccountRead,
    "lead": LeadRead,
    "activity": ActivityRead,
    "service_request": ServiceRequestRead,
    "opportunity": OpportunityRead,
    "note": NoteRead,
    "sales_order": SalesOrderRead,
    **{kind: DocumentRead for kind in document_queries.KINDS},
    "message": MessageRead,
    "issue": IssueRead,
}


async def records(session: AsyncSession, wanted: Sequence[tuple[str, UUID]]) -> dict[tuple[str, UUID], Any]:
    """The rendered records of (kind, id) pairs, a statement a kind; kinds not rendered are left out."""
    by_kind: dict[str, list[UUID]] = {}
    for kind, record_id in wanted:
        if kind in RENDERERS:
            by_kind.setdefault(kind, []).append(record_id)
    found: dict[tuple[str, UUID], Any] = {}
    for kind, ids in by_kind.items():
        for record_id, data in (await RENDERERS[kind](session, ids)).items():
            found[kind, record_id] = data
    return found
