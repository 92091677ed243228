"""Every problem `type` a client meets resolves: `/problems/{slug}` describes it, `/problems`
lists every type, and the contract's `Problem.type` names them all (RFC 9457, 3.1.1)."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient

from crmapi.app import create_app
from crmapi.kit.errors import PROBLEM_TYPES, Conflict
from crmapi.kit.ids import new_id
from crmapi.settings import Settings
from tests.support import Tenants, assert_problem

JSON = {"Accept": "application/json"}


async def test_a_problem_answers_type_resolves_to_its_description(
    client: AsyncClient, tenants: Tenants
) -> None:
    acme = await tenants.create()
    missing = await client.get(f"/v1/contacts/{new_id()}", headers=acme.admin.headers)
    anna = {"kind": "person", "first_name": "Anna", "last_name": "Nowak"}
    made = (await client.post("/v1/contacts", json=anna, headers=acme.admin.headers)).json()
    stale = await client.patch(
        f"/v1/contacts/{made['id']}",
        json={"first_name": "Ewa"},
        headers={**acme.admin.headers, "If-Match": '"7"'},
    )
    for answer, slug in ((missing, "not-found"), (stale, "stale-version")):
        assert_problem(answer, answer.status_code, slug)
        page = await client.get(answer.json()["type"])
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert f"/problems/{slug}" in page.text
        described = (await client.get(answer.json()["type"], headers=JSON)).json()
        assert described["status"] == answer.status_code and described["description"]


async def test_the_list_names_every_problem_type_once_with_its_status(client: AsyncClient) -> None:
    listed = (await client.get("/problems", headers=JSON)).json()
    types = [p["type"] for p in listed]
    assert len(types) == len(set(types)) == len(PROBLEM_TYPES)
    assert {"/problems/already-converted", "/problems/missing-capability", "/problems/read-only"} <= set(
        types
    )
    page = await client.get("/problems")
    assert page.headers["content-type"].startswith("text/html")
    assert all(f'href="{t}"' in page.text for t in types)


async def test_an_unknown_problem_type_is_404_problem_json(client: AsyncClient) -> None:
    assert_problem(await client.get("/problems/no-such-thing"), 404, "not-found")


def test_the_contract_names_every_problem_type(settings: Settings) -> None:
    schema = create_app(settings, background=False).openapi()
    described = schema["components"]["schemas"]["Problem"]["properties"]["type"]["description"]
    named = set(re.findall(r"\[`(/problems/[^`]+)`\]", described))
    assert named == {f"/problems/{slug}" for slug in PROBLEM_TYPES}
    assert "/problems" not in schema["paths"]  # pages for people, like /docs


def test_a_problem_type_is_declared_once_and_says_what_it_means() -> None:
    with pytest.raises(TypeError, match="declared twice"):

        class Again(Conflict):
            """Again."""

            slug = "read-only"

    with pytest.raises(TypeError, match="needs a docstring"):

        class Unexplained(Conflict):
            slug = "unexplained-for-this-test"
