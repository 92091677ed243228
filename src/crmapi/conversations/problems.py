"""Problem types of conversations."""

from __future__ import annotations

from crmapi.kit.errors import Conflict


class ConversationClosed(Conflict):
    """The conversation is closed: nothing is posted or edited in it until a staff member
    reopens it (`POST /v1/conversations/{id}/reopen`)."""

    slug = "conversation-closed"


class MessageDeleted(Conflict):
    """The message was deleted: its text is gone from reads and it no longer changes."""

    slug = "message-deleted"
