"""HTTP for events out: the change feed and the catalogue of event types."""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import APIRouter, Query
from pydantic import BaseModel, create_model

from crmapi.access.dependencies import CurrentActor
from crmapi.events import feed
from crmapi.events.catalogue import TYPES
from crmapi.events.render import READ_MODELS
from crmapi.events.schemas import ChangePage, ChangesQuery
from crmapi.events.webhook_schemas import EventTypeList, WebhookEvent
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.routes import CrmRoute

router = APIRouter(prefix="/v1", tags=["events"], route_class=CrmRoute)


def _event_type(event_type: str, description: str) -> dict[str, Any]:
    kind = event_type.partition(".")[0]
    model = READ_MODELS.get(kind)
    schema = f"#/components/schemas/{model.__name__}" if model else None
    return {"type": event_type, "kind": kind, "description": description, "data_schema": schema}


EVENT_TYPES = [_event_type(event_type, description) for event_type, description in TYPES.items()]


@router.get(
    "/changes",
    operation_id="list_changes",
    summary="Every change the caller may see, in commit order",
    response_model=ChangePage,
    responses=problem_responses(401, 422, 503),
)
async def list_changes(
    session: DbSession, actor: CurrentActor, query: Annotated[ChangesQuery, Query()]
) -> dict[str, Any]:
    """Creates, changes, transitions, deletions and restores of every record kind the caller may
    see, each once, in the order they were committed (a change committed late comes after the
    ones already read, never before them). Keep `next_after` and ask again with it as `after`:
    it survives restarts on both sides. A record the caller sees through its scope (a sales rep's
    accounts, a member's own work) is in its feed; others are not. Changes appear within about a
    second of their commit, once the relay has put them in order."""
    return await feed.page(session, actor, query)


@router.get(
    "/event-types",
    operation_id="list_event_types",
    summary="The event types webhooks subscribe to",
    response_model=EventTypeList,
    responses=problem_responses(401, 503),
)
async def list_event_types(actor: CurrentActor) -> dict[str, Any]:
    """Every `<kind>.<operation>` an endpoint may name in `event_types` (besides `<kind>.*` and
    `*`), with the schema of its `data`: this document's `webhooks` section shows each kind's
    request body."""
    return {"items": EVENT_TYPES}


def declare_webhooks(webhooks: APIRouter) -> None:
    """The OpenAPI document's `webhooks`: the request an endpoint receives for each kind's events,
    its `data` the kind's answer (kinds without one carry none)."""
    for kind, read in READ_MODELS.items():
        body = create_model(
            f"{read.__name__.removesuffix('Read')}Event",
            __base__=WebhookEvent,
            data=(cast(Any, read | None), None),
        )
        _receive(webhooks, f"{kind}.*", body, f"Events about {kind.replace('_', ' ')}s")
    _receive(webhooks, "*", WebhookEvent, "Events about configuration, access and webhook endpoints")


def _receive(webhooks: APIRouter, name: str, body: type[BaseModel], summary: str) -> None:
    async def receive(event: Any) -> None:
        """Answer 2xx within the timeout to acknowledge; anything else is retried with growing
        delays for three days. Check `Crmapi-Signature` first, and deduplicate on the event `id`:
        delivery is at least once."""

    receive.__annotations__ = {"event": body, "return": None}  # made per kind, so set at run time
    operation = name.replace(".*", "_events").replace("*", "other_events")
    webhooks.add_api_route(
        name,
        receive,
        methods=["POST"],
        summary=summary,
        operation_id=f"receive_{operation}",
        response_model=None,
    )
