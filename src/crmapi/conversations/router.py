"""HTTP for conversations on customer accounts and their messages."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response, status
from sqlalchemy import select

from crmapi.access.actor import Actor
from crmapi.access.dependencies import CurrentActor, Idempotent
from crmapi.accounts import service as accounts
from crmapi.conversations import queries, service
from crmapi.conversations.models import Conversation, Message
from crmapi.conversations.schemas import (
    ConversationCreate,
    ConversationQuery,
    ConversationRead,
    ConversationUpdate,
    MarkRead,
    MessageCreate,
    MessageQuery,
    MessageRead,
    MessageUpdate,
    ParticipantAdd,
    ReadState,
    RevisionRead,
)
from crmapi.kit import rendered
from crmapi.kit.concurrency import IfMatch, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import NotFound, problem_responses
from crmapi.kit.pagination import Page, paginate, render, render_page, select_fields, sorted_by
from crmapi.kit.routes import CrmRoute

router = APIRouter(tags=["conversations"], route_class=CrmRoute, dependencies=[Idempotent])
AccountPath = Annotated[UUID, Path(description="account id")]
ConversationPath = Annotated[UUID, Path(description="conversation id")]
MessagePath = Annotated[UUID, Path(description="message id")]
Fields = Annotated[str | None, Query(max_length=2048, description="Comma-separated fields.")]
CHANGE = problem_responses(401, 403, 404, 409, 412, 422, 503)


def _as_read(row: Any) -> dict[str, Any]:
    conversation: Conversation = row[0]
    return rendered.row(conversation) | {
        "participant_ids": sorted(row.participant_ids or [], key=str),
        "read_seq": row.read_seq,
        "unread_count": row.unread_count,
    }


async def _one(
    session: DbSession, actor: Actor, conversation_id: UUID, fields: str | None = None
) -> Response:
    stmt = queries.with_reading(actor, queries.readable(actor).where(Conversation.id == conversation_id))
    row = (await session.execute(stmt.execution_options(populate_existing=True))).first()
    if row is None:
        raise NotFound("No conversation with this id.")
    body = render(ConversationRead, _as_read(row), select_fields(ConversationRead, fields))
    return rendered.tagged(body, row[0].version, exclude_unset=fields is not None)


async def _listed(
    request: Request, session: DbSession, actor: Actor, query: ConversationQuery, account_id: UUID | None
) -> dict[str, Any]:
    select_fields(ConversationRead, query.fields)
    stmt = queries.readable(actor)
    if account_id is not None:
        stmt = stmt.where(Conversation.account_id == account_id)
    if query.status is not None:
        stmt = stmt.where(Conversation.status == query.status)
    if query.mine:
        stmt = stmt.where(queries.takes_part(actor))
    if query.unread is not None:
        stmt = stmt.where((queries.unread_count(actor) > 0) == query.unread)
    rows, cursor, count = await paginate(
        session,
        queries.with_reading(actor, stmt),
        sorting=queries.SORTING,
        params=query,
        cursors=request.app.state.cursors,
        scalars=False,
    )
    return render_page(ConversationRead, [_as_read(r) for r in rows], cursor, count, query.fields)


@router.get(
    "/v1/accounts/{account_id}/conversations",
    operation_id="list_account_conversations",
    summary="An account's conversations",
    response_model=Page[ConversationRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 404, 422, 503),
)
@sorted_by(queries.SORTING)
async def list_account_conversations(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    account_id: AccountPath,
    query: Annotated[ConversationQuery, Query()],
) -> dict[str, Any]:
    """Whoever sees the account reads its conversations (`accounts.view_any`, administrators, a
    sales-rep record on the account, a personal assignment); a customer those it takes part in.
    Each carries the caller's unread count."""
    await accounts.get(session, actor, account_id)
    return await _listed(request, session, actor, query, account_id)


@router.post(
    "/v1/accounts/{account_id}/conversations",
    operation_id="create_conversation",
    summary="Open a conversation on an account",
    status_code=status.HTTP_201_CREATED,
    response_model=ConversationRead,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def create_conversation(
    session: DbSession, actor: CurrentActor, account_id: AccountPath, body: ConversationCreate
) -> Response:
    """On an account the caller sees (404 otherwise), with staff members and the account's
    customer members taking part (anyone else is a 422 naming them); the caller takes part too.
    The participants and the Conversations notification category are told of it."""
    conversation = await service.create(session, actor, account_id, body)
    response = await _one(session, actor, conversation.id)
    response.status_code = 201
    response.headers["Location"] = f"/v1/conversations/{conversation.id}"
    return response


@router.get(
    "/v1/conversations",
    operation_id="list_conversations",
    summary="Conversations the caller sees",
    response_model=Page[ConversationRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 422, 503),
)
@sorted_by(queries.SORTING)
async def list_conversations(
    request: Request, session: DbSession, actor: CurrentActor, query: Annotated[ConversationQuery, Query()]
) -> dict[str, Any]:
    """Every account's the caller sees; `mine=true` those it takes part in, `unread=true` those
    with messages it has not read."""
    return await _listed(request, session, actor, query, None)


@router.get(
    "/v1/conversations/{conversation_id}",
    operation_id="get_conversation",
    summary="Get a conversation",
    response_model=ConversationRead,
    response_model_exclude_unset=True,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_conversation(
    session: DbSession, actor: CurrentActor, conversation_id: ConversationPath, fields: Fields = None
) -> Response:
    return await _one(session, actor, conversation_id, fields)


@router.patch(
    "/v1/conversations/{conversation_id}",
    operation_id="update_conversation",
    summary="Change a conversation's subject",
    response_model=ConversationRead,
    responses=CHANGE,
)
async def update_conversation(
    session: DbSession,
    actor: CurrentActor,
    conversation_id: ConversationPath,
    body: ConversationUpdate,
    if_match: IfMatch = None,
) -> Response:
    """Staff who see it."""
    await service.update(session, actor, conversation_id, body, expected_version(if_match))
    return await _one(session, actor, conversation_id)


@router.post(
    "/v1/conversations/{conversation_id}/close",
    operation_id="close_conversation",
    summary="Close a conversation",
    response_model=ConversationRead,
    responses=CHANGE,
)
async def close_conversation(
    session: DbSession, actor: CurrentActor, conversation_id: ConversationPath, if_match: IfMatch = None
) -> Response:
    """Staff who see it; nothing is posted in a closed conversation (409) until it is reopened."""
    await service.set_status(session, actor, conversation_id, "closed", expected_version(if_match))
    return await _one(session, actor, conversation_id)


@router.post(
    "/v1/conversations/{conversation_id}/reopen",
    operation_id="reopen_conversation",
    summary="Reopen a closed conversation",
    response_model=ConversationRead,
    responses=CHANGE,
)
async def reopen_conversation(
    session: DbSession, actor: CurrentActor, conversation_id: ConversationPath, if_match: IfMatch = None
) -> Response:
    await service.set_status(session, actor, conversation_id, "open", expected_version(if_match))
    return await _one(session, actor, conversation_id)


@router.post(
    "/v1/conversations/{conversation_id}/participants",
    operation_id="add_conversation_participant",
    summary="Add a participant",
    response_model=ConversationRead,
    responses=CHANGE,
)
async def add_conversation_participant(
    session: DbSession, actor: CurrentActor, conversation_id: ConversationPath, body: ParticipantAdd
) -> Response:
    """Staff who see it add a staff member or one of the account's customer members (422
    naming anyone else); adding one already in changes nothing."""
    await service.add_participant(session, actor, conversation_id, body.member_id)
    return await _one(session, actor, conversation_id)


@router.delete(
    "/v1/conversations/{conversation_id}/participants/{member_id}",
    operation_id="remove_conversation_participant",
    summary="Remove a participant",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def remove_conversation_participant(
    session: DbSession,
    actor: CurrentActor,
    conversation_id: ConversationPath,
    member_id: Annotated[UUID, Path(description="member id")],
) -> Response:
    """Staff who see it; a customer removed no longer sees the conversation."""
    await service.remove_participant(session, actor, conversation_id, member_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/v1/conversations/{conversation_id}/messages",
    operation_id="list_conversation_messages",
    summary="A conversation's messages",
    response_model=Page[MessageRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 404, 422, 503),
)
@sorted_by(queries.MESSAGE_SORTING)
async def list_conversation_messages(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    conversation_id: ConversationPath,
    query: Annotated[MessageQuery, Query()],
) -> dict[str, Any]:
    """Newest first by keyset (`sort=seq` for oldest first); `unread=true` the messages after the
    caller's read marker, oldest first. Deleted messages stay in the list, without their text."""
    select_fields(MessageRead, query.fields)
    conversation = await service.get(session, actor, conversation_id)
    stmt = queries.messages_of(conversation)
    if query.unread:
        marker = select(queries.read_seq(actor)).where(
            Conversation.org_id == conversation.org_id, Conversation.id == conversation.id
        )
        stmt = stmt.where(Message.seq > marker.scalar_subquery())
        query = query.model_copy(update={"sort": query.sort or "seq"})
    found, cursor, count = await paginate(
        session, stmt, sorting=queries.MESSAGE_SORTING, params=query, cursors=request.app.state.cursors
    )
    return render_page(MessageRead, await service.answers(session, found), cursor, count, query.fields)


@router.post(
    "/v1/conversations/{conversation_id}/messages",
    operation_id="post_message",
    summary="Post a message",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageRead,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def post_message(
    session: DbSession,
    actor: CurrentActor,
    conversation_id: ConversationPath,
    body: MessageCreate,
    response: Response,
) -> MessageRead:
    """A participant posts, or a staff member who sees the conversation (and so joins it); not
    in a closed conversation (409). Attach files uploaded first (`POST /v1/attachments`).
    Participants and the members mentioned are told of it."""
    message = await service.post(session, actor, conversation_id, body)
    response.headers["Location"] = f"/v1/messages/{message.id}"
    return MessageRead.model_validate((await service.answers(session, [message]))[0])


@router.post(
    "/v1/conversations/{conversation_id}/read",
    operation_id="mark_conversation_read",
    summary="Move my read marker",
    response_model=ReadState,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def mark_conversation_read(
    session: DbSession, actor: CurrentActor, conversation_id: ConversationPath, body: MarkRead
) -> ReadState:
    """To the message `seq` (the last one when left out); a marker never moves back."""
    at, unread = await service.mark_read(session, actor, conversation_id, body.seq)
    return ReadState(read_seq=at, unread_count=unread)


async def _message(session: DbSession, message: Message) -> Response:
    body = MessageRead.model_validate((await service.answers(session, [message]))[0])
    return rendered.tagged(body, message.version)


@router.patch(
    "/v1/messages/{message_id}",
    operation_id="edit_message",
    summary="Edit a message",
    response_model=MessageRead,
    responses=CHANGE,
)
async def edit_message(
    session: DbSession,
    actor: CurrentActor,
    message_id: MessagePath,
    body: MessageUpdate,
    if_match: IfMatch = None,
) -> Response:
    """Its author, in an open conversation; the earlier text is kept (`GET …/revisions`)."""
    message = await service.edit(session, actor, message_id, body.body, expected_version(if_match))
    return await _message(session, message)


@router.delete(
    "/v1/messages/{message_id}",
    operation_id="delete_message",
    summary="Delete a message",
    response_model=MessageRead,
    responses=CHANGE,
)
async def delete_message(
    session: DbSession, actor: CurrentActor, message_id: MessagePath, if_match: IfMatch = None
) -> Response:
    """Its author, or staff with `accounts.manage`: the text goes from reads, the message stays
    in its place saying who deleted it and when."""
    message = await service.delete(session, actor, message_id, expected_version(if_match))
    return await _message(session, message)


@router.get(
    "/v1/messages/{message_id}/revisions",
    operation_id="list_message_revisions",
    summary="A message's earlier texts",
    response_model=list[RevisionRead],
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def list_message_revisions(
    session: DbSession, actor: CurrentActor, message_id: MessagePath
) -> list[RevisionRead]:
    """Staff who see the message: each text it had before an edit or its deletion, oldest first."""
    return [RevisionRead.model_validate(r) for r in await service.revisions(session, actor, message_id)]
