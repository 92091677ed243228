"""Every route of the app, asked by every kind of caller (see tests/permissions.py).

A route the app serves without an entry in MATRIX fails `test_every_route_has_an_entry`.
An entry names the capabilities the `granted` caller's group holds, the request body, and the
status each caller gets, in the order of PERSONAS. For lists, a status may be written
"200+" (the target record is in the answer) or "200-" (it is not).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from httpx import AsyncClient

from crmapi.config.spec import OptionList
from crmapi.kit.db import Database
from tests.permissions import CONFIG_LISTS, PERSONAS, Records, people
from tests.support import PASSWORD, Tenants

Body = Callable[[Records], Any]


@dataclass(frozen=True)
class Entry:
    granted: tuple[str, ...]
    expected: str  # one answer per persona, space-separated
    body: Body | None = None
    form: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None  # a multipart upload
    listed: str | None = None  # the list's item key that holds the target's id
    deleted: str | None = None  # a record to soft-delete first (restore routes)
    params: tuple[tuple[str, str], ...] = ()  # a path parameter filled from another record


def entry(granted: str, expected: str, body: Body | None = None, **kw: Any) -> Entry:
    if "params" in kw:
        kw["params"] = tuple(kw["params"].items())
    return Entry(tuple(granted.split()), expected, body, **kw)


async def spare_contact(records: Records) -> dict[str, Any]:
    return {"contact_id": await records.get("spare_contact_id")}


async def rep_member(records: Records) -> dict[str, Any]:
    return {"member_id": str(records.people.ids["rep"])}


def tag_target(kind: str) -> Body:
    async def make(records: Records) -> dict[str, Any]:
        await records.get("name")
        return {"ids": [await records.get(f"{kind}_id")], "add": ["vip"]}

    return make


def fixed(value: dict[str, Any]) -> Body:
    async def make(records: Records) -> dict[str, Any]:
        return value

    return make


def unique(**value: Any) -> Body:
    async def make(records: Records) -> dict[str, Any]:
        suffix = records.suffix()
        return {k: v.format(suffix) if isinstance(v, str) else v for k, v in value.items()}

    return make


def option(spec: OptionList) -> Body:
    async def make(records: Records) -> dict[str, Any]:
        return await records.option_body(spec, records.suffix())

    return make


def erp_records(**value: Any) -> Body:
    """A push of one record with a code no other call uses."""
    record = unique(**value)

    async def make(records: Records) -> dict[str, Any]:
        return {"records": [await record(records)]}

    return make


#                        anon admin granted rep other_rep customer other_customer other_org key
MATRIX: dict[str, Entry] = {
    "GET /healthz": entry("", "200 200 200 200 200 200 200 200 200"),
    "GET /livez": entry("", "200 200 200 200 200 200 200 200 200"),
    "POST /v1/auth/token": entry(
        "",
        "401 401 401 401 401 401 401 401 401",
        form={"username": "nobody@example.test", "password": "wrong-password"},
    ),
    "POST /v1/auth/refresh": entry(
        "", "401 401 401 401 401 401 401 401 401", fixed({"refresh_token": "x.y.z"})
    ),
    "POST /v1/auth/logout": entry(
        "", "401 204 204 204 204 204 204 204 400", fixed({"refresh_token": "x.y.z"})
    ),
    "GET /v1/me": entry("", "401 200 200 200 200 200 200 200 200"),
    # Every member may choose its own password (here: the same one again); keys have none.
    "POST /v1/me/password": entry(
        "",
        "401 204 204 204 204 204 204 204 403",
        fixed({"current_password": PASSWORD, "new_password": PASSWORD}),
    ),
    "GET /v1/organisation": entry("", "401 200 200 200 200 200 200 200 200"),
    "PATCH /v1/organisation": entry(
        "org.admin", "401 200 200 403 403 403 403 200 403", fixed({"time_zone": "Europe/Warsaw"})
    ),
    "POST /v1/members": entry(
        "org.admin",
        "401 201 201 403 403 403 403 201 403",
        unique(email="new-{}@example.test", password="password-123", kind="staff"),
    ),
    "GET /v1/members": entry("org.admin", "401 200 200 200 200 403 403 200 403"),
    "GET /v1/members/{member_id}": entry("org.admin", "401 200 200 200 200 403 403 404 403"),
    "PATCH /v1/members/{member_id}": entry(
        "org.admin", "401 200 200 403 403 403 403 404 403", fixed({"time_zone": "Europe/Berlin"})
    ),
    # The target is the customer: once an administrator chose its password, its session is over.
    "POST /v1/members/{member_id}/password": entry(
        "org.admin", "401 204 204 403 403 401 403 404 403", fixed({"new_password": "password-456"})
    ),
    "GET /v1/contacts": entry("contacts.view_any", "401 200+ 200+ 200+ 200- 200+ 200- 200- 403", listed="id"),
    "POST /v1/contacts": entry(
        "contacts.create",
        "401 201 201 201 201 403 403 201 403",
        fixed({"kind": "person", "first_name": "A", "last_name": "B"}),
    ),
    "POST /v1/contacts/search": entry(
        "contacts.view_any", "401 200+ 200+ 200+ 200- 200+ 200- 200- 403", fixed({}), listed="id"
    ),
    "GET /v1/contacts/{contact_id}": entry("contacts.view_any", "401 200 200 200 404 200 404 404 403"),
    "PATCH /v1/contacts/{contact_id}": entry(
        "contacts.manage", "401 200 200 403 404 403 404 404 403", fixed({"job_title": "Buyer"})
    ),
    "DELETE /v1/contacts/{contact_id}": entry("contacts.manage", "401 204 204 403 404 403 404 404 403"),
    "POST /v1/contacts/{contact_id}/restore": entry(
        "contacts.manage", "401 200 200 403 403 403 403 404 403", deleted="contact_id"
    ),
    "GET /v1/contacts/{contact_id}/history": entry(
        "contacts.view_any", "401 200 200 200 404 403 403 404 403"
    ),
    "GET /v1/accounts": entry("accounts.view_any", "401 200+ 200+ 200+ 200- 200+ 200- 200- 403", listed="id"),
    "POST /v1/accounts": entry(
        "accounts.create", "401 201 201 201 201 403 403 201 403", fixed({"name": "New"})
    ),
    "POST /v1/accounts/search": entry(
        "accounts.view_any", "401 200+ 200+ 200+ 200- 200+ 200- 200- 403", fixed({}), listed="id"
    ),
    "GET /v1/accounts/{account_id}": entry("accounts.view_any", "401 200 200 200 404 200 404 404 403"),
    "PATCH /v1/accounts/{account_id}": entry(
        "accounts.manage", "401 200 200 403 404 403 404 404 403", fixed({"classification": "retail"})
    ),
    "DELETE /v1/accounts/{account_id}": entry("accounts.manage", "401 204 204 403 404 403 404 404 403"),
    "POST /v1/accounts/{account_id}/restore": entry(
        "accounts.manage", "401 200 200 403 403 403 403 404 403", deleted="account_id"
    ),
    "GET /v1/accounts/{account_id}/history": entry(
        "accounts.view_any", "401 200 200 200 404 403 403 404 403"
    ),
    "GET /v1/accounts/{account_id}/contacts": entry(
        "accounts.view_any", "401 200 200 200 404 200 404 404 403"
    ),
    "POST /v1/accounts/{account_id}/contacts": entry(
        "accounts.manage contacts.view_any", "401 204 204 403 404 403 404 404 403", spare_contact
    ),
    "DELETE /v1/accounts/{account_id}/contacts/{contact_id}": entry(
        "accounts.manage", "401 204 204 403 404 403 404 404 403"
    ),
    "GET /v1/accounts/{account_id}/assignments": entry(
        "accounts.view_any", "401 200 200 200 404 403 403 404 403"
    ),
    "POST /v1/accounts/{account_id}/assignments": entry(
        "accounts.manage", "401 204 204 403 403 403 403 404 403", rep_member
    ),
    "DELETE /v1/accounts/{account_id}/assignments/{member_id}": entry(
        "accounts.manage", "401 204 204 403 403 403 403 404 403"
    ),
    "GET /v1/contacts/{contact_id}/accounts": entry(
        "contacts.view_any", "401 200 200 200 404 200 404 404 403"
    ),
    "GET /v1/contacts/{contact_id}/notes": entry("contacts.view_any", "401 200 200 200 404 403 403 404 403"),
    "POST /v1/contacts/{contact_id}/notes": entry(
        "contacts.view_any", "401 201 201 201 404 403 403 404 403", fixed({"body": "Hello."})
    ),
    "GET /v1/accounts/{account_id}/notes": entry("accounts.view_any", "401 200 200 200 404 403 403 404 403"),
    "POST /v1/accounts/{account_id}/notes": entry(
        "accounts.view_any", "401 201 201 201 404 403 403 404 403", fixed({"body": "Hello."})
    ),
    "GET /v1/notes/{note_id}": entry("accounts.view_any", "401 200 200 200 404 403 403 404 403"),
    "PATCH /v1/notes/{note_id}": entry(
        "accounts.manage", "401 200 403 403 404 403 403 404 403", fixed({"body": "Edited."})
    ),
    "DELETE /v1/notes/{note_id}": entry("accounts.manage", "401 204 403 403 404 403 403 404 403"),
    "GET /v1/notes/{note_id}/history": entry("accounts.view_any", "401 200 200 200 404 403 403 404 403"),
    "GET /v1/tags": entry("", "401 200 200 200 200 403 403 200 403"),
    "POST /v1/tags": entry("tags.manage", "401 201 201 403 403 403 403 201 403", unique(name="new-{}")),
    "GET /v1/tags/{tag_id}": entry("", "401 200 200 200 200 403 403 404 403"),
    "PATCH /v1/tags/{tag_id}": entry(
        "tags.manage", "401 200 200 403 403 403 403 404 403", fixed({"colour": "#123456"})
    ),
    "DELETE /v1/tags/{tag_id}": entry("tags.manage", "401 204 204 403 403 403 403 404 403"),
    "POST /v1/contacts/bulk/tags": entry(
        "contacts.manage", "401 200 200 200 200 403 403 422 403", tag_target("contact")
    ),
    "POST /v1/contacts/{contact_id}/tags": entry(
        "contacts.manage", "401 200 200 403 404 403 404 404 403", fixed({"name": "vip"})
    ),
    "DELETE /v1/contacts/{contact_id}/tags/{name}": entry(
        "contacts.manage", "401 200 200 403 404 403 404 404 403"
    ),
    "POST /v1/accounts/bulk/tags": entry(
        "accounts.manage", "401 200 200 200 200 403 403 422 403", tag_target("account")
    ),
    "POST /v1/accounts/{account_id}/tags": entry(
        "accounts.manage", "401 200 200 403 404 403 404 404 403", fixed({"name": "vip"})
    ),
    "DELETE /v1/accounts/{account_id}/tags/{name}": entry(
        "accounts.manage", "401 200 200 403 404 403 404 404 403"
    ),
    "GET /v1/custom-fields": entry("", "401 200 200 200 200 403 403 200 403"),
    "POST /v1/custom-fields": entry(
        "config.manage",
        "401 201 201 403 403 403 403 201 403",
        unique(kind="account", key="k_{}", label="K", type="text"),
    ),
    "GET /v1/custom-fields/{field_id}": entry("", "401 200 200 200 200 403 403 404 403"),
    "PATCH /v1/custom-fields/{field_id}": entry(
        "config.manage", "401 200 200 403 403 403 403 404 403", fixed({"label": "Renamed"})
    ),
    "DELETE /v1/custom-fields/{field_id}": entry("config.manage", "401 204 204 403 403 403 403 404 403"),
    "GET /v1/business-units": entry("", "401 200 200 200 200 403 403 200 403"),
    "POST /v1/business-units": entry(
        "org.admin", "401 201 201 403 403 403 403 201 403", unique(name="Unit {}")
    ),
    "GET /v1/business-units/{unit_id}": entry("", "401 200 200 200 200 403 403 404 403"),
    "PATCH /v1/business-units/{unit_id}": entry(
        "org.admin", "401 200 200 403 403 403 403 404 403", unique(name="Renamed {}")
    ),
    "DELETE /v1/business-units/{unit_id}": entry("org.admin", "401 204 204 403 403 403 403 404 403"),
    "GET /v1/business-units/{unit_id}/members": entry("", "401 200 200 200 200 403 403 404 403"),
    "PUT /v1/business-units/{unit_id}/members/{member_id}": entry(
        "org.admin", "401 204 204 403 403 403 403 404 403", params={"member_id": "staff_member_id"}
    ),
    "DELETE /v1/business-units/{unit_id}/members/{member_id}": entry(
        "org.admin",
        "401 204 204 403 403 403 403 404 403",
        params={"unit_id": "linked_unit_id", "member_id": "staff_member_id"},
    ),
    "GET /v1/api-keys": entry("org.admin", "401 200 200 403 403 403 403 200 403"),
    "POST /v1/api-keys": entry(
        "org.admin",
        "401 201 201 403 403 403 403 201 403",
        fixed({"name": "Key", "capabilities": ["integrations.push"]}),
    ),
    "GET /v1/api-keys/{api_key_id}": entry("org.admin", "401 200 200 403 403 403 403 404 403"),
    "PATCH /v1/api-keys/{api_key_id}": entry(
        "org.admin", "401 200 200 403 403 403 403 404 403", fixed({"name": "Renamed"})
    ),
    "DELETE /v1/api-keys/{api_key_id}": entry("org.admin", "401 204 204 403 403 403 403 404 403"),
    "GET /v1/changes": entry("", "401 200 200 200 200 200 200 200 200"),
    "GET /v1/event-types": entry("", "401 200 200 200 200 200 200 200 200"),
    "GET /v1/webhook-endpoints": entry("webhooks.manage", "401 200 200 403 403 403 403 200 403"),
    "POST /v1/webhook-endpoints": entry(
        "webhooks.manage",
        "401 201 201 403 403 403 403 201 403",
        fixed({"url": "https://hooks.example.com/crm", "event_types": ["*"]}),
    ),
    "GET /v1/webhook-endpoints/{endpoint_id}": entry(
        "webhooks.manage", "401 200 200 403 403 403 403 404 403"
    ),
    "PATCH /v1/webhook-endpoints/{endpoint_id}": entry(
        "webhooks.manage", "401 200 200 403 403 403 403 404 403", fixed({"description": "ERP"})
    ),
    "DELETE /v1/webhook-endpoints/{endpoint_id}": entry(
        "webhooks.manage", "401 204 204 403 403 403 403 404 403"
    ),
    "POST /v1/webhook-endpoints/{endpoint_id}/secret-rotations": entry(
        "webhooks.manage", "401 200 200 403 403 403 403 404 403", fixed({})
    ),
    "GET /v1/webhook-endpoints/{endpoint_id}/deliveries": entry(
        "webhooks.manage", "401 200 200 403 403 403 403 404 403"
    ),
    "GET /v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}": entry(
        "webhooks.manage", "401 200 200 403 403 403 403 404 403"
    ),
    "POST /v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliveries": entry(
        "webhooks.manage", "401 202 202 403 403 403 403 404 403"
    ),
    "POST /v1/webhook-endpoints/{endpoint_id}/replays": entry(
        "webhooks.manage",
        "401 202 202 403 403 403 403 404 403",
        fixed({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}),
    ),
    "GET /v1/capabilities": entry("", "401 200 200 200 200 200 200 200 200"),
    "GET /v1/groups": entry("org.admin", "401 200 200 403 403 403 403 200 403"),
    "POST /v1/groups": entry("org.admin", "401 201 201 403 403 403 403 201 403", unique(name="Group {}")),
    "GET /v1/groups/{group_id}": entry("org.admin", "401 200 200 403 403 403 403 404 403"),
    "PATCH /v1/groups/{group_id}": entry(
        "org.admin", "401 200 200 403 403 403 403 404 403", unique(name="Renamed {}")
    ),
    "DELETE /v1/groups/{group_id}": entry("org.admin", "401 204 204 403 403 403 403 404 403"),
    "GET /v1/groups/{group_id}/members": entry("org.admin", "401 200 200 403 403 403 403 404 403"),
    "PUT /v1/groups/{group_id}/members/{member_id}": entry(
        "org.admin", "401 204 204 403 403 403 403 404 403", params={"member_id": "staff_member_id"}
    ),
    "DELETE /v1/groups/{group_id}/members/{member_id}": entry(
        "org.admin",
        "401 204 204 403 403 403 403 404 403",
        params={"group_id": "linked_group_id", "member_id": "staff_member_id"},
    ),
    "PUT /v1/groups/{group_id}/grants/{capability}": entry(
        "org.admin", "401 204 204 403 403 403 403 404 403"
    ),
    "DELETE /v1/groups/{group_id}/grants/{capability}": entry(
        "org.admin", "401 204 204 403 403 403 403 404 403", params={"group_id": "granted_group_id"}
    ),
    "GET /v1/sales-reps": entry("", "401 200 200 200 200 403 403 200 403"),
    "POST /v1/sales-reps": entry(
        "sales_reps.manage", "401 201 201 403 403 403 403 201 403", unique(code="C{}", name="Rep")
    ),
    "GET /v1/sales-reps/{sales_rep_id}": entry("", "401 200 200 200 200 403 403 404 403"),
    "PATCH /v1/sales-reps/{sales_rep_id}": entry(
        "sales_reps.manage", "401 200 200 403 403 403 403 404 403", fixed({"name": "Renamed"})
    ),
    "DELETE /v1/sales-reps/{sales_rep_id}": entry("sales_reps.manage", "401 204 204 403 403 403 403 404 403"),
    "GET /v1/sales-reps/{sales_rep_id}/members": entry("", "401 200 200 200 200 403 403 404 403"),
    "PUT /v1/sales-reps/{sales_rep_id}/members/{member_id}": entry(
        "org.admin", "401 204 204 403 403 403 403 404 403", params={"member_id": "staff_member_id"}
    ),
    "DELETE /v1/sales-reps/{sales_rep_id}/members/{member_id}": entry(
        "org.admin",
        "401 204 204 403 403 403 403 404 403",
        params={"sales_rep_id": "linked_sales_rep_id", "member_id": "staff_member_id"},
    ),
    "GET /v1/config/prioritisation-matrix": entry("", "401 200 200 200 200 403 403 200 403"),
    "PUT /v1/config/prioritisation-matrix": entry(
        "config.manage",
        "401 200 200 403 403 403 403 200 403",
        fixed(
            {"cells": [{"urgency": u, "impact": i, "priority": 10} for u in range(1, 6) for i in range(1, 6)]}
        ),
    ),
    "POST /v1/integrations/erp/sales-reps": entry(
        "integrations.push", "401 200 200 403 403 403 403 200 200", erp_records(code="E{}", name="Rep")
    ),
    "POST /v1/integrations/erp/debtors": entry(
        "integrations.push", "401 200 200 403 403 403 403 200 200", erp_records(code="D{}", name="Debtor")
    ),
}


def config_entries() -> dict[str, Entry]:
    """Every configurable list answers alike: staff read, `config.manage` changes; a nested list
    of another organisation's parent is a 404 like any other record of it."""
    entries = {}
    for spec in CONFIG_LISTS.values():
        listed, one = spec.prefix(), f"{spec.prefix()}/{{{spec.param}}}"
        other_list = "404" if spec.parent else "200"
        entries[f"GET {listed}"] = entry("", f"401 200 200 200 200 403 403 {other_list} 403")
        entries[f"GET {one}"] = entry("", "401 200 200 200 200 403 403 404 403")
        entries[f"PATCH {one}"] = entry(
            "config.manage", "401 200 200 403 403 403 403 404 403", fixed({"name": "Renamed"})
        )
        if spec.create is not None:
            entries[f"POST {listed}"] = entry(
                "config.manage",
                f"401 201 201 403 403 403 403 {'404' if spec.parent else '201'} 403",
                option(spec),
            )
    return entries


def lead_entries() -> dict[str, Entry]:
    """The target lead is the administrator's, assigned to the rep; customers and keys without
    leads.view_any are refused outright, another rep does not see it."""
    seen, moved = "401 200 200 200 404 403 403 404 403", "leads.manage"
    started = {"lead_id": "started_lead_id"}
    return {
        "GET /v1/leads": entry("leads.view_any", "401 200+ 200+ 200+ 200- 403 403 200- 403", listed="id"),
        "POST /v1/leads": entry("", "401 201 201 201 201 403 403 201 403", fixed({"description": "New"})),
        "GET /v1/leads/{lead_id}": entry("leads.view_any", seen),
        "PATCH /v1/leads/{lead_id}": entry(moved, seen, fixed({"call_tries": 2})),
        "DELETE /v1/leads/{lead_id}": entry(moved, seen.replace("200", "204")),
        "POST /v1/leads/{lead_id}/restore": entry(
            moved, "401 200 200 403 403 403 403 404 403", deleted="lead_id"
        ),
        "POST /v1/leads/{lead_id}/accept": entry(moved, seen, params={"lead_id": "unit_lead_id"}),
        "POST /v1/leads/{lead_id}/start": entry(moved, seen),
        "POST /v1/leads/{lead_id}/win": entry(moved, seen, params=started),
        "POST /v1/leads/{lead_id}/lose": entry(moved, seen, lost_reason, params=started),
        "POST /v1/leads/{lead_id}/cancel": entry(moved, seen),
        "POST /v1/leads/{lead_id}/convert": entry(moved, seen),
        "POST /v1/leads/{lead_id}/reminder/close": entry(moved, seen),
        "GET /v1/leads/board": entry("leads.view_any", "401 200 200 200 200 403 403 200 403"),
        "POST /v1/leads/bulk/moves": entry(
            moved, "401 200 200 200 200 403 403 200 403", bulk(status_in("lead", "in_progress"), "lead")
        ),
        "POST /v1/leads/bulk/assignments": entry(
            moved, "401 200 200 200 200 403 403 200 403", bulk(rep_assignee, "lead")
        ),
        **tagging("lead", "leads.manage"),
        "POST /v1/leads/{lead_id}/transitions": entry(moved, seen, status_in("lead", "in_progress")),
        "GET /v1/leads/{lead_id}/history": entry("leads.view_any", seen),
        "GET /v1/leads/{lead_id}/notes": entry("leads.view_any", seen),
        "POST /v1/leads/{lead_id}/notes": entry(
            "leads.view_any", seen.replace("200", "201"), fixed({"body": "Called."})
        ),
    }


def opportunity_entries() -> dict[str, Entry]:
    """The target opportunity is on the other account (the other rep's, through R2), owned by the
    administrator and assigned to the rep: the rep sees and works it as its assignee, the other
    rep sees it through the account but may not change it (not its owner or assignee)."""
    seen, change = "401 200 200 200 200 403 403 404 403", "opportunities.manage accounts.view_any"
    worked = "401 200 200 200 403 403 403 404 403"
    one = "/v1/opportunities/{opportunity_id}"
    return {
        "GET /v1/opportunities": entry(
            "accounts.view_any", "401 200+ 200+ 200+ 200+ 403 403 200- 403", listed="id"
        ),
        "POST /v1/opportunities": entry(
            "accounts.view_any", "401 201 201 201 422 403 403 422 403", target_opportunity
        ),
        f"GET {one}": entry("accounts.view_any", seen),
        f"PATCH {one}": entry(change, worked, fixed({"probability": 50})),
        f"DELETE {one}": entry(change, worked.replace("200", "204")),
        f"POST {one}/restore": entry(change, "401 200 200 403 403 403 403 404 403", deleted="opportunity_id"),
        f"POST {one}/win": entry(change, worked),
        f"POST {one}/lose": entry(change, worked, lost_reason),
        f"POST {one}/cancel": entry(change, worked),
        f"POST {one}/transitions": entry(change, worked, status_in("opportunity", "won")),
        f"GET {one}/history": entry("accounts.view_any", seen),
        "GET /v1/opportunities/board": entry("accounts.view_any", "401 200 200 200 200 403 403 200 403"),
        "GET /v1/opportunities/pipeline": entry("accounts.view_any", "401 200 200 200 200 403 403 200 403"),
        "POST /v1/opportunities/bulk/moves": entry(
            change,
            "401 200 200 200 200 403 403 200 403",
            bulk(status_in("opportunity", "won"), "opportunity"),
        ),
        "POST /v1/opportunities/bulk/assignments": entry(
            change, "401 200 200 200 200 403 403 200 403", bulk(rep_assignee, "opportunity")
        ),
        **tagging("opportunity", change, other_rep="403"),
    }


def activity_entries() -> dict[str, Entry]:
    """The target activity is on the target account, the administrator's, assigned to the rep:
    the customer of that account reads it (and may not change it); another rep does not see it."""
    seen, change, manage = (
        "401 200 200 200 404 200 404 404 403",
        "401 200 200 200 404 403 404 404 403",
        "activities.manage",
    )
    one = "/v1/activities/{activity_id}"
    return {
        "GET /v1/activities": entry(
            "activities.view_any", "401 200+ 200+ 200+ 200- 200+ 200- 200- 403", listed="id"
        ),
        "POST /v1/activities": entry("", "401 201 201 201 201 403 403 201 403", fixed({"subject": "Call"})),
        f"GET {one}": entry("activities.view_any", seen),
        f"PATCH {one}": entry(manage, change, fixed({"notes": "Called."})),
        f"DELETE {one}": entry(manage, change.replace("200", "204")),
        f"POST {one}/restore": entry(manage, "401 200 200 403 403 403 403 404 403", deleted="activity_id"),
        f"POST {one}/accept": entry(
            manage, "401 200 200 200 404 404 404 404 403", params={"activity_id": "unit_activity_id"}
        ),
        f"POST {one}/start": entry(manage, change),
        f"POST {one}/complete": entry(manage, change, params={"activity_id": "started_activity_id"}),
        f"POST {one}/cancel": entry(manage, change),
        f"POST {one}/transitions": entry(manage, change, status_in("activity", "in_progress")),
        f"POST {one}/reminder/close": entry(manage, change),
        f"GET {one}/history": entry("activities.view_any", seen),
        "GET /v1/me/reminders": entry("", "401 200 200 200 200 403 403 200 403"),
    }


def tagging(kind: str, manage: str, other_rep: str = "404") -> dict[str, Entry]:
    """A lead or an opportunity is tagged by those who may change it; customers never see one.
    `other_rep`: what the other rep gets (403 when it sees the record but may not change it)."""
    plural = "opportunities" if kind == "opportunity" else "leads"
    one = f"/v1/{plural}/{{{kind}_id}}/tags"
    tagged = f"401 200 200 200 {other_rep} 404 404 404 403"
    return {
        f"POST /v1/{plural}/bulk/tags": entry(
            manage, "401 200 200 200 200 403 403 422 403", tag_target(kind)
        ),
        f"POST {one}": entry(manage, tagged, fixed({"name": "vip"})),
        f"DELETE {one}/{{name}}": entry(manage, tagged),
    }


def bulk(extra: Body, kind: str) -> Body:
    """A bulk call about the target record, with the fields `extra` gives."""

    async def make(records: Records) -> dict[str, Any]:
        return {"ids": [await records.get(f"{kind}_id")], **await extra(records)}

    return make


async def rep_assignee(records: Records) -> dict[str, Any]:
    return {"assigned_member_id": str(records.people.ids["rep"])}


async def target_opportunity(records: Records) -> dict[str, Any]:
    return {"account_id": await records.get("account_id"), "name": "Deal"}


def status_in(kind: str, state: str) -> Body:
    async def make(records: Records) -> dict[str, Any]:
        answer = await records.client.get(
            "/v1/config/statuses",
            params={"kind": kind, "state": state},
            headers=records.people.acme.admin.headers,
        )
        return {"status_id": answer.json()["items"][0]["id"]}

    return make


async def lost_reason(records: Records) -> dict[str, Any]:
    return {"lost_reason_id": await records.get("lost_reason_id")}


def activity_service_entries() -> dict[str, Entry]:
    """An activity's services go with the activity: read by whoever sees it, recorded by whoever
    may change it (the customer of its account sees them, and may not change them)."""
    seen, change, manage = (
        "401 200 200 200 404 200 404 404 403",
        "401 200 200 200 404 403 404 404 403",
        "activities.manage",
    )
    lines, line = "/v1/activities/{activity_id}/services", {"line_id": "activity_service_line_id"}
    return {
        f"GET {lines}": entry("activities.view_any", seen),
        f"POST {lines}": entry(manage, change.replace("200", "201"), service_line),
        f"PATCH {lines}/{{line_id}}": entry(manage, change, fixed({"minutes": 15}), params=line),
        f"DELETE {lines}/{{line_id}}": entry(manage, change.replace("200", "204"), params=line),
    }


async def service_line(records: Records) -> dict[str, Any]:
    return {"service_id": await records.get("service_id"), "minutes": 10}


def service_request_entries() -> dict[str, Entry]:
    """The target request is on the target account, the administrator's, assigned to the rep:
    the customer of that account reads it and accepts its answers; another rep does not see it."""
    seen, change, manage = (
        "401 200 200 200 404 200 404 404 403",
        "401 200 200 200 404 403 404 404 403",
        "service_requests.manage",
    )
    one = "/v1/service-requests/{service_request_id}"

    def on(name: str) -> dict[str, str]:
        return {"service_request_id": name}

    anyone = "200 200 200 200 200 200 200 200 200"
    return {
        "GET /v1/service-requests": entry(
            "service_requests.view_any", "401 200+ 200+ 200+ 200- 200+ 200- 200- 403", listed="id"
        ),
        # Customers submit requests (tests/service_requests/test_customer_requests.py), but never
        # name the assignee this body names.
        "POST /v1/service-requests": entry("", "401 201 422 201 422 422 422 422 403", target_request),
        f"GET {one}": entry("service_requests.view_any", seen),
        f"PATCH {one}": entry(manage, change, fixed({"urgency": 1})),
        f"DELETE {one}": entry(manage, change.replace("200", "204")),
        f"POST {one}/restore": entry(
            manage, "401 200 200 403 403 403 403 404 403", deleted="service_request_id"
        ),
        # The customer of the account sees the request waiting in the unit, and may not take it.
        f"POST {one}/accept": entry(
            manage, "401 200 200 200 404 403 404 404 403", params=on("unit_service_request_id")
        ),
        f"POST {one}/start": entry(manage, change),
        f"POST {one}/respond": entry(
            manage, change, answer("response"), params=on("started_service_request_id")
        ),
        f"POST {one}/resolve-temporarily": entry(
            manage, change, answer("temporary_resolution"), params=on("responded_service_request_id")
        ),
        f"POST {one}/resolve": entry(
            manage, change, answer("final_resolution"), params=on("responded_service_request_id")
        ),
        f"POST {one}/complete": entry(manage, change, params=on("resolved_service_request_id")),
        f"POST {one}/cancel": entry(manage, change),
        f"POST {one}/transitions": entry(manage, change, status_in("service_request", "in_progress")),
        f"POST {one}/acceptance": entry(
            manage, "401 200 200 403 404 200 404 404 403", params=on("awaiting_service_request_id")
        ),
        # Who may change the request sends the contact a new link.
        f"POST {one}/acceptance-link": entry(manage, change, params=on("awaiting_service_request_id")),
        f"GET {one}/related": entry("service_requests.view_any", seen),
        f"PUT {one}/related/{{related_id}}": entry(manage, change.replace("200", "204")),
        f"DELETE {one}/related/{{related_id}}": entry(manage, change.replace("200", "204")),
        # Customers cannot create activities at all.
        f"POST {one}/activities": entry(
            manage, "401 201 201 201 404 403 403 404 403", fixed({"subject": "Visit"})
        ),
        f"GET {one}/history": entry("service_requests.view_any", seen),
        "POST /v1/leads/{lead_id}/activities": entry(
            "leads.manage", "401 201 201 201 404 403 403 404 403", fixed({"subject": "Visit"})
        ),
        # The token is the credential: whoever holds a fresh one may look and accept.
        "GET /v1/acceptances/{token}": entry("", anyone),
        "POST /v1/acceptances/{token}": entry("", anyone),
    }


async def target_request(records: Records) -> dict[str, Any]:
    return {"subject": "Broken", "account_id": await records.get("account_id"), "urgency": 2, "impact": 2}


def answer(kind: str) -> Body:
    async def make(records: Records) -> dict[str, Any]:
        return {"category_id": await records.get(f"{kind}_category_id")}

    return make


MATRIX |= config_entries() | lead_entries() | opportunity_entries() | activity_entries()


def feedback_entries() -> dict[str, Entry]:
    """Feedback is read by who sees the request; only the account's customer (or a link's holder)
    rates it."""
    everyone = "401 200 200 200 200 200 200 200 403"
    return {
        "GET /v1/feedback": entry("service_requests.view_any", everyone),
        "GET /v1/feedback/summary": entry("service_requests.view_any", everyone),
        "GET /v1/service-requests/dashboard": entry("service_requests.view_any", everyone),
        "POST /v1/service-requests/{service_request_id}/feedback": entry(
            "service_requests.manage",
            "401 403 403 403 404 201 404 404 403",
            fixed({"rating": 5}),
            params={"service_request_id": "completed_service_request_id"},
        ),
        "POST /v1/service-requests/{service_request_id}/feedback-link": entry(
            "service_requests.manage",
            "401 200 200 200 404 403 404 404 403",
            params={"service_request_id": "completed_service_request_id"},
        ),
        # The token is the credential: whoever holds a fresh one may look and rate.
        "GET /v1/feedback-links/{token}": entry(
            "", "200 200 200 200 200 200 200 200 200", params={"token": "feedback_token"}
        ),
        "POST /v1/feedback-links/{token}": entry(
            "",
            "201 201 201 201 201 201 201 201 201",
            fixed({"rating": 5}),
            params={"token": "feedback_token"},
        ),
    }


MATRIX |= activity_service_entries() | service_request_entries() | feedback_entries()


async def target_order(records: Records) -> dict[str, Any]:
    line = {"product_code": "P-1", "quantity": "2", "unit_price": "5.00"}
    return {"account_id": await records.get("account_id"), "lines": [line]}


def trading_entries() -> dict[str, Entry]:
    """An account's documents are read with the account; its sales orders are placed by whoever
    sees the account (a customer on its own) and changed by their placer or sales_orders.manage."""
    pushed = "401 200 200 403 403 403 403 200 200"
    with_account = "401 200 200 200 404 200 404 404 403"
    order = {"order_id": "sales_order_id"}
    placer_only = "401 200 200 403 404 403 404 404 403"
    entries = {
        f"POST /v1/integrations/erp/{kind}": entry(
            "integrations.push", pushed, erp_records(number="N{}", account_code="NONE")
        )
        for kind in ("invoices", "credits", "back-orders", "payments")
    }
    entries |= {
        f"GET /v1/accounts/{{account_id}}/{kind}": entry("accounts.view_any", with_account)
        for kind in ("invoices", "credits", "back-orders", "payments", "balance")
    }
    return entries | {
        "POST /v1/integrations/erp/sales-orders/acknowledgements": entry(
            "integrations.push", pushed, erp_records(number=1, erp_number="Z{}")
        ),
        "GET /v1/documents/{document_id}": entry("accounts.view_any", with_account),
        # No connector is set in a new organisation: its administrators learn so.
        "GET /v1/integrations/erp/connector": entry("org.admin", "401 404 404 403 403 403 403 404 403"),
        "PUT /v1/integrations/erp/connector": entry(
            "org.admin", "401 200 200 403 403 403 403 200 403", fixed({"base_url": "https://erp.example.com"})
        ),
        "DELETE /v1/integrations/erp/connector": entry("org.admin", "401 404 404 403 403 403 403 404 403"),
        "GET /v1/accounts/{account_id}/sales-orders": entry(
            "accounts.view_any", "401 200+ 200+ 200+ 404 200+ 404 404 403", listed="id"
        ),
        "GET /v1/sales-orders": entry(
            "sales_orders.view_any", "401 200+ 200+ 200+ 200- 200+ 200- 200- 403", listed="id"
        ),
        "POST /v1/sales-orders": entry(
            "accounts.view_any", "401 201 201 201 404 201 404 404 403", target_order
        ),
        "GET /v1/sales-orders/{order_id}": entry("sales_orders.view_any", with_account, params=order),
        "PATCH /v1/sales-orders/{order_id}": entry(
            "sales_orders.manage", placer_only, fixed({"instructions": "Ring twice."}), params=order
        ),
        "POST /v1/sales-orders/{order_id}/submit": entry("sales_orders.manage", placer_only, params=order),
        "POST /v1/sales-orders/{order_id}/cancel": entry("sales_orders.manage", placer_only, params=order),
    }


MATRIX |= trading_entries()


def notification_entries() -> dict[str, Entry]:
    """Every member has an inbox and mutes of its own; an API key has neither. The target
    notification is the administrator's: anybody else's 404."""
    everyone = "401 200 200 200 200 200 200 200 403"
    return {
        "GET /v1/me/notifications": entry("", everyone),
        "GET /v1/me/notifications/unread": entry("", everyone),
        "POST /v1/me/notifications/read": entry("", everyone, fixed({})),
        "POST /v1/me/notifications/{notification_id}/read": entry("", "401 204 404 404 404 404 404 404 403"),
        "GET /v1/me/notification-mutes": entry("", everyone),
        "PUT /v1/me/notification-mutes/{category}": entry("", "401 204 204 204 204 204 204 204 403"),
        "DELETE /v1/me/notification-mutes/{category}": entry("", "401 404 404 404 404 404 404 404 403"),
    }


MATRIX |= notification_entries()


def conversation_entries() -> dict[str, Entry]:
    """Conversations on the target account, opened by the administrator with the customer:
    whoever sees the account reads them, a customer those it takes part in; staff change them,
    a message's author edits it; attachments are read with their message."""
    reads = "401 200 200 200 404 200 404 404 403"
    staff = "401 200 200 200 404 403 403 404 403"
    posts = "401 201 201 201 404 201 404 404 403"
    participant = {"member_id": "participant_id"}
    return {
        "GET /v1/accounts/{account_id}/conversations": entry("accounts.view_any", reads),
        "POST /v1/accounts/{account_id}/conversations": entry(
            "accounts.view_any", posts, fixed({"subject": "Terms"})
        ),
        "GET /v1/conversations": entry("accounts.view_any", "401 200 200 200 200 200 200 200 403"),
        "GET /v1/conversations/{conversation_id}": entry("accounts.view_any", reads),
        "PATCH /v1/conversations/{conversation_id}": entry(
            "accounts.view_any", staff, fixed({"subject": "New"})
        ),
        "POST /v1/conversations/{conversation_id}/close": entry("accounts.view_any", staff),
        "POST /v1/conversations/{conversation_id}/reopen": entry("accounts.view_any", staff),
        "POST /v1/conversations/{conversation_id}/participants": entry(
            "accounts.view_any", staff, rep_member
        ),
        "DELETE /v1/conversations/{conversation_id}/participants/{member_id}": entry(
            "accounts.view_any", "401 204 204 204 404 403 403 404 403", params=participant
        ),
        "GET /v1/conversations/{conversation_id}/messages": entry("accounts.view_any", reads),
        "POST /v1/conversations/{conversation_id}/messages": entry(
            "accounts.view_any", posts, fixed({"body": "Hi"})
        ),
        "POST /v1/conversations/{conversation_id}/read": entry("accounts.view_any", reads, fixed({})),
        "PATCH /v1/messages/{message_id}": entry(
            "accounts.view_any", "401 200 403 403 404 403 404 404 403", fixed({"body": "Edited"})
        ),
        "DELETE /v1/messages/{message_id}": entry("accounts.manage", "401 200 200 403 404 403 404 404 403"),
        "GET /v1/messages/{message_id}/revisions": entry("accounts.view_any", staff),
        "POST /v1/attachments": entry(
            "", "401 201 201 201 201 201 201 201 403", files={"file": ("a.txt", b"text", "text/plain")}
        ),
        "GET /v1/attachments/{attachment_id}": entry(
            "accounts.view_any", "401 200 200 200 404 200 404 404 404"
        ),
        "GET /v1/attachments/{attachment_id}/content": entry(
            "accounts.view_any", "401 200 200 200 404 200 404 404 404"
        ),
    }


def feed_entries() -> dict[str, Entry]:
    """A feed the administrator manages and the rep belongs to: only its members see it (the
    granted holder of feeds.manage is not one), only its managers change it."""
    members = "401 200 404 200 404 403 403 404 403"
    managers = "401 200 404 403 404 403 403 404 403"
    return {
        "GET /v1/feeds": entry("feeds.manage", "401 200 200 200 200 403 403 200 403"),
        "POST /v1/feeds": entry(
            "feeds.manage", "401 201 201 403 403 403 403 201 403", fixed({"name": "Team"})
        ),
        "GET /v1/feeds/{feed_id}": entry("feeds.manage", members),
        "PATCH /v1/feeds/{feed_id}": entry("feeds.manage", managers, fixed({"name": "Renamed"})),
        "GET /v1/feeds/{feed_id}/members": entry("feeds.manage", members),
        "PUT /v1/feeds/{feed_id}/members/{member_id}": entry(
            "feeds.manage", managers, fixed({}), params={"member_id": "feed_member_id"}
        ),
        "DELETE /v1/feeds/{feed_id}/members/{member_id}": entry(
            "feeds.manage", "401 204 404 204 404 403 403 404 403", params={"member_id": "feed_member_id"}
        ),
        "GET /v1/feeds/{feed_id}/posts": entry("feeds.manage", members),
        "POST /v1/feeds/{feed_id}/posts": entry(
            "feeds.manage", "401 201 404 201 404 403 403 404 403", fixed({"body": "Hi"})
        ),
        "GET /v1/feeds/{feed_id}/posts/{post_id}": entry("feeds.manage", members),
        "PATCH /v1/feeds/{feed_id}/posts/{post_id}": entry("feeds.manage", managers, fixed({"pinned": True})),
        "DELETE /v1/feeds/{feed_id}/posts/{post_id}": entry(
            "feeds.manage", "401 204 404 403 404 403 403 404 403"
        ),
        "GET /v1/feeds/{feed_id}/posts/{post_id}/comments": entry("feeds.manage", members),
        "POST /v1/feeds/{feed_id}/posts/{post_id}/comments": entry(
            "feeds.manage", "401 201 404 201 404 403 403 404 403", fixed({"body": "Noted."})
        ),
        "DELETE /v1/feeds/{feed_id}/posts/{post_id}/comments/{comment_id}": entry(
            "feeds.manage", "401 204 404 403 404 403 403 404 403"
        ),
    }


def issue_status(state: str) -> Body:
    """A move to the issue type's status of the state."""

    async def make(records: Records) -> dict[str, Any]:
        return {"status_id": await records.issue_status(state)}

    return make


async def filed(records: Records) -> dict[str, Any]:
    return {"type_id": await records.get("issue_type_id"), "subject": "Refund of order 118"}


def issue_entries() -> dict[str, Entry]:
    """An issue of a type customers file, on the target account (which the rep reaches as its
    sales-rep record and the customer is assigned to), filed by the administrator: whoever
    reaches the account or holds issues.view_any reads it, staff change it, customers comment
    and follow."""
    reads = "401 200 200 200 404 200 404 404 403"
    staff = "401 200 200 200 404 403 404 404 403"
    posts = "401 201 201 201 404 201 404 404 403"
    one = "/v1/issues/{issue_id}"
    kinds = "/v1/config/issue-types"
    return {
        f"GET {kinds}": entry("config.manage", "401 200 200 200 200 200 200 200 403"),
        f"POST {kinds}": entry(
            "config.manage", "401 201 201 403 403 403 403 201 403", unique(name="Refunds {}")
        ),
        f"GET {kinds}/{{type_id}}": entry(
            "config.manage", "401 200 200 200 200 200 200 404 403", params={"type_id": "issue_type_id"}
        ),
        f"PATCH {kinds}/{{type_id}}": entry(
            "config.manage",
            "401 200 200 403 403 403 403 404 403",
            fixed({"description": "Money back"}),
            params={"type_id": "issue_type_id"},
        ),
        f"GET {kinds}/{{type_id}}/forms": entry(
            "config.manage", "401 200 200 200 200 200 200 404 403", params={"type_id": "issue_type_id"}
        ),
        f"GET {kinds}/{{type_id}}/forms/{{version}}": entry(
            "config.manage",
            "401 200 200 200 200 200 200 404 403",
            params={"type_id": "issue_type_id", "version": "form_version"},
        ),
        "GET /v1/issues": entry("issues.view_any", "401 200 200 200 200 200 200 200 403"),
        "GET /v1/accounts/{account_id}/issues": entry("issues.view_any", reads),
        "POST /v1/accounts/{account_id}/issues": entry("issues.create", posts, filed),
        f"GET {one}": entry("issues.view_any", reads),
        f"PATCH {one}": entry("issues.manage", staff, fixed({"priority": 2})),
        f"DELETE {one}": entry("issues.manage", "401 204 204 204 404 403 404 404 403"),
        f"POST {one}/restore": entry(
            "issues.manage", "401 200 200 403 403 403 403 404 403", deleted="issue_id"
        ),
        f"GET {one}/history": entry("issues.view_any", staff),
        f"POST {one}/start": entry("issues.manage", staff),
        f"POST {one}/resolve": entry("issues.manage", staff, params={"issue_id": "started_issue_id"}),
        f"POST {one}/reopen": entry("issues.manage", staff, params={"issue_id": "resolved_issue_id"}),
        f"POST {one}/close": entry("issues.manage", staff, params={"issue_id": "resolved_issue_id"}),
        f"POST {one}/cancel": entry("issues.manage", staff),
        f"POST {one}/transitions": entry("issues.manage", staff, issue_status("in_progress")),
        f"GET {one}/comments": entry("issues.view_any", reads),
        f"POST {one}/comments": entry("issues.view_any", posts, fixed({"body": "Noted."})),
        f"GET {one}/work-log": entry("issues.view_any", reads),
        f"POST {one}/work-log": entry(
            "issues.view_any", "401 201 201 201 404 403 404 404 403", fixed({"minutes": 10})
        ),
        f"GET {one}/followers": entry("issues.view_any", reads),
        f"POST {one}/followers": entry("issues.view_any", "401 204 204 204 404 204 404 404 403", fixed({})),
        f"DELETE {one}/followers/{{member_id}}": entry(
            "issues.view_any", "401 204 204 204 404 403 404 404 403", params={"member_id": "follower_id"}
        ),
    }


MATRIX |= conversation_entries() | feed_entries() | issue_entries()


def _fill(path: str, made: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: made[m.group(1)], path)


async def _ask(client: AsyncClient, records: Records, route: str, persona: str, e: Entry) -> str:
    method, template = route.split(" ", 1)
    # The record a list should (or should not) show: the kind the path names.
    kinds = ("service-request", "sales-order", "account", "lead", "opportunit", "activit")
    subject = next((n for n in kinds if n in template), "contact")
    subject = {
        "opportunit": "opportunity",
        "activit": "activity",
        "service-request": "service_request",
        "sales-order": "sales_order",
    }.get(subject, subject)
    if e.listed:
        await records.get(f"{subject}_id")
    if e.deleted:
        await records.delete(e.deleted)
    names = dict(e.params)
    values = {p: await records.get(names.get(p, p)) for p in re.findall(r"\{(\w+)\}", template)}
    url = _fill(template, values)
    headers = records.people.headers[persona]
    kwargs: dict[str, Any] = {"headers": headers}
    if e.body is not None:
        kwargs["json"] = await e.body(records)
    if e.form is not None:
        kwargs["data"] = e.form
    if e.files is not None:
        kwargs["files"] = e.files
    answer = await client.request(method, url, **kwargs)
    status = str(answer.status_code)
    if e.listed and answer.status_code == 200:
        ids = {str(item.get(e.listed)) for item in answer.json()["items"]}
        target = records.made.get(f"{subject}_id")
        status += "+" if target in ids else "-"
    return status


async def test_every_route_has_an_entry(client: AsyncClient) -> None:
    served = {
        f"{method.upper()} {path}"
        for path, operations in (await client.get("/openapi.json")).json()["paths"].items()
        for method in operations
    }
    assert sorted(served - set(MATRIX)) == []
    assert sorted(set(MATRIX) - served) == []


@pytest.mark.parametrize("route", sorted(MATRIX))
async def test_route(route: str, client: AsyncClient, tenants: Tenants, db: Database) -> None:
    e = MATRIX[route]
    who = await people(db, tenants, e.granted)
    answers = []
    for persona in PERSONAS:
        records = Records(client, who, db)
        answers.append(await _ask(client, records, route, persona, e))
    got = " ".join(answers)
    assert got == " ".join(e.expected.split()), f"{route}: {got}"
