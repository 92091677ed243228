"""Conversations on customer accounts: opened by whoever sees the account (and a customer on its
own), messages numbered under the conversation's row lock, edits and deletions that keep the
earlier text, read markers that only move forward, and the events the worker turns into
notifications (a new conversation, a message, a mention)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.problems import NotOwner, StaffOnly
from crmapi.accounts import service as accounts
from crmapi.accounts.models import AccountAssignment
from crmapi.attachments import service as attachments
from crmapi.conversations import queries
from crmapi.conversations.models import Conversation, Message, Participant, ReadMarker, Revision
from crmapi.conversations.problems import ConversationClosed, MessageDeleted
from crmapi.conversations.schemas import ConversationCreate, ConversationUpdate, MessageCreate
from crmapi.identity import service as identity
from crmapi.identity.problems import MembersOnly
from crmapi.kit import rendered
from crmapi.kit.concurrency import check_version
from crmapi.kit.errors import FieldError, NotFound, Unprocessable
from crmapi.kit.ids import new_id
from crmapi.records import history
from crmapi.records.changes import announce, announce_step

CONVERSATION, MESSAGE = "conversation", "message"


def _member(actor: Actor) -> UUID:
    if actor.member_id is None:
        raise MembersOnly("An API key cannot take part in a conversation: sign in as a member.")
    return actor.member_id


def _staff(actor: Actor) -> None:
    if actor.kind != "staff":
        raise StaffOnly("Only staff members do this.")


async def get(
    session: AsyncSession, actor: Actor, conversation_id: UUID, *, lock: bool = False, share: bool = False
) -> Conversation:
    """The conversation in the actor's scope (404 outside it), locked for a change with `lock`,
    or with `share` kept from closing (and numbering) until the transaction ends."""
    stmt = queries.readable(actor).where(Conversation.id == conversation_id)
    if lock or share:
        stmt = stmt.with_for_update(read=share and not lock)
    found: Conversation | None = (
        await session.execute(stmt.execution_options(populate_existing=True))
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("No conversation with this id.")
    return found


async def _check_participants(
    session: AsyncSession, account_id: UUID, member_ids: Sequence[UUID], field: str, *, indexed: bool = True
) -> None:
    """Each id an active staff member, or an active customer member of the account; 422 naming
    every one that is not (`field[i]` when `indexed`)."""
    kinds = await identity.active_kinds(session, member_ids)
    customers = {m for m, kind in kinds.items() if kind == "customer"}
    of_account = (
        set(
            (
                await session.execute(
                    select(AccountAssignment.member_id).where(
                        AccountAssignment.account_id == account_id, AccountAssignment.member_id.in_(customers)
                    )
                )
            ).scalars()
        )
        if customers
        else set()
    )
    errors = [
        FieldError(
            field=f"{field}[{index}]" if indexed else field,
            message=f"Member {member_id} is neither active staff nor a customer member of this account.",
        )
        for index, member_id in enumerate(member_ids)
        if kinds.get(member_id) is None or (kinds[member_id] == "customer" and member_id not in of_account)
    ]
    if errors:
        raise Unprocessable("Only staff members and the account's customer members take part.", errors=errors)


async def _join(
    session: AsyncSession, actor: Actor, conversation_id: UUID, member_ids: set[UUID]
) -> set[UUID]:
    """Add the members; the ones that were not in already."""
    if not member_ids:
        return set()
    added = await session.execute(
        insert(Participant)
        .values(
            [{"org_id": actor.org_id, "conversation_id": conversation_id, "member_id": m} for m in member_ids]
        )
        .on_conflict_do_nothing()
        .returning(Participant.member_id)
    )
    return set(added.scalars())


async def participants(session: AsyncSession, conversation: Conversation) -> set[UUID]:
    rows = await session.execute(
        select(Participant.member_id).where(
            Participant.org_id == conversation.org_id, Participant.conversation_id == conversation.id
        )
    )
    return set(rows.scalars())


async def create(
    session: AsyncSession, actor: Actor, account_id: UUID, data: ConversationCreate
) -> Conversation:
    """A conversation on an account the actor sees (404 otherwise), the actor and the named
    members taking part, and its first message when one is given."""
    me = _member(actor)
    account = await accounts.get(session, actor, account_id)
    await _check_participants(session, account.id, data.participant_ids, "body.participant_ids")
    now = datetime.now(UTC)
    conversation = Conversation(
        org_id=actor.org_id,
        id=new_id(),
        account_id=account.id,
        subject=data.subject,
        created_by_member_id=me,
        created_at=now,
        updated_at=now,
    )
    session.add(conversation)
    await session.flush()
    joined = await _join(session, actor, conversation.id, {me, *data.participant_ids})
    announce(
        session,
        actor,
        conversation,
        entity=CONVERSATION,
        action="created",
        changes=history.diff(
            {}, {"subject": conversation.subject, "participant_ids": sorted(map(str, joined))}
        ),
        about={"account_id": str(account.id), "participant_ids": sorted(map(str, joined))},
    )
    if data.message is not None:
        await _post(session, actor, conversation, data.message, "body.message", opening=True)
    return conversation


async def update(
    session: AsyncSession, actor: Actor, conversation_id: UUID, data: ConversationUpdate, expected: int | None
) -> Conversation:
    _staff(actor)
    conversation = await get(session, actor, conversation_id, lock=True)
    check_version(conversation.version, expected)
    if data.subject is None or data.subject == conversation.subject:
        return conversation
    changes = history.diff({"subject": conversation.subject}, {"subject": data.subject})
    conversation.subject = data.subject
    conversation.updated_at = datetime.now(UTC)
    await session.flush()
    announce(session, actor, conversation, entity=CONVERSATION, action="updated", changes=changes)
    return conversation


async def set_status(
    session: AsyncSession, actor: Actor, conversation_id: UUID, status: str, expected: int | None
) -> Conversation:
    """Close or reopen (staff who see it); the same status again changes nothing."""
    _staff(actor)
    conversation = await get(session, actor, conversation_id, lock=True)
    check_version(conversation.version, expected)
    if conversation.status == status:
        return conversation
    now = datetime.now(UTC)
    changes = history.diff({"status": conversation.status}, {"status": status})
    conversation.status = status
    conversation.closed_at = now if status == "closed" else None
    conversation.updated_at = now
    await session.flush()
    action = "closed" if status == "closed" else "reopened"
    announce(session, actor, conversation, entity=CONVERSATION, action=action, changes=changes)
    return conversation


async def add_participant(
    session: AsyncSession, actor: Actor, conversation_id: UUID, member_id: UUID
) -> None:
    _staff(actor)
    conversation = await get(session, actor, conversation_id, lock=True)
    await _check_participants(session, conversation.account_id, [member_id], "body.member_id", indexed=False)
    if await _join(session, actor, conversation.id, {member_id}):
        await _stepped(session, actor, conversation, "participant_added", member_id)


async def remove_participant(
    session: AsyncSession, actor: Actor, conversation_id: UUID, member_id: UUID
) -> None:
    _staff(actor)
    conversation = await get(session, actor, conversation_id, lock=True)
    removed = await session.execute(
        sql_delete(Participant)
        .where(
            Participant.org_id == conversation.org_id,
            Participant.conversation_id == conversation.id,
            Participant.member_id == member_id,
        )
        .returning(Participant.member_id)
    )
    if removed.first() is None:
        raise NotFound("The member does not take part in this conversation.")
    await _stepped(session, actor, conversation, "participant_removed", member_id)


async def _stepped(
    session: AsyncSession, actor: Actor, conversation: Conversation, action: str, member_id: UUID
) -> None:
    """A participant added or removed: a new version, history and `conversation.updated` naming
    the step and the member (whom the worker tells when added)."""
    conversation.updated_at = datetime.now(UTC)
    await session.flush()
    added = action == "participant_added"
    step = {"old": None, "new": str(member_id)} if added else {"old": str(member_id), "new": None}
    announce_step(
        session,
        actor,
        conversation,
        entity=CONVERSATION,
        action=action,
        changes={"member_id": step},
        about={"member_id": str(member_id)},
    )


async def post(session: AsyncSession, actor: Actor, conversation_id: UUID, data: MessageCreate) -> Message:
    conversation = await get(session, actor, conversation_id)
    return await _post(session, actor, conversation, data, "body")


async def _post(
    session: AsyncSession,
    actor: Actor,
    conversation: Conversation,
    data: MessageCreate,
    location: str,
    *,
    opening: bool = False,
) -> Message:
    """The next message: its number taken under the conversation's row lock (numbers have no
    gaps and follow commit order), a staff author joining the conversation, the author's marker
    moved past it; mentions must name participants."""
    me = _member(actor)
    now = datetime.now(UTC)
    numbered = await session.execute(
        sql_update(Conversation)
        .where(
            Conversation.org_id == conversation.org_id,
            Conversation.id == conversation.id,
            Conversation.status == "open",
        )
        .values(last_seq=Conversation.last_seq + 1, last_message_at=now)
        .returning(Conversation.last_seq)
        .execution_options(synchronize_session=False)
    )
    seq = numbered.scalar_one_or_none()
    if seq is None:
        raise ConversationClosed("The conversation is closed; reopen it to post.")
    if await _join(session, actor, conversation.id, {me}) and not opening:
        await _stepped(session, actor, conversation, "participant_added", me)
    # Read only when there is something to check: most messages mention nobody.
    taking_part = await participants(session, conversation) if data.mentions else set()
    outsiders = [
        FieldError(
            field=f"{location}.mentions[{i}]", message=f"Member {m} does not take part in this conversation."
        )
        for i, m in enumerate(data.mentions)
        if m not in taking_part
    ]
    if outsiders:
        raise Unprocessable("Only participants can be mentioned.", errors=outsiders)
    message = Message(
        org_id=actor.org_id,
        id=new_id(),
        conversation_id=conversation.id,
        seq=seq,
        author_member_id=me,
        body=data.body,
        mentions=list(dict.fromkeys(data.mentions)),
        created_at=now,
    )
    session.add(message)
    await session.flush()
    await attachments.attach(
        session, actor, data.attachment_ids, MESSAGE, message.id, f"{location}.attachment_ids"
    )
    await _mark(session, actor, conversation.id, seq, now)
    announce(
        session,
        actor,
        message,
        entity=MESSAGE,
        action="created",
        # The opening message is told of as the conversation itself is: one notification.
        about=_about(conversation, message) | ({"opening": True} if opening else {}),
    )
    return message


def _about(conversation: Conversation, message: Message) -> dict[str, Any]:
    return {
        "conversation_id": str(conversation.id),
        "account_id": str(conversation.account_id),
        "seq": message.seq,
        "mentions": [str(m) for m in message.mentions],
    }


async def _mark(session: AsyncSession, actor: Actor, conversation_id: UUID, seq: int, now: datetime) -> int:
    """Move the actor's marker to `seq` unless it is past it already; where it stands."""
    values = insert(ReadMarker).values(
        org_id=actor.org_id, conversation_id=conversation_id, member_id=actor.member_id, seq=seq, read_at=now
    )
    stmt = values.on_conflict_do_update(
        index_elements=["org_id", "conversation_id", "member_id"],
        set_={"seq": func.greatest(ReadMarker.seq, values.excluded.seq), "read_at": values.excluded.read_at},
    ).returning(ReadMarker.seq)
    return int((await session.execute(stmt)).scalar_one())


async def mark_read(
    session: AsyncSession, actor: Actor, conversation_id: UUID, seq: int | None
) -> tuple[int, int]:
    """The caller read up to `seq` (the last message when None): its marker and unread count."""
    _member(actor)
    conversation = await get(session, actor, conversation_id)
    if seq is not None and seq > conversation.last_seq:
        raise Unprocessable.on("body.seq", f"The conversation's last message is {conversation.last_seq}.")
    at = await _mark(
        session, actor, conversation.id, conversation.last_seq if seq is None else seq, datetime.now(UTC)
    )
    return at, await unread(session, actor, conversation, at)


async def unread(session: AsyncSession, actor: Actor, conversation: Conversation, after: int) -> int:
    counted = select(func.count()).where(
        Message.org_id == conversation.org_id,
        Message.conversation_id == conversation.id,
        queries.unread_of(actor.member_id, after),
    )
    return int((await session.execute(counted)).scalar_one())


async def message_for_change(
    session: AsyncSession, actor: Actor, message_id: UUID, expected: int | None
) -> tuple[Conversation, Message]:
    """A live message in an open conversation the actor sees, locked; 404 outside the scope."""
    stmt = (
        select(Message)
        .where(Message.id == message_id, Message.id.in_(queries.message_ids(actor)))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    message = (await session.execute(stmt)).scalar_one_or_none()
    if message is None:
        raise NotFound("No message with this id.")
    # Shared: a close waits for this change to commit, or this change sees it closed.
    conversation = await get(session, actor, message.conversation_id, share=True)
    check_version(message.version, expected)
    if message.deleted_at is not None:
        raise MessageDeleted("The message was deleted.")
    if conversation.status == "closed":
        raise ConversationClosed("The conversation is closed; reopen it to change its messages.")
    return conversation, message


async def _keep(session: AsyncSession, actor: Actor, message: Message, change: str, now: datetime) -> None:
    numbered = select(func.count()).where(
        Revision.org_id == message.org_id, Revision.message_id == message.id
    )
    count = int((await session.execute(numbered)).scalar_one())
    session.add(
        Revision(
            org_id=message.org_id,
            message_id=message.id,
            revision=count + 1,
            body=message.body or "",
            replaced_at=now,
            replaced_by_member_id=actor.member_id,
            change=change,
        )
    )


async def edit(
    session: AsyncSession, actor: Actor, message_id: UUID, body: str, expected: int | None
) -> Message:
    """The author changes the text; the earlier text becomes a revision."""
    conversation, message = await message_for_change(session, actor, message_id, expected)
    if message.author_member_id != actor.member_id:
        raise NotOwner("Only the message's author may edit it.")
    if body == message.body:
        return message
    now = datetime.now(UTC)
    changes = history.diff({"body": message.body}, {"body": body})
    await _keep(session, actor, message, "edited", now)
    message.body, message.edited_at = body, now
    await session.flush()
    announce(
        session,
        actor,
        message,
        entity=MESSAGE,
        action="updated",
        changes=changes,
        about=_about(conversation, message),
    )
    return message


async def delete(session: AsyncSession, actor: Actor, message_id: UUID, expected: int | None) -> Message:
    """The author (or staff with `accounts.manage`) removes the text; the message stays as a
    trace (who deleted it, when) and the text as its last revision."""
    conversation, message = await message_for_change(session, actor, message_id, expected)
    if message.author_member_id != actor.member_id and not (
        actor.kind == "staff" and actor.can("accounts.manage")
    ):
        raise NotOwner("Only the message's author, or 'accounts.manage', may delete it.")
    now = datetime.now(UTC)
    changes = history.diff({"body": message.body}, {"body": None})
    await _keep(session, actor, message, "deleted", now)
    message.body, message.deleted_at, message.deleted_by_member_id = None, now, actor.member_id
    await session.flush()
    announce(
        session,
        actor,
        message,
        entity=MESSAGE,
        action="deleted",
        changes=changes,
        about=_about(conversation, message),
    )
    return message


async def answers(session: AsyncSession, found: Sequence[Message]) -> list[dict[str, Any]]:
    """The messages as MessageRead takes them: with their files, none once deleted (a deleted
    message's files go with its text; `attachments.access` refuses them too)."""
    attached = await attachments.of_owners(session, MESSAGE, [m.id for m in found])
    return [rendered.row(m) | {"attachments": [] if m.deleted_at else attached.get(m.id, [])} for m in found]


async def revisions(session: AsyncSession, actor: Actor, message_id: UUID) -> list[Revision]:
    """A message's earlier texts, for staff who see it (a customer reads the message as it is)."""
    _staff(actor)
    visible = queries.message_ids(actor).where(Message.id == message_id)
    if (await session.execute(visible)).first() is None:
        raise NotFound("No message with this id.")
    stmt = (
        select(Revision)
        .where(Revision.org_id == actor.org_id, Revision.message_id == message_id)
        .order_by(Revision.revision)
    )
    return list((await session.execute(stmt)).scalars())
