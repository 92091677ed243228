"""HTTP for tags: the catalogue under /v1/tags, and the routes that tag one record or many,
which each tagged kind's router (contacts, accounts, leads, opportunities) declares with
`declare`, under the operation ids it spells out; the kind hands in how its records are locked
for a change, so the tag service gets the record in scope and changeable.

No `from __future__ import annotations` here: `declare` makes its handlers' parameter types (the
kind's path parameter and its manager) at run time, and FastAPI must see them as objects.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from pydantic import AfterValidator
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.dependencies import CurrentActor, Idempotent, require, staff_or
from crmapi.kit import routes
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, paginate, render, render_page, select_fields, sorted_by
from crmapi.kit.routes import CrmRoute
from crmapi.kit.scalars import storable
from crmapi.kit.words import a
from crmapi.records.targets import Target, target
from crmapi.tags import queries, service
from crmapi.tags.queries import TaggedKind
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


TagName = Annotated[
    str,
    Path(min_length=1, max_length=64, description="The tag's name (any case)."),
    AfterValidator(storable),
]
Changeable = Callable[[AsyncSession, Actor, UUID], Awaitable[Any]]


def declare(
    router: APIRouter,
    kind: TaggedKind,
    plural: str,
    changeable: Changeable,
    *,
    bulk: str,
    add: str,
    remove: str,
) -> None:
    """Declare on the kind's `router` (prefix /v1/<plural>) POST /bulk/tags, POST /{<kind>_id}/tags
    and DELETE /{<kind>_id}/tags/{name}; `changeable` is the kind's get_for_change (404 outside
    the scope, 403 for who may not change it, 409 for a read-only record)."""
    Manager = Annotated[Actor, staff_or(f"{plural}.manage")]
    on, one = target(f"{kind}_id", f"{kind} id", CurrentActor), f"/{{{kind}_id}}/tags"

    async def tag_many(session: DbSession, actor: Manager, body: BulkTags) -> dict[str, Any]:
        return {"results": await service.bulk(session, actor, kind, body)}

    async def tag_one(
        body: TagAssign, response: Response, t: Target = on, if_match: IfMatch = None
    ) -> RecordTags:
        record = await changeable(t.session, t.actor, t.id)
        expected = expected_version(if_match)
        return _answer(
            await service.add_to_record(t.session, t.actor, kind, record, body.name, expected), response
        )

    async def untag_one(
        response: Response, t: Target = on, name: str = Depends(_tag_name), if_match: IfMatch = None
    ) -> RecordTags:
        record = await changeable(t.session, t.actor, t.id)
        expected = expected_version(if_match)
        return _answer(
            await service.remove_from_record(t.session, t.actor, kind, record, name, expected), response
        )

    # Declared before /{id}/tags so that "bulk" is never read as an id.
    routes.add(
        router,
        "POST",
        "/bulk/tags",
        tag_many,
        bulk,
        summary=f"Add and remove tags on many {plural}",
        description="Up to 10,000 ids; each gets its own outcome, in the order sent. Tags in `add` must be\n"
        "in the catalogue already (422 on `body.add` otherwise); a record changes only when its\n"
        "tags do, and then gets a history entry and an event.",
        response_model=BulkResult,
        responses=problem_responses(401, 403, 409, 422, 503),
    )
    routes.add(
        router,
        "POST",
        one,
        tag_one,
        add,
        summary=f"Add a tag to {a(kind)}",
        description="A name not yet in the catalogue is added to it. Answers the record's tags and new ETag.",
        response_model=RecordTags,
        responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
    )
    routes.add(
        router,
        "DELETE",
        # `:path`, so a name holding a slash ("B2B/B2C"), sent as %2F, still reaches this route.
        f"{one}/{{name:path}}",
        untag_one,
        remove,
        summary=f"Remove a tag from {a(kind)}",
        description="A tag the record does not carry changes nothing. Answers the record's tags and ETag.",
        response_model=RecordTags,
        responses=problem_responses(401, 403, 404, 412, 422, 503),
    )


async def _tag_name(name: TagName) -> str:
    """The tag in the path, as a dependency declared after the record's target, so the record's id
    comes first among the path parameters, as in the URL."""
    return name


def _answer(record: Any, response: Response) -> RecordTags:
    """The record's tags after the change, with its new ETag."""
    response.headers["ETag"] = etag(record.version)
    return RecordTags(tags=record.tags)
