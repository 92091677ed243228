"""Exclusive feeds of sales teams: who is in, who announces, who sees what, and the inbox every
member's announcement reaches."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient

from crmapi.kit.db import Database
from tests.events.test_webhooks import api, eventually, fast, running
from tests.permissions import api_key, grant
from tests.support import Member, Tenant, Tenants, assert_problem, error_fields, ok

__all__ = ["api", "fast", "running"]  # fixtures this module uses from the webhooks' tests


@pytest.mark.committed
async def test_an_announcement_reaches_each_of_50_members_and_nobody_else(
    api: AsyncClient, committed_tenants: Tenants, committed_db: Database, running: None
) -> None:
    acme = await committed_tenants.create()
    manager = await committed_tenants.member(acme)
    await grant(committed_db, acme, manager, ("feeds.manage",))
    members = [await committed_tenants.member(acme) for _ in range(49)]
    outsider = await committed_tenants.member(acme)
    feed = ok(
        await api.post(
            "/v1/feeds",
            json={"name": "North sales", "member_ids": [str(m.id) for m in members]},
            headers=manager.headers,
        ),
        201,
    )
    assert (feed["member_count"], feed["my_role"]) == (50, "manager")
    quiet = members[0]
    assert (
        await api.put("/v1/me/notification-mutes/ANNOUNCEMENTS", headers=quiet.headers)
    ).status_code == 204
    # The category's subscribers outside the feed hear nothing of it: feeds are exclusive.
    categories = ok(await api.get("/v1/config/notification-categories", headers=acme.admin.headers))["items"]
    announcements = next(c for c in categories if c["code"] == "ANNOUNCEMENTS")
    ok(
        await api.patch(
            f"/v1/config/notification-categories/{announcements['id']}",
            json={"member_ids": [str(outsider.id)]},
            headers=acme.admin.headers,
        )
    )

    post = ok(
        await api.post(
            f"/v1/feeds/{feed['id']}/posts",
            json={"body": "Q1 targets are out.", "announcement": True, "pinned": True},
            headers=manager.headers,
        ),
        201,
    )

    async def told(who: Member) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = ok(await api.get("/v1/me/notifications", headers=who.headers))["items"]
        return items

    async def everyone_told() -> bool:
        inboxes = await asyncio.gather(*(told(m) for m in members[1:]))
        return all(len(i) == 1 for i in inboxes)

    assert await eventually(everyone_told), "each member's inbox gains one notification"
    [note] = await told(members[1])
    assert (note["type"], note["category"], note["record_id"]) == (
        "feed_post.created",
        "ANNOUNCEMENTS",
        post["id"],
    )
    await asyncio.sleep(0.5)
    assert await told(quiet) == [], "a muted category tells nothing"
    assert await told(outsider) == [] and await told(manager) == []
    assert ok(await api.get("/v1/feeds", headers=outsider.headers))["items"] == []
    assert_problem(await api.get(f"/v1/feeds/{feed['id']}", headers=outsider.headers), 404, "not-found")
    assert_problem(await api.get(f"/v1/feeds/{feed['id']}/posts", headers=outsider.headers), 404, "not-found")
    # Administrators included: a feed is its members'.
    assert_problem(await api.get(f"/v1/feeds/{feed['id']}", headers=acme.admin.headers), 404, "not-found")


async def test_managers_decide_who_is_in_and_members_post_and_comment(
    client: AsyncClient,
    db: Database,
    tenants: Tenants,
    acme: Tenant,
    admin: Member,
    staff: Member,
    customer: Member,
) -> None:
    assert_problem(
        await client.post("/v1/feeds", json={"name": "Mine"}, headers=staff.headers),
        403,
        "missing-capability",
    )
    bad = await client.post(
        "/v1/feeds",
        json={"name": "Team", "member_ids": [str(staff.id), str(customer.id)]},
        headers=admin.headers,
    )
    assert error_fields(bad) == {"body.member_ids[1]"}
    assert error_fields(await client.post("/v1/feeds", json={"name": ""}, headers=admin.headers)) == {
        "body.name"
    }
    feed = ok(
        await client.post(
            "/v1/feeds", json={"name": "Team", "member_ids": [str(staff.id)]}, headers=admin.headers
        ),
        201,
    )
    path = f"/v1/feeds/{feed['id']}"
    assert [f["my_role"] for f in ok(await client.get("/v1/feeds", headers=staff.headers))["items"]] == [
        "member"
    ]

    # Members post and comment, managers alone announce and pin.
    assert_problem(
        await client.post(
            f"{path}/posts", json={"body": "Hear ye", "announcement": True}, headers=staff.headers
        ),
        403,
        "not-feed-manager",
    )
    assert error_fields(
        await client.post(f"{path}/posts", json={"body": "x", "pinned": True}, headers=admin.headers)
    ) == {"body.pinned"}
    chat = ok(
        await client.post(
            f"{path}/posts", json={"body": "Who has the Kowalski file?"}, headers=staff.headers
        ),
        201,
    )
    news = ok(
        await client.post(
            f"{path}/posts",
            json={"body": "Targets", "announcement": True, "pinned": True},
            headers=admin.headers,
        ),
        201,
    )
    comment = ok(
        await client.post(
            f"{path}/posts/{chat['id']}/comments", json={"body": "I do."}, headers=admin.headers
        ),
        201,
    )
    assert ok(await client.get(f"{path}/posts/{chat['id']}", headers=staff.headers))["comment_count"] == 1
    assert [
        p["id"]
        for p in ok(await client.get(f"{path}/posts", params={"pinned": "true"}, headers=staff.headers))[
            "items"
        ]
    ] == [news["id"]]
    assert [p["id"] for p in ok(await client.get(f"{path}/posts", headers=staff.headers))["items"]] == [
        news["id"],
        chat["id"],
    ]
    assert_problem(
        await client.patch(f"{path}/posts/{news['id']}", json={"pinned": False}, headers=staff.headers),
        403,
        "not-feed-manager",
    )
    assert_problem(
        await client.patch(f"{path}/posts/{news['id']}", json={"body": "x"}, headers=staff.headers),
        403,
        "not-owner",
    )
    unpinned = ok(
        await client.patch(f"{path}/posts/{news['id']}", json={"pinned": False}, headers=admin.headers)
    )
    assert unpinned["pinned"] is False and unpinned["version"] == 2
    assert_problem(
        await client.delete(f"{path}/posts/{chat['id']}/comments/{comment['id']}", headers=staff.headers),
        403,
        "not-owner",
    )

    # Managers invite and remove; the last manager stays; a member may leave.
    other = await tenants.member(acme)
    assert error_fields(
        await client.put(f"{path}/members/{customer.id}", json={}, headers=admin.headers)
    ) == {"path.member_id"}
    assert_problem(
        await client.put(f"{path}/members/{other.id}", json={}, headers=staff.headers),
        403,
        "not-feed-manager",
    )
    assert (
        ok(await client.put(f"{path}/members/{other.id}", json={}, headers=admin.headers))["member_count"]
        == 3
    )
    assert_problem(
        await client.put(f"{path}/members/{admin.id}", json={"role": "member"}, headers=admin.headers),
        409,
        "last-feed-manager",
    )
    assert_problem(
        await client.delete(f"{path}/members/{admin.id}", headers=admin.headers), 409, "last-feed-manager"
    )
    assert (await client.delete(f"{path}/members/{other.id}", headers=other.headers)).status_code == 204
    assert (await client.delete(f"{path}/members/{staff.id}", headers=admin.headers)).status_code == 204
    assert_problem(await client.get(f"{path}/posts/{chat['id']}", headers=staff.headers), 404, "not-found")
    roles = ok(await client.get(f"{path}/members", headers=admin.headers))
    assert [(m["member_id"], m["role"]) for m in roles] == [(str(admin.id), "manager")]

    # Customers and API keys have no feeds.
    assert_problem(await client.get("/v1/feeds", headers=customer.headers), 403, "staff-only")
    key = await api_key(db, tenants, acme, ["org.admin"])
    assert_problem(await client.get("/v1/feeds", headers=key), 403, "members-only")


async def test_a_feed_post_carries_attachments_only_its_members_download(
    client: AsyncClient, tenants: Tenants, acme: Tenant, admin: Member, staff: Member
) -> None:
    feed = ok(await client.post("/v1/feeds", json={"name": "Team"}, headers=admin.headers), 201)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    uploaded = ok(
        await client.post(
            "/v1/attachments", files={"file": ("chart.png", png, "image/png")}, headers=admin.headers
        ),
        201,
    )
    post = ok(
        await client.post(
            f"/v1/feeds/{feed['id']}/posts",
            json={"body": "Chart", "attachment_ids": [uploaded["id"]]},
            headers=admin.headers,
        ),
        201,
    )
    assert [a["content_type"] for a in post["attachments"]] == ["image/png"]
    again = await client.post(
        f"/v1/feeds/{feed['id']}/posts",
        json={"body": "Again", "attachment_ids": [uploaded["id"]]},
        headers=admin.headers,
    )
    assert error_fields(again) == {"body.attachment_ids[0]"}, "an upload is attached once"
    assert (
        await client.get(f"/v1/attachments/{uploaded['id']}/content", headers=admin.headers)
    ).content == png
    assert_problem(
        await client.get(f"/v1/attachments/{uploaded['id']}/content", headers=staff.headers), 404, "not-found"
    )
