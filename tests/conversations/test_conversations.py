"""Conversations on customer accounts, tried as a rep and its customer would: who sees them,
messages, edits, deletions, read markers and unread counts, attachments, and the inbox the
worker fills."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import pytest
from bench.receiver import receiving
from httpx import AsyncClient

from crmapi.kit.db import Database
from tests.events.test_webhooks import api, eventually, fast, running, subscribe
from tests.permissions import api_key, work_as_rep
from tests.support import Member, Tenant, Tenants, assert_problem, error_fields, ok

__all__ = ["api", "fast", "running"]  # fixtures this module uses from the webhooks' tests
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def account_of_rep(
    client: AsyncClient, db: Database, tenants: Tenants, tenant: Tenant, code: str
) -> str:
    """A debtor pushed by the ERP carrying sales-rep record `code`."""
    erp = await api_key(db, tenants, tenant, ["integrations.push"])
    ok(
        await client.post(
            "/v1/integrations/erp/sales-reps", json={"records": [{"code": code, "name": code}]}, headers=erp
        )
    )
    debtor = {"code": f"D-{code}", "name": f"Customer of {code}", "sales_rep_codes": [code]}
    pushed = ok(await client.post("/v1/integrations/erp/debtors", json={"records": [debtor]}, headers=erp))
    account_id: str = pushed["results"][0]["id"]
    return account_id


async def assign(client: AsyncClient, tenant: Tenant, account_id: str, member: Member) -> None:
    r = await client.post(
        f"/v1/accounts/{account_id}/assignments",
        json={"member_id": str(member.id)},
        headers=tenant.admin.headers,
    )
    assert r.status_code == 204, r.text


async def upload(client: AsyncClient, who: Member, name: str, data: bytes, kind: str) -> Any:
    return await client.post("/v1/attachments", files={"file": (name, data, kind)}, headers=who.headers)


@pytest.mark.committed
async def test_a_rep_and_its_customer_talk_and_both_inboxes_and_counts_follow(
    api: AsyncClient, committed_tenants: Tenants, committed_db: Database, running: None
) -> None:
    acme = await committed_tenants.create()
    rep, other_rep = await committed_tenants.member(acme), await committed_tenants.member(acme)
    customer = await committed_tenants.member(acme, kind="customer")
    await work_as_rep(committed_db, acme, rep, "R1")
    await work_as_rep(committed_db, acme, other_rep, "R2")
    account_id = await account_of_rep(api, committed_db, committed_tenants, acme, "R1")
    await assign(api, acme, account_id, customer)

    # The rep opens a conversation with the customer.
    opened = ok(
        await api.post(
            f"/v1/accounts/{account_id}/conversations",
            json={
                "subject": "Delivery of order 118",
                "participant_ids": [str(customer.id)],
                "message": {"body": "Your pallets ship on Monday."},
            },
            headers=rep.headers,
        ),
        201,
    )
    conversation = f"/v1/conversations/{opened['id']}"
    assert sorted(opened["participant_ids"]) == sorted([str(rep.id), str(customer.id)])
    assert (opened["last_seq"], opened["read_seq"], opened["unread_count"]) == (1, 1, 0)

    # The customer sees it with one unread message, and replies with an attachment.
    [seen] = ok(await api.get("/v1/conversations", headers=customer.headers))["items"]
    assert (seen["id"], seen["unread_count"]) == (opened["id"], 1)
    uploaded = ok(await upload(api, customer, "note.pdf", PDF, "application/pdf"), 201)
    assert uploaded["sha256"] == hashlib.sha256(PDF).hexdigest() and uploaded["owner_id"] is None
    reply = ok(
        await api.post(
            f"{conversation}/messages",
            json={"body": "Thanks, see the note.", "attachment_ids": [uploaded["id"]]},
            headers=customer.headers,
        ),
        201,
    )
    assert reply["seq"] == 2 and [a["id"] for a in reply["attachments"]] == [uploaded["id"]]

    # The rep's inbox gains one notification (the reply), and the conversation one unread.
    async def told(who: Member, count: int) -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = ok(await api.get("/v1/me/notifications", headers=who.headers))["items"]
        return items if len(items) >= count else None

    [note] = await eventually(lambda: told(rep, 1))
    await asyncio.sleep(0.3)  # anything more would have come with it
    assert (note["type"], note["category"], note["details"]["conversation_id"]) == (
        "message.created",
        "CONVERSATIONS",
        opened["id"],
    )
    customer_told = await eventually(lambda: told(customer, 1))
    # The customer heard of the new conversation once (its opening message is part of it), and
    # nothing of its own reply.
    assert [n["type"] for n in customer_told] == ["conversation.created"]
    assert ok(await api.get(conversation, headers=rep.headers))["unread_count"] == 1
    assert ok(await api.get(conversation, headers=customer.headers))["unread_count"] == 0

    # Both mark read: every count drops to 0.
    assert ok(await api.post(f"{conversation}/read", json={}, headers=rep.headers)) == {
        "read_seq": 2,
        "unread_count": 0,
    }
    ok(await api.post("/v1/me/notifications/read", json={}, headers=rep.headers))
    ok(await api.post("/v1/me/notifications/read", json={}, headers=customer.headers))
    for who in (rep, customer):
        assert ok(await api.get(conversation, headers=who.headers))["unread_count"] == 0
        assert ok(await api.get("/v1/me/notifications/unread", headers=who.headers))["total"] == 0

    # The file reaches those who read the message, byte for byte; another rep gets 404 for both.
    content = await api.get(f"/v1/attachments/{uploaded['id']}/content", headers=rep.headers)
    assert content.status_code == 200 and content.content == PDF
    assert content.headers["content-type"] == "application/pdf"
    assert content.headers["content-disposition"].startswith("attachment;")
    assert_problem(await api.get(conversation, headers=other_rep.headers), 404, "not-found")
    assert_problem(
        await api.get(f"/v1/attachments/{uploaded['id']}/content", headers=other_rep.headers),
        404,
        "not-found",
    )
    assert_problem(await api.get(f"{conversation}/messages", headers=other_rep.headers), 404, "not-found")
    assert (
        ok(await api.get(f"/v1/accounts/{account_id}/conversations", headers=rep.headers))["items"][0]["id"]
        == opened["id"]
    )
    assert_problem(
        await api.get(f"/v1/accounts/{account_id}/conversations", headers=other_rep.headers), 404, "not-found"
    )

    # The same events reach the change feed, for those who see the conversation only.
    def changes(who: Member) -> Any:
        return api.get("/v1/changes", params={"kinds": "conversation,message"}, headers=who.headers)

    seen_changes = [(c["type"], c["record_id"]) for c in ok(await changes(rep))["items"]]
    assert ("conversation.created", opened["id"]) in seen_changes
    assert ("message.created", reply["id"]) in seen_changes
    assert ok(await changes(other_rep))["items"] == []

    # A customer no longer assigned to the account loses the conversation and hears no more of it.
    r = await api.delete(f"/v1/accounts/{account_id}/assignments/{customer.id}", headers=acme.admin.headers)
    assert r.status_code == 204, r.text
    ok(await api.post(f"{conversation}/messages", json={"body": "Anything else?"}, headers=rep.headers), 201)
    await asyncio.sleep(1)
    assert_problem(await api.get(conversation, headers=customer.headers), 404, "not-found")
    assert ok(await api.get("/v1/me/notifications/unread", headers=customer.headers))["total"] == 0


async def test_only_staff_and_the_accounts_customers_take_part_and_bad_input_writes_nothing(
    client: AsyncClient, db: Database, tenants: Tenants, acme: Tenant, admin: Member
) -> None:
    account_id = await account_of_rep(client, db, tenants, acme, "R1")
    mine, stranger = await tenants.member(acme, kind="customer"), await tenants.member(acme, kind="customer")
    staff = await tenants.member(acme)
    await assign(client, acme, account_id, mine)
    path = f"/v1/accounts/{account_id}/conversations"

    bad = await client.post(
        path,
        json={
            "subject": "Terms",
            "participant_ids": [str(staff.id), str(stranger.id)],
            "message": {"body": "Hi"},
        },
        headers=admin.headers,
    )
    assert error_fields(bad) == {"body.participant_ids[1]"} and str(stranger.id) in bad.text
    too_long = await client.post(
        path, json={"subject": "Terms", "message": {"body": "x" * 10_001}}, headers=admin.headers
    )
    assert error_fields(too_long) == {"body.message.body"}
    outsider = await client.post(
        path,
        json={"subject": "Terms", "message": {"body": "Hi", "mentions": [str(staff.id)]}},
        headers=admin.headers,
    )
    assert error_fields(outsider) == {"body.message.mentions[0]"}
    not_mine = await client.post(
        path,
        json={"subject": "Terms", "message": {"body": "Hi", "attachment_ids": [str(staff.id)]}},
        headers=admin.headers,
    )
    assert error_fields(not_mine) == {"body.message.attachment_ids[0]"}
    assert ok(await client.get(path, headers=admin.headers))["items"] == [], "nothing half-written"

    made = ok(
        await client.post(
            path, json={"subject": "Terms", "participant_ids": [str(mine.id)]}, headers=admin.headers
        ),
        201,
    )
    conversation = f"/v1/conversations/{made['id']}"
    assert made["last_seq"] == 0
    # A customer reads only its own account's conversations it takes part in.
    assert ok(await client.get(conversation, headers=mine.headers))["subject"] == "Terms"
    assert_problem(await client.get(conversation, headers=stranger.headers), 404, "not-found")
    assert_problem(await client.post(f"{conversation}/close", headers=mine.headers), 403, "staff-only")
    # An API key reads with accounts.view_any, and posts nothing.
    reader = await api_key(db, tenants, acme, ["accounts.view_any"])
    assert ok(await client.get(conversation, headers=reader))["id"] == made["id"]
    assert_problem(
        await client.post(f"{conversation}/messages", json={"body": "x"}, headers=reader), 403, "members-only"
    )
    blind = await api_key(db, tenants, acme, ["integrations.push"])
    assert_problem(await client.get(conversation, headers=blind), 403, "missing-capability")

    # Closed, it takes no message; reopened, it does.
    closed = ok(await client.post(f"{conversation}/close", headers={**admin.headers, "If-Match": '"1"'}))
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    assert_problem(
        await client.post(f"{conversation}/messages", json={"body": "x"}, headers=mine.headers),
        409,
        "conversation-closed",
    )
    assert ok(await client.get(conversation, headers=admin.headers))["last_seq"] == 0
    ok(await client.post(f"{conversation}/reopen", headers=admin.headers))
    ok(await client.post(f"{conversation}/messages", json={"body": "x"}, headers=mine.headers), 201)

    # Participants: a stranger is refused by name; a staff member joins and leaves.
    refused = await client.post(
        f"{conversation}/participants", json={"member_id": str(stranger.id)}, headers=admin.headers
    )
    assert error_fields(refused) == {"body.member_id"}
    added = ok(
        await client.post(
            f"{conversation}/participants", json={"member_id": str(staff.id)}, headers=admin.headers
        )
    )
    assert str(staff.id) in added["participant_ids"]
    r = await client.delete(f"{conversation}/participants/{mine.id}", headers=admin.headers)
    assert r.status_code == 204
    assert_problem(await client.get(conversation, headers=mine.headers), 404, "not-found")


async def test_edits_keep_the_earlier_text_and_a_deletion_leaves_a_trace(
    client: AsyncClient, db: Database, tenants: Tenants, acme: Tenant, admin: Member
) -> None:
    account_id = await account_of_rep(client, db, tenants, acme, "R1")
    staff = await tenants.member(acme)
    made = ok(
        await client.post(
            f"/v1/accounts/{account_id}/conversations",
            json={"subject": "Prices", "participant_ids": [str(staff.id)], "message": {"body": "First"}},
            headers=admin.headers,
        ),
        201,
    )
    messages = ok(await client.get(f"/v1/conversations/{made['id']}/messages", headers=admin.headers))[
        "items"
    ]
    path = f"/v1/messages/{messages[0]['id']}"
    assert_problem(
        await client.patch(path, json={"body": "Mine now"}, headers=staff.headers), 403, "not-owner"
    )
    assert_problem(
        await client.patch(path, json={"body": "Second"}, headers={**admin.headers, "If-Match": '"9"'}),
        412,
        "stale-version",
    )
    edited = ok(await client.patch(path, json={"body": "Second"}, headers=admin.headers))
    assert (edited["body"], edited["version"]) == ("Second", 2) and edited["edited_at"] is not None
    ok(await client.patch(path, json={"body": "Third"}, headers=admin.headers))
    deleted = ok(await client.delete(path, headers=admin.headers))
    assert deleted["body"] is None and deleted["deleted_by_member_id"] == str(admin.id)
    assert_problem(
        await client.patch(path, json={"body": "Back"}, headers=admin.headers), 409, "message-deleted"
    )
    revisions = ok(await client.get(f"{path}/revisions", headers=admin.headers))
    assert [(r["revision"], r["body"], r["change"]) for r in revisions] == [
        (1, "First", "edited"),
        (2, "Second", "edited"),
        (3, "Third", "deleted"),
    ]
    [listed] = ok(await client.get(f"/v1/conversations/{made['id']}/messages", headers=staff.headers))[
        "items"
    ]
    assert listed["body"] is None and listed["deleted_at"] is not None and listed["seq"] == 1


async def test_messages_page_by_keyset_both_ways_and_since_the_read_marker(
    client: AsyncClient, db: Database, tenants: Tenants, acme: Tenant, admin: Member
) -> None:
    account_id = await account_of_rep(client, db, tenants, acme, "R1")
    staff = await tenants.member(acme)
    made = ok(
        await client.post(
            f"/v1/accounts/{account_id}/conversations",
            json={"subject": "Many", "participant_ids": [str(staff.id)]},
            headers=admin.headers,
        ),
        201,
    )
    path = f"/v1/conversations/{made['id']}"
    for n in range(1, 8):
        ok(await client.post(f"{path}/messages", json={"body": f"m{n}"}, headers=admin.headers), 201)
    assert ok(await client.post(f"{path}/read", json={"seq": 3}, headers=staff.headers))["unread_count"] == 4
    # A marker never moves back, and cannot pass the last message.
    assert ok(await client.post(f"{path}/read", json={"seq": 2}, headers=staff.headers))["read_seq"] == 3
    assert error_fields(await client.post(f"{path}/read", json={"seq": 8}, headers=staff.headers)) == {
        "body.seq"
    }

    async def walk(**params: Any) -> list[int]:
        seqs: list[int] = []
        cursor = None
        while True:
            page = ok(
                await client.get(
                    f"{path}/messages",
                    params={**params, "limit": 3, **({"cursor": cursor} if cursor else {})},
                    headers=staff.headers,
                )
            )
            seqs += [m["seq"] for m in page["items"]]
            if not (cursor := page["next_cursor"]):
                return seqs

    assert await walk() == [7, 6, 5, 4, 3, 2, 1]
    assert await walk(sort="seq") == [1, 2, 3, 4, 5, 6, 7]
    assert await walk(unread="true") == [4, 5, 6, 7]
    assert await walk(unread="true", sort="-seq") == [7, 6, 5, 4]
    unread = ok(await client.get("/v1/conversations", params={"unread": "true"}, headers=staff.headers))[
        "items"
    ]
    assert [(c["id"], c["unread_count"]) for c in unread] == [(made["id"], 4)]
    assert (
        ok(await client.get("/v1/conversations", params={"unread": "true"}, headers=admin.headers))["items"]
        == []
    )


async def test_attachments_over_the_limit_or_of_a_refused_type_are_refused_and_nothing_is_kept(
    client: AsyncClient, tenants: Tenants, acme: Tenant, admin: Member
) -> None:
    big = await upload(client, admin, "big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "application/pdf")
    assert_problem(big, 413, "attachment-too-large")
    assert_problem(
        await upload(client, admin, "run.exe", b"MZ\x90\x00", "application/x-msdownload"),
        415,
        "attachment-type-refused",
    )
    # A file must be what it claims to be.
    assert_problem(
        await upload(client, admin, "fake.png", b"MZ\x90\x00", "image/png"), 415, "attachment-type-refused"
    )
    assert error_fields(await upload(client, admin, "empty.txt", b"", "text/plain")) == {"body.file"}
    assert error_fields(await client.post("/v1/attachments", headers=admin.headers)) == {"body.file"}
    text = ok(await upload(client, admin, "../../etc/notes.txt", "zażółć\n".encode(), "text/plain"), 201)
    assert text["filename"] == "notes.txt" and text["content_type"] == "text/plain"
    # Until attached, only its uploader reads it.
    staff = await tenants.member(acme)
    assert_problem(await client.get(f"/v1/attachments/{text['id']}", headers=staff.headers), 404, "not-found")
    assert ok(await client.get(f"/v1/attachments/{text['id']}", headers=admin.headers))["size"] == len(
        "zażółć\n".encode()
    )


@pytest.mark.committed
async def test_unread_counts_stay_exact_under_20_concurrent_posters(
    api: AsyncClient, committed_tenants: Tenants, committed_db: Database
) -> None:
    acme = await committed_tenants.create()
    posters = [await committed_tenants.member(acme) for _ in range(20)]
    reader = await committed_tenants.member(acme)
    account_id = await account_of_rep(api, committed_db, committed_tenants, acme, "R1")
    made = ok(
        await api.post(
            f"/v1/accounts/{account_id}/conversations",
            json={"subject": "Busy", "participant_ids": [str(m.id) for m in [*posters, reader]]},
            headers=acme.admin.headers,
        ),
        201,
    )
    path = f"/v1/conversations/{made['id']}"
    each = 5

    async def post_all(who: Member, marker_every: int) -> None:
        for n in range(each):
            ok(await api.post(f"{path}/messages", json={"body": f"{who.id} {n}"}, headers=who.headers), 201)
            if n % marker_every == 0:
                ok(await api.post(f"{path}/read", json={}, headers=who.headers))

    await asyncio.gather(*(post_all(m, 1 + i % 3) for i, m in enumerate(posters)))
    total = len(posters) * each
    seqs: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"sort": "seq", "limit": 200, **({"cursor": cursor} if cursor else {})}
        page = ok(await api.get(f"{path}/messages", params=params, headers=reader.headers))
        seqs += [m["seq"] for m in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seqs == list(range(1, total + 1)), "numbers without gaps, in order"
    assert ok(await api.get(path, headers=reader.headers))["unread_count"] == total
    for poster in posters:
        answer = ok(await api.get(path, headers=poster.headers))
        counted = ok(
            await api.get(f"{path}/messages", params={"unread": "true", "limit": 200}, headers=poster.headers)
        )
        others = [m for m in counted["items"] if m["author_member_id"] != str(poster.id)]
        assert answer["unread_count"] == len(others), "the count is the messages of others after the marker"
    assert ok(await api.post(f"{path}/read", json={}, headers=reader.headers)) == {
        "read_seq": total,
        "unread_count": 0,
    }


@pytest.mark.committed
async def test_a_webhook_hears_a_message_as_its_readers_read_it(
    api: AsyncClient, committed_tenants: Tenants, committed_db: Database, running: None
) -> None:
    acme = await committed_tenants.create()
    account_id = await account_of_rep(api, committed_db, committed_tenants, acme, "R1")
    made = ok(
        await api.post(
            f"/v1/accounts/{account_id}/conversations", json={"subject": "Terms"}, headers=acme.admin.headers
        ),
        201,
    )
    with receiving() as receiver:
        await subscribe(api, acme, receiver.url, event_types=["message.*"])
        posted = ok(
            await api.post(
                f"/v1/conversations/{made['id']}/messages",
                json={"body": "Net 30?"},
                headers=acme.admin.headers,
            ),
            201,
        )
        [got] = await asyncio.to_thread(receiver.wait_for, 1)
    assert (got.event["type"], got.event["record_id"]) == ("message.created", posted["id"])
    assert got.event["data"] == posted
