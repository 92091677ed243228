"""Notes on contacts and accounts: staff add them, authors edit and delete them, history records it all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import event, select

from crmapi.kit.db import Database, bind_org
from crmapi.records.history import HistoryEntry
from crmapi.records.outbox import OutboxEvent
from tests import factories
from tests.support import NOBODY, Member, Tenant, assert_problem, error_fields

TEXT = "Called about the overdue invoice; pays on Friday."


async def contact(client: AsyncClient, who: Member) -> dict[str, Any]:
    return await factories.contact(client, who, first_name=None)


async def account(client: AsyncClient, who: Member) -> dict[str, Any]:
    return await factories.account(client, who)


def notes_of(subject: dict[str, Any], kind: str = "contact") -> str:
    return f"/v1/{kind}s/{subject['id']}/notes"


async def add(
    client: AsyncClient, who: Member, subject: dict[str, Any], body: str = TEXT, kind: str = "contact"
) -> dict[str, Any]:
    r = await client.post(notes_of(subject, kind), json={"body": body}, headers=who.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def patch(client: AsyncClient, who: Member, note: dict[str, Any], **fields: Any) -> Response:
    return await client.patch(f"/v1/notes/{note['id']}", json=fields, headers=who.headers)


async def listed(
    client: AsyncClient, who: Member, subject: dict[str, Any], kind: str = "contact", **params: Any
) -> dict[str, Any]:
    r = await client.get(notes_of(subject, kind), params=params, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def ids(client: AsyncClient, who: Member, subject: dict[str, Any], **params: Any) -> list[str]:
    return [n["id"] for n in (await listed(client, who, subject, **params))["items"]]


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements sent while the block runs."""
    sent: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)


async def rows(db: Database, tenant: Tenant, model: Any, entity_id: str) -> list[Any]:
    async with db.sessions() as session:
        await bind_org(session, tenant.org_id)
        found = await session.execute(select(model).where(model.entity_id == UUID(entity_id)))
        return list(found.scalars())


# --- create and read -------------------------------------------------------------------------


async def test_create_answers_201_with_location_etag_and_author(client: AsyncClient, admin: Member) -> None:
    anna = await contact(client, admin)
    r = await client.post(notes_of(anna), json={"body": TEXT}, headers=admin.headers)
    assert r.status_code == 201, r.text
    note = r.json()
    assert r.headers["location"] == f"/v1/notes/{note['id']}"
    assert r.headers["etag"] == '"1"'
    assert note["subject"] == "contact"
    assert note["subject_id"] == anna["id"]
    assert note["author_member_id"] == str(admin.id)
    assert note["body"] == TEXT
    assert note["created_at"] and note["version"] == 1


async def test_body_is_stripped(client: AsyncClient, admin: Member) -> None:
    note = await add(client, admin, await contact(client, admin), body="  Pays on Friday.\n ")
    assert note["body"] == "Pays on Friday."


async def test_body_of_20000_characters_is_accepted(client: AsyncClient, admin: Member) -> None:
    note = await add(client, admin, await contact(client, admin), body="x" * 20_000)
    assert len(note["body"]) == 20_000


async def test_get_returns_the_note_with_its_etag(client: AsyncClient, admin: Member) -> None:
    note = await add(client, admin, await contact(client, admin))
    r = await client.get(f"/v1/notes/{note['id']}", headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.json() == note
    assert r.headers["etag"] == '"1"'


async def test_fields_on_get_by_id(client: AsyncClient, admin: Member) -> None:
    note = await add(client, admin, await contact(client, admin))
    r = await client.get(f"/v1/notes/{note['id']}", params={"fields": "body"}, headers=admin.headers)
    assert r.json() == {"id": note["id"], "body": TEXT}


async def test_unknown_note_is_404(client: AsyncClient, admin: Member) -> None:
    assert_problem(await client.get(f"/v1/notes/{NOBODY}", headers=admin.headers), 404, "not-found")


async def test_note_on_an_unknown_contact_is_404(client: AsyncClient, admin: Member) -> None:
    r = await client.post(notes_of({"id": NOBODY}), json={"body": TEXT}, headers=admin.headers)
    assert_problem(r, 404, "not-found")


async def test_retried_create_with_the_same_key_makes_one_note(client: AsyncClient, admin: Member) -> None:
    anna = await contact(client, admin)
    headers = {**admin.headers, "Idempotency-Key": "note-1"}
    first = await client.post(notes_of(anna), json={"body": TEXT}, headers=headers)
    again = await client.post(notes_of(anna), json={"body": TEXT}, headers=headers)
    assert (again.status_code, again.json()) == (201, first.json())
    assert await ids(client, admin, anna) == [first.json()["id"]]


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({}, "body.body", id="missing"),
        pytest.param({"body": ""}, "body.body", id="empty"),
        pytest.param({"body": " \n\t "}, "body.body", id="only-whitespace"),
        pytest.param({"body": "x" * 20_001}, "body.body", id="too-long"),
        pytest.param({"body": 42}, "body.body", id="not-text"),
        pytest.param({"body": "a\u0000b"}, "body.body", id="nul"),
        pytest.param({"body": TEXT, "subject": "account"}, "body.subject", id="unknown-field"),
        pytest.param({"body": TEXT, "author_member_id": NOBODY}, "body.author_member_id", id="read-only"),
    ],
)
async def test_invalid_create_is_422_naming_the_field(
    client: AsyncClient, admin: Member, body: dict[str, Any], field: str
) -> None:
    anna = await contact(client, admin)
    r = await client.post(notes_of(anna), json=body, headers=admin.headers)
    assert field in error_fields(r)
    assert await ids(client, admin, anna) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"body": None}, "body.body", id="null"),
        pytest.param({"body": ""}, "body.body", id="empty"),
        pytest.param({"body": "x" * 20_001}, "body.body", id="too-long"),
        pytest.param({"version": 7}, "body.version", id="unknown-field"),
    ],
)
async def test_invalid_change_is_422_naming_the_field(
    client: AsyncClient, admin: Member, change: dict[str, Any], field: str
) -> None:
    note = await add(client, admin, await contact(client, admin))
    assert field in error_fields(await patch(client, admin, note, **change))


# --- list ------------------------------------------------------------------------------------


async def test_list_shows_the_contacts_notes_newest_first(client: AsyncClient, admin: Member) -> None:
    anna, other = await contact(client, admin), await contact(client, admin)
    written = [(await add(client, admin, anna, body=f"note {n}"))["id"] for n in range(3)]
    await add(client, admin, other)
    assert await ids(client, admin, anna) == written[::-1]
    assert await ids(client, admin, anna, sort="created_at") == written


async def test_list_pages_by_cursor_and_counts(client: AsyncClient, admin: Member) -> None:
    anna = await contact(client, admin)
    written = [(await add(client, admin, anna))["id"] for _ in range(3)]
    first = await listed(client, admin, anna, limit=2, count=True)
    rest = await listed(client, admin, anna, limit=2, cursor=first["next_cursor"])
    assert first["count"] == 3
    assert [n["id"] for n in first["items"] + rest["items"]] == written[::-1]
    assert rest["next_cursor"] is None


async def test_fields_choose_the_keys_of_list_items(client: AsyncClient, admin: Member) -> None:
    anna = await contact(client, admin)
    note = await add(client, admin, anna)
    page = await listed(client, admin, anna, fields="body,author_member_id")
    assert page["items"] == [{"id": note["id"], "body": TEXT, "author_member_id": str(admin.id)}]


@pytest.mark.parametrize(
    ("params", "field"), [({"sort": "body"}, "query.sort"), ({"fields": "x"}, "query.fields")]
)
async def test_invalid_list_parameter_is_422(
    client: AsyncClient, admin: Member, params: dict[str, str], field: str
) -> None:
    r = await client.get(notes_of(await contact(client, admin)), params=params, headers=admin.headers)
    assert error_fields(r) == {field}


async def test_list_of_an_unknown_contact_is_404(client: AsyncClient, admin: Member) -> None:
    assert_problem(await client.get(notes_of({"id": NOBODY}), headers=admin.headers), 404, "not-found")


async def test_listing_sends_as_many_statements_for_50_notes_as_for_5(
    client: AsyncClient, db: Database, admin: Member
) -> None:
    anna = await contact(client, admin)
    for _ in range(5):
        await add(client, admin, anna)
    with statements(db) as for_5:
        assert len((await listed(client, admin, anna, limit=200, count=True))["items"]) == 5
    for _ in range(45):
        await add(client, admin, anna)
    with statements(db) as for_50:
        assert len((await listed(client, admin, anna, limit=200, count=True))["items"]) == 50
    assert for_5
    assert len(for_50) == len(for_5)


# --- change and delete -----------------------------------------------------------------------


async def test_author_edits_the_note(client: AsyncClient, admin: Member) -> None:
    note = await add(client, admin, await contact(client, admin))
    r = await patch(client, admin, note, body="  Paid on Friday. ")
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    changed = r.json()
    assert (changed["body"], changed["version"]) == ("Paid on Friday.", 2)
    assert datetime.fromisoformat(changed["updated_at"]) > datetime.fromisoformat(note["updated_at"])
    assert changed["created_at"] == note["created_at"]


async def test_patch_without_changes_keeps_the_version(client: AsyncClient, admin: Member) -> None:
    note = await add(client, admin, await contact(client, admin))
    for change in ({}, {"body": TEXT}):
        r = await patch(client, admin, note, **change)
        assert r.status_code == 200, r.text
        assert r.headers["etag"] == '"1"'


async def test_patch_with_current_if_match_succeeds(client: AsyncClient, admin: Member) -> None:
    note = await add(client, admin, await contact(client, admin))
    r = await client.patch(
        f"/v1/notes/{note['id']}", json={"body": "Paid."}, headers={**admin.headers, "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text


async def test_patch_with_stale_if_match_is_412_and_changes_nothing(
    client: AsyncClient, admin: Member
) -> None:
    note = await add(client, admin, await contact(client, admin))
    await patch(client, admin, note, body="Paid.")
    r = await client.patch(
        f"/v1/notes/{note['id']}", json={"body": "Lost update"}, headers={**admin.headers, "If-Match": '"1"'}
    )
    assert_problem(r, 412, "stale-version")
    assert (await client.get(f"/v1/notes/{note['id']}", headers=admin.headers)).json()["body"] == "Paid."


async def test_delete_with_stale_if_match_is_412_and_keeps_it(client: AsyncClient, admin: Member) -> None:
    anna = await contact(client, admin)
    note = await add(client, admin, anna)
    await patch(client, admin, note, body="Paid.")
    r = await client.delete(f"/v1/notes/{note['id']}", headers={**admin.headers, "If-Match": '"1"'})
    assert_problem(r, 412, "stale-version")
    assert await ids(client, admin, anna) == [note["id"]]


async def test_deleted_note_answers_404_and_leaves_the_list(client: AsyncClient, admin: Member) -> None:
    anna = await contact(client, admin)
    gone, kept = await add(client, admin, anna), await add(client, admin, anna)
    r = await client.delete(f"/v1/notes/{gone['id']}", headers=admin.headers)
    assert r.status_code == 204, r.text
    for method, suffix, body in [
        ("GET", "", None),
        ("PATCH", "", {"body": "again"}),
        ("DELETE", "", None),
        ("GET", "/history", None),
    ]:
        r = await client.request(method, f"/v1/notes/{gone['id']}{suffix}", json=body, headers=admin.headers)
        assert_problem(r, 404, "not-found")
    assert await ids(client, admin, anna) == [kept["id"]]


async def test_notes_of_a_deleted_contact_answer_404(client: AsyncClient, admin: Member) -> None:
    anna = await contact(client, admin)
    note = await add(client, admin, anna)
    assert (await client.delete(f"/v1/contacts/{anna['id']}", headers=admin.headers)).status_code == 204
    assert_problem(await client.get(f"/v1/notes/{note['id']}", headers=admin.headers), 404, "not-found")
    assert_problem(await client.get(notes_of(anna), headers=admin.headers), 404, "not-found")


# --- history and events ----------------------------------------------------------------------


async def test_history_records_creation_and_edits_newest_first(client: AsyncClient, admin: Member) -> None:
    anna = await contact(client, admin)
    note = await add(client, admin, anna)
    await patch(client, admin, note, body="Paid on Friday.")
    r = await client.get(f"/v1/notes/{note['id']}/history", headers=admin.headers)
    assert r.status_code == 200, r.text
    updated, created = r.json()["items"]
    assert updated["action"] == "updated"
    assert updated["changes"] == {"body": {"old": TEXT, "new": "Paid on Friday."}}
    assert updated["actor_member_id"] == str(admin.id)
    assert created["action"] == "created"
    assert created["changes"]["body"] == {"old": None, "new": TEXT}
    assert created["changes"]["subject_id"] == {"old": None, "new": anna["id"]}


async def test_every_write_leaves_a_history_row_and_an_event(
    client: AsyncClient, db: Database, acme: Tenant
) -> None:
    admin = acme.admin
    note = await add(client, admin, await contact(client, admin))
    await patch(client, admin, note, body="Paid.")
    await patch(client, admin, note)  # nothing changes: nothing written
    assert (await client.delete(f"/v1/notes/{note['id']}", headers=admin.headers)).status_code == 204
    history = await rows(db, acme, HistoryEntry, note["id"])
    events = await rows(db, acme, OutboxEvent, note["id"])
    assert sorted(h.action for h in history) == ["created", "deleted", "updated"]
    assert {h.entity for h in history} == {"note"}
    assert sorted(e.topic for e in events) == ["note.created", "note.deleted", "note.updated"]
    assert all(e.payload["subject"] == "contact" for e in events)


# --- who may do what -------------------------------------------------------------------------


async def test_staff_reads_notes_on_their_contact_written_by_others(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    theirs = await contact(client, staff)
    note = await add(client, admin, theirs)
    assert await ids(client, staff, theirs) == [note["id"]]
    assert (await client.get(f"/v1/notes/{note['id']}", headers=staff.headers)).status_code == 200


async def test_only_the_author_may_edit(client: AsyncClient, admin: Member, staff: Member) -> None:
    theirs = await contact(client, staff)
    note = await add(client, admin, theirs)
    assert_problem(await patch(client, staff, note, body="Rewritten"), 403, "not-author")
    assert (await client.get(f"/v1/notes/{note['id']}", headers=admin.headers)).json()["body"] == TEXT


async def test_only_the_author_may_delete(client: AsyncClient, admin: Member, staff: Member) -> None:
    theirs = await contact(client, staff)
    note = await add(client, admin, theirs)
    assert_problem(await client.delete(f"/v1/notes/{note['id']}", headers=staff.headers), 403, "not-author")
    assert await ids(client, staff, theirs) == [note["id"]]


async def test_staff_author_edits_and_deletes_their_note(client: AsyncClient, staff: Member) -> None:
    own = await contact(client, staff)
    note = await add(client, staff, own)
    assert (await patch(client, staff, note, body="Paid.")).status_code == 200
    assert (await client.delete(f"/v1/notes/{note['id']}", headers=staff.headers)).status_code == 204


async def test_admin_may_delete_but_not_edit_anothers_note(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    theirs = await contact(client, staff)
    note = await add(client, staff, theirs)
    assert_problem(await patch(client, admin, note, body="Rewritten"), 403, "not-author")
    assert (await client.delete(f"/v1/notes/{note['id']}", headers=admin.headers)).status_code == 204
    assert await ids(client, staff, theirs) == []


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [("GET", "", None), ("PATCH", "", {"body": "x"}), ("DELETE", "", None), ("GET", "/history", None)],
)
async def test_staff_gets_404_for_a_note_on_a_contact_they_cannot_see(
    client: AsyncClient, admin: Member, staff: Member, method: str, suffix: str, body: dict[str, Any] | None
) -> None:
    note = await add(client, admin, await contact(client, admin))
    r = await client.request(method, f"/v1/notes/{note['id']}{suffix}", json=body, headers=staff.headers)
    assert_problem(r, 404, "not-found")


async def test_staff_cannot_list_or_add_notes_on_a_contact_they_cannot_see(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    hidden = await contact(client, admin)
    assert_problem(await client.get(notes_of(hidden), headers=staff.headers), 404, "not-found")
    r = await client.post(notes_of(hidden), json={"body": TEXT}, headers=staff.headers)
    assert_problem(r, 404, "not-found")


async def test_customer_cannot_add_notes(client: AsyncClient, admin: Member, customer: Member) -> None:
    anna = await contact(client, admin)
    r = await client.post(notes_of(anna), json={"body": TEXT}, headers=customer.headers)
    assert_problem(r, 403, "staff-only")


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"body": "Spy"}),
        ("DELETE", "", None),
        ("GET", "/history", None),
    ],
)
async def test_another_organisations_note_is_404(
    client: AsyncClient,
    admin: Member,
    globex: Tenant,
    method: str,
    suffix: str,
    body: dict[str, Any] | None,
) -> None:
    note = await add(client, globex.admin, await contact(client, globex.admin))
    r = await client.request(method, f"/v1/notes/{note['id']}{suffix}", json=body, headers=admin.headers)
    assert_problem(r, 404, "not-found")


@pytest.mark.parametrize(("method", "body"), [("GET", None), ("POST", {"body": TEXT})])
async def test_another_organisations_contact_notes_are_404(
    client: AsyncClient, admin: Member, globex: Tenant, method: str, body: dict[str, Any] | None
) -> None:
    theirs = await contact(client, globex.admin)
    await add(client, globex.admin, theirs)
    r = await client.request(method, notes_of(theirs), json=body, headers=admin.headers)
    assert_problem(r, 404, "not-found")


async def test_request_without_token_is_401(client: AsyncClient) -> None:
    assert_problem(await client.get(f"/v1/notes/{NOBODY}"), 401, "unauthorized")


# --- accounts --------------------------------------------------------------------------------


async def test_notes_on_an_account(client: AsyncClient, admin: Member) -> None:
    hurtownia = await account(client, admin)
    r = await client.post(notes_of(hurtownia, "account"), json={"body": TEXT}, headers=admin.headers)
    assert r.status_code == 201, r.text
    note = r.json()
    assert (note["subject"], note["subject_id"]) == ("account", hurtownia["id"])
    page = await listed(client, admin, hurtownia, "account")
    assert [n["id"] for n in page["items"]] == [note["id"]]
    assert (await patch(client, admin, note, body="Paid.")).status_code == 200
    assert (await client.delete(f"/v1/notes/{note['id']}", headers=admin.headers)).status_code == 204
    assert (await listed(client, admin, hurtownia, "account"))["items"] == []


async def test_account_and_contact_notes_stay_apart(client: AsyncClient, admin: Member) -> None:
    hurtownia, anna = await account(client, admin), await contact(client, admin)
    on_account = await add(client, admin, hurtownia, kind="account")
    on_contact = await add(client, admin, anna)
    assert [n["id"] for n in (await listed(client, admin, hurtownia, "account"))["items"]] == [
        on_account["id"]
    ]
    assert await ids(client, admin, anna) == [on_contact["id"]]


async def test_staff_cannot_see_notes_of_an_account_they_cannot_see(
    client: AsyncClient, admin: Member, staff: Member
) -> None:
    hidden = await account(client, admin)
    note = await add(client, admin, hidden, kind="account")
    assert_problem(await client.get(notes_of(hidden, "account"), headers=staff.headers), 404, "not-found")
    assert_problem(await client.get(f"/v1/notes/{note['id']}", headers=staff.headers), 404, "not-found")


async def test_assigned_customer_neither_reads_nor_adds_account_notes(
    client: AsyncClient, admin: Member, customer: Member
) -> None:
    hurtownia = await account(client, admin)
    r = await client.post(
        f"/v1/accounts/{hurtownia['id']}/assignments",
        json={"member_id": str(customer.id)},
        headers=admin.headers,
    )
    assert r.status_code == 204, r.text
    note = await add(client, admin, hurtownia, kind="account")
    # Notes are the organisation's internal record of its dealings; the customer sees the account.
    assert (await client.get(f"/v1/accounts/{hurtownia['id']}", headers=customer.headers)).status_code == 200
    assert_problem(
        await client.get(notes_of(hurtownia, "account"), headers=customer.headers), 403, "staff-only"
    )
    assert_problem(await client.get(f"/v1/notes/{note['id']}", headers=customer.headers), 403, "staff-only")
    r = await client.post(notes_of(hurtownia, "account"), json={"body": TEXT}, headers=customer.headers)
    assert_problem(r, 403, "staff-only")


@pytest.mark.parametrize(("method", "body"), [("GET", None), ("POST", {"body": TEXT})])
async def test_another_organisations_account_notes_are_404(
    client: AsyncClient, admin: Member, globex: Tenant, method: str, body: dict[str, Any] | None
) -> None:
    theirs = await account(client, globex.admin)
    r = await client.request(method, notes_of(theirs, "account"), json=body, headers=admin.headers)
    assert_problem(r, 404, "not-found")
