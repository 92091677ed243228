"""The tag catalogue as the actor reads it, and the records that carry tags."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, false, func, select, true

from crmapi.access.actor import Actor
from crmapi.accounts import queries as accounts
from crmapi.accounts.models import Account
from crmapi.contacts import queries as contacts
from crmapi.contacts.models import Contact
from crmapi.pagination import Sorting
from crmapi.search import escape_like
from crmapi.subjects import SubjectKind
from crmapi.tags.models import Tag
from crmapi.tags.schemas import TagListQuery

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

    kind: SubjectKind
    model: Any
    readable: Callable[[Actor], Select[Any]]
    manage: str  # the capability that may change any record of the kind

    def changeable(self, actor: Actor) -> Any:
        """The rule of the kind's get_for_change as SQL: the owner, or whoever holds `manage`."""
        if actor.can(self.manage):
            return true()
        if actor.member_id is None:
            return false()
        return self.model.owner_member_id == actor.member_id


CARRIERS: dict[SubjectKind, Carrier] = {
    "contact": Carrier("contact", Contact, contacts.readable, "contacts.manage"),
    "account": Carrier("account", Account, accounts.readable, "accounts.manage"),
}
