"""What an activity's services answer when a change is refused: declared once, served at
`/problems/{slug}` and in the contract."""

from __future__ import annotations

from crmapi.kit.errors import Conflict


class ServiceTaken(Conflict):
    """The activity already has this service; change the minutes of its line instead."""

    slug = "service-taken"
