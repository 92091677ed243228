"""PATCH bodies and null: a field the contract calls nullable takes null, any other answers 422.

Merge semantics make null ambiguous: it clears a field whose column may be empty, and nothing
else may take it. Each PATCH of the contract is sent null in one property at a time against a
record that exists, so the server's answer and the contract's word are compared one by one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from httpx import AsyncClient

from crmapi.kit.ids import new_id
from tests.support import Tenants


class Records:
    """Makes records through the API as an administrator."""

    def __init__(self, client: AsyncClient, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = await self.client.post(path, json=body, headers=self.headers)
        assert r.status_code in (200, 201), f"POST {path}: {r.text}"
        answer: dict[str, Any] = r.json()
        return answer

    async def first(self, path: str, **params: str) -> dict[str, Any]:
        r = await self.client.get(path, params=params, headers=self.headers)
        assert r.status_code == 200, f"GET {path}: {r.text}"
        item: dict[str, Any] = r.json()["items"][0]
        return item

    async def made(self, path: str, body: dict[str, Any]) -> str:
        """The URL of a record made by POSTing `body` to its collection."""
        return f"{path}/{(await self.post(path, body))['id']}"

    async def listed(self, path: str, **params: str) -> str:
        """The URL of the first record of a list the organisation starts with."""
        return f"{path}/{(await self.first(path, **params))['id']}"

    async def account(self) -> str:
        return str((await self.post("/v1/accounts", {"name": f"Nowak {_unique()}"}))["id"])


def _unique() -> str:
    return new_id().hex[-8:]


def _named(name: str) -> dict[str, Any]:
    return {"name": f"{name} {_unique()}"}


async def _member(r: Records) -> str:
    body = {"email": f"ola-{_unique()}@example.com", "kind": "staff", "password": "s3cret-pass"}
    return await r.made("/v1/members", body)


async def _note(r: Records) -> str:
    contact = await r.post("/v1/contacts", {"kind": "person", "first_name": "Anna"})
    note = await r.post(f"/v1/contacts/{contact['id']}/notes", {"body": "Called about the invoice."})
    return f"/v1/notes/{note['id']}"


async def _rule(r: Records) -> str:
    kind = {"kind": "lead"}
    pending = await r.first("/v1/config/statuses", kind="lead", state="pending")
    started = await r.first("/v1/config/statuses", kind="lead", state="in_progress")
    lead_type = await r.made("/v1/config/types", {**_named("Business lead"), **kind})
    rule = {**_named("Sales starts"), "from_status_id": pending["id"], "to_status_id": started["id"]}
    return await r.made(f"{lead_type}/rules", rule)


async def _lookup_value(r: Records) -> str:
    lookup = await r.made("/v1/config/lookup-lists", _named("Industry"))
    return await r.made(f"{lookup}/values", _named("Retail"))


async def _service_line(r: Records) -> str:
    service = await r.post("/v1/config/services", _named("Box replacement"))
    activity = await r.made("/v1/activities", {"subject": "Replace the box"})
    return await r.made(f"{activity}/services", {"service_id": service["id"], "minutes": 30})


async def _opportunity(r: Records) -> str:
    return await r.made("/v1/opportunities", {"account_id": await r.account(), "name": "Web shop"})


async def _service_request(r: Records) -> str:
    body = {"account_id": await r.account(), "subject": "Router drops", "urgency": 2, "impact": 3}
    return await r.made("/v1/service-requests", body)


async def _organisation(r: Records) -> str:
    return "/v1/organisation"


async def _sales_order(r: Records) -> str:
    line = {"product_code": "P-1", "quantity": "1", "unit_price": "9.99"}
    return await r.made("/v1/sales-orders", {"account_id": await r.account(), "lines": [line]})


async def _conversation(r: Records) -> str:
    account = await r.account()
    made = await r.post(
        f"/v1/accounts/{account}/conversations", {"subject": "Terms", "message": {"body": "Hi"}}
    )
    return f"/v1/conversations/{made['id']}"


async def _message(r: Records) -> str:
    first = await r.first(f"{await _conversation(r)}/messages")
    return f"/v1/messages/{first['id']}"


async def _issue(r: Records) -> str:
    made = await r.post(f"/v1/accounts/{await r.account()}/issues", {"subject": "Late delivery"})
    return f"/v1/issues/{made['id']}"


async def _feed_post(r: Records) -> str:
    feed = await r.made("/v1/feeds", _named("Team"))
    return await r.made(f"{feed}/posts", {"body": "Targets", "announcement": True})


# One existing record for every PATCH of the contract, by its path.
RECORDS: dict[str, Callable[[Records], Awaitable[str]]] = {
    "/v1/organisation": _organisation,
    "/v1/members/{member_id}": _member,
    "/v1/contacts/{contact_id}": lambda r: r.made(
        "/v1/contacts", {"kind": "person", "first_name": "Anna", "last_name": "Nowak"}
    ),
    "/v1/accounts/{account_id}": lambda r: r.made("/v1/accounts", _named("Hurtownia")),
    "/v1/sales-orders/{order_id}": _sales_order,
    "/v1/conversations/{conversation_id}": _conversation,
    "/v1/messages/{message_id}": _message,
    "/v1/feeds/{feed_id}": lambda r: r.made("/v1/feeds", _named("Team")),
    "/v1/issues/{issue_id}": _issue,
    "/v1/config/issue-types/{type_id}": lambda r: r.made("/v1/config/issue-types", _named("Refunds")),
    "/v1/feeds/{feed_id}/posts/{post_id}": _feed_post,
    "/v1/config/notification-categories/{notification_category_id}": lambda r: r.listed(
        "/v1/config/notification-categories"
    ),
    "/v1/notes/{note_id}": _note,
    "/v1/tags/{tag_id}": lambda r: r.made("/v1/tags", {"name": f"vip-{_unique()}"}),
    "/v1/custom-fields/{field_id}": lambda r: r.made(
        "/v1/custom-fields",
        {"kind": "account", "key": f"region_{_unique()}", "label": "Region", "type": "text"},
    ),
    "/v1/business-units/{unit_id}": lambda r: r.made("/v1/business-units", _named("North")),
    "/v1/sales-reps/{sales_rep_id}": lambda r: r.made(
        "/v1/sales-reps", {"code": f"PH{_unique()}", **_named("Anna")}
    ),
    "/v1/api-keys/{api_key_id}": lambda r: r.made(
        "/v1/api-keys", {"name": "ERP feed", "capabilities": ["integrations.push"]}
    ),
    "/v1/groups/{group_id}": lambda r: r.made("/v1/groups", _named("Managers")),
    "/v1/config/statuses/{status_id}": lambda r: r.made(
        "/v1/config/statuses", {**_named("Qualifying"), "kind": "lead", "state": "in_progress"}
    ),
    "/v1/config/types/{type_id}": lambda r: r.made(
        "/v1/config/types", {**_named("Web"), "kind": "opportunity"}
    ),
    "/v1/config/types/{type_id}/rules/{rule_id}": _rule,
    "/v1/config/categories/{category_id}": lambda r: r.made(
        "/v1/config/categories", {**_named("Business"), "kind": "lead"}
    ),
    "/v1/config/lost-reasons/{lost_reason_id}": lambda r: r.made("/v1/config/lost-reasons", _named("Price")),
    "/v1/config/cancellation-reasons/{cancellation_reason_id}": lambda r: r.made(
        "/v1/config/cancellation-reasons", _named("Duplicate")
    ),
    "/v1/config/competitors/{competitor_id}": lambda r: r.made("/v1/config/competitors", _named("Globex")),
    "/v1/config/priority-levels/{priority_level_id}": lambda r: r.listed("/v1/config/priority-levels"),
    "/v1/config/importance-levels/{importance_level_id}": lambda r: r.made(
        "/v1/config/importance-levels", _named("Strategic")
    ),
    "/v1/config/lead-sources/{lead_source_id}": lambda r: r.listed("/v1/config/lead-sources"),
    "/v1/config/lookup-lists/{lookup_list_id}": lambda r: r.made(
        "/v1/config/lookup-lists", _named("Industry")
    ),
    "/v1/config/lookup-lists/{lookup_list_id}/values/{lookup_value_id}": _lookup_value,
    "/v1/config/services/{service_id}": lambda r: r.made("/v1/config/services", _named("Box replacement")),
    "/v1/leads/{lead_id}": lambda r: r.made("/v1/leads", {"description": "Wants 40 seats"}),
    "/v1/opportunities/{opportunity_id}": _opportunity,
    "/v1/activities/{activity_id}": lambda r: r.made("/v1/activities", {"subject": "Call about the offer"}),
    "/v1/activities/{activity_id}/services/{line_id}": _service_line,
    "/v1/service-requests/{service_request_id}": _service_request,
    "/v1/webhook-endpoints/{endpoint_id}": lambda r: r.made(
        "/v1/webhook-endpoints", {"url": "https://hooks.example.com/crm", "event_types": ["*"]}
    ),
}


def _resolved(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _nullable(schema: dict[str, Any]) -> bool:
    """Whether a property's schema admits null (OpenAPI 3.1: a null type, in a union or alone)."""
    types = schema.get("type")
    if types == "null" or (isinstance(types, list) and "null" in types):
        return True
    return any(_nullable(branch) for branch in schema.get("anyOf", []) + schema.get("oneOf", []))


def _fields(body: dict[str, Any]) -> set[str]:
    return {error["field"] for error in body.get("errors", [])}


async def test_every_patch_takes_null_exactly_where_the_contract_says(
    client: AsyncClient, tenants: Tenants
) -> None:
    tenant = await tenants.create()
    records = Records(client, tenant.admin.headers)
    spec = (await client.get("/openapi.json")).json()
    patches = {path: ops["patch"] for path, ops in spec["paths"].items() if "patch" in ops}
    assert set(patches) == set(RECORDS), "name a record for every PATCH of the contract"
    disagreements = []
    for path, operation in patches.items():
        url: str | None = None
        body = _resolved(spec, operation["requestBody"]["content"]["application/json"]["schema"])
        for name, schema in body["properties"].items():
            # A record that no null has changed yet: clearing one field must not stand in the
            # way of clearing the next (a person keeps a first or a last name).
            url = url or await RECORDS[path](records)
            r = await client.patch(url, json={name: None}, headers=tenant.admin.headers)
            if _nullable(schema):
                if r.status_code != 200:
                    disagreements.append(f"PATCH {path} {name}=null (nullable): {r.status_code} {r.text}")
                elif r.json().get("version", 1) != 1:
                    url = None
            elif r.status_code != 422 or f"body.{name}" not in _fields(r.json()):
                disagreements.append(f"PATCH {path} {name}=null (not nullable): {r.status_code} {r.text}")
    assert disagreements == []
