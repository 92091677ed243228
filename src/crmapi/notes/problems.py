"""What notes answer when a change is refused: declared once, served at `/problems/{slug}` and
in the contract."""

from __future__ import annotations

from crmapi.kit.errors import Forbidden


class NotAuthor(Forbidden):
    """Only the note's author may change or delete it."""

    slug = "not-author"
