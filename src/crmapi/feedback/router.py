"""HTTP for feedback: the public link routes, the staff's list and summary (rating a request and
reissuing its link are the service requests' routes)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status

from crmapi.access.dependencies import CurrentActor, Idempotent
from crmapi.feedback import service
from crmapi.feedback.schemas import (
    FeedbackCreate,
    FeedbackLinkRead,
    FeedbackListQuery,
    FeedbackRead,
    FeedbackSummary,
    SummaryQuery,
)
from crmapi.feedback.summary import summary
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, paginate, render_page, select_fields, sorted_by
from crmapi.kit.ratelimit import Token, link_limits
from crmapi.kit.routes import CrmRoute

router = APIRouter(prefix="/v1/feedback", tags=["feedback"], route_class=CrmRoute, dependencies=[Idempotent])
# Reached from a link sent to the contact: the token is the only credential.
public = APIRouter(
    prefix="/v1/feedback-links", tags=["feedback"], route_class=CrmRoute, dependencies=[Depends(link_limits)]
)

PUBLIC = problem_responses(404, 409, 410, 422, 429, 503)


@router.get(
    "",
    operation_id="list_feedback",
    summary="List feedback",
    response_model=Page[FeedbackRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 422, 503),
)
@sorted_by(service.SORTING)
async def list_feedback(
    request: Request, session: DbSession, actor: CurrentActor, query: Annotated[FeedbackListQuery, Query()]
) -> dict[str, Any]:
    """The feedback on the service requests the caller can see."""
    select_fields(FeedbackRead, query.fields)
    found, cursor, count = await paginate(
        session,
        service.filtered(actor, query),
        sorting=service.SORTING,
        params=query,
        cursors=request.app.state.cursors,
    )
    rows = [FeedbackRead.model_validate(f).model_dump() for f in found]
    return render_page(FeedbackRead, rows, cursor, count, query.fields)


@router.get(
    "/summary",
    operation_id="summarise_feedback",
    summary="Feedback summary",
    response_model=FeedbackSummary,
    responses=problem_responses(401, 403, 422, 503),
)
async def summarise_feedback(
    session: DbSession, actor: CurrentActor, query: Annotated[SummaryQuery, Query()]
) -> dict[str, Any]:
    """Count, average and distribution of the ratings on the requests the caller can see:
    overall and by request type, category, assignee and month (in the caller's time zone);
    `created_from` / `created_to` bound when the feedback was given."""
    return await summary(session, actor, query)


@public.get(
    "/{token}",
    operation_id="show_feedback_link",
    summary="What a feedback link rates",
    response_model=FeedbackLinkRead,
    responses=PUBLIC,
)
async def show_feedback_link(request: Request, session: DbSession, token: Token) -> dict[str, Any]:
    """No credential but the token: 404 unknown, 409 `link-used`, 410 `link-expired`; 429 with
    `Retry-After` past 10 calls a minute from one address (an IPv6 /64) or 5 with one token."""
    return await service.show_link(session, request.app.state.keys, token)


@public.post(
    "/{token}",
    operation_id="rate_through_feedback_link",
    summary="Rate a service request through its feedback link",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedbackRead,
    responses=PUBLIC,
)
async def rate_through_feedback_link(
    request: Request, session: DbSession, token: Token, body: FeedbackCreate
) -> Any:
    """Once: the link is spent (409 `link-used` after), and a request rated another way answers
    409 `already-rated`. Rate-limited as the GET."""
    return await service.rate_through_link(session, request.app.state.keys, token, body)
