"""HTTP for every configurable list under /v1/config, made from its OptionList.

Not `from __future__ import annotations`: the handlers below are made per list, and FastAPI
reads their parameter types (the list's own schemas) from the live annotations.
"""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from crmapi.access.actor import Actor
from crmapi.access.dependencies import Idempotent, require, staff_or
from crmapi.config import service
from crmapi.config.spec import OptionList
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, paginate, render, render_page, select_fields, sorted_by
from crmapi.kit.routes import CrmRoute
from crmapi.kit.words import a

Manager = Annotated[Actor, require("config.manage")]
Reader = Annotated[Actor, staff_or("config.manage")]
Fields = Annotated[str | None, Query(max_length=2048, description="Comma-separated fields.")]


def _no_parent() -> None:
    return None


def _parent_of(spec: OptionList) -> Any:
    """The dependency giving the parent's id from the path (None for a top-level list)."""
    if spec.parent is None:
        return Depends(_no_parent)

    def parent(parent_id: Annotated[UUID, Path(alias=spec.parent.param)]) -> UUID:
        return parent_id

    parent.__doc__ = f"The {spec.parent.noun}'s id."
    return Depends(parent)


def router_for(*specs: OptionList) -> APIRouter:
    router = APIRouter(tags=["configuration"], route_class=CrmRoute, dependencies=[Idempotent])
    for spec in specs:
        _mount(router, spec)
    return router


def _mount(router: APIRouter, spec: OptionList) -> None:
    prefix, one = spec.prefix(), f"{spec.prefix()}/{{{spec.param}}}"
    Parent = Annotated[UUID | None, _parent_of(spec)]
    OptionId = Annotated[UUID, Path(alias=spec.param, description=f"{spec.noun} id")]
    # Any: the schemas are the list's own classes, known only at run time.
    Read: Any = spec.read
    Update: Any = spec.update
    ListQuery: Any = spec.query
    missing = (404,) if spec.parent else ()

    @sorted_by(service.sorting(spec))
    async def list_options(
        request: Request,
        session: DbSession,
        actor: Reader,
        parent_id: Parent,
        query: Annotated[ListQuery, Query()],
    ) -> dict[str, Any]:
        select_fields(Read, query.fields)
        if spec.parent is not None:
            assert parent_id is not None
            await service.get(session, actor, spec.parent, parent_id)
        rows, cursor, count = await paginate(
            session,
            service.filtered(actor, spec, query, parent_id),
            sorting=service.sorting(spec),
            params=query,
            cursors=request.app.state.cursors,
        )
        return render_page(Read, rows, cursor, count, query.fields)

    list_options.__doc__ = f"Staff read it; in `position` order unless `sort` says otherwise. {spec.about}"
    router.add_api_route(
        prefix,
        list_options,
        methods=["GET"],
        operation_id=f"list_{spec.operations}",
        summary=f"List the {spec.plural}",
        response_model=Page[Read],
        response_model_exclude_unset=True,
        responses=problem_responses(400, 401, 403, *missing, 422, 503),
    )

    if spec.create is not None:
        Create: Any = spec.create

        async def create_option(
            session: DbSession,
            actor: Manager,
            parent_id: Parent,
            body: Create,
            response: Response,
        ) -> Any:
            made = await service.create(session, actor, spec, body, parent_id)
            names = {spec.param: made.id} | ({spec.parent.param: parent_id} if spec.parent else {})
            response.headers["Location"] = one.format(**names)
            response.headers["ETag"] = etag(made.version)
            return render(Read, made)

        create_option.__doc__ = (
            "Needs `config.manage`. A code the list already has answers 409 `code-taken`; "
            "without a code one is made from the name."
        )
        router.add_api_route(
            prefix,
            create_option,
            methods=["POST"],
            operation_id=f"create_{spec.op or spec.entity}",
            summary=f"Add {a(spec.noun)}",
            status_code=status.HTTP_201_CREATED,
            response_model=Read,
            responses=problem_responses(401, 403, *missing, 409, 422, 503),
        )

    async def get_option(
        session: DbSession,
        actor: Reader,
        parent_id: Parent,
        option_id: OptionId,
        response: Response,
        fields: Fields = None,
    ) -> Any:
        found = await service.get(session, actor, spec, option_id, parent_id)
        response.headers["ETag"] = etag(found.version)
        return render(Read, found, select_fields(Read, fields))

    router.add_api_route(
        one,
        get_option,
        methods=["GET"],
        operation_id=f"get_{spec.op or spec.entity}",
        summary=f"Get {a(spec.noun)}",
        response_model=Read,
        response_model_exclude_unset=True,
        responses=problem_responses(401, 403, 404, 422, 503),
    )

    async def update_option(
        session: DbSession,
        actor: Manager,
        parent_id: Parent,
        option_id: OptionId,
        body: Update,
        response: Response,
        if_match: IfMatch = None,
    ) -> Any:
        changed = await service.update(
            session, actor, spec, option_id, body, expected_version(if_match), parent_id
        )
        response.headers["ETag"] = etag(changed.version)
        return render(Read, changed)

    update_option.__doc__ = "Needs `config.manage`. Merge semantics; `If-Match` guards against a stale write."
    router.add_api_route(
        one,
        update_option,
        methods=["PATCH"],
        operation_id=f"update_{spec.op or spec.entity}",
        summary=f"Change {a(spec.noun)}",
        response_model=Read,
        responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
    )
