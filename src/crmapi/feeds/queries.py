"""What an actor may read of feeds: those it belongs to, whatever its capabilities (feeds are
exclusive: an administrator reads only the feeds it is in). Customers and API keys belong to
none."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from crmapi.access.actor import Actor
from crmapi.feeds.models import Feed, FeedComment, FeedMember, FeedPost
from crmapi.kit.pagination import Sorting

SORTING = Sorting(
    columns={"created_at": Feed.created_at, "name": Feed.name}, id_column=Feed.id, default="name"
)
POST_SORTING = Sorting(
    columns={"created_at": FeedPost.created_at}, id_column=FeedPost.id, default="-created_at"
)
COMMENT_SORTING = Sorting(
    columns={"created_at": FeedComment.created_at}, id_column=FeedComment.id, default="created_at"
)


def feed_ids(actor: Actor) -> Select[Any]:
    return select(FeedMember.feed_id).where(
        FeedMember.org_id == actor.org_id, FeedMember.member_id == actor.member_id
    )


def scope(actor: Actor) -> Any:
    return (Feed.org_id == actor.org_id) & Feed.id.in_(feed_ids(actor))


def post_ids(actor: Actor) -> Select[Any]:
    """Live posts of the actor's feeds."""
    return select(FeedPost.id).where(
        FeedPost.org_id == actor.org_id, FeedPost.feed_id.in_(feed_ids(actor)), FeedPost.deleted_at.is_(None)
    )


def comment_ids(actor: Actor) -> Select[Any]:
    return select(FeedComment.id).where(
        FeedComment.org_id == actor.org_id,
        FeedComment.post_id.in_(post_ids(actor)),
        FeedComment.deleted_at.is_(None),
    )
