"""Which events an actor may hear of: an event about a record is visible to whoever may see the
record, by the same scope as the record's reads; an event about configuration or access, to
whoever may manage it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, false, or_, select
from sqlalchemy.sql.elements import ColumnElement

from crmapi.access.actor import Actor
from crmapi.access.problems import MissingCapability
from crmapi.accounts import queries as accounts
from crmapi.accounts.models import Account
from crmapi.activities import queries as activities
from crmapi.activities.models import Activity
from crmapi.contacts import queries as contacts
from crmapi.contacts.models import Contact
from crmapi.conversations import queries as conversations
from crmapi.conversations.models import Conversation
from crmapi.documents import queries as document_queries
from crmapi.documents.models import Document
from crmapi.feeds import queries as feeds
from crmapi.feeds.models import Feed, FeedComment, FeedPost
from crmapi.issues import queries as issues
from crmapi.issues.models import Issue
from crmapi.leads import queries as leads
from crmapi.leads.models import Lead
from crmapi.notes.models import Note
from crmapi.opportunities import queries as opportunities
from crmapi.opportunities.models import Opportunity
from crmapi.records.outbox import OutboxEvent
from crmapi.sales_orders import queries as sales_orders
from crmapi.sales_orders.models import SalesOrder
from crmapi.service_requests import queries as service_requests
from crmapi.service_requests.models import ServiceRequest

ADMIN = "org.admin"


@dataclass(frozen=True)
class Visible:
    """Who hears of a kind's events: holders of `everyone`, and otherwise whoever's scope holds
    the record (`ids`: the ids of those records, deleted ones too); no `ids`: nobody else."""

    everyone: str
    ids: Callable[[Actor], Select[Any]] | None = None


def _ids_in(model: Any, scope: Callable[[Actor], Any]) -> Callable[[Actor], Select[Any]]:
    return lambda actor: select(model.id).where(scope(actor))


_RECORDS = {
    "contact": Visible("contacts.view_any", _ids_in(Contact, contacts.scope)),
    "account": Visible("accounts.view_any", _ids_in(Account, accounts.scope)),
    "lead": Visible("leads.view_any", _ids_in(Lead, leads.scope)),
    "opportunity": Visible("accounts.view_any", _ids_in(Opportunity, opportunities.scope)),
    "activity": Visible("activities.view_any", _ids_in(Activity, activities.scope)),
    "service_request": Visible("service_requests.view_any", _ids_in(ServiceRequest, service_requests.scope)),
    "sales_order": Visible("sales_orders.view_any", _ids_in(SalesOrder, sales_orders.scope)),
    # An account's documents are heard of by whoever sees the account.
    **{
        kind: Visible("accounts.view_any", _ids_in(Document, document_queries.scope))
        for kind in document_queries.KINDS
    },
    "issue": Visible("issues.view_any", _ids_in(Issue, issues.scope)),
    "conversation": Visible("accounts.view_any", _ids_in(Conversation, conversations.scope)),
    "message": Visible("accounts.view_any", conversations.message_ids),
    # Feeds are exclusive: their members hear of them (and administrators, of every change).
    "feed": Visible(ADMIN, _ids_in(Feed, feeds.scope)),
    "feed_post": Visible(
        ADMIN, lambda actor: select(FeedPost.id).where(FeedPost.feed_id.in_(feeds.feed_ids(actor)))
    ),
    "feed_comment": Visible(
        ADMIN, lambda actor: select(FeedComment.id).where(FeedComment.feed_id.in_(feeds.feed_ids(actor)))
    ),
}


def _heard(actor: Actor, rule: Visible, of_kind: Any, id_in: Callable[[Select[Any]], Any]) -> Any:
    """The clause of one kind's rule: every record of it (`of_kind`) for holders of `everyone`,
    else those whose id is in the actor's scope (`id_in`); None when the actor hears of none."""
    if actor.can(rule.everyone):
        return of_kind
    if rule.ids is None:
        return None
    try:
        return of_kind & id_in(rule.ids(actor))
    except MissingCapability:  # an API key reads a kind through its capability or not at all
        return None


def _note_ids(actor: Actor) -> Select[Any]:
    """Notes on the contacts, accounts and leads the actor sees."""
    subjects = [
        _heard(actor, _RECORDS[subject], Note.subject == subject, Note.subject_id.in_)
        for subject in ("contact", "account", "lead")
    ]
    heard = [clause for clause in subjects if clause is not None]
    return select(Note.id).where(or_(*heard) if heard else false())


_CONFIGURATION = (
    "cancellation_reason",
    "category",
    "competitor",
    "custom_field",
    "importance_level",
    "lead_source",
    "lifecycle_status",
    "lifecycle_type",
    "lookup_list",
    "lookup_value",
    "lost_reason",
    "notification_category",
    "prioritisation_matrix",
    "priority_level",
    "service",
    "transition_rule",
)
KINDS: dict[str, Visible] = {
    **_RECORDS,
    "note": Visible(ADMIN, _note_ids),
    **{kind: Visible("config.manage") for kind in _CONFIGURATION},
    "tag": Visible("tags.manage"),
    "webhook_endpoint": Visible("webhooks.manage"),
    "sales_rep": Visible("sales_reps.manage"),
    **{kind: Visible(ADMIN) for kind in ("api_key", "business_unit", "group", "member", "organisation")},
}


def visible(actor: Actor, kinds: Iterable[str] | None = None) -> ColumnElement[bool]:
    """The outbox rows about `kinds` (default: every kind) that the actor may hear of."""
    if kinds is None and actor.can(ADMIN):
        return OutboxEvent.org_id == actor.org_id  # every event, kinds added later too
    clauses = [
        _heard(actor, KINDS[kind], OutboxEvent.entity == kind, OutboxEvent.entity_id.in_)
        for kind in (KINDS if kinds is None else kinds)
    ]
    heard = [clause for clause in clauses if clause is not None]
    return (OutboxEvent.org_id == actor.org_id) & (or_(*heard) if heard else false())
