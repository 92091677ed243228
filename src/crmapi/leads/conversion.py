"""Turning a lead into business: its contact (made financial when the lead is won), a customer
account, and an opportunity, all in the transaction of the move that asked for them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.problems import MissingCapability
from crmapi.accounts import queries as account_queries
from crmapi.accounts import service as accounts
from crmapi.accounts.models import Account
from crmapi.accounts.schemas import AccountCreate
from crmapi.config.models import LeadSource
from crmapi.contacts import queries as contact_queries
from crmapi.contacts import service as contacts
from crmapi.contacts.models import Contact
from crmapi.contacts.schemas import ContactCreate, ContactEmail, ContactPhone
from crmapi.kit.errors import Unprocessable
from crmapi.leads.models import Lead
from crmapi.leads.problems import AlreadyConverted, ConversionBlocked
from crmapi.lifecycle.models import LifecycleType
from crmapi.opportunities import service as opportunities
from crmapi.opportunities.models import Opportunity
from crmapi.opportunities.schemas import OpportunityCreate
from crmapi.records.changes import announce

ENTITY = "lead"
NAME_LENGTH = 200


async def existing_opportunity(session: AsyncSession, lead: Lead) -> UUID | None:
    found = await session.execute(
        select(Opportunity.id)
        .where(Opportunity.lead_id == lead.id, Opportunity.deleted_at.is_(None))
        .limit(1)
    )
    return found.scalar_one_or_none()


@contextmanager
def _blocked() -> Iterator[None]:
    """A record the conversion makes that the organisation's rules refuse (a required custom
    field, a name a contact cannot take) blocks the conversion: 409 naming the cause, not a 422
    on fields the caller never sent."""
    try:
        yield
    except Unprocessable as refused:
        fields = ", ".join(e.field for e in refused.errors or [])
        raise ConversionBlocked(f"The lead cannot be converted: {refused.detail} ({fields})") from refused
    except ValidationError as invalid:
        raise ConversionBlocked(f"The lead cannot be converted: {invalid}") from invalid


def _assigns(actor: Actor, account: Account, lead: Lead) -> bool:
    """Whether the lead's assignee gets a personal assignment to the account: when someone else
    converts, on an account the actor may assign to (one it just made and owns, or with
    accounts.manage), never widening others' access to an account it merely sees."""
    if lead.assigned_member_id in (None, actor.member_id):
        return False
    return actor.can("accounts.manage") or account.owner_member_id == actor.member_id


def _may(actor: Actor, capability: str) -> None:
    if not actor.can(capability):
        raise MissingCapability(f"Converting this lead makes records that need '{capability}'.")


async def _still_there(session: AsyncSession, actor: Actor, lead: Lead) -> None:
    """The contact and account the lead names were checked when set; they must still be live
    and in the actor's reach now."""
    if lead.contact_id is not None:
        stmt = (
            contact_queries.readable(actor).with_only_columns(Contact.id).where(Contact.id == lead.contact_id)
        )
        if (await session.execute(stmt)).first() is None:
            raise ConversionBlocked("The lead's contact is deleted or out of your reach.")
    if lead.account_id is not None:
        stmt = (
            account_queries.readable(actor).with_only_columns(Account.id).where(Account.id == lead.account_id)
        )
        if (await session.execute(stmt)).first() is None:
            raise ConversionBlocked("The lead's account is deleted or out of your reach.")


async def convert(
    session: AsyncSession, actor: Actor, lead: Lead, lead_type: LifecycleType, *, winning: bool
) -> dict[str, Any]:
    """Fill the lead's contact and account (made when it names none) and make its opportunity; a
    won lead's contact becomes financial. The lead is locked and the actor may change it.
    Asked again (a second `convert`) it answers 409 `already-converted` with what the lead
    became; `winning` a lead converted before only makes its contact financial. Anything
    refused on the way rolls the whole move back."""
    existing = await existing_opportunity(session, lead)
    if existing is not None and not winning:
        raise AlreadyConverted(
            "This lead was already converted to an opportunity.",
            extensions={"conversion": _made(lead, existing)},
        )
    won = lead.state == "won"
    await _still_there(session, actor, lead)
    contact_id, account_id = lead.contact_id, lead.account_id
    with _blocked():
        if contact_id is None:
            _may(actor, "contacts.create")
            contact_id = await _new_contact(session, actor, lead)
        if account_id is None:
            _may(actor, "accounts.create")
            account = await _new_account(session, actor, lead, lead_type, contact_id)
        else:
            account = (await session.execute(select(Account).where(Account.id == account_id))).scalar_one()
        account_id = account.id
        if lead.assigned_member_id is not None and _assigns(actor, account, lead):
            # The one working on the lead sees the account (and its opportunity) it became.
            await accounts.add_assignment(session, actor, account, lead.assigned_member_id)
        if won:
            await _make_financial(session, actor, contact_id)
        if existing is None:
            _may(actor, "opportunities.create")
            existing = await _new_opportunity(session, actor, lead, account_id, contact_id)
    filled = {
        key: {"old": None, "new": str(value)}
        for key, value in (("contact_id", contact_id), ("account_id", account_id))
        if getattr(lead, key) is None
    }
    lead.contact_id, lead.account_id = contact_id, account_id
    if filled:
        lead.updated_at = datetime.now(UTC)
        await session.flush()
        announce(session, actor, lead, entity=ENTITY, action="converted", changes=filled)
    return _made(lead, existing)


def _made(lead: Lead, opportunity_id: UUID) -> dict[str, Any]:
    """What a converted lead became (its contact and account are filled by then)."""
    return {
        "lead_id": lead.id,
        "contact_id": lead.contact_id,
        "account_id": lead.account_id,
        "opportunity_id": opportunity_id,
    }


def _phones(lead: Lead) -> list[ContactPhone]:
    """The lead's phone when it is one a contact can hold (a lead's phone is free text)."""
    if not lead.phone:
        return []
    try:
        return [ContactPhone(number=lead.phone, primary=True)]
    except ValidationError:
        return []


def _emails(lead: Lead) -> list[ContactEmail]:
    """The lead's e-mail when a contact can hold it (one stored before addresses were checked
    as today may not be)."""
    if not lead.email:
        return []
    try:
        return [ContactEmail(address=lead.email, primary=True)]
    except ValidationError:
        return []


async def _new_contact(session: AsyncSession, actor: Actor, lead: Lead) -> UUID:
    names: dict[str, Any]
    if lead.first_name or lead.last_name:  # an empty one ("" from a form) is left out
        names = {"kind": "person", "first_name": lead.first_name or None, "last_name": lead.last_name or None}
    elif lead.company:
        names = {"kind": "organisation", "name": lead.company}
    else:
        raise ConversionBlocked("The lead needs a name or a company to become a contact.")
    data = ContactCreate(
        **names,
        job_title=lead.title,
        emails=_emails(lead) or None,
        phones=_phones(lead) or None,
        time_zone=lead.time_zone,
    )
    return (await contacts.create(session, actor, data)).id


async def _new_account(
    session: AsyncSession, actor: Actor, lead: Lead, lead_type: LifecycleType, contact_id: UUID
) -> Account:
    contact = (
        await session.execute(select(Contact.display_name).where(Contact.id == contact_id))
    ).scalar_one()
    data = AccountCreate(
        name=(lead.company or contact)[:NAME_LENGTH],
        primary_contact_id=contact_id,
        classification=lead_type.conversion_classification,
        credit_rating=lead_type.conversion_credit_rating,
    )
    return await accounts.create(session, actor, data)


async def _make_financial(session: AsyncSession, actor: Actor, contact_id: UUID) -> None:
    contact = (
        await session.execute(select(Contact).where(Contact.id == contact_id).with_for_update())
    ).scalar_one()
    if contact.lifecycle_state == "financial":
        return
    changes = {"lifecycle_state": {"old": contact.lifecycle_state, "new": "financial"}}
    contact.lifecycle_state, contact.updated_at = "financial", datetime.now(UTC)
    await session.flush()
    announce(session, actor, contact, entity="contact", action="updated", changes=changes)


async def _new_opportunity(
    session: AsyncSession, actor: Actor, lead: Lead, account_id: UUID, contact_id: UUID
) -> UUID:
    data = OpportunityCreate(
        account_id=account_id,
        contact_id=contact_id,
        name=((lead.company and f"{lead.company}: {lead.description}") or lead.description)[:NAME_LENGTH],
        description=lead.notes,
        source=await _live_source(session, lead.source),
        objection=lead.objection,
        assigned_member_id=lead.assigned_member_id,
        business_unit_id=lead.business_unit_id,
    )
    return (await opportunities.create(session, actor, data, lead_id=lead.id)).id


async def _live_source(session: AsyncSession, code: str | None) -> str | None:
    """The lead's source when it is still an active one (a retired source is left off the
    opportunity rather than blocking the conversion)."""
    if code is None:
        return None
    found = await session.execute(select(LeadSource.id).where(LeadSource.code == code, LeadSource.active))
    return code if found.first() is not None else None
