"""Words in messages and summaries."""

from __future__ import annotations


def a(noun: str, *, start: bool = False) -> str:
    """The noun with its indefinite article: "a lead", "an activity" ("An activity" to start a
    sentence)."""
    article = "an" if noun[0] in "aeiou" else "a"
    return f"{article.capitalize() if start else article} {noun}"
