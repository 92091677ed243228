"""What an actor may read of accounts: the scope every account read and write starts from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Text, case, cast, func, literal_column, null, or_, select, union_all
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement

from crmapi.access.actor import Actor
from crmapi.access.problems import MissingCapability
from crmapi.accounts.models import Account, AccountAssignment, AccountContact, AccountSalesRep
from crmapi.accounts.schemas import AccountFilter, AccountRead
from crmapi.contacts.models import Contact
from crmapi.documents.models import AccountBalance
from crmapi.identity.calendar import today
from crmapi.kit import rendered, search
from crmapi.kit.pagination import Sorting

THROUGH_CONTACT = 0.9
# An account's sales-rep codes in code order (null when it has none), as a column of a page.
_CODES = (
    select(func.array_agg(aggregate_order_by(AccountSalesRep.sales_rep_code, AccountSalesRep.sales_rep_code)))
    .where(AccountSalesRep.org_id == Account.org_id, AccountSalesRep.account_id == Account.id)
    .scalar_subquery()
)
SALES_REP_CODES = _CODES.label("sales_rep_codes")
# An account's answer as PostgreSQL renders it (kit.rendered): the limit as Money (its amount
# as stored, NUMERIC(19,4), in text), no codes as an empty list.
COLUMNS = {
    **rendered.columns(AccountRead, Account),
    "credit_limit": case(
        (Account.credit_limit_amount.is_(None), null()),
        else_=func.json_build_object(
            literal_column("'amount'"),
            cast(Account.credit_limit_amount, Text),
            literal_column("'currency'"),
            Account.credit_limit_currency,
        ),
    ),
    "sales_rep_codes": func.coalesce(_CODES, literal_column("'{}'::text[]")),
}
_FULL = rendered.json_object(AccountRead, COLUMNS)


def rendered_as(fields: set[str] | None) -> ColumnElement[str]:
    """An account's answer as JSON text, every field or the `fields` chosen."""
    return _FULL if fields is None else rendered.json_object(AccountRead, COLUMNS, fields)


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
    """The predicate of `_scope`, built once per distinct actor (Actor.remember)."""
    return actor.remember("accounts.scope", _scope)


def _scope(actor: Actor) -> Any:
    """Accounts the actor may see (DESIGN "Access"): every account with accounts.view_any; else
    those it owns, is personally assigned to, works on as a linked sales-rep record, or that
    belong to one of its business units (when the organisation turned unit visibility on).
    Customers see only their assigned accounts.
    """
    if actor.can("accounts.view_any"):
        return Account.org_id == actor.org_id
    if actor.member_id is None:
        # An API key has no records of its own: it reads through the capability or not at all.
        raise MissingCapability("An API key needs the capability 'accounts.view_any' here.")
    return (Account.org_id == actor.org_id) & Account.id.in_(_reachable(actor))


def _reachable(actor: Actor) -> Any:
    """Ids of the accounts a member reaches, one indexed lookup per path, so the planner can
    collect them first and join, instead of testing every account of the organisation."""
    paths: list[Select[Any]] = [
        select(AccountAssignment.account_id).where(AccountAssignment.member_id == actor.member_id)
    ]
    if actor.kind == "staff":
        # `correlate(None)` keeps this a lookup of its own, not tied to the enclosing query's
        # accounts; an `aliased(Account)` per request did the same for a third of a list's CPU.
        paths.append(select(Account.id).where(Account.owner_member_id == actor.member_id).correlate(None))
        if actor.sales_rep_codes:
            paths.append(
                select(AccountSalesRep.account_id).where(
                    AccountSalesRep.sales_rep_code.in_(actor.sales_rep_codes)
                )
            )
        if actor.unit_ids:
            in_unit = select(Account.id).where(Account.business_unit_id.in_(actor.unit_ids))
            paths.append(in_unit.correlate(None))
    return union_all(*paths) if len(paths) > 1 else paths[0]


def reached_ids(actor: Actor) -> Select[Any]:
    """Ids of live accounts a member reaches itself (assigned, owner, sales-rep record, unit),
    whatever it may see besides through `accounts.view_any`: the seed's path to an account's
    issues for members without "View Any Issues"."""
    return select(Account.id).where(
        Account.org_id == actor.org_id, Account.id.in_(_reachable(actor)), Account.deleted_at.is_(None)
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


def page_loader(actor: Actor) -> Select[Any] | None:
    """How a list page's rows (with their sales-rep codes) are read: see contacts.page_loader."""
    if actor.can("accounts.view_any"):
        return None
    return select(Account, SALES_REP_CODES).where(Account.org_id == actor.org_id)


def filtered(actor: Actor, f: AccountFilter) -> tuple[Select[Account], Any]:
    """The accounts matching the filter, and with `q` their relevance (None without)."""
    if f.deleted == "only" and not actor.can("accounts.manage"):
        raise MissingCapability("Listing deleted accounts needs 'accounts.manage'.")
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
    if f.overdue_days_gt is not None or f.outstanding_gt is not None:
        stmt = stmt.where(Account.id.in_(_owing(actor, f)))
    if not f.q:
        return stmt, None
    # An API key reads contacts through its capability or not at all: without it, `q` must not
    # test what the accounts' contacts hold either.
    return _searched(
        stmt, f.q, through_contacts=actor.member_id is not None or actor.can("contacts.view_any")
    )


def _owing(actor: Actor, f: AccountFilter) -> Select[Any]:
    """Accounts with an invoice more than N days overdue, or owing more than an amount in one
    currency: read by index from the balances every invoice push keeps."""
    stmt = select(AccountBalance.account_id).where(AccountBalance.org_id == actor.org_id)
    if f.overdue_days_gt is not None:
        stmt = stmt.where(AccountBalance.oldest_due_on < today(actor.org_id) - f.overdue_days_gt)
    if f.outstanding_gt is not None:
        stmt = stmt.where(AccountBalance.outstanding > f.outstanding_gt)
    return stmt


def _searched(stmt: Select[Account], q: str, *, through_contacts: bool) -> tuple[Select[Account], Any]:
    """Accounts whose own text (or, `through_contacts`, a linked contact's) matches q.

    An account ranks by its own match or its best-matching contact, whichever is higher. The
    contact matches are found once and joined, not looked up again for every candidate account.
    """
    own = search.relevance(Account.search_text, Account.search_vector, q)
    if not through_contacts:
        return stmt.where(search.matches(Account.search_text, q)), own
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
    # Discounted, so an account's own name outranks an equally good match on one of its contacts.
    return stmt, func.greatest(own, func.coalesce(via_contacts.c.score, 0.0) * THROUGH_CONTACT)
