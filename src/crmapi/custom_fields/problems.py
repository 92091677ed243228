"""What custom fields answer when a definition is refused: declared once, served at
`/problems/{slug}` and in the contract."""

from __future__ import annotations

from crmapi.kit.errors import Conflict


class CustomFieldExists(Conflict):
    """The kind already has a custom field with this key."""

    slug = "custom-field-exists"
