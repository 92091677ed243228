"""Feedback on completed service requests: the link issued on completion, a rating given once
(through the link or by a signed-in customer of the account), read by who sees the request."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Select, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.problems import CustomersOnly
from crmapi.feedback.models import Feedback
from crmapi.feedback.problems import AlreadyRated, NotCompleted
from crmapi.feedback.schemas import FeedbackCreate, FeedbackListQuery
from crmapi.identity import links
from crmapi.identity.security import Keys
from crmapi.kit.ids import new_id
from crmapi.kit.pagination import Sorting
from crmapi.records import changes
from crmapi.service_requests import queries as request_queries
from crmapi.service_requests import service as requests
from crmapi.service_requests.models import ServiceRequest

PURPOSE = "service_request.feedback"
PATH = "/v1/feedback-links/"
SORTING = Sorting(
    columns={"created_at": Feedback.created_at, "rating": Feedback.rating},
    id_column=Feedback.id,
    default="created_at",
)


async def after_completion(
    session: AsyncSession, keys: Keys, actor: Actor, moved: requests.Moved
) -> dict[str, Any] | None:
    """A request just completed is announced; with a contact to send it to, it gets its feedback
    link, carried by the event for notifications to send (nothing is sent from here)."""
    r = moved.request
    if moved.entered != "completed":
        return None
    link = None
    if r.contact_id is not None:
        link = await links.issue(session, keys, r.org_id, PURPOSE, r.id, PATH)
    # The move's history row is the transition's; this event is for notifications to send the link.
    changes.tell(
        session,
        actor,
        topic=f"{requests.ENTITY}.completed",
        entity=requests.ENTITY,
        entity_id=r.id,
        event=requests.about(r) | {"feedback": link},
    )
    return link


async def reissue_link(
    session: AsyncSession, keys: Keys, actor: Actor, request_id: UUID
) -> tuple[ServiceRequest, dict[str, Any]]:
    """A new feedback link for a completed, unrated request, for whoever may change the request
    (the contact's expired or got lost): the earlier links stop working, and the new one is
    announced for notifications to send, as on completion."""
    r = await requests.get_for_change(session, actor, request_id)
    if r.state != "completed":
        raise NotCompleted("Only a completed service request can be rated.")
    requests.require_contact(r)
    if await session.scalar(select(Feedback.id).where(Feedback.service_request_id == r.id)):
        raise AlreadyRated("This service request was already rated.")
    link, before = await links.replace(session, keys, r.org_id, PURPOSE, r.id, PATH)
    requests.record_link(
        session, actor, r, "feedback_link", link, before, requests.about(r) | {"feedback": link}
    )
    return r, link


async def _give(
    session: AsyncSession, actor: Actor, r: ServiceRequest, data: FeedbackCreate, via: str
) -> Feedback:
    if r.state != "completed":
        raise NotCompleted("Only a completed service request can be rated.")
    row = {
        "org_id": r.org_id,
        "id": new_id(),
        "service_request_id": r.id,
        "rating": data.rating,
        "comment": data.comment,
        "member_id": actor.member_id,
        "via": via,
    }
    given = (
        await session.execute(insert(Feedback).values(row).on_conflict_do_nothing().returning(Feedback))
    ).scalar_one_or_none()
    if given is None:
        raise AlreadyRated("This service request was already rated.")
    changes.write(
        session,
        actor,
        entity=requests.ENTITY,
        entity_id=r.id,
        action="rated",
        changes={"rating": {"old": None, "new": data.rating}, "via": {"old": None, "new": via}},
        event={"rating": data.rating, "via": via},
    )
    return given


async def show_link(session: AsyncSession, keys: Keys, token: str) -> dict[str, Any]:
    link = await links.find(session, keys, token, PURPOSE)
    r = await requests.linked(session, link, lock=False)
    rated = await session.scalar(select(Feedback.id).where(Feedback.service_request_id == r.id))
    return {
        "service_request_id": r.id,
        "number": r.number,
        "subject": r.subject,
        "completed_at": r.completed_at,
        "expires_at": link.expires_at,
        "rated": rated is not None,
    }


async def rate_through_link(session: AsyncSession, keys: Keys, token: str, data: FeedbackCreate) -> Feedback:
    """Whoever holds the link rates the request once; the link is spent."""
    link = await links.find(session, keys, token, PURPOSE)
    await links.use(session, link)  # first: of two racing uses, the second is `link-used`
    r = await requests.linked(session, link, lock=True)
    return await _give(session, Actor(org_id=link.organisation_id, kind="link"), r, data, "link")


async def rate_as_customer(
    session: AsyncSession, actor: Actor, request_id: UUID, data: FeedbackCreate
) -> Feedback:
    """A signed-in customer of the request's account rates it once."""
    r = await requests.locked(session, actor, request_id)
    if actor.kind != "customer":
        raise CustomersOnly("Only the request's customer rates it.")
    return await _give(session, actor, r, data, "customer")


def scope(actor: Actor) -> Any:
    """Feedback goes with its request: readable by who sees the (live) request."""
    visible = select(ServiceRequest.id).where(
        request_queries.scope(actor), ServiceRequest.deleted_at.is_(None)
    )
    return (Feedback.org_id == actor.org_id) & Feedback.service_request_id.in_(visible)


def filtered(actor: Actor, f: FeedbackListQuery) -> Select[Any]:
    stmt = select(Feedback).where(scope(actor))
    if f.service_request_id is not None:
        stmt = stmt.where(Feedback.service_request_id == f.service_request_id)
    if f.rating is not None:
        stmt = stmt.where(Feedback.rating == f.rating)
    if f.created_from:
        stmt = stmt.where(Feedback.created_at >= f.created_from)
    if f.created_to:
        stmt = stmt.where(Feedback.created_at < f.created_to)
    return stmt
