"""Who may read an attachment: whoever may read what it is attached to (a live message of a
conversation in the scope, a live post or comment of one's feeds, an issue in the scope), and
its uploader while it is attached to nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, or_, select

from crmapi.access.actor import Actor
from crmapi.access.problems import MissingCapability
from crmapi.attachments.models import Attachment
from crmapi.conversations import queries as conversations
from crmapi.feeds import queries as feeds
from crmapi.issues import queries as issues
from crmapi.issues.models import Issue


def _messages(actor: Actor) -> Any:
    try:
        live = conversations.message_ids(actor, live=True)
    except MissingCapability:  # an API key without accounts.view_any reads no conversation
        return false()
    return (Attachment.owner_kind == "message") & Attachment.owner_id.in_(live)


def _issues(actor: Actor) -> Any:
    """Files answering the issues in the scope; a customer, only those it uploaded itself (an
    answer to a staff-only field stays with staff)."""
    on_issue = (Attachment.owner_kind == "issue") & Attachment.owner_id.in_(
        select(Issue.id).where(issues.scope(actor), Issue.deleted_at.is_(None))
    )
    if actor.kind == "customer":
        return on_issue & (Attachment.uploaded_by_member_id == actor.member_id)
    return on_issue


def scope(actor: Actor) -> Any:
    if actor.member_id is None:
        return (Attachment.org_id == actor.org_id) & _messages(actor)
    return (Attachment.org_id == actor.org_id) & or_(
        Attachment.owner_id.is_(None) & (Attachment.uploaded_by_member_id == actor.member_id),
        _messages(actor),
        (Attachment.owner_kind == "feed_post") & Attachment.owner_id.in_(feeds.post_ids(actor)),
        (Attachment.owner_kind == "feed_comment") & Attachment.owner_id.in_(feeds.comment_ids(actor)),
        _issues(actor),
    )
