"""Every path answers a method it does not serve with 405 problem+json whose `Allow` lists exactly
the methods it serves; a fixed sub-path beside an `{id}` template is a path of its own."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from fastapi.routing import iter_route_contexts
from httpx import AsyncClient

from crmapi.app import create_app
from crmapi.kit.ids import new_id
from crmapi.settings import Settings
from tests.support import Tenant, assert_problem

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@pytest.fixture(scope="module")
def served(settings: Settings) -> dict[str, set[str]]:
    """Each path template of the app and the methods its routes declare."""
    paths: dict[str, set[str]] = defaultdict(set)
    for route in iter_route_contexts(create_app(settings, background=False).routes):
        if route.methods and route.path_format:
            paths[route.path_format] |= route.methods
    return paths


def concrete(template: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda _: str(new_id()), template)


def allowed(r_allow: str) -> set[str]:
    return {m.strip() for m in r_allow.split(",")}


async def test_every_path_answers_an_unserved_method_with_405_listing_what_it_serves(
    client: AsyncClient, acme: Tenant, served: dict[str, set[str]]
) -> None:
    wrong = []
    for template, methods in sorted(served.items()):
        path = concrete(template)
        for method in METHODS:
            if method in methods:
                continue
            r = await client.request(method, path, headers=acme.admin.headers)
            if r.status_code != 405 or allowed(r.headers.get("allow", "")) != methods:
                wrong.append(f"{method} {template}: {r.status_code} allow={r.headers.get('allow')}")
                continue
            assert r.headers["content-type"] == "application/problem+json"
            if method != "HEAD":
                assert_problem(r, 405, "method-not-allowed")
    assert wrong == []


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/v1/contacts", {"GET", "POST"}),
        ("GET", "/v1/contacts/search", {"POST"}),
        ("DELETE", "/v1/accounts/search", {"POST"}),
        ("PATCH", "/v1/leads/board", {"GET"}),
        ("DELETE", "/v1/service-requests/dashboard", {"GET"}),
        ("PUT", "/v1/contacts/01a24dd3-a11a-7777-9f34-062b8a8c48d3", {"GET", "PATCH", "DELETE"}),
    ],
)
async def test_the_issues_examples(
    client: AsyncClient, acme: Tenant, method: str, path: str, allow: set[str]
) -> None:
    r = await client.request(method, path, headers=acme.admin.headers)
    body = assert_problem(r, 405, "method-not-allowed")
    assert allowed(r.headers["allow"]) == allow
    assert method in body["detail"]


def beside_a_template(path: str, other: str) -> bool:
    """`path` has a fixed segment where `other` has a parameter and matches it otherwise."""
    mine, theirs = path.split("/"), other.split("/")
    return (
        len(mine) == len(theirs)
        and all(a == b or b.startswith("{") for a, b in zip(mine, theirs, strict=True))
        and any(not a.startswith("{") and b.startswith("{") for a, b in zip(mine, theirs, strict=True))
    )


async def test_a_served_method_of_a_fixed_sub_path_reaches_its_own_route(
    client: AsyncClient, acme: Tenant, served: dict[str, set[str]]
) -> None:
    fixed = {path for path in served for other in served if beside_a_template(path, other)}
    assert {"/v1/contacts/search", "/v1/leads/board", "/v1/contacts/bulk/tags"} <= fixed
    for path in sorted(fixed):
        for method in served[path]:
            r = await client.request(method, concrete(path), json={}, headers=acme.admin.headers)
            path_errors = [e for e in r.json().get("errors", []) if e["field"].startswith("path.")]
            assert path_errors == [], (method, path, r.text)
