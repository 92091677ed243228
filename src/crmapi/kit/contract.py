"""The OpenAPI contract: FastAPI's document, completed with what the routes do but cannot say.

Everything here is derived from the routes and models the server runs, so the contract cannot
drift from them: problem answers, the `Idempotency-Key` header of the POSTs that claim it, the
headers every answer carries, each list's `sort` values, the `fields` and `If-Match` values
the server takes, who needs no credential, and links from a create to what can be done with the
record it made. Examples and request defaults are `contract_bodies`'.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, routing
from fastapi.openapi.utils import get_openapi

from crmapi.kit import contract_bodies as bodies
from crmapi.kit import errors, idempotency
from crmapi.kit.contract_bodies import operations, resolved
from crmapi.kit.pagination import SortValues, sort_values
from crmapi.kit.problem_pages import described

SERVERS = [{"url": "/", "description": "The server this document was read from."}]
TAGS = [
    {"name": "health", "description": "Liveness and readiness, for load balancers; no credential."},
    {"name": "auth", "description": "Sign in (OAuth2 password form), refresh and end a session."},
    {"name": "me", "description": "The signed-in member or API key: capabilities, password."},
    {"name": "organisation", "description": "The organisation's name, currency, time zone and settings."},
    {"name": "members", "description": "Staff and customer members of the organisation."},
    {"name": "contacts", "description": "People and organisations the business deals with."},
    {"name": "accounts", "description": "Customer accounts (the ERP's debtors): contacts, assignments."},
    {"name": "notes", "description": "Notes on contacts, accounts and leads, and their history."},
    {"name": "tags", "description": "The tag catalogue; tags on contacts, accounts, leads, opportunities."},
    {"name": "custom fields", "description": "The organisation's own fields on contacts and accounts."},
    {"name": "business-units", "description": "The tree of business units and their members."},
    {"name": "sales-reps", "description": "Sales-rep records (the ERP's) and the members linked to them."},
    {"name": "api-keys", "description": "Keys for integrations, each with the capabilities it holds."},
    {"name": "groups", "description": "Groups of members and the capabilities they grant."},
    {
        "name": "integrations",
        "description": "ERP pushes by code or number: debtors, sales-rep records, invoices, credit notes, "
        "back orders, payments and sales-order acknowledgements; the live lookup connector.",
    },
    {
        "name": "documents",
        "description": "An account's ERP documents: invoices, credit notes, back orders, payments.",
    },
    {
        "name": "sales orders",
        "description": "Orders placed in the CRM, submitted to the ERP and acknowledged by it.",
    },
    {
        "name": "configuration",
        "description": "Statuses, types and their transition rules, categories, reasons, levels, "
        "sources, lookup lists and services.",
    },
    {"name": "leads", "description": "Leads, their moves, conversion, boards and bulk actions."},
    {"name": "opportunities", "description": "Opportunities, their stages, the pipeline and bulk actions."},
    {"name": "activities", "description": "Activities (calls, visits, tasks), their moves and services."},
    {
        "name": "service requests",
        "description": "Service requests, their responses and resolutions, and the contact's acceptance.",
    },
    {"name": "feedback", "description": "Ratings of completed service requests, and their summary."},
    {
        "name": "conversations",
        "description": "Conversations on customer accounts with staff and the account's customers: "
        "messages, edits, read markers.",
    },
    {
        "name": "issues",
        "description": "Issues, forms and enquiries filed on customer accounts against an issue type's "
        "versioned form: comments, followers, the work log.",
    },
    {
        "name": "feeds",
        "description": "Exclusive feeds of sales teams: members, announcements, posts, comments.",
    },
    {"name": "attachments", "description": "Files uploaded to attach to messages, posts and comments."},
    {"name": "events", "description": "The change feed in commit order, and the event types webhooks carry."},
    {
        "name": "webhooks",
        "description": "Endpoints subscribed to events: signed deliveries, retries, replays.",
    },
]
HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-Id": {
        "description": "The request's id (the one sent, when well-formed); the logs carry it.",
        "required": True,
        "schema": {"type": "string", "maxLength": 64},
    },
    "ETag": {
        "description": 'The record\'s version, e.g. `"3"`: send it as `If-Match` to change the record '
        "only if nobody has since.",
        "required": True,
        "schema": {"type": "string", "pattern": r'^"[0-9]+"$'},
    },
    "Location": {
        "description": "The URL of the record made.",
        "required": True,
        "schema": {"type": "string", "format": "uri-reference"},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the same "
        "`Idempotency-Key`.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
}
IDEMPOTENCY_KEY = {
    "name": idempotency.HEADER,
    "in": "header",
    "required": False,
    "description": "Makes a retry safe: a request with a key already used answers what the first "
    "one answered (for 24 hours; the same key with another body is 409).",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "example": "5f0c6a8e-2b1d-4c3e-9f7a-0d2e4b6c8a1f",
}
KEY_CONFLICT = {
    "description": "Conflict",
    "content": {errors.PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}
# Creates whose record has no URL of its own: a feedback is read through `/v1/feedback`, a
# service line through its activity's list.
NO_LOCATION = {"rate_service_request", "rate_through_feedback_link", "add_activity_service"}
# What `concurrency.expected_version` reads (an HTTP server drops the spaces around a value).
IF_MATCH = r'^(?:W/)?"[0-9]{1,18}"$|^\*$'


def document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document (made once, then kept)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        webhooks=app.webhooks.routes,
        tags=TAGS,
        servers=SERVERS,
    )
    routes = {
        (route.path_format, method.lower()): route
        for route in routing.iter_route_contexts(app.routes)
        if isinstance(route.original_route, routing.APIRoute)
        for method in route.methods or ()
    }
    components = schema["components"]
    for path, method, operation in operations(schema):
        route = routes[(path, method)]
        _problems(operation)
        operation.setdefault("security", [])  # what FastAPI left without one asks for no credential
        replayable = idempotency.honours_key(route)
        if replayable:
            operation.setdefault("parameters", []).append({"$ref": "#/components/parameters/Idempotency-Key"})
            # The key used with another request, or by one still in progress.
            operation["responses"].setdefault("409", KEY_CONFLICT)
        if route.endpoint is not None and (sorts := sort_values(route.endpoint)) is not None:
            _sort(schema, operation, sorts)
        _fields(schema, operation)
        _if_match(operation)
        _headers(schema, operation, replayable)
    _links(schema)
    _webhook_answers(schema)
    bodies.add_examples(schema)
    bodies.defaults_in_words(schema)
    components["schemas"].pop("HTTPValidationError", None)
    components["schemas"].pop("ValidationError", None)
    _problem_types(components["schemas"]["Problem"])
    components["headers"] = HEADERS
    components["parameters"] = {idempotency.HEADER: IDEMPOTENCY_KEY}
    app.openapi_schema = schema
    return schema


def _webhook_answers(schema: dict[str, Any]) -> None:
    """A webhook's receiver answers, not this API: any 2xx acknowledges the event."""
    for operations_ in schema.get("webhooks", {}).values():
        for operation in operations_.values():
            operation["responses"] = {
                "2XX": {"description": "Received. Anything else, or no answer in time, is retried."}
            }


def _problem_types(problem: dict[str, Any]) -> None:
    """Every problem type a client may meet, with its status and meaning, on the `type` field."""
    rows = "".join(
        f"\n| [`{p['type']}`]({p['type']}) | {p['status']} | {p['description']} |" for p in described()
    )
    problem["properties"]["type"]["description"] = (
        "What went wrong; the URI resolves to a page that says so (`/problems` lists them all)."
        f"\n\n| type | status | meaning |\n| --- | --- | --- |{rows}"
    )


def _problems(operation: dict[str, Any]) -> None:
    """Error answers under application/problem+json only."""
    for status, answer in operation.get("responses", {}).items():
        content = answer.get("content", {})
        if errors.PROBLEM_JSON in content and "application/json" in content:
            content[errors.PROBLEM_JSON] = content.pop("application/json")
        elif status == "422" and "application/json" in content:
            answer["content"] = {errors.PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _answer_schema(schema: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    body = answer.get("content", {}).get("application/json", {}).get("schema")
    return resolved(schema, body) if body else {}


def _headers(schema: dict[str, Any], operation: dict[str, Any], replayable: bool) -> None:
    """The headers each answer carries: every answer its request id, a record its ETag (its
    `version`), a create the new record's Location, a 429 or 503 when to retry."""
    for status, answer in operation["responses"].items():
        names = ["X-Request-Id"]
        properties = _answer_schema(schema, answer).get("properties", {})
        if status.startswith("2") and "version" in properties:
            names.append("ETag")
        if status == "201" and operation["operationId"] not in NO_LOCATION:
            names.append("Location")
        if status in ("429", "503"):
            names.append("Retry-After")
        if replayable and status.startswith(("2", "4")):
            names.append("Idempotent-Replayed")
        declared = answer.setdefault("headers", {})
        for name in names:
            declared.setdefault(name, {"$ref": f"#/components/headers/{name}"})


def _sort(schema: dict[str, Any], operation: dict[str, Any], sorts: SortValues) -> None:
    """`sort` takes the list's values only: as a query parameter, or in a search's body."""
    description = f"The order, `-` in front for descending; `{sorts.default}` when left out."
    enum = {"type": "string", "enum": list(sorts.values)}
    for parameter in operation.get("parameters", []):
        if parameter.get("name") == "sort" and parameter.get("in") == "query":
            parameter["description"] = description
            parameter["schema"] = {**enum, "title": "Sort"}
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if body is not None and "sort" in (properties := resolved(schema, body).get("properties", {})):
        properties["sort"] = {"anyOf": [enum, {"type": "null"}], "description": description, "title": "Sort"}


def _fields(schema: dict[str, Any], operation: dict[str, Any]) -> None:
    """`fields` takes the names of the answer's record (`pagination.select_fields`), so a
    generated value is one the server takes."""
    answer: dict[str, Any] = next((a for s, a in operation["responses"].items() if s.startswith("2")), {})
    record = _answer_schema(schema, answer)
    if "items" in record.get("properties", {}):  # a page
        record = resolved(schema, record["properties"]["items"].get("items", {}))
    names = [re.escape(name) for name in record.get("properties", {})]
    if not names:
        return
    if "custom" in record["properties"]:
        names.append(r"custom\.[a-z][a-z0-9_]{0,49}")
    # Comma-separated names, each with spaces around it or none; empty ones are skipped.
    token = rf"\s*(?:{'|'.join(names)})?\s*"
    shown = ",".join(list(record["properties"])[:3])
    fields = {"type": "string", "maxLength": 2048, "pattern": f"^{token}(?:,{token})*$", "examples": [shown]}
    for parameter in operation.get("parameters", []):
        if parameter.get("name") == "fields" and parameter.get("in") == "query":
            parameter["schema"] = {**fields, "title": "Fields"}
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if body is not None and "fields" in (properties := resolved(schema, body).get("properties", {})):
        properties["fields"] = {
            "anyOf": [fields, {"type": "null"}],
            "description": properties["fields"].get("description", ""),
            "title": "Fields",
        }


def _if_match(operation: dict[str, Any]) -> None:
    """`If-Match` takes what `concurrency.expected_version` reads: an ETag this API gave, or `*`."""
    for parameter in operation.get("parameters", []):
        if parameter.get("name", "").lower() == "if-match" and parameter.get("in") == "header":
            parameter["name"] = "If-Match"
            parameter["schema"] = {
                "type": "string",
                "pattern": IF_MATCH,
                "examples": ['"3"'],
                "title": "If-Match",
            }


def _links(schema: dict[str, Any]) -> None:
    """From each create to the operations on the record it made (`$response.body#/id`), so a
    client (and a stateful test) can follow create -> read -> change -> delete."""
    ids = {(path, method): operation["operationId"] for path, method, operation in operations(schema)}
    for path, method, operation in operations(schema):
        created = operation["responses"].get("201")
        if (
            method != "post"
            or created is None
            or "id" not in _answer_schema(schema, created).get("properties", {})
        ):
            continue
        known = set(_params(path))
        for (target, target_method), target_id in ids.items():
            item = re.match(re.escape(path) + r"/\{(\w+)\}(?:/|$)", target)
            if item is None or not set(_params(target)) <= known | {item.group(1)}:
                continue
            parameters = {p: f"$request.path.{p}" for p in _params(target) if p in known}
            parameters[item.group(1)] = "$response.body#/id"
            created.setdefault("links", {})[target_id] = {
                "operationId": target_id,
                "parameters": parameters,
                "description": f"{target_method.upper()} {target} on the record made.",
            }


def _params(path: str) -> list[str]:
    return re.findall(r"\{(\w+)(?::\w+)?\}", path)
