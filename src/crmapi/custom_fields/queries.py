"""Custom field definitions as the actor reads them, and the records that carry custom values."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from crmapi.access.actor import Actor
from crmapi.accounts.models import Account
from crmapi.contacts.models import Contact
from crmapi.custom_fields.models import CustomFieldDefinition
from crmapi.custom_fields.schemas import CustomFieldListQuery

# The one order of the list, unique per organisation because (kind, key) is.
ORDER = (CustomFieldDefinition.kind, CustomFieldDefinition.position, CustomFieldDefinition.key)
ORDER_NAME = "kind,position,key"

# The kinds of record whose `custom jsonb` the definitions describe.
RECORDS: dict[str, Any] = {"contact": Contact, "account": Account}


def readable(actor: Actor) -> Select[CustomFieldDefinition]:
    """The organisation's definitions: every staff member and API key reads all of them."""
    return select(CustomFieldDefinition).where(CustomFieldDefinition.org_id == actor.org_id)


def filtered(actor: Actor, f: CustomFieldListQuery) -> Select[CustomFieldDefinition]:
    stmt = readable(actor)
    if f.kind:
        stmt = stmt.where(CustomFieldDefinition.kind == f.kind)
    return stmt


def of_kind(actor: Actor, kind: str) -> Select[str, str, list[str], bool]:
    """What checking values needs of each definition of a kind."""
    d = CustomFieldDefinition
    return select(d.key, d.type, d.options, d.required).where(d.org_id == actor.org_id, d.kind == kind)
