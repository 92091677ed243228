"""The bodies of the contract: an example for each, and request defaults said in words.

Shared by `crmapi.kit.contract`, which completes FastAPI's document with them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

SCHEMAS = "#/components/schemas/"
METHODS = ("get", "put", "post", "patch", "delete")


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def resolved(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """A schema with its `$ref` followed."""
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def defaults_in_words(schema: dict[str, Any]) -> None:
    """A request body's defaults said in the field's description instead of `default`.

    Code generators read `default` as "the server fills it in" and make the field required in
    the type they generate (openapi-typescript does so by default); in what a client sends,
    such a field may be left out.
    """
    components = schema["components"]["schemas"]
    for name in request_schemas(schema):
        for field in components[name].get("properties", {}).values():
            if "default" in field:
                left_out = f"Left out: `{json.dumps(field.pop('default'))}`."
                field["description"] = (
                    f"{field['description']} {left_out}" if "description" in field else left_out
                )


def request_schemas(schema: dict[str, Any]) -> set[str]:
    """The names of the components request bodies use, directly or through others."""
    found: set[str] = set()
    pending: list[Any] = [op.get("requestBody", {}) for _, _, op in operations(schema)]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith(SCHEMAS) and (name := ref.removeprefix(SCHEMAS)) not in found:
                found.add(name)
                pending.append(schema["components"]["schemas"][name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def add_examples(schema: dict[str, Any]) -> None:
    """An example for every request body and answer that has none, made from its schema and
    the examples of its fields, so every operation shows one."""
    components = schema["components"]["schemas"]
    for _, _, operation in operations(schema):
        bodies = [operation.get("requestBody", {})] + [
            answer for status, answer in operation["responses"].items() if status.startswith("2")
        ]
        for body in bodies:
            for media in body.get("content", {}).values():
                node = media.get("schema", {})
                if "$ref" in node:
                    component = components[node["$ref"].removeprefix(SCHEMAS)]
                    component.setdefault("examples", [_example(schema, component)])
                elif node and "example" not in media:
                    media["example"] = _example(schema, node)


SAMPLES = {
    "uuid": "0192f0a8-0000-7000-8000-000000000001",
    "date-time": "2026-11-30T09:00:00Z",
    "date": "2026-11-30",
    "email": "anna@example.com",
    "uri": "https://example.com",
}


def _example(schema: dict[str, Any], node: dict[str, Any], depth: int = 0) -> Any:
    """A value valid for `node`: its own example if it has one, else one built from its parts."""
    if "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].removeprefix(SCHEMAS)]
    for key in ("examples", "enum"):
        if node.get(key):
            return node[key][0]
    for key in ("example", "default", "const"):
        if key in node:
            return node[key]
    branches = [b for b in node.get("anyOf", node.get("oneOf", [])) if b != {"type": "null"}]
    if branches:
        return _example(schema, branches[0], depth)
    kind = str(node.get("type", ""))
    if kind == "object" or "properties" in node:
        if depth > 4:  # a tree (categories, units) shown a few levels deep
            return {}
        return {k: _example(schema, v, depth + 1) for k, v in node.get("properties", {}).items()}
    if kind == "array":
        return [_example(schema, node.get("items", {}), depth + 1)] if depth <= 4 else []
    if kind == "string":
        return SAMPLES.get(node.get("format", ""), "text")
    if kind == "integer":
        return max(node.get("minimum", 1), 1) if node.get("maximum", 1) >= 1 else node.get("minimum", 0)
    return {"number": 1.5, "boolean": True, "null": None}.get(kind, "text")
