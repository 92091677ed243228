"""What rating a service request answers when it is refused: declared once, served at
`/problems/{slug}` and in the contract."""

from __future__ import annotations

from crmapi.kit.errors import Conflict


class AlreadyRated(Conflict):
    """The service request was rated already; a rating is given once."""

    slug = "already-rated"


class NotCompleted(Conflict):
    """Only a completed service request can be rated."""

    slug = "not-completed"
