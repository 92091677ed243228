"""Opportunities: made on an account the actor can see, changed while open or decided, moved
through their stages by the engine."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.problems import MissingCapability, NotOwner
from crmapi.access.units import require_unit
from crmapi.accounts.service import FOUR_PLACES, next_numbers, org_currency
from crmapi.config.models import LeadSource
from crmapi.contacts import queries as contact_queries
from crmapi.kit import search
from crmapi.kit.concurrency import check_version
from crmapi.kit.errors import NotFound, Unprocessable
from crmapi.kit.ids import new_id
from crmapi.lifecycle import engine, work
from crmapi.lifecycle.decide import Status
from crmapi.lifecycle.kinds import OPPORTUNITY
from crmapi.lifecycle.moves import Moves
from crmapi.lifecycle.problems import FIXED, ContactFixed, ReadOnly
from crmapi.opportunities import queries
from crmapi.opportunities.models import Opportunity
from crmapi.opportunities.schemas import OpportunityCreate, OpportunityUpdate
from crmapi.records import history
from crmapi.records.changes import announce, bring_back, soft_delete
from crmapi.tags import service as tags

ENTITY = "opportunity"
MONEY = ("amount", "budget")
_SKIP = {"org_id", "id", "created_at", "updated_at", "version", "search_text", "deleted_at"}
_COLUMNS = tuple(c.key for c in Opportunity.__table__.columns if c.key not in _SKIP)
_FIXED = ("type_id", "account_id")


def money(o: Opportunity, name: str) -> dict[str, Any] | None:
    amount = getattr(o, f"{name}_amount")
    if amount is None:
        return None
    return {"amount": Decimal(amount).quantize(FOUR_PLACES), "currency": getattr(o, f"{name}_currency")}


def snapshot(o: Opportunity) -> dict[str, Any]:
    values = {k: getattr(o, k) for k in _COLUMNS if not k.endswith(("_amount", "_currency"))}
    return values | {name: money(o, name) for name in MONEY}


def derive(o: Opportunity) -> None:
    o.search_text = search.search_text(o.name, str(o.number), o.decision_maker, o.next_step)


async def _apply(session: AsyncSession, actor: Actor, o: Opportunity, values: dict[str, Any]) -> None:
    for name in MONEY:
        if name in values:
            sent = values.pop(name)
            amount = None if sent is None else sent["amount"]
            currency = None if sent is None else sent.get("currency") or await org_currency(session, actor)
            setattr(o, f"{name}_amount", amount)
            setattr(o, f"{name}_currency", currency)
    if values.get("tags"):
        values["tags"] = await tags.ensure_catalogued(session, actor, values["tags"])
    for key, value in values.items():
        setattr(o, key, value)


async def _check(session: AsyncSession, actor: Actor, o: Opportunity, changed: set[str]) -> None:
    await work.check_in_scope(session, actor, o, changed, contact_queries.CUSTOMER_REFERENCES)
    if "source" in changed and o.source is not None:
        stmt = select(LeadSource.id).where(LeadSource.code == o.source, LeadSource.active)
        await engine.require_row(session, stmt, "body.source", "No active lead source with this code.")
    if "business_unit_id" in changed:
        await require_unit(session, o.business_unit_id)
    for key in ("owner_member_id", "assigned_member_id"):
        if key in changed and getattr(o, key) is not None:
            await work.require_staff(session, getattr(o, key), f"body.{key}")


async def create(
    session: AsyncSession, actor: Actor, data: OpportunityCreate, *, lead_id: UUID | None = None
) -> Opportunity:
    """An opportunity in its type's default open stage, on an account the actor can see; the
    creator owns it unless `owner_member_id` says otherwise."""
    loaded = await engine.load_type(session, "opportunity", data.type_id)
    if not loaded.type.active:
        raise Unprocessable.on("body.type_id", "This opportunity type is retired.")
    initial = loaded.default_status(OPPORTUNITY.initial)
    now = datetime.now(UTC)
    o = Opportunity(
        org_id=actor.org_id,
        id=new_id(),
        type_id=loaded.type.id,
        status_id=initial.id,
        state=initial.state,
        stage_entered_at=now,
        lead_id=lead_id,
        owner_member_id=actor.member_id,
        cost_conscious=False,
        tags=[],
        created_at=now,
        updated_at=now,
    )
    values = data.model_dump(exclude_unset=True, exclude={"type_id"})
    await _apply(session, actor, o, values)
    await _check(session, actor, o, set(_COLUMNS))
    o.number = (await next_numbers(session, actor.org_id, "opportunity"))[0]
    derive(o)
    session.add(o)
    await session.flush()
    announce(session, actor, o, entity=ENTITY, action="created", changes=history.diff({}, snapshot(o)))
    return o


async def get(session: AsyncSession, actor: Actor, opportunity_id: UUID) -> Opportunity:
    """A live opportunity whose account the actor can see; 404 otherwise."""
    stmt = queries.readable(actor).where(Opportunity.id == opportunity_id)
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise NotFound("No opportunity with this id.")
    return found


def may_change(actor: Actor, o: Opportunity) -> bool:
    if actor.can("opportunities.manage"):
        return True
    return actor.member_id is not None and actor.member_id in (o.owner_member_id, o.assigned_member_id)


async def get_for_change(
    session: AsyncSession,
    actor: Actor,
    opportunity_id: UUID,
    *,
    deleted: bool = False,
    expected: int | None = None,
) -> Opportunity:
    """The opportunity, locked, if the actor may change it: owner, assignee or
    opportunities.manage; at the `expected` version when one is given (412 otherwise)."""
    stmt = queries.readable(actor, deleted=deleted).where(Opportunity.id == opportunity_id).with_for_update()
    found = (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()
    if found is None:
        raise NotFound("No opportunity with this id.")
    await _changer(session, actor, found)
    check_version(found.version, expected)
    return found


def _writable(o: Opportunity) -> None:
    if o.state in OPPORTUNITY.read_only:
        raise ReadOnly(f"An opportunity in state '{o.state}' cannot change.")


async def get_writable(session: AsyncSession, actor: Actor, opportunity_id: UUID) -> Opportunity:
    """The opportunity, locked, if the actor may change it and it is not read-only (tags)."""
    o = await get_for_change(session, actor, opportunity_id)
    _writable(o)
    return o


def _may_assign(actor: Actor, owner: UUID | None, changes: dict[str, Any]) -> None:
    """Who owns and works on an opportunity is its owner's (or opportunities.manage's) call."""
    if not changes.keys() & {"owner_member_id", "assigned_member_id", "business_unit_id"}:
        return
    if not (actor.can("opportunities.manage") or (actor.member_id is not None and actor.member_id == owner)):
        raise NotOwner("Only the opportunity's owner or 'opportunities.manage' may reassign it.")


async def update(
    session: AsyncSession, actor: Actor, opportunity_id: UUID, data: OpportunityUpdate, expected: int | None
) -> Opportunity:
    """Merge the sent fields; nothing is written when nothing changes."""
    o = await get_for_change(session, actor, opportunity_id)
    _writable(o)
    check_version(o.version, expected)
    await amend(session, actor, o, data)
    return o


async def assign(session: AsyncSession, actor: Actor, opportunity_id: UUID, wanted: dict[str, Any]) -> bool:
    """A bulk assignment's step: True when the opportunity changed. One that already has what is
    assigned is left alone, even a read-only one (a replayed call answers it `unchanged`)."""
    o = await get_for_change(session, actor, opportunity_id)
    if all(getattr(o, key) == value for key, value in wanted.items()):
        return False
    _writable(o)
    return bool(await amend(session, actor, o, OpportunityUpdate(**wanted)))


async def amend(
    session: AsyncSession, actor: Actor, o: Opportunity, data: OpportunityUpdate
) -> dict[str, Any]:
    """Merge the sent fields into a locked, writable opportunity; the field changes written
    (none: nothing was)."""
    sent = data.model_dump(include=data.model_fields_set)
    for key in _FIXED:
        if key in sent and sent.pop(key) != getattr(o, key):
            raise FIXED[key](f"An opportunity's {key.removesuffix('_id')} cannot change.")
    if "contact_id" in sent and o.contact_id is not None and sent["contact_id"] != o.contact_id:
        raise ContactFixed("The opportunity's contact is set and cannot change.")
    owner = o.owner_member_id
    before = snapshot(o)
    with session.no_autoflush:
        await _apply(session, actor, o, sent)
        changes = history.diff(before, snapshot(o))
        if not changes:
            return {}
        _may_assign(actor, owner, changes)
        await _check(session, actor, o, set(changes))
    derive(o)
    o.updated_at = datetime.now(UTC)
    await session.flush()
    announce(session, actor, o, entity=ENTITY, action="updated", changes=changes)
    return changes


async def delete(session: AsyncSession, actor: Actor, opportunity_id: UUID, expected: int | None) -> None:
    o = await get_for_change(session, actor, opportunity_id, expected=expected)
    await soft_delete(session, actor, o, entity=ENTITY)


async def restore(
    session: AsyncSession, actor: Actor, opportunity_id: UUID, expected: int | None = None
) -> Opportunity:
    if not actor.can("opportunities.manage"):
        raise MissingCapability("Restoring an opportunity needs 'opportunities.manage'.")
    o = await get_for_change(session, actor, opportunity_id, deleted=True, expected=expected)
    await bring_back(session, actor, o, entity=ENTITY)
    return o


async def move(
    session: AsyncSession,
    actor: Actor,
    opportunity_id: UUID,
    *,
    state: str | None,
    status_id: UUID | None,
    lost_reason_id: UUID | None = None,
    won_reason: str | None = None,
    expected: int | None = None,
) -> Opportunity:
    """To another stage, or won, lost, cancelled; a new stage restarts the stage clock."""
    o = await get_for_change(session, actor, opportunity_id, expected=expected)
    await advance(
        session,
        actor,
        o,
        state=state,
        status_id=status_id,
        lost_reason_id=lost_reason_id,
        won_reason=won_reason,
    )
    return o


async def settle(
    session: AsyncSession, actor: Actor, opportunity_id: UUID, *, status_id: UUID, lost_reason_id: UUID | None
) -> bool:
    """A bulk move's step: True when the opportunity moved. One already in the status (with the
    lost reason sent, if any) is left alone, so a replayed call answers it `unchanged`: no
    history, no event, no new version."""
    o = await get_for_change(session, actor, opportunity_id)
    if engine.arrived(o, status_id, lost_reason_id):
        return False
    await advance(session, actor, o, state=None, status_id=status_id, lost_reason_id=lost_reason_id)
    return True


async def _changer(session: AsyncSession, actor: Actor, o: Opportunity) -> None:
    if not may_change(actor, o):
        raise NotOwner("Only the opportunity's owner, assignee or 'opportunities.manage' may change it.")


async def _ready(
    session: AsyncSession,
    actor: Actor,
    o: Opportunity,
    loaded: engine.Loaded,
    target: Status | None,
    now: datetime,
) -> dict[str, Any]:
    _writable(o)
    return {"stage_entered_at": now}  # as `advance`: a new stage restarts the stage clock


MOVES = Moves(
    entity=ENTITY,
    noun="opportunity",
    model=Opportunity,
    completed="closed_at",
    readable=queries.readable,
    changer=_changer,
    ready=_ready,
    settle=settle,
)


async def advance(
    session: AsyncSession,
    actor: Actor,
    o: Opportunity,
    *,
    state: str | None,
    status_id: UUID | None,
    lost_reason_id: UUID | None = None,
    won_reason: str | None = None,
) -> None:
    """`move` for an opportunity locked for change."""
    _writable(o)
    loaded = await engine.load_type(session, "opportunity", o.type_id)
    to_status_id = loaded.target(state, status_id)
    target = loaded.status(to_status_id)
    changes: dict[str, Any] = {}
    if won_reason is not None and target is not None and target.state == "won":
        changes["won_reason"] = {"old": o.won_reason, "new": won_reason}
    await engine.move(
        session,
        actor,
        o,
        loaded,
        entity=ENTITY,
        to_status_id=to_status_id,
        lost_reason_id=lost_reason_id,
        completed="closed_at",
        changes=changes,
    )
    if o.state == "won" and won_reason is not None:
        o.won_reason = won_reason
    o.stage_entered_at = o.updated_at
    await session.flush()
