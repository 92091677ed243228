"""What an actor may read of activities: its own work (owned, assigned, its units'), and the
activities of the contacts, accounts, leads, opportunities and service requests it can see."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select

from crmapi.access.actor import Actor
from crmapi.access.problems import MissingCapability
from crmapi.accounts import queries as accounts
from crmapi.activities.models import Activity
from crmapi.activities.schemas import ActivityListQuery
from crmapi.contacts import queries as contacts
from crmapi.contacts.models import Contact
from crmapi.kit import search
from crmapi.kit.pagination import Sorting
from crmapi.leads import queries as leads
from crmapi.leads.models import Lead
from crmapi.lifecycle import work
from crmapi.opportunities import queries as opportunities
from crmapi.opportunities.models import Opportunity
from crmapi.service_requests import queries as service_requests
from crmapi.service_requests.models import ServiceRequest

SORTING = Sorting(
    columns={"created_at": Activity.created_at, "updated_at": Activity.updated_at, "number": Activity.number},
    id_column=Activity.id,
    default="created_at",
)
_EQUAL = (
    "type_id",
    "status_id",
    "state",
    "contact_id",
    "account_id",
    "lead_id",
    "opportunity_id",
    "service_request_id",
    "assigned_member_id",
    "owner_member_id",
    "business_unit_id",
)


def scope(actor: Actor) -> Any:
    return actor.remember("activities.scope", _scope)


def _scope(actor: Actor) -> Any:
    """`activities.view_any`: all. A customer: those of its accounts that are not about a lead
    or an opportunity. Staff: its own work and the activities of the live records it can see
    (DESIGN: children inherit their record's scope)."""
    org = Activity.org_id == actor.org_id
    if actor.can("activities.view_any"):
        return org
    if actor.member_id is None:
        raise MissingCapability("An API key needs the capability 'activities.view_any' here.")
    if actor.kind == "customer":
        # Its accounts' activities, but not the sales side (those about a lead or opportunity).
        sales = Activity.lead_id.is_not(None) | Activity.opportunity_id.is_not(None)
        return org & Activity.account_id.in_(accounts.visible_ids(actor)) & ~sales
    # Live parents only: a deleted record's activities go with it.
    through = [
        Activity.account_id.in_(accounts.visible_ids(actor)),
        Activity.contact_id.in_(
            select(Contact.id).where(contacts.scope(actor), Contact.deleted_at.is_(None))
        ),
        Activity.lead_id.in_(select(Lead.id).where(leads.scope(actor), Lead.deleted_at.is_(None))),
        Activity.opportunity_id.in_(
            select(Opportunity.id).where(opportunities.scope(actor), Opportunity.deleted_at.is_(None))
        ),
        Activity.service_request_id.in_(
            select(ServiceRequest.id).where(
                service_requests.scope(actor), ServiceRequest.deleted_at.is_(None)
            )
        ),
    ]
    return org & or_(*work.paths(actor, Activity), *through)


def readable(actor: Actor, *, deleted: bool = False) -> Select[Activity]:
    state = Activity.deleted_at.is_not(None) if deleted else Activity.deleted_at.is_(None)
    return select(Activity).where(scope(actor), state)


def filtered(actor: Actor, f: ActivityListQuery) -> Select[Activity]:
    if f.deleted == "only" and not actor.can("activities.manage"):
        raise MissingCapability("Listing removed activities needs 'activities.manage'.")
    stmt = readable(actor, deleted=f.deleted == "only")
    for key in _EQUAL:
        value = getattr(f, key)
        if value is not None:
            stmt = stmt.where(getattr(Activity, key) == value)
    if f.created_from:
        stmt = stmt.where(Activity.created_at >= f.created_from)
    if f.created_to:
        stmt = stmt.where(Activity.created_at < f.created_to)
    if f.q:
        stmt = stmt.where(search.matches(Activity.search_text, f.q))
    return stmt
