"""What converting a lead answers when it is refused: declared once, served at
`/problems/{slug}` and in the contract."""

from __future__ import annotations

from crmapi.kit.errors import Conflict


class AlreadyConverted(Conflict):
    """The lead was converted already; the answer names the contact, account and opportunity it
    made (`converted`)."""

    slug = "already-converted"


class ConversionBlocked(Conflict):
    """Converting would make a record the caller may not make or that is not valid; the detail
    says which and why."""

    slug = "conversion-blocked"


class LeadLost(Conflict):
    """A lost lead is not converted."""

    slug = "lead-lost"
