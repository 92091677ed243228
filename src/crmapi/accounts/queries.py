"""What an actor may read of accounts: the scope every account read and write starts from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, false, func, or_, select

from crmapi import search
from crmapi.access.actor import Actor
from crmapi.accounts.models import Account, AccountAssignment, AccountContact
from crmapi.accounts.schemas import AccountFilter
from crmapi.contacts.models import Contact
from crmapi.errors import Forbidden
from crmapi.pagination import Sorting

THROUGH_CONTACT = 0.9
SORTING = Sorting(
    columns={
        "created_at": Account.created_at,
        "updated_at": Account.updated_at,
        "name": Account.name,
        "number": Account.number,
    },
    id_column=Account.id,
    default="created_at",
)


def scope(actor: Actor) -> Any:
    """Accounts the actor may see: everything with accounts.view_any, else owned or personally assigned.

    Sales-rep records and business units widen this when the access model lands.
    """
    if actor.can("accounts.view_any"):
        return Account.org_id == actor.org_id
    if actor.member_id is None:
        return false()
    assigned = select(AccountAssignment.account_id).where(AccountAssignment.member_id == actor.member_id)
    return (Account.org_id == actor.org_id) & or_(
        Account.owner_member_id == actor.member_id, Account.id.in_(assigned)
    )


def visible_ids(actor: Actor) -> Select[Any]:
    """Ids of live accounts in scope: what child records (and linked contacts) inherit."""
    return select(Account.id).where(scope(actor), Account.deleted_at.is_(None))


def linked_contact_ids(actor: Actor) -> Select[Any]:
    """Contacts linked to an account the actor can see."""
    return select(AccountContact.contact_id).where(AccountContact.account_id.in_(visible_ids(actor)))


def readable(actor: Actor, *, deleted: bool = False) -> Select[Account]:
    state = Account.deleted_at.is_not(None) if deleted else Account.deleted_at.is_(None)
    return select(Account).where(scope(actor), state)


def filtered(actor: Actor, f: AccountFilter) -> tuple[Select[Account], Any]:
    """The accounts matching the filter, and with `q` their relevance (None without)."""
    if f.deleted == "only" and not actor.can("accounts.manage"):
        raise Forbidden("Listing deleted accounts needs 'accounts.manage'.", slug="missing-capability")
    stmt = readable(actor, deleted=f.deleted == "only")
    if f.status:
        stmt = stmt.where(Account.status == f.status)
    if f.classification:
        stmt = stmt.where(Account.classification == f.classification)
    if f.tag:
        stmt = stmt.where(Account.tags.contains(f.tag))
    if f.owner_member_id:
        stmt = stmt.where(Account.owner_member_id == f.owner_member_id)
    if f.code:
        stmt = stmt.where(Account.code == f.code)
    if f.contact_id:
        linked = select(AccountContact.account_id).where(AccountContact.contact_id == f.contact_id)
        stmt = stmt.where(Account.id.in_(linked))
    if f.created_from:
        stmt = stmt.where(Account.created_at >= f.created_from)
    if f.created_to:
        stmt = stmt.where(Account.created_at < f.created_to)
    if not f.q:
        return stmt, None
    return _searched(stmt, f.q)


def _searched(stmt: Select[Account], q: str) -> tuple[Select[Account], Any]:
    """Accounts whose own text or a linked contact matches q.

    An account ranks by its own match or its best-matching contact, whichever is higher. The
    contact matches are found once and joined, not looked up again for every candidate account.
    """
    via_contacts = (
        select(
            AccountContact.account_id,
            func.max(search.relevance(Contact.search_text, Contact.search_vector, q)).label("score"),
        )
        .join(Contact, (Contact.org_id == AccountContact.org_id) & (Contact.id == AccountContact.contact_id))
        .where(search.matches(Contact.search_text, q), Contact.deleted_at.is_(None))
        .group_by(AccountContact.account_id)
        .subquery("via_contacts")
    )
    stmt = stmt.outerjoin(via_contacts, via_contacts.c.account_id == Account.id).where(
        or_(search.matches(Account.search_text, q), via_contacts.c.account_id.is_not(None))
    )
    own = search.relevance(Account.search_text, Account.search_vector, q)
    # Discounted, so an account's own name outranks an equally good match on one of its contacts.
    return stmt, func.greatest(own, func.coalesce(via_contacts.c.score, 0.0) * THROUGH_CONTACT)
