"""Every read route over the demo organisation answers, as each kind of member, what its schema
says: an answer read into its route's response model and written out again is the same JSON, so
whatever renders it (the ORM and pydantic, or PostgreSQL) cannot drift from the contract."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio
from bench.reads import Answer, Read, Route, complete, fetch, read_routes, walk
from fastapi import FastAPI
from fastapi.routing import APIRoute
from httpx import AsyncClient
from pydantic import TypeAdapter

from crmapi.demo.data import PASSWORD, Demo, load
from crmapi.kit.db import Database

# Handed out once, when a link is issued: no list gives them.
BY_TOKEN = {"/v1/acceptances/{token}", "/v1/feedback-links/{token}"}


@pytest_asyncio.fixture(loop_scope="session")
async def demo(client: AsyncClient, db: Database) -> Demo:
    async with db.sessions() as session:
        demo = await load(session, seed=7, contacts=60, accounts=20, store=_app(client).state.storage)
        await session.commit()
    await complete(client, await _sign_in(client, demo.admin.email))
    return demo


async def _sign_in(client: AsyncClient, email: str) -> dict[str, str]:
    r = await client.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _app(client: AsyncClient) -> FastAPI:
    app: FastAPI = client._transport.app  # type: ignore[attr-defined]
    return app


def _models(app: FastAPI) -> dict[Route, TypeAdapter[Any]]:
    return {
        Route(method, route.path_format): TypeAdapter(route.response_model)
        for route in app.routes
        if isinstance(route, APIRoute) and route.response_model is not None
        for method in route.methods
    }


def _as_its_schema_writes_it(models: dict[Route, TypeAdapter[Any]], read: Read, answer: Answer) -> None:
    model = models[read.route]
    again = model.dump_python(
        model.validate_python(answer.body), mode="json", by_alias=True, exclude_unset=True
    )
    assert again == answer.body, f"{read}: the answer is not what {model} writes"


async def test_the_administrator_reads_every_route_as_its_schema_writes_it(
    client: AsyncClient, demo: Demo
) -> None:
    app = _app(client)
    headers = await _sign_in(client, demo.admin.email)
    models = _models(app)

    walked = await walk(client, headers, read_routes(app.openapi()))

    assert {route.template for route in walked.unreached} == BY_TOKEN
    reached = {read.route for read in walked.reads}
    assert len(reached) == len(read_routes(app.openapi())) - len(BY_TOKEN)
    for read in walked.reads:
        answer = await fetch(client, headers, read)
        assert answer.status == 200, f"{read}: {answer.body}"
        if read.route in models:
            _as_its_schema_writes_it(models, read, answer)


@pytest.mark.parametrize(("who", "at_least"), [("sales rep", 200), ("customer", 30)])
async def test_a_member_in_a_scope_reads_what_it_may_as_its_schema_writes_it(
    client: AsyncClient, demo: Demo, who: str, at_least: int
) -> None:
    app = _app(client)
    headers = await _sign_in(client, demo.staff[0].email if who == "sales rep" else demo.customers[0].email)
    models = _models(app)

    walked = await walk(client, headers, read_routes(app.openapi()))

    seen = {200: 0, 403: 0}
    for read in walked.reads:
        answer = await fetch(client, headers, read)
        assert answer.status in seen, f"{read}: {answer.body}"
        seen[answer.status] += 1
        if answer.status == 403:
            assert answer.content_type == "application/problem+json"
        elif read.route in models:
            _as_its_schema_writes_it(models, read, answer)
    assert seen[200] >= at_least, "the walk read too little to tell"
