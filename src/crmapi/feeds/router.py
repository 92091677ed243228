"""HTTP for exclusive feeds, their members, posts and comments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response, status
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from crmapi.access.dependencies import CurrentActor, Idempotent
from crmapi.attachments import service as attachments
from crmapi.feeds import queries, service
from crmapi.feeds.models import Feed, FeedComment, FeedMember, FeedPost
from crmapi.feeds.schemas import (
    CommentCreate,
    CommentRead,
    FeedCreate,
    FeedMemberRead,
    FeedMemberSet,
    FeedQuery,
    FeedRead,
    FeedUpdate,
    PostCreate,
    PostQuery,
    PostRead,
    PostUpdate,
)
from crmapi.kit import rendered
from crmapi.kit.concurrency import IfMatch, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, PageParams, paginate, render_page, select_fields, sorted_by
from crmapi.kit.routes import CrmRoute

router = APIRouter(prefix="/v1/feeds", tags=["feeds"], route_class=CrmRoute, dependencies=[Idempotent])
FeedPath = Annotated[UUID, Path(description="feed id")]
PostPath = Annotated[UUID, Path(description="post id")]
MemberPath = Annotated[UUID, Path(description="member id")]
CHANGE = problem_responses(401, 403, 404, 409, 412, 422, 503)
READ = problem_responses(401, 403, 404, 422, 503)

_IN = aliased(FeedMember)
# A feed's member count, beside the caller's own membership row in a list.
_COUNT = (
    select(func.count())
    .where(_IN.org_id == Feed.org_id, _IN.feed_id == Feed.id)
    .correlate(Feed)
    .scalar_subquery()
    .label("member_count")
)


def _feed(feed: Feed, role: str | None, count: int) -> dict[str, Any]:
    return rendered.row(feed) | {
        "my_role": role,
        "member_count": count,
    }


async def _one(session: DbSession, actor: CurrentActor, feed_id: UUID, status_code: int = 200) -> Response:
    feed, role = await service.get(session, actor, feed_id)
    count = (
        await session.execute(select(_COUNT).where(Feed.org_id == feed.org_id, Feed.id == feed.id))
    ).scalar_one()
    body = FeedRead.model_validate(_feed(feed, role, count))
    return rendered.tagged(body, feed.version, status_code)


@router.get(
    "",
    operation_id="list_feeds",
    summary="My feeds",
    response_model=Page[FeedRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 422, 503),
)
@sorted_by(queries.SORTING)
async def list_feeds(
    request: Request, session: DbSession, actor: CurrentActor, query: Annotated[FeedQuery, Query()]
) -> dict[str, Any]:
    """The feeds the caller belongs to, and no other: feeds are exclusive, administrators
    included."""
    select_fields(FeedRead, query.fields)
    service.staff(actor)
    stmt = (
        select(Feed, FeedMember.role, _COUNT)
        .join(FeedMember, (FeedMember.org_id == Feed.org_id) & (FeedMember.feed_id == Feed.id))
        .where(Feed.org_id == actor.org_id, FeedMember.member_id == actor.member_id)
    )
    rows, cursor, count = await paginate(
        session, stmt, sorting=queries.SORTING, params=query, cursors=request.app.state.cursors, scalars=False
    )
    return render_page(FeedRead, [_feed(*row) for row in rows], cursor, count, query.fields)


@router.post(
    "",
    operation_id="create_feed",
    summary="Create a feed",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedRead,
    responses=problem_responses(401, 403, 422, 503),
)
async def create_feed(session: DbSession, actor: CurrentActor, body: FeedCreate) -> Response:
    """Staff with `feeds.manage`; the creator manages the feed, the members named are invited."""
    feed = await service.create(session, actor, body)
    response = await _one(session, actor, feed.id, 201)
    response.headers["Location"] = f"/v1/feeds/{feed.id}"
    return response


@router.get(
    "/{feed_id}", operation_id="get_feed", summary="Get a feed", response_model=FeedRead, responses=READ
)
async def get_feed(session: DbSession, actor: CurrentActor, feed_id: FeedPath) -> Response:
    """Its members only; 404 for everyone else."""
    return await _one(session, actor, feed_id)


@router.patch(
    "/{feed_id}",
    operation_id="update_feed",
    summary="Rename or describe a feed",
    response_model=FeedRead,
    responses=CHANGE,
)
async def update_feed(
    session: DbSession, actor: CurrentActor, feed_id: FeedPath, body: FeedUpdate, if_match: IfMatch = None
) -> Response:
    """Its managers."""
    await service.update(session, actor, feed_id, body, expected_version(if_match))
    return await _one(session, actor, feed_id)


@router.get(
    "/{feed_id}/members",
    operation_id="list_feed_members",
    summary="A feed's members",
    response_model=list[FeedMemberRead],
    responses=READ,
)
async def list_feed_members(
    session: DbSession, actor: CurrentActor, feed_id: FeedPath
) -> list[FeedMemberRead]:
    return [FeedMemberRead.model_validate(m) for m in await service.members(session, actor, feed_id)]


@router.put(
    "/{feed_id}/members/{member_id}",
    operation_id="set_feed_member",
    summary="Invite a member or change its role",
    response_model=FeedRead,
    responses=CHANGE,
)
async def set_feed_member(
    session: DbSession, actor: CurrentActor, feed_id: FeedPath, member_id: MemberPath, body: FeedMemberSet
) -> Response:
    """The feed's managers invite active staff members (422 for anyone else) and make them
    managers or members; the last manager stays one (409)."""
    await service.set_member(session, actor, feed_id, member_id, body.role)
    return await _one(session, actor, feed_id)


@router.delete(
    "/{feed_id}/members/{member_id}",
    operation_id="remove_feed_member",
    summary="Remove a member (or leave)",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def remove_feed_member(
    session: DbSession, actor: CurrentActor, feed_id: FeedPath, member_id: MemberPath
) -> Response:
    """A manager removes anyone, a member removes itself; the last manager cannot go (409).
    Removed, the member no longer sees the feed."""
    await service.remove_member(session, actor, feed_id, member_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _posts(session: DbSession, found: Sequence[FeedPost]) -> list[dict[str, Any]]:
    ids = [p.id for p in found]
    attached = await attachments.of_owners(session, service.POST, ids)
    counts = await service.comment_counts(session, ids)
    return [
        rendered.row(p) | {"attachments": attached.get(p.id, []), "comment_count": counts.get(p.id, 0)}
        for p in found
    ]


async def _post(session: DbSession, item: FeedPost, status_code: int = 200) -> Response:
    body = PostRead.model_validate((await _posts(session, [item]))[0])
    return rendered.tagged(body, item.version, status_code)


@router.get(
    "/{feed_id}/posts",
    operation_id="list_feed_posts",
    summary="A feed's posts and announcements",
    response_model=Page[PostRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 404, 422, 503),
)
@sorted_by(queries.POST_SORTING)
async def list_feed_posts(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    feed_id: FeedPath,
    query: Annotated[PostQuery, Query()],
) -> dict[str, Any]:
    """Newest first; `pinned=true` the pinned announcements. Deleted posts are left out."""
    select_fields(PostRead, query.fields)
    feed, _ = await service.get(session, actor, feed_id)
    stmt = select(FeedPost).where(
        FeedPost.org_id == feed.org_id, FeedPost.feed_id == feed.id, FeedPost.deleted_at.is_(None)
    )
    if query.announcement is not None:
        stmt = stmt.where(FeedPost.announcement == query.announcement)
    if query.pinned is not None:
        stmt = stmt.where(FeedPost.pinned == query.pinned)
    found, cursor, count = await paginate(
        session, stmt, sorting=queries.POST_SORTING, params=query, cursors=request.app.state.cursors
    )
    return render_page(PostRead, await _posts(session, found), cursor, count, query.fields)


@router.post(
    "/{feed_id}/posts",
    operation_id="create_feed_post",
    summary="Post or announce in a feed",
    status_code=status.HTTP_201_CREATED,
    response_model=PostRead,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def create_feed_post(
    session: DbSession, actor: CurrentActor, feed_id: FeedPath, body: PostCreate
) -> Response:
    """Members post; managers also announce (`announcement: true`, every member is told) and
    pin announcements."""
    item = await service.post(session, actor, feed_id, body)
    response = await _post(session, item, 201)
    response.headers["Location"] = f"/v1/feeds/{feed_id}/posts/{item.id}"
    return response


@router.get(
    "/{feed_id}/posts/{post_id}",
    operation_id="get_feed_post",
    summary="Get a post",
    response_model=PostRead,
    responses=READ,
)
async def get_feed_post(
    session: DbSession, actor: CurrentActor, feed_id: FeedPath, post_id: PostPath
) -> Response:
    item, _ = await service.get_post(session, actor, feed_id, post_id)
    return await _post(session, item)


@router.patch(
    "/{feed_id}/posts/{post_id}",
    operation_id="update_feed_post",
    summary="Edit or pin a post",
    response_model=PostRead,
    responses=CHANGE,
)
async def update_feed_post(
    session: DbSession,
    actor: CurrentActor,
    feed_id: FeedPath,
    post_id: PostPath,
    body: PostUpdate,
    if_match: IfMatch = None,
) -> Response:
    """Its author changes the text; managers pin and unpin announcements."""
    item = await service.update_post(session, actor, feed_id, post_id, body, expected_version(if_match))
    return await _post(session, item)


@router.delete(
    "/{feed_id}/posts/{post_id}",
    operation_id="delete_feed_post",
    summary="Delete a post",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 412, 422, 503),
)
async def delete_feed_post(
    session: DbSession, actor: CurrentActor, feed_id: FeedPath, post_id: PostPath, if_match: IfMatch = None
) -> Response:
    """Its author or the feed's managers; the text is kept in its history."""
    await service.delete_post(session, actor, feed_id, post_id, expected_version(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _comments(session: DbSession, found: Sequence[FeedComment]) -> list[dict[str, Any]]:
    attached = await attachments.of_owners(session, service.COMMENT, [c.id for c in found])
    return [rendered.row(c) | {"attachments": attached.get(c.id, [])} for c in found]


@router.get(
    "/{feed_id}/posts/{post_id}/comments",
    operation_id="list_feed_comments",
    summary="A post's comments",
    response_model=Page[CommentRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 404, 422, 503),
)
@sorted_by(queries.COMMENT_SORTING)
async def list_feed_comments(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    feed_id: FeedPath,
    post_id: PostPath,
    query: Annotated[PageParams, Query()],
) -> dict[str, Any]:
    """Oldest first; deleted ones are left out."""
    select_fields(CommentRead, query.fields)
    item, _ = await service.get_post(session, actor, feed_id, post_id)
    stmt = select(FeedComment).where(
        FeedComment.org_id == item.org_id, FeedComment.post_id == item.id, FeedComment.deleted_at.is_(None)
    )
    found, cursor, count = await paginate(
        session, stmt, sorting=queries.COMMENT_SORTING, params=query, cursors=request.app.state.cursors
    )
    return render_page(CommentRead, await _comments(session, found), cursor, count, query.fields)


@router.post(
    "/{feed_id}/posts/{post_id}/comments",
    operation_id="create_feed_comment",
    summary="Comment on a post",
    status_code=status.HTTP_201_CREATED,
    response_model=CommentRead,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def create_feed_comment(
    session: DbSession,
    actor: CurrentActor,
    feed_id: FeedPath,
    post_id: PostPath,
    body: CommentCreate,
    response: Response,
) -> CommentRead:
    """Any member of the feed."""
    made = await service.comment(session, actor, feed_id, post_id, body)
    response.headers["Location"] = f"/v1/feeds/{feed_id}/posts/{post_id}/comments"
    return CommentRead.model_validate((await _comments(session, [made]))[0])


@router.delete(
    "/{feed_id}/posts/{post_id}/comments/{comment_id}",
    operation_id="delete_feed_comment",
    summary="Delete a comment",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def delete_feed_comment(
    session: DbSession,
    actor: CurrentActor,
    feed_id: FeedPath,
    post_id: PostPath,
    comment_id: Annotated[UUID, Path(description="comment id")],
) -> Response:
    """Its author or the feed's managers."""
    await service.delete_comment(session, actor, feed_id, post_id, comment_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
