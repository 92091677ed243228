"""What an actor may read of service requests: its own work (owned, assigned, its units'), and
the requests of the accounts it can see; a customer, those of its accounts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, or_, select

from crmapi.access.actor import Actor
from crmapi.access.problems import MissingCapability
from crmapi.accounts import queries as accounts
from crmapi.kit import search
from crmapi.kit.pagination import Sorting
from crmapi.lifecycle import work
from crmapi.service_requests.models import ServiceRequest
from crmapi.service_requests.schemas import ServiceRequestListQuery

CLOSED = ("completed", "cancelled")
SORTING = Sorting(
    columns={
        "created_at": ServiceRequest.created_at,
        "updated_at": ServiceRequest.updated_at,
        "number": ServiceRequest.number,
        "priority": ServiceRequest.priority,
    },
    id_column=ServiceRequest.id,
    default="created_at",
)
_EQUAL = (
    "type_id",
    "status_id",
    "state",
    "category_id",
    "contact_id",
    "account_id",
    "assigned_member_id",
    "owner_member_id",
    "business_unit_id",
    "priority",
)


def scope(actor: Actor) -> Any:
    return actor.remember("service_requests.scope", _scope)


def _scope(actor: Actor) -> Any:
    """`service_requests.view_any`: all. A customer: those of its accounts. Staff: its own work
    and the requests of the accounts it can see (children inherit their account's scope)."""
    org = ServiceRequest.org_id == actor.org_id
    if actor.can("service_requests.view_any"):
        return org
    if actor.member_id is None:
        raise MissingCapability("An API key needs the capability 'service_requests.view_any' here.")
    through_account = ServiceRequest.account_id.in_(accounts.visible_ids(actor))
    if actor.kind == "customer":
        return org & through_account
    return org & or_(*work.paths(actor, ServiceRequest), through_account)


def overdue() -> Any:
    """Open and past the expected completion, by the database's clock."""
    return ServiceRequest.completed_at.is_(None) & (ServiceRequest.expected_completion_at < func.now())


def is_open() -> Any:
    """Not yet completed or cancelled: still work for someone."""
    return ServiceRequest.state.not_in(CLOSED)


def readable(actor: Actor, *, deleted: bool = False) -> Select[ServiceRequest]:
    state = ServiceRequest.deleted_at.is_not(None) if deleted else ServiceRequest.deleted_at.is_(None)
    return select(ServiceRequest).where(scope(actor), state)


def filtered(actor: Actor, f: ServiceRequestListQuery) -> Select[ServiceRequest]:
    if f.deleted == "only" and not actor.can("service_requests.manage"):
        raise MissingCapability("Listing removed service requests needs 'service_requests.manage'.")
    stmt = readable(actor, deleted=f.deleted == "only")
    for key in _EQUAL:
        value = getattr(f, key)
        if value is not None:
            stmt = stmt.where(getattr(ServiceRequest, key) == value)
    if f.open is not None:
        stmt = stmt.where(is_open() if f.open else ~is_open())
    if f.unassigned is not None:
        nobody = ServiceRequest.assigned_member_id.is_(None)
        stmt = stmt.where(nobody if f.unassigned else ~nobody)
    if f.awaiting_acceptance is not None:
        waiting = ServiceRequest.awaiting_acceptance_of.is_not(None)
        stmt = stmt.where(waiting if f.awaiting_acceptance else ~waiting)
    if f.submitted_by_customer is not None:
        submitted = ServiceRequest.submitted_by_member_id.is_not(None)
        stmt = stmt.where(submitted if f.submitted_by_customer else ~submitted)
    if f.overdue is not None:
        late = overdue()
        stmt = stmt.where(late if f.overdue else ~late | ServiceRequest.expected_completion_at.is_(None))
    if f.created_from:
        stmt = stmt.where(ServiceRequest.created_at >= f.created_from)
    if f.created_to:
        stmt = stmt.where(ServiceRequest.created_at < f.created_to)
    if f.q:
        stmt = stmt.where(search.matches(ServiceRequest.search_text, f.q))
    return stmt
