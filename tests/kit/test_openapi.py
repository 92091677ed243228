"""The committed contract is what the app serves, and every operation documents itself."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from httpx import AsyncClient

from crmapi.app import create_app
from crmapi.kit import contract
from crmapi.kit.scalars import AMOUNT_PATTERN
from crmapi.settings import Settings
from tests.support import Tenants, error_fields

CONTRACT = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


async def test_committed_contract_matches_the_served_one(client: AsyncClient) -> None:
    served = (await client.get("/openapi.json")).json()
    assert json.loads(CONTRACT.read_text()) == served, "run `make openapi` and commit openapi/openapi.json"


async def test_every_operation_has_an_id_a_summary_and_documented_errors(client: AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    missing = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            errors = [s for s in op["responses"] if s.startswith(("4", "5"))]
            if not op.get("operationId") or not op.get("summary") or not errors:
                missing.append(f"{method.upper()} {path}")
            for status in errors:
                content = op["responses"][status].get("content", {})
                if "application/problem+json" not in content or "application/json" in content:
                    missing.append(f"{method.upper()} {path} {status}: not problem+json")
    assert missing == []


# What clients generate code from: headers, sorts, money, security, tags, input schemas, examples.


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def _schema(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _answer(spec: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    return _schema(spec, answer.get("content", {}).get("application/json", {}).get("schema", {}))


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return contract.document(create_app(Settings(secret_key="test-secret-" + "x" * 32), background=False))


def test_posts_that_replay_a_retry_declare_idempotency_key(spec: dict[str, Any]) -> None:
    declared = {
        operation["operationId"]
        for _, method, operation in _operations(spec)
        if {"$ref": "#/components/parameters/Idempotency-Key"} in operation.get("parameters", [])
    }
    assert {"create_contact", "create_lead", "win_lead", "push_debtors", "bulk_tag_contacts"} <= declared
    # A created key's secret is never stored to be replayed; a search only reads (decisions.md).
    assert not declared & {"create_api_key", "search_contacts", "search_accounts", "create_token"}
    assert all(method == "post" for _, method, op in _operations(spec) if op["operationId"] in declared)


def test_answers_declare_the_headers_they_carry(spec: dict[str, Any]) -> None:
    missing = []
    for path, method, operation in _operations(spec):
        for status, answer in operation["responses"].items():
            headers = set(answer.get("headers", {}))
            expected = {"X-Request-Id"}
            if status.startswith("2") and "version" in _answer(spec, answer).get("properties", {}):
                expected.add("ETag")
            if status == "201" and operation["operationId"] not in contract.NO_LOCATION:
                expected.add("Location")
            if status == "503":
                expected.add("Retry-After")
            if expected - headers:
                missing.append(f"{method.upper()} {path} {status}: {sorted(expected - headers)}")
    assert missing == []


async def test_created_records_carry_the_declared_headers(client: AsyncClient, tenants: Tenants) -> None:
    admin = (await tenants.create()).admin
    r = await client.post(
        "/v1/tags", json={"name": "vip"}, headers={**admin.headers, "X-Request-Id": "req-1"}
    )
    assert r.status_code == 201
    assert r.headers["location"] == f"/v1/tags/{r.json()['id']}"
    assert r.headers["etag"] == '"1"'
    assert r.headers["x-request-id"] == "req-1"


async def test_every_list_sort_the_contract_lists_is_taken(
    client: AsyncClient, tenants: Tenants, spec: dict[str, Any]
) -> None:
    admin = (await tenants.create()).admin
    refused = []
    for path, method, operation in _operations(spec):
        sort = next((p for p in operation.get("parameters", []) if p.get("name") == "sort"), None)
        if sort is None or method != "get":
            continue
        values = [v for b in [sort["schema"], *sort["schema"].get("anyOf", [])] for v in _values(b)]
        assert values, f"GET {path}: `sort` lists no values"
        if "{" in path:
            continue  # a list under a record: the same sorts, checked where the record exists
        for value in values:
            params = {"sort": value, **({"q": "anna"} if value == "relevance" else {})}
            r = await client.get(path, params=params, headers=admin.headers)
            if r.status_code != 200:
                refused.append(f"GET {path}?sort={value}: {r.status_code}")
        for value in ("-no_such_field", ""):
            r = await client.get(path, params={"sort": value}, headers=admin.headers)
            if r.status_code != 422:
                refused.append(f"GET {path}?sort={value}: {r.status_code}, not 422")
    assert refused == []


def _values(schema: dict[str, Any]) -> list[str]:
    return [schema["const"]] if "const" in schema else list(schema.get("enum", []))


async def test_money_amounts_are_decimal_strings(
    client: AsyncClient, tenants: Tenants, spec: dict[str, Any]
) -> None:
    # What is read may be negative (a balance); what is sent may not (decisions, issue 17).
    for name, pattern in (("Money", AMOUNT_PATTERN), ("MoneyInput", AMOUNT_PATTERN.replace("-?", ""))):
        amount = spec["components"]["schemas"][name]["properties"]["amount"]
        assert amount["type"] == "string" and amount["pattern"] == pattern
    admin = (await tenants.create()).admin
    for refused in (25000, "2.5e4", "25 000", "1.23456"):
        body = {"name": "Nowak", "credit_limit": {"amount": refused}}
        r = await client.post("/v1/accounts", json=body, headers=admin.headers)
        assert "body.credit_limit.amount" in error_fields(r), refused
    body = {"name": "Nowak", "credit_limit": {"amount": "25000.50"}}
    r = await client.post("/v1/accounts", json=body, headers=admin.headers)
    assert r.status_code == 201 and r.json()["credit_limit"] == {"amount": "25000.5000", "currency": "PLN"}


async def test_public_operations_need_no_credential_and_the_rest_a_bearer(
    client: AsyncClient, spec: dict[str, Any]
) -> None:
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    public = {op["operationId"] for _, _, op in _operations(spec) if op["security"] == []}
    assert public == {
        "get_health",
        "get_liveness",
        "create_token",
        "refresh_token",
        "show_acceptance",
        "use_acceptance",
        "show_feedback_link",
        "rate_through_feedback_link",
    }
    assert all(op["security"] in ([], [{"HTTPBearer": []}]) for _, _, op in _operations(spec))
    assert (await client.post("/v1/auth/token", data={})).status_code == 422  # not 401
    assert (await client.get("/v1/contacts")).status_code == 401


def test_tags_and_servers_are_declared(spec: dict[str, Any]) -> None:
    used = {tag for _, _, op in _operations(spec) for tag in op.get("tags", [])}
    declared = {tag["name"]: tag.get("description") for tag in spec["tags"]}
    assert used == set(declared) and all(declared.values())
    assert spec["servers"]


def test_request_bodies_leave_defaulted_fields_optional(spec: dict[str, Any]) -> None:
    """A `default` in a request body makes code generators (openapi-typescript) require the
    field; the default is said in its description instead, and the field is not required."""
    components = spec["components"]["schemas"]
    reachable, pending = set(), [op.get("requestBody", {}) for _, _, op in _operations(spec)]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            name = node.get("$ref", "").removeprefix("#/components/schemas/")
            if name and name not in reachable and "/" not in name:
                reachable.add(name)
                pending.append(components[name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    defaulted = [
        f"{name}.{field}"
        for name in reachable
        for field, schema in components[name].get("properties", {}).items()
        if "default" in schema
    ]
    assert "ContactCreate" in reachable and defaulted == []
    active = components["ServiceCreate"]["properties"]["active"]
    assert "active" not in components["ServiceCreate"].get("required", [])
    assert active["description"].endswith("Left out: `true`.")


def test_every_operation_with_a_body_shows_a_valid_example(spec: dict[str, Any]) -> None:
    problems = []
    for path, method, operation in _operations(spec):
        bodies = [operation.get("requestBody", {})] + [
            a for status, a in operation["responses"].items() if status.startswith("2")
        ]
        for body in bodies:
            for media in body.get("content", {}).values():
                schema = media.get("schema", {})
                examples = [media["example"]] if "example" in media else _schema(spec, schema).get("examples")
                if not examples:
                    problems.append(f"{method.upper()} {path}: no example")
                    continue
                validator = jsonschema_rs.Draft202012Validator({**schema, "components": spec["components"]})
                problems += [
                    f"{method.upper()} {path}: {e}"[:300] for x in examples for e in validator.iter_errors(x)
                ]
    assert problems == []


def test_creates_link_to_what_can_be_done_with_the_record(spec: dict[str, Any]) -> None:
    ids = {op["operationId"]: path for path, _, op in _operations(spec)}
    links = spec["paths"]["/v1/contacts"]["post"]["responses"]["201"]["links"]
    assert {"get_contact", "update_contact", "delete_contact"} <= set(links)
    for _, _, operation in _operations(spec):
        for link in operation["responses"].get("201", {}).get("links", {}).values():
            target = ids[link["operationId"]]
            assert set(link["parameters"]) == set(re.findall(r"\{(\w+)\}", target))
