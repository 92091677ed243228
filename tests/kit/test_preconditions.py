"""If-Match on every change of a versioned record (RFC 9110 §13.1.1): the contract declares the
header and its 412 on each such route, and each refuses a stale ETag without changing anything.

The routes and their records come from the permission matrix (tests/access/test_permission_matrix.py),
which already knows how to make the record each route is about and the body it takes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from crmapi.kit.db import Database
from tests.access.test_permission_matrix import MATRIX, PERSONAS, Entry
from tests.permissions import Records, people
from tests.support import Tenants, assert_problem

CONTRACT = json.loads((Path(__file__).resolve().parents[2] / "openapi" / "openapi.json").read_text())
CHANGES = ("post", "put", "patch", "delete")
STALE = '"999999"'

# Changes on a path naming a record that take no If-Match, and why.
WITHOUT_IF_MATCH = {
    # They make a record of their own; the one named in the path does not change.
    "POST /v1/contacts/{contact_id}/notes": "makes a note",
    "POST /v1/accounts/{account_id}/notes": "makes a note",
    "POST /v1/leads/{lead_id}/notes": "makes a note",
    "POST /v1/leads/{lead_id}/activities": "makes an activity",
    "POST /v1/service-requests/{service_request_id}/activities": "makes an activity",
    "POST /v1/service-requests/{service_request_id}/feedback": "makes the rating",
    "POST /v1/config/types/{type_id}/rules": "makes a rule",
    "POST /v1/config/lookup-lists/{lookup_list_id}/values": "makes a value",
    "POST /v1/accounts/{account_id}/conversations": "makes a conversation",
    "POST /v1/conversations/{conversation_id}/messages": "makes a message",
    "POST /v1/feeds/{feed_id}/posts": "makes a post",
    "POST /v1/feeds/{feed_id}/posts/{post_id}/comments": "makes a comment",
    "POST /v1/accounts/{account_id}/issues": "makes an issue",
    "POST /v1/issues/{issue_id}/comments": "makes a comment",
    "POST /v1/issues/{issue_id}/work-log": "makes a work-log entry (the total follows it)",
    # Links that are resources of their own, without a version: neither end's ETag changes.
    "POST /v1/accounts/{account_id}/contacts": "a contact link",
    "DELETE /v1/accounts/{account_id}/contacts/{contact_id}": "a contact link",
    "POST /v1/accounts/{account_id}/assignments": "an assignment",
    "DELETE /v1/accounts/{account_id}/assignments/{member_id}": "an assignment",
    "PUT /v1/business-units/{unit_id}/members/{member_id}": "a unit membership",
    "DELETE /v1/business-units/{unit_id}/members/{member_id}": "a unit membership",
    "PUT /v1/sales-reps/{sales_rep_id}/members/{member_id}": "a sales-rep link",
    "DELETE /v1/sales-reps/{sales_rep_id}/members/{member_id}": "a sales-rep link",
    "PUT /v1/service-requests/{service_request_id}/related/{related_id}": "a relation",
    "DELETE /v1/service-requests/{service_request_id}/related/{related_id}": "a relation",
    # Who takes part: a set, adding one already in (or removing one gone) changes nothing.
    "POST /v1/conversations/{conversation_id}/participants": "a participation",
    "DELETE /v1/conversations/{conversation_id}/participants/{member_id}": "a participation",
    "PUT /v1/feeds/{feed_id}/members/{member_id}": "a feed membership",
    "DELETE /v1/feeds/{feed_id}/members/{member_id}": "a feed membership",
    "POST /v1/issues/{issue_id}/followers": "a following",
    "DELETE /v1/issues/{issue_id}/followers/{member_id}": "a following",
    # A comment never changes before it is removed: there is nothing to be stale about.
    "DELETE /v1/feeds/{feed_id}/posts/{post_id}/comments/{comment_id}": "an unchanging comment",
    # A member's own inbox state, without a version: marking read and muting are idempotent.
    "POST /v1/me/notifications/{notification_id}/read": "an inbox's read mark",
    "PUT /v1/me/notification-mutes/{category}": "a mute",
    "DELETE /v1/me/notification-mutes/{category}": "a mute",
    "POST /v1/conversations/{conversation_id}/read": "a read marker, which only moves forward",
    # API keys have no version (decisions, issue 4 item 6).
    "PATCH /v1/api-keys/{api_key_id}": "no version",
    "DELETE /v1/api-keys/{api_key_id}": "no version",
    # They issue a new link token; the request itself does not change.
    "POST /v1/service-requests/{service_request_id}/acceptance-link": "a new link token",
    "POST /v1/service-requests/{service_request_id}/feedback-link": "a new link token",
    # The user's credentials change, not the member record (whose ETag stays).
    "POST /v1/members/{member_id}/password": "a user's password",
    # They make deliveries of an endpoint's events; the endpoint itself does not change.
    "POST /v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliveries": "makes a delivery",
    "POST /v1/webhook-endpoints/{endpoint_id}/replays": "makes deliveries",
    # The token is the only credential; its holder never read the request's ETag.
    "POST /v1/acceptances/{token}": "a link token",
    "POST /v1/feedback-links/{token}": "a link token",
}


def _operations() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", op)
        for path, ops in CONTRACT["paths"].items()
        for method, op in ops.items()
        if method in CHANGES
    ]


def _parameter(p: dict[str, Any]) -> dict[str, Any]:
    """A parameter, its `$ref` to the shared ones resolved."""
    if "$ref" in p:
        found: dict[str, Any] = CONTRACT["components"]["parameters"][p["$ref"].rsplit("/", 1)[-1]]
        return found
    return p


def _takes_if_match(op: dict[str, Any]) -> bool:
    parameters = map(_parameter, op.get("parameters", []))
    return any(p["in"] == "header" and p["name"].lower() == "if-match" for p in parameters)


def test_every_change_of_a_named_record_declares_if_match_and_its_412() -> None:
    missing = [
        route
        for route, op in _operations()
        if "{" in route and route not in WITHOUT_IF_MATCH and not _takes_if_match(op)
    ]
    assert missing == []
    without_412 = [
        route for route, op in _operations() if _takes_if_match(op) and "412" not in op["responses"]
    ]
    assert without_412 == []
    stale = sorted(set(WITHOUT_IF_MATCH) - {route for route, _ in _operations()})
    assert stale == []


def _answered_by_the_administrator(e: Entry) -> bool:
    return e.expected.split()[PERSONAS.index("admin")].startswith("2")


GUARDED = sorted(
    route
    for route, op in _operations()
    if _takes_if_match(op) and route in MATRIX and _answered_by_the_administrator(MATRIX[route])
)


def test_the_guarded_routes_are_all_asked() -> None:
    assert sorted(route for route, op in _operations() if _takes_if_match(op)) == GUARDED


@pytest.mark.parametrize("route", GUARDED)
async def test_a_stale_if_match_changes_nothing(
    route: str, client: AsyncClient, tenants: Tenants, db: Database
) -> None:
    """412 with a stale ETag; the same request without it then succeeds (so nothing was taken by
    the refused one), and an answer with a body carries the record's new ETag."""
    e = MATRIX[route]
    records = Records(client, await people(db, tenants, e.granted), db)
    if e.deleted:
        await records.delete(e.deleted)
    method, template = route.split(" ", 1)
    names = dict(e.params)
    values = {p: await records.get(names.get(p, p)) for p in re.findall(r"\{(\w+)\}", template)}
    url = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)
    kwargs: dict[str, Any] = {}
    if e.body is not None:
        kwargs["json"] = await e.body(records)
    admin = records.people.acme.admin.headers
    refused = await client.request(method, url, headers={**admin, "If-Match": STALE}, **kwargs)
    assert_problem(refused, 412, "stale-version")
    done = await client.request(method, url, headers=admin, **kwargs)
    assert done.status_code == int(e.expected.split()[PERSONAS.index("admin")]), done.text
    if done.status_code in (200, 201) or method == "PUT":
        assert re.fullmatch(r'"\d+"', done.headers.get("ETag", "")), done.headers


async def _made(
    client: AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    r = await client.post(path, json=body, headers=headers)
    assert r.status_code == 201, r.text
    made: dict[str, Any] = r.json()
    return made


async def test_moves_honour_if_match_and_answer_the_new_etag(client: AsyncClient, tenants: Tenants) -> None:
    """A move sent with the ETag of a version since changed is refused and moves nothing; with
    the current one it moves and answers the next ETag, which the following move must send."""
    admin = (await tenants.create("Acme")).admin
    h, me = admin.headers, str(admin.id)
    account = await _made(client, "/v1/accounts", {"name": "Nowak Trading"}, h)
    made = {
        "leads": await _made(client, "/v1/leads", {"description": "Seats", "assigned_member_id": me}, h),
        "opportunities": await _made(
            client, "/v1/opportunities", {"account_id": account["id"], "name": "Deal"}, h
        ),
        "activities": await _made(client, "/v1/activities", {"subject": "Call", "assigned_member_id": me}, h),
        "service-requests": await _made(
            client,
            "/v1/service-requests",
            {
                "subject": "Broken",
                "account_id": account["id"],
                "urgency": 2,
                "impact": 2,
                "assigned_member_id": me,
            },
            h,
        ),
    }
    first = {"leads": "start", "opportunities": "win", "activities": "start", "service-requests": "start"}
    for plural, record in made.items():
        one = f"/v1/{plural}/{record['id']}"
        old = f'"{record["version"]}"'
        touched = await client.patch(
            one, json={"description" if plural != "activities" else "notes": "Seen."}, headers=h
        )
        assert touched.status_code == 200, touched.text
        current = touched.headers["ETag"]
        refused = await client.post(f"{one}/{first[plural]}", headers={**h, "If-Match": old})
        assert_problem(refused, 412, "stale-version")
        after = (await client.get(one, headers=h)).json()
        assert (after["state"], f'"{after["version"]}"') == (record["state"], current), plural
        moved = await client.post(f"{one}/{first[plural]}", headers={**h, "If-Match": current})
        assert moved.status_code == 200, moved.text
        assert moved.headers["ETag"] == f'"{moved.json()["version"]}"' != current
        again = await client.post(
            f"{one}/transitions", json={"status_id": after["status_id"]}, headers={**h, "If-Match": current}
        )
        assert_problem(again, 412, "stale-version")
