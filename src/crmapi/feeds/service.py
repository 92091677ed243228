"""Exclusive feeds: made by members with `feeds.manage` (who manage them), joined by the staff
members their managers invite, where managers announce (every member is told) and pin, and
members post and comment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.problems import MissingCapability, NotOwner, StaffOnly
from crmapi.attachments import service as attachments
from crmapi.feeds.models import Feed, FeedComment, FeedMember, FeedPost
from crmapi.feeds.problems import LastFeedManager, NotFeedManager
from crmapi.feeds.schemas import CommentCreate, FeedCreate, FeedUpdate, PostCreate, PostUpdate
from crmapi.identity import service as identity
from crmapi.identity.models import Member
from crmapi.identity.problems import MembersOnly
from crmapi.kit.concurrency import check_version
from crmapi.kit.errors import FieldError, NotFound, Unprocessable
from crmapi.kit.ids import new_id
from crmapi.records import history
from crmapi.records.changes import announce, announce_step

FEED, POST, COMMENT = "feed", "feed_post", "feed_comment"
MANAGER = "manager"


def staff(actor: Actor) -> UUID:
    if actor.member_id is None:
        raise MembersOnly("An API key has no feeds: sign in as a member.")
    if actor.kind != "staff":
        raise StaffOnly("Feeds are for staff members.")
    return actor.member_id


async def _check_staff(
    session: AsyncSession, member_ids: Sequence[UUID], field: str, *, indexed: bool
) -> None:
    """Each an active staff member; 422 naming every one that is not (`field[i]` when `indexed`)."""
    kinds = await identity.active_kinds(session, member_ids)
    staff = {m for m, kind in kinds.items() if kind == "staff"}
    errors = [
        FieldError(
            field=f"{field}[{i}]" if indexed else field, message=f"Member {m} is not an active staff member."
        )
        for i, m in enumerate(member_ids)
        if m not in staff
    ]
    if errors:
        raise Unprocessable("Only active staff members belong to feeds.", errors=errors)


async def get(session: AsyncSession, actor: Actor, feed_id: UUID, *, lock: bool = False) -> tuple[Feed, str]:
    """The feed and the caller's role in it; 404 unless the caller belongs to it."""
    staff(actor)
    stmt = (
        select(Feed, FeedMember.role)
        .join(FeedMember, (FeedMember.org_id == Feed.org_id) & (FeedMember.feed_id == Feed.id))
        .where(Feed.org_id == actor.org_id, Feed.id == feed_id, FeedMember.member_id == actor.member_id)
    )
    if lock:
        # Both rows: a request that waited for the lock sees the caller's role as it is now.
        stmt = stmt.with_for_update(of=[Feed, FeedMember])
    found = (await session.execute(stmt.execution_options(populate_existing=True))).first()
    if found is None:
        raise NotFound("No feed with this id.")
    return found[0], found[1]


async def managed(session: AsyncSession, actor: Actor, feed_id: UUID, *, lock: bool = True) -> Feed:
    feed, role = await get(session, actor, feed_id, lock=lock)
    if role != MANAGER:
        raise NotFeedManager("Only the feed's managers do this.")
    return feed


async def create(session: AsyncSession, actor: Actor, data: FeedCreate) -> Feed:
    me = staff(actor)
    if not actor.can("feeds.manage"):
        raise MissingCapability("Creating a feed needs 'feeds.manage'.")
    await _check_staff(session, data.member_ids, "body.member_ids", indexed=True)
    now = datetime.now(UTC)
    feed = Feed(
        org_id=actor.org_id,
        id=new_id(),
        name=data.name,
        description=data.description,
        created_by_member_id=me,
        created_at=now,
        updated_at=now,
    )
    session.add(feed)
    await session.flush()
    roles = {m: "member" for m in data.member_ids} | {me: MANAGER}
    await session.execute(
        insert(FeedMember),
        [{"org_id": actor.org_id, "feed_id": feed.id, "member_id": m, "role": r} for m, r in roles.items()],
    )
    announce(
        session,
        actor,
        feed,
        entity=FEED,
        action="created",
        changes=history.diff({}, {"name": feed.name, "description": feed.description}),
        about={"member_ids": sorted(map(str, roles))},
    )
    return feed


async def update(
    session: AsyncSession, actor: Actor, feed_id: UUID, data: FeedUpdate, expected: int | None
) -> Feed:
    feed = await managed(session, actor, feed_id)
    check_version(feed.version, expected)
    sent = data.model_dump(include=data.model_fields_set)
    changes = history.diff({k: getattr(feed, k) for k in sent}, sent)
    if changes:
        for key, value in sent.items():
            setattr(feed, key, value)
        feed.updated_at = datetime.now(UTC)
        await session.flush()
        announce(session, actor, feed, entity=FEED, action="updated", changes=changes)
    return feed


async def members(session: AsyncSession, actor: Actor, feed_id: UUID) -> list[FeedMember]:
    feed, _ = await get(session, actor, feed_id)
    stmt = (
        select(FeedMember)
        .where(FeedMember.org_id == feed.org_id, FeedMember.feed_id == feed.id)
        .order_by(FeedMember.added_at, FeedMember.member_id)
    )
    return list((await session.execute(stmt)).scalars())


async def _managers(session: AsyncSession, feed: Feed) -> set[UUID]:
    """The feed's active managers: a suspended one manages nothing, so it does not count."""
    stmt = (
        select(FeedMember.member_id)
        .join(Member, (Member.org_id == FeedMember.org_id) & (Member.id == FeedMember.member_id))
        .where(
            FeedMember.org_id == feed.org_id,
            FeedMember.feed_id == feed.id,
            FeedMember.role == MANAGER,
            Member.status == "active",
        )
    )
    return set((await session.execute(stmt)).scalars())


async def set_member(session: AsyncSession, actor: Actor, feed_id: UUID, member_id: UUID, role: str) -> bool:
    """Invite the member, or change its role; True when it was not in. The last manager stays one."""
    feed = await managed(session, actor, feed_id)
    await _check_staff(session, [member_id], "path.member_id", indexed=False)
    if role != MANAGER and await _managers(session, feed) == {member_id}:
        raise LastFeedManager("The feed's only manager stays a manager.")
    stmt = insert(FeedMember).values(org_id=actor.org_id, feed_id=feed.id, member_id=member_id, role=role)
    old = (
        await session.execute(
            select(FeedMember.role).where(
                FeedMember.org_id == feed.org_id,
                FeedMember.feed_id == feed.id,
                FeedMember.member_id == member_id,
            )
        )
    ).scalar_one_or_none()
    if old == role:
        return False
    await session.execute(
        stmt.on_conflict_do_update(index_elements=["org_id", "feed_id", "member_id"], set_={"role": role})
    )
    changes = {"role": {"old": old, "new": role}}
    if old is None:
        changes["member_id"] = {"old": None, "new": str(member_id)}
    action = "member_added" if old is None else "member_role_changed"
    await _stepped(session, actor, feed, action, changes, {"member_id": str(member_id), "role": role})
    return old is None


async def remove_member(session: AsyncSession, actor: Actor, feed_id: UUID, member_id: UUID) -> None:
    """A manager removes a member, or a member leaves; the last manager cannot go."""
    if member_id == actor.member_id:
        feed, _ = await get(session, actor, feed_id, lock=True)
    else:
        feed = await managed(session, actor, feed_id)
    if await _managers(session, feed) == {member_id}:
        raise LastFeedManager("The feed's only manager cannot leave it; make another member a manager first.")
    removed = await session.execute(
        sql_delete(FeedMember)
        .where(
            FeedMember.org_id == feed.org_id, FeedMember.feed_id == feed.id, FeedMember.member_id == member_id
        )
        .returning(FeedMember.member_id)
    )
    if removed.first() is None:
        raise NotFound("The member is not in this feed.")
    changes = {"member_id": {"old": str(member_id), "new": None}}
    await _stepped(session, actor, feed, "member_removed", changes, {"member_id": str(member_id)})


async def _stepped(
    session: AsyncSession,
    actor: Actor,
    feed: Feed,
    action: str,
    changes: dict[str, Any],
    about: dict[str, Any],
) -> None:
    """A member invited, re-roled or removed: a new version, history and `feed.updated`."""
    feed.updated_at = datetime.now(UTC)
    await session.flush()
    announce_step(session, actor, feed, entity=FEED, action=action, changes=changes, about=about)


async def post(session: AsyncSession, actor: Actor, feed_id: UUID, data: PostCreate) -> FeedPost:
    me = staff(actor)
    feed, role = await get(session, actor, feed_id)
    if (data.announcement or data.pinned) and role != MANAGER:
        raise NotFeedManager("Only the feed's managers announce and pin.")
    if data.pinned and not data.announcement:
        raise Unprocessable.on("body.pinned", "Only announcements are pinned.")
    item = FeedPost(
        org_id=actor.org_id,
        id=new_id(),
        feed_id=feed.id,
        author_member_id=me,
        body=data.body,
        announcement=data.announcement,
        pinned=data.pinned,
        created_at=datetime.now(UTC),
    )
    session.add(item)
    await session.flush()
    await attachments.attach(session, actor, data.attachment_ids, POST, item.id, "body.attachment_ids")
    announce(session, actor, item, entity=POST, action="created", about=_post_about(item))
    return item


def _post_about(item: FeedPost) -> dict[str, Any]:
    return {"feed_id": str(item.feed_id), "announcement": item.announcement}


async def get_post(
    session: AsyncSession, actor: Actor, feed_id: UUID, post_id: UUID, *, lock: bool = False
) -> tuple[FeedPost, str]:
    """A live post of a feed the caller is in, and the caller's role there."""
    _, role = await get(session, actor, feed_id)
    stmt = select(FeedPost).where(
        FeedPost.org_id == actor.org_id,
        FeedPost.feed_id == feed_id,
        FeedPost.id == post_id,
        FeedPost.deleted_at.is_(None),
    )
    if lock:
        stmt = stmt.with_for_update()
    found = (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()
    if found is None:
        raise NotFound("No post with this id in this feed.")
    return found, role


async def update_post(
    session: AsyncSession, actor: Actor, feed_id: UUID, post_id: UUID, data: PostUpdate, expected: int | None
) -> FeedPost:
    item, role = await get_post(session, actor, feed_id, post_id, lock=True)
    check_version(item.version, expected)
    sent = data.model_dump(include=data.model_fields_set, exclude_none=True)
    if "body" in sent and item.author_member_id != actor.member_id:
        raise NotOwner("Only the post's author changes its text.")
    if "pinned" in sent:
        if role != MANAGER:
            raise NotFeedManager("Only the feed's managers pin.")
        if sent["pinned"] and not item.announcement:
            raise Unprocessable.on("body.pinned", "Only announcements are pinned.")
    changes = history.diff({k: getattr(item, k) for k in sent}, sent)
    if changes:
        for key, value in sent.items():
            setattr(item, key, value)
        if "body" in changes:
            item.edited_at = datetime.now(UTC)
        await session.flush()
        announce(
            session, actor, item, entity=POST, action="updated", changes=changes, about=_post_about(item)
        )
    return item


async def delete_post(
    session: AsyncSession, actor: Actor, feed_id: UUID, post_id: UUID, expected: int | None
) -> None:
    item, role = await get_post(session, actor, feed_id, post_id, lock=True)
    check_version(item.version, expected)
    if item.author_member_id != actor.member_id and role != MANAGER:
        raise NotOwner("Only the post's author or the feed's managers delete it.")
    changes = history.diff({"body": item.body}, {"body": None})
    item.body, item.deleted_at, item.pinned = None, datetime.now(UTC), False
    await session.flush()
    announce(session, actor, item, entity=POST, action="deleted", changes=changes, about=_post_about(item))


async def comment(
    session: AsyncSession, actor: Actor, feed_id: UUID, post_id: UUID, data: CommentCreate
) -> FeedComment:
    me = staff(actor)
    item, _ = await get_post(session, actor, feed_id, post_id)
    made = FeedComment(
        org_id=actor.org_id,
        id=new_id(),
        feed_id=item.feed_id,
        post_id=item.id,
        author_member_id=me,
        body=data.body,
        created_at=datetime.now(UTC),
    )
    session.add(made)
    await session.flush()
    await attachments.attach(session, actor, data.attachment_ids, COMMENT, made.id, "body.attachment_ids")
    about = {
        "feed_id": str(item.feed_id),
        "post_id": str(item.id),
        "post_author_member_id": str(item.author_member_id),
    }
    announce(session, actor, made, entity=COMMENT, action="created", about=about)
    return made


async def delete_comment(
    session: AsyncSession, actor: Actor, feed_id: UUID, post_id: UUID, comment_id: UUID
) -> None:
    item, role = await get_post(session, actor, feed_id, post_id)
    stmt = (
        select(FeedComment)
        .where(
            FeedComment.org_id == actor.org_id,
            FeedComment.post_id == item.id,
            FeedComment.id == comment_id,
            FeedComment.deleted_at.is_(None),
        )
        .with_for_update()
    )
    made = (await session.execute(stmt)).scalar_one_or_none()
    if made is None:
        raise NotFound("No comment with this id under this post.")
    if made.author_member_id != actor.member_id and role != MANAGER:
        raise NotOwner("Only the comment's author or the feed's managers delete it.")
    changes = history.diff({"body": made.body}, {"body": None})
    made.body, made.deleted_at = None, datetime.now(UTC)
    await session.flush()
    about = {"feed_id": str(item.feed_id), "post_id": str(item.id)}
    announce(session, actor, made, entity=COMMENT, action="deleted", changes=changes, about=about)


async def comment_counts(session: AsyncSession, post_ids: Sequence[UUID]) -> dict[UUID, int]:
    if not post_ids:
        return {}
    stmt = (
        select(FeedComment.post_id, func.count())
        .where(FeedComment.post_id.in_(post_ids), FeedComment.deleted_at.is_(None))
        .group_by(FeedComment.post_id)
    )
    return {post_id: count for post_id, count in (await session.execute(stmt)).all()}
