"""The tag catalogue as the actor reads it, and the records that carry tags."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select, false, func, or_, select, true

from crmapi.access.actor import Actor
from crmapi.accounts import queries as accounts
from crmapi.accounts.models import Account
from crmapi.contacts import queries as contacts
from crmapi.contacts.models import Contact
from crmapi.kit.pagination import Sorting
from crmapi.kit.search import escape_like
from crmapi.leads import queries as leads
from crmapi.leads.models import Lead
from crmapi.lifecycle.kinds import LEAD, OPPORTUNITY
from crmapi.opportunities import queries as opportunities
from crmapi.opportunities.models import Opportunity
from crmapi.tags.models import Tag
from crmapi.tags.schemas import TagListQuery

TaggedKind = Literal["contact", "account", "lead", "opportunity"]

SORTING = Sorting(
    columns={"name": Tag.name, "created_at": Tag.created_at},
    id_column=Tag.id,
    default="name",
)


def readable(actor: Actor) -> Select[Tag]:
    """The organisation's catalogue: every staff member and API key reads all of it."""
    return select(Tag).where(Tag.org_id == actor.org_id)


def filtered(actor: Actor, f: TagListQuery) -> Select[Tag]:
    stmt = readable(actor)
    if f.q:
        prefix = escape_like(f.q.lower()) + "%"
        stmt = stmt.where(func.lower(Tag.name).like(prefix, escape="\\"))
    return stmt


def by_names(actor: Actor, names: list[str]) -> Select[Any]:
    """Catalogue names matching any of `names`, ignoring case (served by uq_tags_name)."""
    return select(Tag.name).where(
        Tag.org_id == actor.org_id, func.lower(Tag.name).in_([n.lower() for n in names])
    )


@dataclass(frozen=True)
class Carrier:
    """A kind of record that carries tag names in a `tags text[]` column."""

    kind: TaggedKind
    model: Any
    readable: Callable[[Actor], Select[Any]]
    manage: str  # the capability that may change any record of the kind
    # Who else may change one: the members these columns name (the owner; a lead's assignee).
    changers: tuple[str, ...] = ("owner_member_id",)
    # States in which a record takes no changes (a cancelled lead): `forbidden` in bulk, unless
    # the record already carries what was sent.
    read_only: frozenset[str] = frozenset()

    def changer(self, actor: Actor) -> Any:
        """The kind's get_for_change rule as SQL: a member named in `changers`, or whoever holds
        `manage`. (A lead's unit members change it one by one, not in bulk.)"""
        if actor.can(self.manage):
            return true()
        if actor.member_id is None:
            return false()
        return or_(*(getattr(self.model, c) == actor.member_id for c in self.changers))

    def writable(self) -> Any:
        """The record is in a state that takes changes."""
        return self.model.state.not_in(self.read_only) if self.read_only else true()


ASSIGNED = ("owner_member_id", "assigned_member_id")
CARRIERS: dict[TaggedKind, Carrier] = {
    "contact": Carrier("contact", Contact, contacts.readable, "contacts.manage"),
    "account": Carrier("account", Account, accounts.readable, "accounts.manage"),
    "lead": Carrier("lead", Lead, leads.readable, "leads.manage", ASSIGNED, LEAD.read_only),
    "opportunity": Carrier(
        "opportunity",
        Opportunity,
        opportunities.readable,
        "opportunities.manage",
        ASSIGNED,
        OPPORTUNITY.read_only,
    ),
}
