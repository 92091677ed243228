"""The contact's acceptance of a response or resolution through a link token: issued when the
answer's category requires acceptance, shown, then spent once."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.config.models import Category
from crmapi.identity import links
from crmapi.identity.models import LinkToken
from crmapi.identity.security import Keys
from crmapi.service_requests.models import ServiceRequest
from crmapi.service_requests.problems import NothingToAccept
from crmapi.service_requests.service import (
    ANSWERS,
    Moved,
    accept_answer,
    announce_answer,
    answer_event,
    get_for_change,
    linked,
    record_link,
    require_contact,
)

PURPOSE = "service_request.acceptance."  # + the state whose answer is accepted
PATH = "/v1/acceptances/"


async def issue(session: AsyncSession, keys: Keys, r: ServiceRequest) -> dict[str, Any]:
    """The link the contact gets for the answer the request now waits on."""
    assert r.awaiting_acceptance_of is not None
    return await links.issue(session, keys, r.org_id, PURPOSE + r.awaiting_acceptance_of, r.id, PATH)


async def after_move(session: AsyncSession, keys: Keys, actor: Actor, moved: Moved) -> dict[str, Any] | None:
    """A response or resolution is announced, with the acceptance link when it needs one and
    the request has a contact to send it to (notifications send it: nothing is sent from here);
    the link is also the mover's answer."""
    if not moved.answered:
        return None
    wanted = moved.needs_acceptance and moved.request.contact_id is not None
    link = await issue(session, keys, moved.request) if wanted else None
    announce_answer(session, actor, moved.request, link)
    return link


async def reissue(
    session: AsyncSession, keys: Keys, actor: Actor, request_id: UUID
) -> tuple[ServiceRequest, dict[str, Any]]:
    """A new link for the answer the request waits on, for whoever may change the request (the
    contact's expired or got lost): the earlier links stop working, and the new one is announced
    for notifications to send, as the answer's was."""
    r = await get_for_change(session, actor, request_id)
    if r.awaiting_acceptance_of is None:
        raise NothingToAccept("Nothing of this service request waits for acceptance.")
    require_contact(r)
    purpose = PURPOSE + r.awaiting_acceptance_of
    link, before = await links.replace(session, keys, r.org_id, purpose, r.id, PATH)
    record_link(session, actor, r, "acceptance_link", link, before, answer_event(r, link))
    return r, link


async def _waiting(session: AsyncSession, link: LinkToken, *, lock: bool) -> ServiceRequest:
    """The request the link is about, still waiting for the answer the link was sent for."""
    r = await linked(session, link, lock=lock)
    if r.awaiting_acceptance_of != link.purpose.removeprefix(PURPOSE):
        raise NothingToAccept("Nothing of this service request waits for acceptance.")
    return r


async def _render(session: AsyncSession, r: ServiceRequest, stage: str, link: LinkToken) -> dict[str, Any]:
    answer = ANSWERS[stage]
    category = await session.scalar(select(Category.name).where(Category.id == getattr(r, answer.category)))
    return {
        "service_request_id": r.id,
        "number": r.number,
        "subject": r.subject,
        "stage": stage,
        "category": category or "",
        "text": getattr(r, answer.kind),
        "expires_at": link.expires_at,
        "accepted_at": getattr(r, answer.accepted_at),
    }


async def show(session: AsyncSession, keys: Keys, token: str) -> dict[str, Any]:
    link = await links.find(session, keys, token, PURPOSE)
    r = await _waiting(session, link, lock=False)
    return await _render(session, r, link.purpose.removeprefix(PURPOSE), link)


async def consume(session: AsyncSession, keys: Keys, token: str) -> dict[str, Any]:
    """Accept through the link: the link is spent and the request can move on."""
    link = await links.find(session, keys, token, PURPOSE)
    await links.use(session, link)  # first: of two racing uses, the second is `link-used`
    r = await _waiting(session, link, lock=True)
    stage = link.purpose.removeprefix(PURPOSE)
    await accept_answer(session, Actor(org_id=link.organisation_id, kind="link"), r, "link")
    return await _render(session, r, stage, link)
