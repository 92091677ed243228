"""What the tag catalogue answers when a change is refused: declared once, served at
`/problems/{slug}` and in the contract."""

from __future__ import annotations

from crmapi.kit.errors import Conflict


class TagExists(Conflict):
    """The catalogue already has a tag of this name (names ignore case)."""

    slug = "tag-exists"
