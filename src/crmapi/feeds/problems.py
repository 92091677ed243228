"""Problem types of feeds."""

from __future__ import annotations

from crmapi.kit.errors import Conflict, Forbidden


class NotFeedManager(Forbidden):
    """Only the feed's managers announce, pin, invite and remove members, and change the feed."""

    slug = "not-feed-manager"


class LastFeedManager(Conflict):
    """A feed keeps at least one manager: make another member a manager first."""

    slug = "last-feed-manager"
