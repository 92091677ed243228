"""Service requests: opened for an account the actor can see, prioritised by the organisation's
matrix, moved through the engine with a categorised response and resolutions, held while an
answer waits for the contact, completed only when their planned activities are done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.problems import CustomersOnly
from crmapi.accounts.service import next_numbers
from crmapi.activities.models import Activity
from crmapi.config.matrix import priority_for
from crmapi.config.models import Category
from crmapi.contacts import queries as contact_queries
from crmapi.identity.models import LinkToken
from crmapi.identity.problems import UnknownLink
from crmapi.kit import search
from crmapi.kit.concurrency import check_version
from crmapi.kit.errors import NotFound, Unprocessable
from crmapi.kit.ids import new_id
from crmapi.kit.words import a
from crmapi.lifecycle import engine, work
from crmapi.lifecycle.dates import expected_completion
from crmapi.lifecycle.kinds import SERVICE_REQUEST
from crmapi.lifecycle.problems import AccountFixed, ContactFixed, NoSuchTransition, NotAssigned, TypeFixed
from crmapi.lifecycle.work import WorkKind
from crmapi.records import history
from crmapi.records.changes import announce, tell, write
from crmapi.service_requests import queries
from crmapi.service_requests.models import RelatedServiceRequest, ServiceRequest
from crmapi.service_requests.problems import AwaitingAcceptance, NoContact, NothingToAccept, OpenActivities
from crmapi.service_requests.schemas import ServiceRequestCreate, ServiceRequestUpdate

ENTITY = "service_request"
WORK = WorkKind(
    entity=ENTITY,
    noun="service request",
    kind=SERVICE_REQUEST,
    model=ServiceRequest,
    manage="service_requests.manage",
    readable=queries.readable,
)
_SKIP = {"org_id", "id", "created_at", "updated_at", "version", "search_text", "deleted_at"}
FIELDS = tuple(c.key for c in ServiceRequest.__table__.columns if c.key not in _SKIP)
OPEN_ACTIVITY_STATES = ("pending", "in_progress")
# What a customer submitting a request leaves to staff: who works it, when, in which category.
CUSTOMER_SETS_NOT = ("assigned_member_id", "business_unit_id", "category_id", "start_at")


@dataclass(frozen=True)
class Answer:
    """What entering a response or resolution state records: a category of its own tree (the
    category kind is also the columns' prefix), the text, when, and the contact's acceptance."""

    kind: str  # response | temporary_resolution | final_resolution
    noun: str
    given_at: str

    @property
    def category(self) -> str:
        return f"{self.kind}_category_id"

    @property
    def accepted_at(self) -> str:
        return f"{self.kind}_accepted_at"


ANSWERS = {
    "responded": Answer("response", "response", "responded_at"),
    "temporarily_resolved": Answer("temporary_resolution", "temporary resolution", "temporarily_resolved_at"),
    "finally_resolved": Answer("final_resolution", "final resolution", "finally_resolved_at"),
}


def snapshot(r: ServiceRequest) -> dict[str, Any]:
    return {k: getattr(r, k) for k in FIELDS}


def derive(r: ServiceRequest) -> None:
    r.search_text = search.search_text(r.subject, str(r.number))


async def _check(
    session: AsyncSession, actor: Actor, r: ServiceRequest, changed: set[str], allowed: list[UUID]
) -> None:
    await work.check_references(session, WORK, r, changed, allowed)
    await work.check_in_scope(session, actor, r, changed, contact_queries.CUSTOMER_REFERENCES)


async def create(session: AsyncSession, actor: Actor, data: ServiceRequestCreate) -> ServiceRequest:
    """A request of the given (or default) type in its initial status, its priority from the
    matrix; the creator owns it. A customer submits one on its own account, of a type customers
    may file: nobody owns it, the type's default assignee and unit take it."""
    values = data.model_dump(exclude_unset=True, exclude={"type_id"})
    work.staff_fields(actor, set(values), CUSTOMER_SETS_NOT, WORK.noun)
    loaded = await work.creatable_type(session, actor, WORK, data.type_id)
    kind_type = loaded.type
    work.customer_may_file(actor, kind_type, WORK.noun)
    customer = actor.kind == "customer"
    initial = loaded.default_status(SERVICE_REQUEST.initial)
    now = datetime.now(UTC)
    r = ServiceRequest(
        org_id=actor.org_id,
        id=new_id(),
        type_id=kind_type.id,
        status_id=initial.id,
        state=initial.state,
        category_id=kind_type.default_category_id,
        owner_member_id=None if customer else actor.member_id,
        submitted_by_member_id=actor.member_id if customer else None,
        created_at=now,
        updated_at=now,
    )
    for key, value in values.items():
        setattr(r, key, value)
    await work.hand_on(session, r, kind_type, set(values))
    r.priority = await priority_for(session, r.urgency, r.impact)
    r.start_at = r.start_at or now
    r.expected_completion_at = expected_completion(r.start_at, kind_type.complete_within)
    await _check(session, actor, r, set(values), kind_type.category_ids)
    r.number = (await next_numbers(session, actor.org_id, ENTITY))[0]
    derive(r)
    session.add(r)
    await session.flush()
    announce(session, actor, r, entity=ENTITY, action="created", changes=history.diff({}, snapshot(r)))
    return r


async def get(session: AsyncSession, actor: Actor, request_id: UUID) -> ServiceRequest:
    return await work.fetch(session, actor, WORK, request_id)


async def locked(session: AsyncSession, actor: Actor, request_id: UUID) -> ServiceRequest:
    """The service request, locked, if the actor can see it."""
    return await work.locked(session, actor, WORK, request_id)


async def get_for_change(
    session: AsyncSession,
    actor: Actor,
    request_id: UUID,
    *,
    deleted: bool = False,
    expected: int | None = None,
) -> ServiceRequest:
    """The service request, locked, if the actor may work on it: its owner, its assignee, a member of its
    unit, or `manage`; at the `expected` version when one is given (412 otherwise)."""
    return await work.for_change(session, actor, WORK, request_id, deleted=deleted, expected=expected)


async def update(
    session: AsyncSession, actor: Actor, request_id: UUID, data: ServiceRequestUpdate, expected: int | None
) -> ServiceRequest:
    r = await get_for_change(session, actor, request_id)
    WORK.writable(r)
    check_version(r.version, expected)
    sent = data.model_dump(include=data.model_fields_set)
    if "type_id" in sent and sent.pop("type_id") != r.type_id:
        raise TypeFixed("A service request's type cannot change.")
    if "account_id" in sent and sent.pop("account_id") != r.account_id:
        raise AccountFixed("A service request's account cannot change.")
    if "contact_id" in sent and r.contact_id is not None and sent["contact_id"] != r.contact_id:
        raise ContactFixed("The service request's contact is set and cannot change.")
    before = snapshot(r)
    with session.no_autoflush:
        for key, value in sent.items():
            setattr(r, key, value)
        loaded = await engine.load_type(session, ENTITY, r.type_id)
        if "start_at" in sent:
            r.expected_completion_at = expected_completion(r.start_at, loaded.type.complete_within)
        if sent.keys() & {"urgency", "impact"}:
            r.priority = await priority_for(session, r.urgency, r.impact)
        changes = history.diff(before, snapshot(r))
        if not changes:
            return r
        work.check_assigner(actor, WORK, r, changes)
        await _check(session, actor, r, set(changes), loaded.type.category_ids)
    derive(r)
    r.updated_at = datetime.now(UTC)
    await session.flush()
    announce(session, actor, r, entity=ENTITY, action="updated", changes=changes)
    return r


# Moves ----------------------------------------------------------------------------------------


async def _answer(
    session: AsyncSession,
    r: ServiceRequest,
    answer: Answer,
    category_id: UUID | None,
    text: str | None,
    now: datetime,
) -> tuple[dict[str, Any], bool]:
    """Record a response or resolution on the request; its field changes, and whether its
    category asks the contact to accept it."""
    if category_id is None:
        raise Unprocessable.on("body.category_id", f"{a(answer.noun, start=True)} needs its category.")
    category = (
        await session.execute(
            select(Category.requires_acceptance).where(
                Category.id == category_id, Category.kind == answer.kind, Category.active
            )
        )
    ).scalar_one_or_none()
    if category is None:
        raise Unprocessable.on("body.category_id", f"No active {answer.noun} category with this id.")
    before = snapshot(r)
    setattr(r, answer.category, category_id)
    setattr(r, answer.kind, text)
    setattr(r, answer.given_at, now)
    return history.diff(before, snapshot(r)), category


async def _open_activities(session: AsyncSession, r: ServiceRequest) -> int:
    found = await session.scalar(
        select(func.count())
        .select_from(Activity)
        .where(
            Activity.service_request_id == r.id,
            Activity.state.in_(OPEN_ACTIVITY_STATES),
            Activity.deleted_at.is_(None),
        )
    )
    return found or 0


@dataclass(frozen=True)
class Moved:
    request: ServiceRequest
    entered: str | None  # the state the move entered; None when it stayed in its state
    needs_acceptance: bool

    @property
    def answered(self) -> bool:
        """It entered a response or resolution state."""
        return self.entered in ANSWERS


async def move(
    session: AsyncSession,
    actor: Actor,
    request_id: UUID,
    *,
    state: str | None,
    status_id: UUID | None,
    category_id: UUID | None = None,
    text: str | None = None,
    cancellation_reason_id: UUID | None = None,
    expected: int | None = None,
) -> Moved:
    """Start (needs an assignee), respond, resolve temporarily or finally (each with its
    category), complete (no open activities), cancel (pending only), or any move the type allows;
    never while an answer waits for the contact."""
    r = await get_for_change(session, actor, request_id, expected=expected)
    WORK.writable(r)
    loaded = await engine.load_type(session, ENTITY, r.type_id)
    if state in SERVICE_REQUEST.optional and state not in loaded.config.uses:
        raise NoSuchTransition(f"This service request's type skips the state '{state}'.")
    to_status_id = loaded.target(state, status_id)
    checked = await engine.check(session, actor, r, loaded, to_status_id)
    target = checked.allowed.status
    now = datetime.now(UTC)
    changes: dict[str, Any] = {}
    answer = None
    needs_acceptance = False
    entered = target.state if target.state != r.state else None
    if entered is not None:
        _before_leaving(r, target.state)
        answer = ANSWERS.get(target.state)
        if answer is not None:
            changes, needs_acceptance = await _answer(session, r, answer, category_id, text, now)
        if target.state == "completed" and (count := await _open_activities(session, r)):
            planned = "1 planned activity is" if count == 1 else f"{count} planned activities are"
            raise OpenActivities(f"{planned} still open: complete, cancel or remove them first.")
        if target.state == "responded" and loaded.type.recalculate_on_responding:
            changes |= _recalculated(r, expected_completion(now, loaded.type.complete_within))
        if needs_acceptance:
            changes["awaiting_acceptance_of"] = {"old": None, "new": target.state}
            r.awaiting_acceptance_of = target.state
    if answer is None and (category_id is not None or text is not None):
        raise Unprocessable.on("body.category_id", "Only a response or a resolution takes a category.")
    await engine.move(
        session,
        actor,
        r,
        loaded,
        entity=ENTITY,
        to_status_id=to_status_id,
        cancellation_reason_id=cancellation_reason_id,
        completed="completed_at",
        changes=changes,
        checked=checked,
    )
    await session.flush()
    return Moved(r, entered=entered, needs_acceptance=needs_acceptance)


def _recalculated(r: ServiceRequest, expected: datetime | None) -> dict[str, Any]:
    """Key dates computed again from the response (types that say so)."""
    if expected == r.expected_completion_at:
        return {}
    old, r.expected_completion_at = r.expected_completion_at, expected
    return {"expected_completion_at": {"old": history.jsonable(old), "new": history.jsonable(expected)}}


def _before_leaving(r: ServiceRequest, target_state: str) -> None:
    if r.awaiting_acceptance_of is not None:
        noun = ANSWERS[r.awaiting_acceptance_of].noun
        raise AwaitingAcceptance(f"The {noun} waits for the contact's acceptance.")
    if target_state == "in_progress" and r.state == SERVICE_REQUEST.initial and r.assigned_member_id is None:
        raise NotAssigned("Assign the service request to a member (or accept it) before starting it.")


def about(r: ServiceRequest) -> dict[str, Any]:
    """What an event for the contact names of its request."""
    return {"number": r.number, "subject": r.subject, "contact_id": r.contact_id, "account_id": r.account_id}


async def linked(session: AsyncSession, link: LinkToken, *, lock: bool) -> ServiceRequest:
    """The live request a link token is about (locked when it is acted on); 404 once removed."""
    stmt = select(ServiceRequest).where(
        ServiceRequest.id == link.subject, ServiceRequest.deleted_at.is_(None)
    )
    r = (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()
    if r is None:
        raise UnknownLink("The service request of this link no longer exists.")
    return r


def answer_event(r: ServiceRequest, link: dict[str, Any] | None) -> dict[str, Any]:
    """What notifications need to tell the contact the answer (with the acceptance link when the
    answer needs accepting)."""
    answer = ANSWERS[r.state]
    return about(r) | {
        "category_id": getattr(r, answer.category),
        "text": getattr(r, answer.kind),
        "acceptance": link,
    }


def announce_answer(
    session: AsyncSession, actor: Actor, r: ServiceRequest, link: dict[str, Any] | None
) -> None:
    """Entering a response or resolution state is an event of its own (the move's history row is
    the transition's), for notifications to tell the contact."""
    tell(
        session,
        actor,
        topic=f"{ENTITY}.{r.state}",
        entity=ENTITY,
        entity_id=r.id,
        event=answer_event(r, link),
    )


def require_contact(r: ServiceRequest) -> None:
    """A link goes to the request's contact: without one there is nobody to send it to."""
    if r.contact_id is None:
        raise NoContact("This service request has no contact to send a link to.")


def link_shown_to(actor: Actor, link: dict[str, Any]) -> str | None:
    """A contact's link is shown only to who may accept or rate for the contact anyway (the agent
    who answers must not accept its own answer); notifications get it from the event."""
    return str(link["path"]) if actor.can(WORK.manage) else None


def record_link(
    session: AsyncSession,
    actor: Actor,
    r: ServiceRequest,
    name: str,
    link: dict[str, Any],
    before: datetime | None,
    event: dict[str, Any],
) -> None:
    """A link issued again (`<name>_issued`): history says when it expires, never the token; the
    event carries it, for notifications to send, with `event`."""
    expiry = {"old": history.jsonable(before), "new": history.jsonable(link["expires_at"])}
    write(
        session,
        actor,
        entity=ENTITY,
        entity_id=r.id,
        action=f"{name}_issued",
        changes={f"{name}_expires_at": expiry},
        event=event,
    )


# Acceptance by the contact --------------------------------------------------------------------


async def accept_answer(session: AsyncSession, actor: Actor, r: ServiceRequest, via: str) -> None:
    """The contact accepts the answer the request waits for; it can move on again."""
    if r.awaiting_acceptance_of is None:
        raise NothingToAccept("Nothing of this service request waits for acceptance.")
    answer = ANSWERS[r.awaiting_acceptance_of]
    now = datetime.now(UTC)
    changes = {
        answer.accepted_at: {"old": None, "new": history.jsonable(now)},
        "awaiting_acceptance_of": {"old": r.awaiting_acceptance_of, "new": None},
        "via": {"old": None, "new": via},
    }
    setattr(r, answer.accepted_at, now)
    r.awaiting_acceptance_of = None
    r.updated_at = now
    await session.flush()
    announce(session, actor, r, entity=ENTITY, action="contact_accepted", changes=changes)


async def accept_as_customer(
    session: AsyncSession, actor: Actor, request_id: UUID, expected: int | None = None
) -> ServiceRequest:
    """A signed-in customer of the request's account accepts; staff with `manage` may record an
    acceptance given another way (on the phone)."""
    r = await locked(session, actor, request_id)
    if actor.kind != "customer" and not actor.can(WORK.manage):
        raise CustomersOnly(
            "Only the request's customer (or 'service_requests.manage') accepts its answers.",
        )
    check_version(r.version, expected)
    await accept_answer(session, actor, r, "customer" if actor.kind == "customer" else "staff")
    return r


# Related requests -----------------------------------------------------------------------------


async def related(session: AsyncSession, actor: Actor, request_id: UUID, limit: int) -> list[ServiceRequest]:
    await get(session, actor, request_id)
    stmt = (
        queries.readable(actor)
        .join(
            RelatedServiceRequest,
            (RelatedServiceRequest.org_id == ServiceRequest.org_id)
            & (RelatedServiceRequest.related_id == ServiceRequest.id),
        )
        .where(RelatedServiceRequest.service_request_id == request_id)
        .order_by(ServiceRequest.number)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def relate(session: AsyncSession, actor: Actor, request_id: UUID, other_id: UUID) -> None:
    """Both requests find each other; relating them again changes nothing."""
    if other_id == request_id:
        raise Unprocessable.on("path.related_id", "A service request is not related to itself.")
    await get_for_change(session, actor, request_id)
    await get(session, actor, other_id)
    rows = [
        {"org_id": actor.org_id, "id": new_id(), "service_request_id": one, "related_id": other}
        for one, other in ((request_id, other_id), (other_id, request_id))
    ]
    added = await session.execute(
        insert(RelatedServiceRequest)
        .values(rows)
        .on_conflict_do_nothing()
        .returning(RelatedServiceRequest.id)
    )
    if added.first() is not None:
        _record_pair(session, actor, request_id, other_id, "related")


async def unrelate(session: AsyncSession, actor: Actor, request_id: UUID, other_id: UUID) -> None:
    await get_for_change(session, actor, request_id)
    await get(session, actor, other_id)
    pair = (RelatedServiceRequest.service_request_id.in_([request_id, other_id])) & (
        RelatedServiceRequest.related_id.in_([request_id, other_id])
    )
    removed = await session.execute(sql_delete(RelatedServiceRequest).where(pair))
    if not removed.rowcount:  # type: ignore[attr-defined]
        raise NotFound("These service requests are not related.")
    _record_pair(session, actor, request_id, other_id, "unrelated")


def _record_pair(session: AsyncSession, actor: Actor, one: UUID, other: UUID, action: str) -> None:
    """Each request's history shows the other."""
    for subject, related in ((one, other), (other, one)):
        linked = str(related) if action == "related" else None
        related_change = {"related_id": {"old": None if linked else str(related), "new": linked}}
        write(
            session,
            actor,
            entity=ENTITY,
            entity_id=subject,
            action=action,
            changes=related_change,
            event={"related_id": str(related)},
        )
