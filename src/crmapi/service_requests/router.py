"""HTTP for service requests: the record, its moves with their answers, the contact's
acceptance (signed in, or through a link), related requests and history."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from crmapi.access.actor import Actor
from crmapi.access.dependencies import CurrentActor, Idempotent, require
from crmapi.access.problems import MissingCapability
from crmapi.activities import router as activity_routes
from crmapi.activities import service as activities
from crmapi.activities.schemas import ActivityRead, ActivitySchedule
from crmapi.feedback import service as feedback
from crmapi.feedback.schemas import FeedbackCreate, FeedbackRead
from crmapi.kit.concurrency import IfMatch, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, paginate, render_page, select_fields, sorted_by
from crmapi.kit.ratelimit import Token, link_limits
from crmapi.kit.routes import CrmRoute
from crmapi.records import work_routes
from crmapi.records.targets import Target
from crmapi.records.work_routes import Answers, Move
from crmapi.service_requests import acceptance, queries, service
from crmapi.service_requests.dashboard import dashboard
from crmapi.service_requests.models import ServiceRequest
from crmapi.service_requests.schemas import (
    AcceptanceRead,
    Dashboard,
    IssuedLink,
    RequestAnswer,
    RequestCancel,
    RequestMove,
    RequestTransition,
    ServiceRequestCreate,
    ServiceRequestListQuery,
    ServiceRequestRead,
    ServiceRequestUpdate,
)

router = APIRouter(
    prefix="/v1/service-requests", tags=["service requests"], route_class=CrmRoute, dependencies=[Idempotent]
)
# Reached from a link in a message to the contact: the token is the only credential.
acceptances = APIRouter(
    prefix="/v1/acceptances",
    tags=["service requests"],
    route_class=CrmRoute,
    dependencies=[Depends(link_limits)],
)


async def creator(actor: CurrentActor) -> Actor:
    """Staff with `service_requests.create`, and customers (on their own accounts, of a type
    customers may file: the service checks both)."""
    if actor.kind != "customer" and not actor.can("service_requests.create"):
        raise MissingCapability("This needs the capability 'service_requests.create'.")
    return actor


Creator = Annotated[Actor, Depends(creator)]
RequestPath = Annotated[UUID, Path(description="service request id")]
ONE = problem_responses(401, 403, 404, 422, 503)
MOVE = problem_responses(401, 403, 404, 409, 412, 422, 503)
# Relating changes neither request's version: the pair is a resource of its own, without an ETag.
RELATE = problem_responses(401, 403, 404, 409, 422, 503)
RELATED_LIMIT = 200
ANSWERS = Answers(ServiceRequestRead, ServiceRequest)
_rows, _one = ANSWERS.rows, ANSWERS.one


@router.get(
    "",
    operation_id="list_service_requests",
    summary="List service requests",
    response_model=Page[ServiceRequestRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 422, 503),
)
@sorted_by(queries.SORTING)
async def list_service_requests(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    query: Annotated[ServiceRequestListQuery, Query()],
) -> dict[str, Any]:
    """The caller's own work (owned, assigned, its units') and the requests of the accounts it
    can see; a customer, those of its accounts."""
    select_fields(ServiceRequestRead, query.fields)
    found, cursor, count = await paginate(
        session,
        queries.filtered(actor, query),
        sorting=queries.SORTING,
        params=query,
        cursors=request.app.state.cursors,
    )
    return render_page(ServiceRequestRead, _rows(found), cursor, count, query.fields)


@router.post(
    "",
    operation_id="create_service_request",
    summary="Open a service request",
    status_code=status.HTTP_201_CREATED,
    response_model=ServiceRequestRead,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def create_service_request(
    session: DbSession, actor: Creator, body: ServiceRequestCreate, response: Response
) -> ServiceRequestRead:
    """For an account the caller can see, in its type's default pending status; urgency and
    impact give the priority through the organisation's prioritisation matrix. A customer
    submits one on its own account, of a type marked `customer_submittable`: staff set the
    assignee, unit, category and start (422 naming each a customer sends), the type's default
    assignee and unit take it, and it counts in the dashboard's `from_customers`."""
    r = await service.create(session, actor, body)
    response.headers["Location"] = f"/v1/service-requests/{r.id}"
    return _one(r, response)


@router.get(
    "/dashboard",
    operation_id="service_request_dashboard",
    summary="Service request dashboard",
    response_model=Dashboard,
    responses=problem_responses(401, 403, 503),
)
async def service_request_dashboard(session: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """Counts in the caller's scope, one query: by state, and of the open requests the overdue,
    the unassigned, per assignee and per priority. Each matches the list with the same filters."""
    return await dashboard(session, actor)


@router.get(
    "/{service_request_id}",
    operation_id="get_service_request",
    summary="Get a service request",
    response_model=ServiceRequestRead,
    response_model_exclude_unset=True,
    responses=ONE,
)
async def get_service_request(
    session: DbSession,
    actor: CurrentActor,
    service_request_id: RequestPath,
    response: Response,
    fields: Annotated[str | None, Query(max_length=2048, description="Comma-separated fields.")] = None,
) -> ServiceRequestRead:
    chosen = select_fields(ServiceRequestRead, fields)
    return _one(await service.get(session, actor, service_request_id), response, chosen)


@router.patch(
    "/{service_request_id}",
    operation_id="update_service_request",
    summary="Change a service request",
    response_model=ServiceRequestRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
)
async def update_service_request(
    session: DbSession,
    actor: CurrentActor,
    service_request_id: RequestPath,
    body: ServiceRequestUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> ServiceRequestRead:
    """Merge semantics. Completed and cancelled requests are read-only (409)."""
    r = await service.update(session, actor, service_request_id, body, expected_version(if_match))
    return _one(r, response)


async def _moved(t: Target, response: Response, move: dict[str, Any]) -> ServiceRequestRead:
    """A request moved as its route asks, with its new ETag; an answer that needs accepting, or a
    completion, issues the contact's link (see `acceptance.after_move`, `feedback.after_completion`)."""
    moved = await service.move(t.session, t.actor, t.id, **move)
    keys = t.request.app.state.keys
    accepting = await acceptance.after_move(t.session, keys, t.actor, moved)
    rating = await feedback.after_completion(t.session, keys, t.actor, moved)
    read = _one(moved.request, response)
    # The links are the contact's; only who may accept or rate for it sees them here.
    if t.actor.can(service.WORK.manage):
        read.acceptance_link = accepting["path"] if accepting else None
        read.feedback_link = rating["path"] if rating else None
    return read


ACCEPTANCE_NOTE = (
    " When the category requires acceptance the request waits for the contact (409 "
    "`awaiting-acceptance` on further moves) and the answer carries `acceptance_link`, the link "
    "for the contact (also in the outbox event)."
)
work_routes.declare_moves(
    router,
    (
        Move(
            "start",
            "start_service_request",
            "Start work on a service request",
            RequestMove,
            "in_progress",
            "Pending -> in progress; it must be assigned first (409 `not-assigned`).",
        ),
        Move(
            "respond",
            "respond_service_request",
            "Respond to a service request",
            RequestAnswer,
            "responded",
            "In progress -> responded, with a response category and text." + ACCEPTANCE_NOTE,
        ),
        Move(
            "resolve-temporarily",
            "resolve_temporarily_service_request",
            "Resolve a service request temporarily",
            RequestAnswer,
            "temporarily_resolved",
            "Responded -> temporarily resolved, with a temporary resolution category; only types with a "
            "status in that state (409 otherwise)." + ACCEPTANCE_NOTE,
        ),
        Move(
            "resolve",
            "resolve_service_request",
            "Resolve a service request finally",
            RequestAnswer,
            "finally_resolved",
            "Responded or temporarily resolved -> finally resolved, with a final resolution category."
            + ACCEPTANCE_NOTE,
        ),
        Move(
            "complete",
            "complete_service_request",
            "Complete a service request",
            RequestMove,
            "completed",
            """Finally resolved (and accepted, when asked) -> completed; 409 `open-activities` while
            activities planned for it are pending or in progress.""",
        ),
        Move(
            "cancel",
            "cancel_service_request",
            "Cancel a pending service request",
            RequestCancel,
            "cancelled",
            "Pending -> cancelled (409 from any other state).",
        ),
        Move(
            "transitions",
            "transition_service_request",
            "Move a service request to any status its type allows",
            RequestTransition,
            None,
            "Entering a response or resolution state needs `category_id` as its action does.",
        ),
    ),
    param="service_request_id",
    noun="service request",
    reader=CurrentActor,
    move=_moved,
    read_model=ServiceRequestRead,
)


@router.post(
    "/{service_request_id}/acceptance",
    operation_id="accept_service_request_answer",
    summary="Accept the answer a service request waits on (its customer)",
    response_model=ServiceRequestRead,
    responses=MOVE,
)
async def accept_service_request_answer(
    session: DbSession,
    actor: CurrentActor,
    service_request_id: RequestPath,
    response: Response,
    if_match: IfMatch = None,
) -> ServiceRequestRead:
    """A signed-in customer of the request's account accepts the response or resolution; staff
    with `service_requests.manage` may record an acceptance given another way. 409
    `nothing-to-accept` when nothing waits."""
    r = await service.accept_as_customer(session, actor, service_request_id, expected_version(if_match))
    return _one(r, response)


@router.get(
    "/{service_request_id}/related",
    operation_id="list_related_service_requests",
    summary="A service request's related requests",
    response_model=list[ServiceRequestRead],
    responses=ONE,
)
async def list_related_service_requests(
    session: DbSession, actor: CurrentActor, service_request_id: RequestPath
) -> list[dict[str, Any]]:
    """Those the caller can see, by number (at most 200)."""
    return _rows(await service.related(session, actor, service_request_id, RELATED_LIMIT))


@router.put(
    "/{service_request_id}/related/{related_id}",
    operation_id="relate_service_requests",
    summary="Relate two service requests",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=RELATE,
)
async def relate_service_requests(
    session: DbSession,
    actor: CurrentActor,
    service_request_id: RequestPath,
    related_id: Annotated[UUID, Path(description="the related request's id")],
) -> Response:
    """Each then lists the other; relating them again changes nothing."""
    await service.relate(session, actor, service_request_id, related_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/{service_request_id}/related/{related_id}",
    operation_id="unrelate_service_requests",
    summary="Stop relating two service requests",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=RELATE,
)
async def unrelate_service_requests(
    session: DbSession,
    actor: CurrentActor,
    service_request_id: RequestPath,
    related_id: Annotated[UUID, Path(description="the related request's id")],
) -> Response:
    await service.unrelate(session, actor, service_request_id, related_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


work_routes.declare_common(
    router,
    service.WORK,
    ANSWERS,
    param="service_request_id",
    reader=CurrentActor,
    delete="delete_service_request",
    restore="restore_service_request",
    accept="accept_service_request",
    history_of="list_service_request_history",
)


@router.post(
    "/{service_request_id}/acceptance-link",
    operation_id="reissue_acceptance_link",
    summary="Issue the contact's acceptance link again",
    response_model=IssuedLink,
    responses=MOVE,
)
async def reissue_acceptance_link(
    request: Request, session: DbSession, actor: CurrentActor, service_request_id: RequestPath
) -> IssuedLink:
    """For whoever may change the request, while an answer waits for the contact (409
    `nothing-to-accept` otherwise) and the request has a contact (409 `no-contact`). The links
    sent before stop working (410 `link-expired`); the new one is in the event
    `service_request.acceptance_link_issued` for notifications to send, and in the answer for
    callers with `service_requests.manage`."""
    r, link = await acceptance.reissue(session, request.app.state.keys, actor, service_request_id)
    return IssuedLink(
        service_request_id=r.id,
        purpose="acceptance",
        expires_at=link["expires_at"],
        link=service.link_shown_to(actor, link),
    )


@acceptances.get(
    "/{token}",
    operation_id="show_acceptance",
    summary="What a contact's acceptance link accepts",
    response_model=AcceptanceRead,
    responses=problem_responses(404, 409, 410, 422, 429, 503),
)
async def show_acceptance(request: Request, session: DbSession, token: Token) -> dict[str, Any]:
    """No credential but the token: 404 unknown link, 409 `link-used` (or `nothing-to-accept`
    once the request moved on), 410 `link-expired`; 429 with `Retry-After` past 10 calls a minute
    from one address or 5 with one token (every public link route counts)."""
    return await acceptance.show(session, request.app.state.keys, token)


@acceptances.post(
    "/{token}",
    operation_id="use_acceptance",
    summary="Accept through a contact's link",
    response_model=AcceptanceRead,
    responses=problem_responses(404, 409, 410, 422, 429, 503),
)
async def use_acceptance(request: Request, session: DbSession, token: Token) -> dict[str, Any]:
    """The contact accepts the response or resolution; the link is spent (a second use: 409
    `link-used`)."""
    return await acceptance.consume(session, request.app.state.keys, token)


# Rating a request and reissuing its feedback link: their own router, tagged feedback, which
# app.py includes after the feedback list, so the OpenAPI document keeps its order.
rating = APIRouter(
    prefix="/v1/service-requests", tags=["feedback"], route_class=CrmRoute, dependencies=[Idempotent]
)


@rating.post(
    "/{service_request_id}/feedback",
    operation_id="rate_service_request",
    summary="Rate a completed service request (its customer)",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedbackRead,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def rate_service_request(
    session: DbSession,
    actor: CurrentActor,
    service_request_id: Annotated[UUID, Path(description="service request id")],
    body: FeedbackCreate,
) -> Any:
    """A signed-in customer of the request's account, once (409 `already-rated`), on a completed
    request (409 `not-completed`); staff 403 `customers-only`."""
    return await feedback.rate_as_customer(session, actor, service_request_id, body)


@rating.post(
    "/{service_request_id}/feedback-link",
    operation_id="reissue_feedback_link",
    summary="Issue the contact's feedback link again",
    response_model=IssuedLink,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def reissue_feedback_link(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    service_request_id: Annotated[UUID, Path(description="service request id")],
) -> IssuedLink:
    """For whoever may change the request, once it is completed (409 `not-completed`) and while
    it is not rated (409 `already-rated`), when it has a contact (409 `no-contact`). The links
    sent before stop working (410 `link-expired`); the new one is in the event
    `service_request.feedback_link_issued` for notifications to send, and in the answer for
    callers with `service_requests.manage`."""
    r, link = await feedback.reissue_link(session, request.app.state.keys, actor, service_request_id)
    return IssuedLink(
        service_request_id=r.id,
        purpose="feedback",
        expires_at=link["expires_at"],
        link=service.link_shown_to(actor, link),
    )


# Scheduling activities for service requests: their own router, tagged activities, which app.py
# includes after the activities, so the OpenAPI document keeps its order.
scheduling = APIRouter(
    prefix="/v1/service-requests", tags=["activities"], route_class=CrmRoute, dependencies=[Idempotent]
)


@scheduling.post(
    "/{service_request_id}/activities",
    operation_id="schedule_service_request_activity",
    summary="Schedule an activity for a service request",
    status_code=status.HTTP_201_CREATED,
    response_model=ActivityRead,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def schedule_service_request_activity(
    session: DbSession,
    actor: Annotated[Actor, require("activities.create")],
    service_request_id: Annotated[UUID, Path(description="service request id")],
    body: ActivitySchedule,
    response: Response,
) -> ActivityRead:
    """By who works on the request; an activity type the request's type allows (422), carrying
    its contact and account. The request cannot complete while the activity is open. 409 on a
    completed or cancelled request."""
    a = await activities.schedule(session, actor, body, "service_request_id", service_request_id)
    response.headers["Location"] = f"/v1/activities/{a.id}"
    return activity_routes.ANSWERS.one(a, response)
