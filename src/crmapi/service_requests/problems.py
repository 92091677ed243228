"""What service requests answer when a step is refused: declared once, served at
`/problems/{slug}` and in the contract."""

from __future__ import annotations

from crmapi.kit.errors import Conflict


class AwaitingAcceptance(Conflict):
    """The request waits for the contact to accept the answer; it moves on when they do (or the
    acceptance link is re-issued)."""

    slug = "awaiting-acceptance"


class NothingToAccept(Conflict):
    """Nothing of the service request waits for acceptance."""

    slug = "nothing-to-accept"


class NoContact(Conflict):
    """The service request has no contact to send a link to."""

    slug = "no-contact"


class OpenActivities(Conflict):
    """Activities planned for the request are still open: complete, cancel or remove them first."""

    slug = "open-activities"
