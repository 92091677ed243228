"""HTTP for tags: the catalogue under /v1/tags, and tagging contacts and accounts.

No `from __future__ import annotations` here: `record_router` builds its handlers' parameter
types at run time, and FastAPI must see them as objects, not as names to look up.
"""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import AfterValidator

from crmapi.access.actor import Actor
from crmapi.access.dependencies import CurrentActor, Idempotent, require, staff_or
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, paginate, render, render_page, select_fields, sorted_by
from crmapi.kit.routes import CrmRoute
from crmapi.kit.scalars import storable
from crmapi.kit.words import a
from crmapi.records.subjects import TaggedKind
from crmapi.tags import queries, service
from crmapi.tags.schemas import (
    BulkResult,
    BulkTags,
    RecordTags,
    TagAssign,
    TagCreate,
    TagListQuery,
    TagRead,
    TagUpdate,
)

router = APIRouter(prefix="/v1/tags", tags=["tags"], route_class=CrmRoute, dependencies=[Idempotent])

TagPath = Annotated[UUID, Path(description="tag id")]
Manager = Annotated[Actor, require("tags.manage")]
Reader = Annotated[Actor, staff_or("tags.manage")]


@router.get(
    "",
    operation_id="list_tags",
    summary="List the tag catalogue",
    response_model=Page[TagRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 422, 503),
)
@sorted_by(queries.SORTING)
async def list_tags(
    request: Request, session: DbSession, actor: Reader, query: Annotated[TagListQuery, Query()]
) -> dict[str, Any]:
    """The organisation's tags (staff only), by name unless `sort` says otherwise."""
    select_fields(TagRead, query.fields)
    rows, cursor, count = await paginate(
        session,
        queries.filtered(actor, query),
        sorting=queries.SORTING,
        params=query,
        cursors=request.app.state.cursors,
    )
    return render_page(TagRead, rows, cursor, count, query.fields)


@router.post(
    "",
    operation_id="create_tag",
    summary="Create a tag",
    status_code=status.HTTP_201_CREATED,
    response_model=TagRead,
    responses=problem_responses(401, 403, 409, 422, 503),
)
async def create_tag(session: DbSession, actor: Manager, body: TagCreate, response: Response) -> TagRead:
    """Needs `tags.manage`. A name taken in any case answers 409 `tag-exists`."""
    tag = await service.create(session, actor, body)
    response.headers["Location"] = f"/v1/tags/{tag.id}"
    response.headers["ETag"] = etag(tag.version)
    return render(TagRead, tag)


@router.get(
    "/{tag_id}",
    operation_id="get_tag",
    summary="Get a tag",
    response_model=TagRead,
    response_model_exclude_unset=True,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_tag(
    session: DbSession,
    actor: Reader,
    tag_id: TagPath,
    response: Response,
    fields: Annotated[str | None, Query(max_length=2048, description="Comma-separated fields.")] = None,
) -> TagRead:
    tag = await service.get(session, actor, tag_id)
    response.headers["ETag"] = etag(tag.version)
    return render(TagRead, tag, select_fields(TagRead, fields))


@router.patch(
    "/{tag_id}",
    operation_id="update_tag",
    summary="Rename or recolour a tag",
    response_model=TagRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
)
async def update_tag(
    session: DbSession,
    actor: Manager,
    tag_id: TagPath,
    body: TagUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> TagRead:
    """Needs `tags.manage`. A new name replaces the old one on every contact and account."""
    tag = await service.update(session, actor, tag_id, body, expected_version(if_match))
    response.headers["ETag"] = etag(tag.version)
    return render(TagRead, tag)


@router.delete(
    "/{tag_id}",
    operation_id="delete_tag",
    summary="Delete a tag",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 412, 422, 503),
)
async def delete_tag(
    session: DbSession, actor: Manager, tag_id: TagPath, if_match: IfMatch = None
) -> Response:
    """Needs `tags.manage`. The name is taken off every contact and account that carries it."""
    await service.delete(session, actor, tag_id, expected_version(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def record_router(kind: TaggedKind, plural: str) -> APIRouter:
    """Tagging one record of a kind, or many at once: /v1/<plural>/{id}/tags, /v1/<plural>/bulk/tags."""
    records = APIRouter(
        prefix=f"/v1/{plural}", tags=[plural], route_class=CrmRoute, dependencies=[Idempotent]
    )
    RecordPath = Annotated[UUID, Path(alias=f"{kind}_id", description=f"{kind} id")]
    TagInPath = Annotated[
        str,
        Path(min_length=1, max_length=64, description="The tag's name (any case)."),
        AfterValidator(storable),
    ]

    # Declared before /{id}/tags so that "bulk" is never read as an id.
    @records.post(
        "/bulk/tags",
        operation_id=f"bulk_tag_{plural}",
        name=f"bulk_tag_{plural}",
        summary=f"Add and remove tags on many {plural}",
        response_model=BulkResult,
        responses=problem_responses(401, 403, 409, 422, 503),
    )
    async def bulk_tag(
        session: DbSession, actor: Annotated[Actor, staff_or(f"{plural}.manage")], body: BulkTags
    ) -> dict[str, Any]:
        """Up to 10,000 ids; each gets its own outcome, in the order sent. Tags in `add` must be
        in the catalogue already (422 on `body.add` otherwise); a record changes only when its
        tags do, and then gets a history entry and an event."""
        return {"results": await service.bulk(session, actor, kind, body)}

    @records.post(
        f"/{{{kind}_id}}/tags",
        operation_id=f"add_{kind}_tag",
        name=f"add_{kind}_tag",
        summary=f"Add a tag to {a(kind)}",
        response_model=RecordTags,
        responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
    )
    async def add_tag(
        session: DbSession,
        actor: CurrentActor,
        record_id: RecordPath,
        body: TagAssign,
        response: Response,
        if_match: IfMatch = None,
    ) -> RecordTags:
        """A name not yet in the catalogue is added to it. Answers the record's tags and new ETag."""
        record = await service.add_to_record(
            session, actor, kind, record_id, body.name, expected_version(if_match)
        )
        response.headers["ETag"] = etag(record.version)
        return RecordTags(tags=record.tags)

    @records.delete(
        # `:path`, so a name holding a slash ("B2B/B2C"), sent as %2F, still reaches this route.
        f"/{{{kind}_id}}/tags/{{name:path}}",
        operation_id=f"remove_{kind}_tag",
        name=f"remove_{kind}_tag",
        summary=f"Remove a tag from {a(kind)}",
        response_model=RecordTags,
        responses=problem_responses(401, 403, 404, 412, 422, 503),
    )
    async def remove_tag(
        session: DbSession,
        actor: CurrentActor,
        record_id: RecordPath,
        name: TagInPath,
        response: Response,
        if_match: IfMatch = None,
    ) -> RecordTags:
        """A tag the record does not carry changes nothing. Answers the record's tags and ETag."""
        record = await service.remove_from_record(
            session, actor, kind, record_id, name, expected_version(if_match)
        )
        response.headers["ETag"] = etag(record.version)
        return RecordTags(tags=record.tags)

    return records


contact_tags = record_router("contact", "contacts")
account_tags = record_router("account", "accounts")
lead_tags = record_router("lead", "leads")
opportunity_tags = record_router("opportunity", "opportunities")
