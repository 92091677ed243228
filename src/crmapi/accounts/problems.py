"""What accounts answer when a change is refused: declared once, served at `/problems/{slug}`
and in the contract."""

from __future__ import annotations

from crmapi.kit.errors import Conflict


class PrimaryContact(Conflict):
    """The account's primary contact stays linked; choose another primary contact first."""

    slug = "primary-contact"
