"""Leads: created from a type's defaults, changed while not read-only, moved through the engine."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.accounts.service import next_numbers
from crmapi.config.defaults import CALL_CODE, CALL_STATUS
from crmapi.config.models import (
    Competitor,
    ImportanceLevel,
    LeadSource,
    LookupList,
    LookupValue,
)
from crmapi.contacts import queries as contact_queries
from crmapi.kit import search
from crmapi.kit.concurrency import check_version
from crmapi.kit.errors import Unprocessable
from crmapi.kit.ids import new_id
from crmapi.leads import conversion, queries
from crmapi.leads.models import Lead
from crmapi.leads.problems import LeadLost
from crmapi.leads.schemas import LeadCreate, LeadUpdate
from crmapi.lifecycle import engine, work
from crmapi.lifecycle.dates import expected_completion
from crmapi.lifecycle.decide import Status
from crmapi.lifecycle.kinds import LEAD
from crmapi.lifecycle.moves import Moves
from crmapi.lifecycle.problems import FIXED, NotAssigned, TypeFixed
from crmapi.lifecycle.work import WorkKind
from crmapi.records import history
from crmapi.records.changes import announce

ENTITY = "lead"
WORK = WorkKind(
    entity=ENTITY, noun="lead", kind=LEAD, model=Lead, manage="leads.manage", readable=queries.readable
)
# The worker's bookkeeping (`reminder_notified_at`) is not a change anyone made.
_SKIP = {
    "org_id",
    "id",
    "created_at",
    "updated_at",
    "version",
    "search_text",
    "deleted_at",
    "reminder_notified_at",
}
FIELDS = tuple(c.key for c in Lead.__table__.columns if c.key not in _SKIP)
_ONCE = ("contact_id", "account_id")  # set once while empty (DESIGN: they never change after)


def snapshot(lead: Lead) -> dict[str, Any]:
    return {k: getattr(lead, k) for k in FIELDS}


def derive(lead: Lead) -> None:
    lead.search_text = search.search_text(
        lead.first_name,
        lead.last_name,
        lead.company,
        lead.email,
        lead.phone,
        str(lead.number),
        lead.description,
    )


# References ----------------------------------------------------------------------------------


async def _lookup(session: AsyncSession, list_code: str, value: str, field: str) -> None:
    stmt = (
        select(LookupValue.id)
        .join(LookupList, (LookupList.org_id == LookupValue.org_id) & (LookupList.id == LookupValue.list_id))
        .where(LookupList.code == list_code, LookupList.active, LookupValue.code == value, LookupValue.active)
    )
    await engine.require_row(session, stmt, field, f"Not an active value of the lookup list {list_code}.")


async def _check(
    session: AsyncSession, actor: Actor, lead: Lead, changed: set[str], allowed: list[UUID]
) -> None:
    """Every reference a changed field makes names a record the organisation has (and the actor
    can see, for contacts and accounts)."""
    await work.check_references(session, WORK, lead, changed, allowed)
    if "source" in changed and lead.source is not None:
        stmt = select(LeadSource.id).where(LeadSource.code == lead.source, LeadSource.active)
        await engine.require_row(session, stmt, "body.source", "No active lead source with this code.")
    if "importance_id" in changed and lead.importance_id is not None:
        stmt = select(ImportanceLevel.id).where(ImportanceLevel.id == lead.importance_id)
        await engine.require_row(session, stmt, "body.importance_id", "No importance level with this id.")
    if "competitor_ids" in changed and lead.competitor_ids:
        lead.competitor_ids = list(dict.fromkeys(lead.competitor_ids))
        found = await session.execute(select(Competitor.id).where(Competitor.id.in_(lead.competitor_ids)))
        if missing := set(lead.competitor_ids) - set(found.scalars()):
            raise Unprocessable.on(
                "body.competitor_ids", f"No competitor with id {', '.join(map(str, missing))}."
            )
    if "call_code" in changed and lead.call_code is not None:
        await _lookup(session, CALL_CODE, lead.call_code, "body.call_code")
    if "call_status" in changed and lead.call_status is not None:
        await _lookup(session, CALL_STATUS, lead.call_status, "body.call_status")
    await work.check_in_scope(session, actor, lead, changed, contact_queries.CUSTOMER_REFERENCES)


# Create, read, change ------------------------------------------------------------------------


async def create(session: AsyncSession, actor: Actor, data: LeadCreate) -> Lead:
    """A lead of the given (or default) type in the type's initial status, filled with the type's
    defaults; the creator owns it."""
    loaded = await work.creatable_type(session, actor, WORK, data.type_id)
    kind_type = loaded.type
    values = data.model_dump(exclude_unset=True, exclude={"type_id"})
    initial = loaded.default_status(LEAD.initial)
    now = datetime.now(UTC)
    lead = Lead(
        org_id=actor.org_id,
        id=new_id(),
        type_id=kind_type.id,
        status_id=initial.id,
        state=initial.state,
        category_id=kind_type.default_category_id,
        priority=kind_type.default_priority,
        importance_id=kind_type.default_importance_id,
        owner_member_id=actor.member_id,
        call_tries=0,
        product_refs=[],
        competitor_ids=[],
        created_at=now,
        updated_at=now,
    )
    for key, value in values.items():
        setattr(lead, key, value)
    lead.start_at = lead.start_at or now
    lead.expected_completion_at = expected_completion(lead.start_at, kind_type.complete_within)
    # What the caller sent; the type's defaults were checked when the type was configured.
    await _check(session, actor, lead, set(values), kind_type.category_ids)
    lead.number = (await next_numbers(session, actor.org_id, "lead"))[0]
    derive(lead)
    session.add(lead)
    await session.flush()
    announce(session, actor, lead, entity=ENTITY, action="created", changes=history.diff({}, snapshot(lead)))
    return lead


async def get(session: AsyncSession, actor: Actor, lead_id: UUID) -> Lead:
    return await work.fetch(session, actor, WORK, lead_id)


async def get_for_change(
    session: AsyncSession, actor: Actor, lead_id: UUID, *, deleted: bool = False, expected: int | None = None
) -> Lead:
    """The lead, locked, if the actor may work on it: its owner, its assignee, a member of its
    unit, or `manage`; at the `expected` version when one is given (412 otherwise)."""
    return await work.for_change(session, actor, WORK, lead_id, deleted=deleted, expected=expected)


async def get_writable(session: AsyncSession, actor: Actor, lead_id: UUID) -> Lead:
    """The lead, locked, if the actor may change it and it is not read-only (tags)."""
    lead = await get_for_change(session, actor, lead_id)
    WORK.writable(lead)
    return lead


async def update(
    session: AsyncSession, actor: Actor, lead_id: UUID, data: LeadUpdate, expected: int | None
) -> Lead:
    """Merge the sent fields; nothing is written when nothing changes."""
    lead = await get_for_change(session, actor, lead_id)
    WORK.writable(lead)
    check_version(lead.version, expected)
    await amend(session, actor, lead, data)
    return lead


async def assign(session: AsyncSession, actor: Actor, lead_id: UUID, wanted: dict[str, Any]) -> bool:
    """A bulk assignment's step: True when the lead changed. A lead that already has what is
    assigned is left alone, even a read-only one (a replayed call answers it `unchanged`)."""
    lead = await get_for_change(session, actor, lead_id)
    if all(getattr(lead, key) == value for key, value in wanted.items()):
        return False
    WORK.writable(lead)
    return bool(await amend(session, actor, lead, LeadUpdate(**wanted)))


async def amend(session: AsyncSession, actor: Actor, lead: Lead, data: LeadUpdate) -> dict[str, Any]:
    """Merge the sent fields into a locked, writable lead; the field changes written (none:
    nothing was)."""
    sent = data.model_dump(include=data.model_fields_set)
    if "type_id" in sent and sent.pop("type_id") != lead.type_id:
        raise TypeFixed("A lead's type cannot change.")
    for key in _ONCE:
        current = getattr(lead, key)
        if key in sent and current is not None and sent[key] != current:
            raise FIXED[key](f"The lead's {key.removesuffix('_id')} is set and cannot change.")
    before = snapshot(lead)
    with session.no_autoflush:
        for key, value in sent.items():
            setattr(lead, key, value)
        if lead.reminder_at != before["reminder_at"]:
            lead.reminder_closed_at = None  # a new reminder time opens the reminder again
            lead.reminder_notified_at = None  # ...and it is announced again when it falls due
        if "start_at" in sent:
            kind_type = (await engine.load_type(session, "lead", lead.type_id)).type
            lead.expected_completion_at = expected_completion(lead.start_at, kind_type.complete_within)
        changes = history.diff(before, snapshot(lead))
        if not changes:
            return {}
        work.check_assigner(actor, WORK, lead, changes)
        allowed = (await engine.load_type(session, "lead", lead.type_id)).type.category_ids
        await _check(session, actor, lead, set(changes), allowed)
    derive(lead)
    lead.updated_at = datetime.now(UTC)
    await session.flush()
    announce(session, actor, lead, entity=ENTITY, action="updated", changes=changes)
    return changes


# Moves ---------------------------------------------------------------------------------------


async def move(
    session: AsyncSession,
    actor: Actor,
    lead_id: UUID,
    *,
    state: str | None,
    status_id: UUID | None,
    lost_reason_id: UUID | None = None,
    cancellation_reason_id: UUID | None = None,
    expected: int | None = None,
) -> Lead:
    """Move the lead to `status_id` (or the type's default status of `state`); with `state`, the
    status must be in that state. Starting needs an assigned member (the seed: accept first)."""
    lead = await get_for_change(session, actor, lead_id, expected=expected)
    await advance(
        session,
        actor,
        lead,
        state=state,
        status_id=status_id,
        lost_reason_id=lost_reason_id,
        cancellation_reason_id=cancellation_reason_id,
    )
    return lead


async def settle(
    session: AsyncSession, actor: Actor, lead_id: UUID, *, status_id: UUID, lost_reason_id: UUID | None
) -> bool:
    """A bulk move's step: True when the lead moved. A lead already in the status (with the lost
    reason sent, if any) is left alone, so a replayed call answers it `unchanged`: no history,
    no event, no new version, no second conversion."""
    lead = await get_for_change(session, actor, lead_id)
    if engine.arrived(lead, status_id, lost_reason_id):
        return False
    await advance(session, actor, lead, state=None, status_id=status_id, lost_reason_id=lost_reason_id)
    return True


async def advance(
    session: AsyncSession,
    actor: Actor,
    lead: Lead,
    *,
    state: str | None,
    status_id: UUID | None,
    lost_reason_id: UUID | None = None,
    cancellation_reason_id: UUID | None = None,
) -> None:
    """`move` for a lead locked for change; a won lead of a converting type converts."""
    WORK.writable(lead)
    loaded = await engine.load_type(session, "lead", lead.type_id)
    to_status_id = loaded.target(state, status_id)
    _may_enter(lead, loaded.status(to_status_id))
    await engine.move(
        session,
        actor,
        lead,
        loaded,
        entity=ENTITY,
        to_status_id=to_status_id,
        lost_reason_id=lost_reason_id,
        cancellation_reason_id=cancellation_reason_id,
        completed="completed_at",
    )
    await session.flush()
    if lead.state == "won" and loaded.type.auto_convert:
        await conversion.convert(session, actor, lead, loaded.type, winning=True)
        await session.flush()


def _may_enter(lead: Lead, target: Status | None) -> None:
    starting = target is not None and target.state == "in_progress" and lead.state == LEAD.initial
    if starting and lead.assigned_member_id is None:
        raise NotAssigned("Assign the lead to a member (or accept it) before starting it.")


async def _ready(
    session: AsyncSession,
    actor: Actor,
    lead: Lead,
    loaded: engine.Loaded,
    target: Status | None,
    now: datetime,
) -> dict[str, Any]:
    WORK.writable(lead)
    _may_enter(lead, target)
    return {}


def _converts(lead: Lead, loaded: engine.Loaded, target: Status | None) -> bool:
    return target is not None and target.state == "won" and loaded.type.auto_convert


async def _changer(session: AsyncSession, actor: Actor, lead: Lead) -> None:
    await work.check_changer(session, actor, WORK, lead)


MOVES = Moves(
    entity=ENTITY,
    noun="lead",
    model=Lead,
    completed="completed_at",
    readable=queries.readable,
    changer=_changer,
    ready=_ready,
    settle=settle,
    alone=_converts,
)


async def convert(
    session: AsyncSession, actor: Actor, lead_id: UUID, expected: int | None = None
) -> tuple[Lead, dict[str, Any]]:
    """Channergy's "Convert to opportunity": the account (and contact) and an opportunity for
    the lead's assignee, without deciding the lead. The lead and what it became."""
    lead = await get_for_change(session, actor, lead_id, expected=expected)
    WORK.writable(lead)
    if lead.state == "lost":
        raise LeadLost("A lost lead is not converted.")
    loaded = await engine.load_type(session, "lead", lead.type_id)
    made = await conversion.convert(session, actor, lead, loaded.type, winning=False)
    await session.flush()
    return lead, made
