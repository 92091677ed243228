"""What an actor may read of conversations (the seed's rule, DESIGN "Access"): staff those on the
accounts they see (`accounts.view_any`, administrators, a sales-rep record on the account, a
personal assignment, ownership or unit) and those they take part in (as a work item is its
assignee's, whatever its account); a customer those on its own accounts that it takes part in;
an API key those of every account with `accounts.view_any`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Select, and_, func, select
from sqlalchemy.sql.elements import ColumnElement

from crmapi.access.actor import Actor
from crmapi.accounts import queries as accounts
from crmapi.conversations.models import Conversation, Message, Participant, ReadMarker
from crmapi.kit.pagination import Sorting

SORTING = Sorting(
    columns={"created_at": Conversation.created_at},
    id_column=Conversation.id,
    default="-created_at",
)
MESSAGE_SORTING = Sorting(columns={"seq": Message.seq}, id_column=Message.id, default="-seq")


def takes_part(actor: Actor) -> Any:
    return Conversation.id.in_(
        select(Participant.conversation_id).where(
            Participant.org_id == actor.org_id, Participant.member_id == actor.member_id
        )
    )


def scope(actor: Actor) -> Any:
    return actor.remember("conversations.scope", _scope)


def _scope(actor: Actor) -> Any:
    mine = Conversation.org_id == actor.org_id
    on_account = Conversation.account_id.in_(accounts.visible_ids(actor))
    if actor.kind == "customer":
        return mine & on_account & takes_part(actor)
    if actor.kind == "staff":
        return mine & (on_account | takes_part(actor))
    return mine & on_account


def readable(actor: Actor) -> Select[Any]:
    return select(Conversation).where(scope(actor))


def visible_ids(actor: Actor) -> Select[Any]:
    return select(Conversation.id).where(scope(actor))


def read_seq(actor: Actor) -> ColumnElement[int]:
    """The caller's read marker on the row's conversation (0: nothing read). The default is
    taken inside the subquery: `coalesce((SELECT ...), 0)` outside it is not leakproof, so under
    row-level security PostgreSQL would not bound the count's index scan by it and would read
    every message of the conversation (bench/README.md, `make bench-talk`)."""
    return (
        select(func.coalesce(func.max(ReadMarker.seq), 0))
        .where(
            ReadMarker.org_id == Conversation.org_id,
            ReadMarker.conversation_id == Conversation.id,
            ReadMarker.member_id == actor.member_id,
        )
        .correlate(Conversation)  # also inside unread_count's count of messages
        .scalar_subquery()
    )


def unread_of(member_id: UUID | None, after: Any) -> ColumnElement[bool]:
    """A live message of someone else's after `after`: what an unread count counts."""
    return and_(
        Message.seq > after,
        Message.author_member_id.is_distinct_from(member_id),
        Message.deleted_at.is_(None),
    )


def unread_count(actor: Actor) -> ColumnElement[int]:
    """Live messages of others after the caller's marker: counted, so always exact."""
    return (
        select(func.count())
        .select_from(Message)
        .where(
            Message.org_id == Conversation.org_id,
            Message.conversation_id == Conversation.id,
            unread_of(actor.member_id, read_seq(actor)),
        )
        .scalar_subquery()
    )


def message_ids(actor: Actor, *, live: bool = False) -> Select[Any]:
    """Ids of the messages of the conversations in the actor's scope (`live`: not deleted)."""
    found = select(Message.id).where(
        Message.org_id == actor.org_id, Message.conversation_id.in_(visible_ids(actor))
    )
    return found.where(Message.deleted_at.is_(None)) if live else found


def participant_ids() -> ColumnElement[Any]:
    """The row's participants (null for none)."""
    return (
        select(func.array_agg(Participant.member_id))
        .where(Participant.org_id == Conversation.org_id, Participant.conversation_id == Conversation.id)
        .scalar_subquery()
    )


def with_reading(actor: Actor, stmt: Select[Any]) -> Select[Any]:
    """The rows with their participants and the caller's marker and unread count."""
    return stmt.add_columns(
        participant_ids().label("participant_ids"),
        read_seq(actor).label("read_seq"),
        unread_count(actor).label("unread_count"),
    )


def messages_of(conversation: Conversation) -> Select[Any]:
    return select(Message).where(
        and_(Message.org_id == conversation.org_id, Message.conversation_id == conversation.id)
    )
