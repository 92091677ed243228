"""Turning a lead into business: its contact (made financial when the lead is won), a customer
account, and an opportunity, all in the transaction of the move that asked for them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi import history, outbox
from crmapi.access.actor import Actor
from crmapi.accounts import service as accounts
from crmapi.accounts.models import Account
from crmapi.accounts.schemas import AccountCreate
from crmapi.contacts import service as contacts
from crmapi.contacts.models import Contact
from crmapi.contacts.schemas import ContactCreate, ContactPhone
from crmapi.errors import Conflict, Unprocessable
from crmapi.leads.models import Lead
from crmapi.lifecycle.models import LifecycleType
from crmapi.opportunities import service as opportunities
from crmapi.opportunities.models import Opportunity
from crmapi.opportunities.schemas import OpportunityCreate

ENTITY = "lead"
NAME_LENGTH = 200


async def existing_opportunity(session: AsyncSession, lead: Lead) -> UUID | None:
    found = await session.execute(select(Opportunity.id).where(Opportunity.lead_id == lead.id).limit(1))
    return found.scalar_one_or_none()


async def convert(
    session: AsyncSession, actor: Actor, lead: Lead, lead_type: LifecycleType, *, won: bool
) -> dict[str, Any]:
    """Fill the lead's contact and account (made when it names none) and make its opportunity;
    `won` also makes the contact financial. The lead is locked and the actor may change it.
    Anything refused on the way rolls the whole move back."""
    if not won and await existing_opportunity(session, lead) is not None:
        raise Conflict("This lead was already converted to an opportunity.", slug="already-converted")
    contact_id = lead.contact_id or await _new_contact(session, actor, lead)
    account_id = lead.account_id or await _new_account(session, actor, lead, lead_type, contact_id)
    if lead.assigned_member_id not in (None, actor.member_id):
        # The one working on the lead sees the account (and so the opportunity) it became.
        account = (await session.execute(select(Account).where(Account.id == account_id))).scalar_one()
        await accounts.add_assignment(session, actor, account, lead.assigned_member_id)
    if won:
        await _make_financial(session, actor, contact_id)
    opportunity_id = await existing_opportunity(session, lead)
    if opportunity_id is None:
        opportunity_id = await _new_opportunity(session, actor, lead, account_id, contact_id)
    filled = {
        key: {"old": None, "new": str(value)}
        for key, value in (("contact_id", contact_id), ("account_id", account_id))
        if getattr(lead, key) is None
    }
    lead.contact_id, lead.account_id = contact_id, account_id
    if filled:
        lead.updated_at = datetime.now(UTC)
        history.record(session, actor, entity=ENTITY, entity_id=lead.id, action="converted", changes=filled)
    return {
        "lead_id": lead.id,
        "contact_id": contact_id,
        "account_id": account_id,
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


async def _new_contact(session: AsyncSession, actor: Actor, lead: Lead) -> UUID:
    names: dict[str, Any]
    if lead.first_name or lead.last_name:
        names = {"kind": "person", "first_name": lead.first_name, "last_name": lead.last_name}
    elif lead.company:
        names = {"kind": "organisation", "name": lead.company}
    else:
        raise Unprocessable.on("lead.last_name", "The lead needs a name or a company to become a contact.")
    data = ContactCreate(
        **names,
        job_title=lead.title,
        emails=[{"address": lead.email, "primary": True}] if lead.email else None,
        phones=_phones(lead) or None,
        time_zone=lead.time_zone,
    )
    return (await contacts.create(session, actor, data)).id


async def _new_account(
    session: AsyncSession, actor: Actor, lead: Lead, lead_type: LifecycleType, contact_id: UUID
) -> UUID:
    contact = (
        await session.execute(select(Contact.display_name).where(Contact.id == contact_id))
    ).scalar_one()
    data = AccountCreate(
        name=(lead.company or contact)[:NAME_LENGTH],
        primary_contact_id=contact_id,
        classification=lead_type.conversion_classification,
        credit_rating=lead_type.conversion_credit_rating,
    )
    return (await accounts.create(session, actor, data)).id


async def _make_financial(session: AsyncSession, actor: Actor, contact_id: UUID) -> None:
    contact = (
        await session.execute(select(Contact).where(Contact.id == contact_id).with_for_update())
    ).scalar_one()
    if contact.lifecycle_state == "financial":
        return
    changes = {"lifecycle_state": {"old": contact.lifecycle_state, "new": "financial"}}
    contact.lifecycle_state, contact.updated_at = "financial", datetime.now(UTC)
    await session.flush()
    history.record(session, actor, entity="contact", entity_id=contact.id, action="updated", changes=changes)
    outbox.emit(
        session,
        actor,
        topic="contact.updated",
        entity="contact",
        entity_id=contact.id,
        payload={"version": contact.version, "fields": ["lifecycle_state"]},
    )


async def _new_opportunity(
    session: AsyncSession, actor: Actor, lead: Lead, account_id: UUID, contact_id: UUID
) -> UUID:
    data = OpportunityCreate(
        account_id=account_id,
        contact_id=contact_id,
        name=((lead.company and f"{lead.company}: {lead.description}") or lead.description)[:NAME_LENGTH],
        description=lead.notes,
        source=lead.source,
        objection=lead.objection,
        assigned_member_id=lead.assigned_member_id,
        business_unit_id=lead.business_unit_id,
    )
    return (await opportunities.create(session, actor, data, lead_id=lead.id)).id
