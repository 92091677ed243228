"""HTTP for webhook endpoints, their deliveries, redeliveries and replays (`webhooks.manage`)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from crmapi.access.actor import Actor
from crmapi.access.dependencies import Idempotent, require
from crmapi.events import webhooks
from crmapi.events.webhook_schemas import (
    AttemptRead,
    DeliveryListQuery,
    DeliveryRead,
    DeliveryWithAttempts,
    EndpointCreate,
    EndpointRead,
    EndpointUpdate,
    EndpointWithSecret,
    Replay,
    ReplayResult,
    SecretRotation,
)
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.idempotency import refused_here
from crmapi.kit.pagination import Page, PageParams, paginate, render, render_page, select_fields, sorted_by
from crmapi.kit.routes import CrmRoute
from crmapi.settings import Settings

router = APIRouter(prefix="/v1/webhook-endpoints", tags=["webhooks"], route_class=CrmRoute)

EndpointPath = Annotated[UUID, Path(description="webhook endpoint id")]
DeliveryPath = Annotated[UUID, Path(description="delivery id")]
Manager = Annotated[Actor, require("webhooks.manage")]
# An answer holding the signing secret is never stored, so it is never replayed.
no_replay = refused_here(
    "the answer holds the signing secret, which is never stored. After a failed call, list the "
    "endpoints, remove any you did not get a secret for, or rotate its secret."
)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _with_secret(endpoint: Any, response: Response) -> EndpointWithSecret:
    response.headers["ETag"] = etag(endpoint.version)
    response.headers["Cache-Control"] = "no-store"
    return EndpointWithSecret(**render(EndpointRead, endpoint).model_dump(), secret=endpoint.secret)


@router.post(
    "",
    operation_id="create_webhook_endpoint",
    summary="Subscribe an endpoint to events",
    status_code=status.HTTP_201_CREATED,
    response_model=EndpointWithSecret,
    responses=problem_responses(401, 403, 422, 503),
    dependencies=[Depends(no_replay)],
)
async def create_webhook_endpoint(
    request: Request, session: DbSession, actor: Manager, body: EndpointCreate, response: Response
) -> EndpointWithSecret:
    """Needs `webhooks.manage`, which hears of every record's changes through the events it
    subscribes to. The URL must be https, and not a private or loopback address unless the
    organisation's `webhooks_private_addresses` setting allows them (an ERP on its own
    premises). The answer holds the signing `secret`, shown this once. Events are signed
    `Crmapi-Signature: t=<unix time>,v1=<HMAC-SHA256 of "<t>.<body>" in hex>`; the README shows how
    a receiver checks it."""
    endpoint = await webhooks.create(session, actor, body, _settings(request))
    response.headers["Location"] = f"/v1/webhook-endpoints/{endpoint.id}"
    return _with_secret(endpoint, response)


@router.get(
    "",
    operation_id="list_webhook_endpoints",
    summary="List webhook endpoints",
    response_model=Page[EndpointRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 422, 503),
)
@sorted_by(webhooks.SORTING)
async def list_webhook_endpoints(
    request: Request, session: DbSession, actor: Manager, query: Annotated[PageParams, Query()]
) -> dict[str, Any]:
    """Needs `webhooks.manage`. Never the secrets."""
    select_fields(EndpointRead, query.fields)
    rows, cursor, count = await paginate(
        session,
        webhooks.endpoints(),
        sorting=webhooks.SORTING,
        params=query,
        cursors=request.app.state.cursors,
    )
    return render_page(EndpointRead, rows, cursor, count, query.fields)


@router.get(
    "/{endpoint_id}",
    operation_id="get_webhook_endpoint",
    summary="Get a webhook endpoint",
    response_model=EndpointRead,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_webhook_endpoint(
    session: DbSession, actor: Manager, endpoint_id: EndpointPath, response: Response
) -> EndpointRead:
    """Needs `webhooks.manage`. Never the secret; `disabled_reason` says why deliveries stopped."""
    endpoint = await webhooks.get(session, endpoint_id)
    response.headers["ETag"] = etag(endpoint.version)
    return render(EndpointRead, endpoint)


@router.patch(
    "/{endpoint_id}",
    operation_id="update_webhook_endpoint",
    summary="Change a webhook endpoint",
    response_model=EndpointRead,
    responses=problem_responses(401, 403, 404, 412, 422, 503),
    dependencies=[Idempotent],
)
async def update_webhook_endpoint(
    request: Request,
    session: DbSession,
    actor: Manager,
    endpoint_id: EndpointPath,
    body: EndpointUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> EndpointRead:
    """Needs `webhooks.manage`. `enabled: true` turns a disabled endpoint on again (its failure
    count starts over); deliveries given up meanwhile stay failed: replay their time range."""
    endpoint = await webhooks.update(
        session, actor, endpoint_id, body, expected_version(if_match), _settings(request)
    )
    response.headers["ETag"] = etag(endpoint.version)
    return render(EndpointRead, endpoint)


@router.delete(
    "/{endpoint_id}",
    operation_id="delete_webhook_endpoint",
    summary="Remove a webhook endpoint",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 412, 422, 503),
    dependencies=[Idempotent],
)
async def delete_webhook_endpoint(
    session: DbSession, actor: Manager, endpoint_id: EndpointPath, if_match: IfMatch = None
) -> Response:
    """Needs `webhooks.manage`. Its deliveries and their log go with it; nothing more is sent."""
    await webhooks.delete(session, actor, endpoint_id, expected_version(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{endpoint_id}/secret-rotations",
    operation_id="rotate_webhook_secret",
    summary="Rotate an endpoint's signing secret",
    response_model=EndpointWithSecret,
    responses=problem_responses(401, 403, 404, 412, 422, 503),
    dependencies=[Depends(no_replay)],
)
async def rotate_webhook_secret(
    session: DbSession,
    actor: Manager,
    endpoint_id: EndpointPath,
    body: SecretRotation,
    response: Response,
    if_match: IfMatch = None,
) -> EndpointWithSecret:
    """Needs `webhooks.manage`. The answer holds the new `secret`, shown this once. For
    `overlap_seconds` every event carries two `v1` signatures, one with each secret, so the
    receiver can switch at its own pace."""
    endpoint = await webhooks.rotate(
        session, actor, endpoint_id, body.overlap_seconds, expected_version(if_match)
    )
    return _with_secret(endpoint, response)


@router.get(
    "/{endpoint_id}/deliveries",
    operation_id="list_webhook_deliveries",
    summary="The delivery log of an endpoint",
    response_model=Page[DeliveryRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 404, 422, 503),
)
@sorted_by(webhooks.DELIVERY_SORTING)
async def list_webhook_deliveries(
    request: Request,
    session: DbSession,
    actor: Manager,
    endpoint_id: EndpointPath,
    query: Annotated[DeliveryListQuery, Query()],
) -> dict[str, Any]:
    """Needs `webhooks.manage`. Newest first: each delivery's status (`pending` while it is
    retried, `delivered`, `failed` once given up), attempts, the last answer and its latency,
    and when a pending one is tried next."""
    await webhooks.get(session, endpoint_id)
    select_fields(DeliveryRead, query.fields)
    rows, cursor, count = await paginate(
        session,
        webhooks.deliveries(endpoint_id, query.status),
        sorting=webhooks.DELIVERY_SORTING,
        params=query,
        cursors=request.app.state.cursors,
    )
    return render_page(DeliveryRead, rows, cursor, count, query.fields)


@router.get(
    "/{endpoint_id}/deliveries/{delivery_id}",
    operation_id="get_webhook_delivery",
    summary="A delivery and each of its attempts",
    response_model=DeliveryWithAttempts,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_webhook_delivery(
    session: DbSession, actor: Manager, endpoint_id: EndpointPath, delivery_id: DeliveryPath
) -> DeliveryWithAttempts:
    """Needs `webhooks.manage`. Every attempt with its time, answer code, error and latency: the
    delays between them grow until the delivery is delivered or given up."""
    found, attempts = await webhooks.delivery(session, endpoint_id, delivery_id)
    return DeliveryWithAttempts(
        **render(DeliveryRead, found).model_dump(),
        attempts_made=[render(AttemptRead, a) for a in attempts],
    )


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/redeliveries",
    operation_id="redeliver_webhook",
    summary="Send a delivery's event again",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryRead,
    responses=problem_responses(401, 403, 404, 422, 503),
    dependencies=[Idempotent],
)
async def redeliver_webhook(
    request: Request, session: DbSession, actor: Manager, endpoint_id: EndpointPath, delivery_id: DeliveryPath
) -> DeliveryRead:
    """Needs `webhooks.manage`. A new delivery of the same event with the same body (the same
    event id, for the receiver's deduplication), sent within a second or two and retried like
    any other."""
    again = await webhooks.redeliver(session, endpoint_id, delivery_id, _settings(request).sweep_grace)
    return render(DeliveryRead, again)


@router.post(
    "/{endpoint_id}/replays",
    operation_id="replay_webhook_events",
    summary="Send every event of a time range again",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReplayResult,
    responses=problem_responses(401, 403, 404, 422, 503),
    dependencies=[Idempotent],
)
async def replay_webhook_events(
    request: Request, session: DbSession, actor: Manager, endpoint_id: EndpointPath, body: Replay
) -> dict[str, Any]:
    """Needs `webhooks.manage`. The events that occurred in `[from, to)` and that the endpoint
    subscribes to, as new deliveries sent in their order (up to 10,000 events a call), to bring
    a new receiver up to date or fill a receiver's gap. Their `data` is the record as it is now."""
    return await webhooks.replay(session, actor, endpoint_id, body, _settings(request).sweep_grace)
