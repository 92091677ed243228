"""Contacts: create, change, soft-delete and restore, each with history and an outbox event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.problems import MissingCapability, NotOwner
from crmapi.access.units import require_unit
from crmapi.contacts import queries
from crmapi.contacts.models import Contact
from crmapi.contacts.schemas import ContactCreate, ContactUpdate, MissingName, check_names
from crmapi.custom_fields import service as custom_fields
from crmapi.identity.models import Member
from crmapi.kit import search
from crmapi.kit.concurrency import check_version
from crmapi.kit.errors import FieldError, NotFound, Unprocessable
from crmapi.records import answers, history
from crmapi.records.changes import announce, bring_back, soft_delete
from crmapi.tags import service as tags

ENTITY = "contact"
# The columns a client writes; history compares exactly these.
WRITABLE = tuple(ContactUpdate.model_fields)


def _display_name(c: Contact) -> str:
    if c.kind == "organisation":
        return c.name or ""
    return " ".join(p for p in (c.first_name, c.last_name) if p)


def _search_text(c: Contact) -> str:
    tax_digits = "".join(ch for ch in c.tax_id or "" if ch.isalnum())
    return search.search_text(
        c.display_name,
        c.name,
        c.job_title,
        c.tax_id,
        tax_digits,
        c.web_domain,
        (e.get("address") for e in c.emails or []),
        (p.get("number") for p in c.phones or []),
        ("".join(ch for ch in p.get("number", "") if ch.isdigit()) for p in c.phones or []),
        (
            " ".join(str(a.get(k) or "") for k in ("street", "city", "postal_code", "region", "country"))
            for a in c.addresses or []
        ),
    )


def _sent(data: ContactCreate | ContactUpdate) -> dict[str, Any]:
    """The fields the client sent; nested items in full, so a re-sent value compares equal."""
    return {k: v for k, v in data.model_dump(mode="json").items() if k in data.model_fields_set}


def _snapshot(c: Contact) -> dict[str, Any]:
    return {k: getattr(c, k) for k in WRITABLE}


async def _check_references(
    session: AsyncSession, actor: Actor, c: Contact, changed: set[str] | None = None
) -> None:
    """422 naming the field for a unit, owner or payer that is not there (or, for the payer, not
    in the actor's scope). Only `changed` fields are checked on an update: an edit of anything
    else must not fail because the payer has since left the actor's sight or been deleted."""
    if changed is None or "business_unit_id" in changed:
        await require_unit(session, c.business_unit_id)
    # The caller owning it needs no query: this request read its member row (active staff).
    yourself = actor.kind == "staff" and c.owner_member_id == actor.member_id
    if c.owner_member_id is not None and not yourself and (changed is None or "owner_member_id" in changed):
        owner = await session.execute(
            select(Member.id).where(Member.id == c.owner_member_id, Member.kind == "staff")
        )
        if owner.first() is None:
            raise Unprocessable.on("body.owner_member_id", "No staff member with this id.")
    if c.parent_payer_id is not None and (changed is None or "parent_payer_id" in changed):
        if c.parent_payer_id == c.id:
            raise Unprocessable.on("body.parent_payer_id", "A contact cannot be its own payer.")
        payer = await session.execute(
            select(Contact.id).where(
                queries.scope(actor), Contact.id == c.parent_payer_id, Contact.deleted_at.is_(None)
            )
        )
        if payer.first() is None:
            raise Unprocessable.on("body.parent_payer_id", "No contact with this id.")
        if changed is not None and await session.scalar(_pays_for(actor, c.parent_payer_id, c.id)):
            raise Unprocessable.on("body.parent_payer_id", "That contact's payers include this one: a cycle.")


def _pays_for(actor: Actor, payer_id: UUID, contact_id: UUID) -> Any:
    """Whether `contact_id` is among the payers above `payer_id` (a walk up the payer chain)."""
    up = (
        select(Contact.id, Contact.parent_payer_id)
        .where(Contact.org_id == actor.org_id, Contact.id == payer_id)
        .cte("payers", recursive=True)
    )
    # UNION, not UNION ALL: a loop already in the data ends the walk instead of spinning.
    up = up.union(
        select(Contact.id, Contact.parent_payer_id).join(
            up, (Contact.org_id == actor.org_id) & (Contact.id == up.c.parent_payer_id)
        )
    )
    return select(exists().where(up.c.id == contact_id))


def derive(c: Contact) -> None:
    """Fill display_name and search_text from the other fields (every write, and demo data)."""
    c.display_name = _display_name(c)
    c.search_text = _search_text(c)


async def create(session: AsyncSession, actor: Actor, data: ContactCreate) -> Contact:
    """Create a contact; the creator owns it unless another owner is given."""
    values = _sent(data)
    for key in ("owner_member_id", "business_unit_id", "parent_payer_id"):
        if values.get(key):
            values[key] = UUID(values[key])
    values.setdefault("owner_member_id", actor.member_id)
    values.setdefault("lifecycle_state", "prospect")
    contact = Contact(org_id=actor.org_id, **values)
    contact.emails, contact.phones, contact.addresses = (
        contact.emails or [],
        contact.phones or [],
        contact.addresses or [],
    )
    contact.tags, contact.custom = _unique(contact.tags or []), contact.custom or {}
    contact.tags = await tags.ensure_catalogued(session, actor, contact.tags)
    contact.custom = await custom_fields.validate_values(
        session, actor, ENTITY, contact.custom, creating=True, current=None
    )
    derive(contact)
    await _check_references(session, actor, contact)
    session.add(contact)
    await session.flush()
    announce(
        session, actor, contact, entity=ENTITY, action="created", changes=history.diff({}, _snapshot(contact))
    )
    return contact


def _readable_by_id(actor: Actor) -> Select[Contact]:
    return queries.readable(actor).where(Contact.id == bindparam("contact_id"))


async def get(session: AsyncSession, actor: Actor, contact_id: UUID) -> Contact:
    """A live contact in the actor's scope; 404 otherwise."""
    # Kept with the actor's scope (Actor.remember): built once, its SQLAlchemy cache key computed
    # once, only the id bound per request.
    stmt = actor.remember("contacts.readable_by_id", _readable_by_id)
    contact = (await session.execute(stmt, {"contact_id": contact_id})).scalar_one_or_none()
    if contact is None:
        raise NotFound("No contact with this id.")
    return contact


def _answer(actor: Actor, fields: set[str] | None) -> Select[str, int]:
    by_id = queries.readable(actor).where(Contact.id == bindparam("record_id"))
    return by_id.with_only_columns(queries.rendered_as(fields), Contact.version)


async def get_rendered(
    session: AsyncSession, actor: Actor, contact_id: UUID, fields: set[str] | None = None
) -> tuple[str, int]:
    """A live contact in the actor's scope as its answer's JSON text, and its version; 404 otherwise."""
    return await answers.by_id(session, actor, _answer, contact_id, fields, "No contact with this id.")


async def get_for_change(
    session: AsyncSession, actor: Actor, contact_id: UUID, *, deleted: bool = False
) -> Contact:
    """The contact, locked, if the actor may change it (owner or contacts.manage)."""
    stmt = queries.readable(actor, deleted=deleted).where(Contact.id == contact_id).with_for_update()
    contact = (await session.execute(stmt)).scalar_one_or_none()
    if contact is None:
        raise NotFound("No contact with this id.")
    if not (actor.can("contacts.manage") or (actor.member_id and contact.owner_member_id == actor.member_id)):
        raise NotOwner("Only the owner or 'contacts.manage' may change this contact.")
    return contact


async def update(
    session: AsyncSession, actor: Actor, contact_id: UUID, data: ContactUpdate, expected: int | None
) -> Contact:
    """Merge the sent fields into the contact; nothing is written when nothing changes."""
    contact = await get_for_change(session, actor, contact_id)
    check_version(contact.version, expected)
    values = _sent(data)
    for key in ("emails", "phones", "addresses", "tags"):
        if key in values and values[key] is None:
            values[key] = []
    if "custom" in values:
        # Merged key by key: a null value removes its key, a null `custom` every key.
        values["custom"] = await custom_fields.validate_values(
            session, actor, ENTITY, values["custom"], creating=False, current=contact.custom
        )
    for key in ("owner_member_id", "business_unit_id", "parent_payer_id"):
        if values.get(key):
            values[key] = UUID(values[key])
    if "tags" in values:
        values["tags"] = await tags.ensure_catalogued(session, actor, _unique(values["tags"]))
    before = _snapshot(contact)
    # The checks query the database; an autoflush of the half-changed contact would trip a
    # foreign key (an unknown payer, owner or unit) as a 500 before they answer 422.
    with session.no_autoflush:
        for key, value in values.items():
            setattr(contact, key, value)
        try:
            check_names(contact.kind, contact.first_name, contact.last_name, contact.name)
        except MissingName as exc:
            errors = [FieldError(field=f"body.{f}", message=str(exc)) for f in exc.fields]
            raise Unprocessable(str(exc), errors=errors) from exc
        changes = history.diff(before, _snapshot(contact))
        if not changes:
            return contact
        await _check_references(session, actor, contact, set(changes))
    derive(contact)
    contact.updated_at = datetime.now(UTC)
    await session.flush()
    announce(session, actor, contact, entity=ENTITY, action="updated", changes=changes)
    return contact


async def delete(session: AsyncSession, actor: Actor, contact_id: UUID, expected: int | None) -> None:
    """Soft-delete: the contact disappears from reads until restored."""
    contact = await get_for_change(session, actor, contact_id)
    check_version(contact.version, expected)
    await soft_delete(session, actor, contact, entity=ENTITY)


async def restore(
    session: AsyncSession, actor: Actor, contact_id: UUID, expected: int | None = None
) -> Contact:
    """Bring back a soft-deleted contact (contacts.manage)."""
    if not actor.can("contacts.manage"):
        raise MissingCapability("Restoring a contact needs 'contacts.manage'.")
    contact = await get_for_change(session, actor, contact_id, deleted=True)
    check_version(contact.version, expected)
    await bring_back(session, actor, contact, entity=ENTITY)
    return contact


def _unique(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))
