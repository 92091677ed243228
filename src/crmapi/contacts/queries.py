"""What an actor may read of contacts: the scope every contact read and write starts from."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, select, union_all
from sqlalchemy.sql.elements import ColumnElement

from crmapi.access.actor import Actor
from crmapi.access.problems import MissingCapability
from crmapi.accounts import queries as account_queries
from crmapi.accounts.models import Account
from crmapi.contacts.models import Contact
from crmapi.contacts.schemas import ContactFilter, ContactRead
from crmapi.kit import rendered, search
from crmapi.kit.pagination import Sorting

SORTING = Sorting(
    columns={
        "created_at": Contact.created_at,
        "updated_at": Contact.updated_at,
        "display_name": Contact.display_name,
    },
    id_column=Contact.id,
    default="created_at",
)


def scope(actor: Actor) -> Any:
    """The predicate of `_scope`, built once per distinct actor (Actor.remember)."""
    return actor.remember("contacts.scope", _scope)


def _scope(actor: Actor) -> Any:
    """The contacts this actor may see: every contact with contacts.view_any; else those linked to
    an account it can see, and for staff also those it owns or (with unit visibility) of its units.
    """
    if actor.can("contacts.view_any"):
        return Contact.org_id == actor.org_id
    if actor.member_id is None:
        # An API key has no records of its own: it reads through the capability or not at all.
        raise MissingCapability("An API key needs the capability 'contacts.view_any' here.")
    paths: list[Select[Any]] = [account_queries.linked_contact_ids(actor)]
    if actor.kind == "staff":
        # Lookups of their own, not tied to the enclosing query's contacts (see accounts).
        paths.append(select(Contact.id).where(Contact.owner_member_id == actor.member_id).correlate(None))
        if actor.unit_ids:
            in_unit = select(Contact.id).where(Contact.business_unit_id.in_(actor.unit_ids))
            paths.append(in_unit.correlate(None))
    return (Contact.org_id == actor.org_id) & Contact.id.in_(
        union_all(*paths) if len(paths) > 1 else paths[0]
    )


def readable(actor: Actor, *, deleted: bool = False) -> Select[Contact]:
    """Live (or, with deleted=True, deleted) contacts in the actor's scope."""
    state = Contact.deleted_at.is_not(None) if deleted else Contact.deleted_at.is_(None)
    return select(Contact).where(scope(actor), state)


COLUMNS = rendered.columns(ContactRead, Contact)
_FULL = rendered.json_object(ContactRead, COLUMNS)


def rendered_as(fields: set[str] | None) -> ColumnElement[str]:
    """A contact's answer as JSON text (`kit.rendered`), every field or the `fields` chosen."""
    return _FULL if fields is None else rendered.json_object(ContactRead, COLUMNS, fields)


def page_loader(actor: Actor) -> Select[Contact] | None:
    """How a list page's rows are read (pagination's `load`): after the page is found by id
    when the scope narrows the list; None, in one query, when the actor sees every contact."""
    # The organisation named as well as the id: the page joins on the whole primary key.
    return None if actor.can("contacts.view_any") else select(Contact).where(Contact.org_id == actor.org_id)


def filtered(actor: Actor, f: ContactFilter) -> Select[Contact]:
    if f.deleted == "only" and not actor.can("contacts.manage"):
        raise MissingCapability("Listing deleted contacts needs 'contacts.manage'.")
    stmt = readable(actor, deleted=f.deleted == "only")
    if f.kind:
        stmt = stmt.where(Contact.kind == f.kind)
    if f.tag:
        stmt = stmt.where(Contact.tags.contains(f.tag))
    if f.owner_member_id:
        stmt = stmt.where(Contact.owner_member_id == f.owner_member_id)
    if f.lifecycle_state:
        stmt = stmt.where(Contact.lifecycle_state == f.lifecycle_state)
    if f.parent_payer_id:
        stmt = stmt.where(Contact.parent_payer_id == f.parent_payer_id)
    if f.created_from:
        stmt = stmt.where(Contact.created_at >= f.created_from)
    if f.created_to:
        stmt = stmt.where(Contact.created_at < f.created_to)
    if f.q:
        stmt = stmt.where(search.matches(Contact.search_text, f.q))
    return stmt


def relevance(f: ContactFilter) -> Any:
    return search.relevance(Contact.search_text, Contact.search_vector, f.q) if f.q else None


# The customer a work item (lead, opportunity, activity, request) is for: each reference checked
# in the actor's scope of its kind (`lifecycle.work.check_in_scope`).
CUSTOMER_REFERENCES: dict[str, tuple[Any, Callable[..., Any]]] = {
    "contact_id": (Contact, readable),
    "account_id": (Account, account_queries.readable),
}
