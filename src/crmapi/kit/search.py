"""`q`: folded text matched with trigram indexes, ranked with full-text prefix matches first.

Each searchable table keeps a `search_text` column (written in Python with `fold`) with a
trigram GIN index, and a generated `search_vector` (to_tsvector('simple', search_text)).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, case, func, literal
from sqlalchemy.sql.elements import ColumnElement

# NFKD leaves these letters whole; they matter for Polish and German names.
_EXTRA = str.maketrans({"ł": "l", "Ł": "l", "ß": "ss", "đ": "d", "ø": "o", "æ": "ae", "œ": "oe"})
_TOKEN = re.compile(r"[\s,;]+")


def fold(text: str) -> str:
    """Lower case, accents removed: what `search_text` holds and what `q` is compared with."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_EXTRA))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def search_text(*parts: str | Iterable[str | None] | None) -> str:
    """The folded text of a record's searchable values."""
    values: list[str] = []
    for part in parts:
        if part is None:
            continue
        if isinstance(part, str):
            values.append(part)
        else:
            values.extend(p for p in part if p)
    return fold(" ".join(values))


def tokens(q: str) -> list[str]:
    return [t for t in _TOKEN.split(fold(q)) if t][:8]


def escape_like(text: str) -> str:
    """The text as a LIKE pattern that matches it literally (with `escape="\\"`)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like(token: str) -> str:
    return "%" + escape_like(token) + "%"


def matches(text_column: Any, q: str) -> ColumnElement[bool]:
    """Every token of q appears somewhere in the record's text (served by the trigram index)."""
    words = tokens(q) or [fold(q)]
    return and_(*(text_column.like(_like(t), escape="\\") for t in words))


def relevance(text_column: Any, vector_column: Any, q: str) -> ColumnElement[float]:
    """Higher is better: whole-word prefix matches (a surname's start, a tax id) outrank substrings."""
    words = tokens(q)
    if not words:
        return literal(0.0)
    query = func.to_tsquery("simple", " & ".join(_tsquery_word(w) + ":*" for w in words))
    prefix_hit = case((vector_column.op("@@")(query), 1.0), else_=0.0)
    # The earlier the first word appears the better (names lead the text). Cheap, unlike
    # similarity(), which costs ~12 us per matching row on a record's whole text.
    early = literal(1.0) / (func.strpos(text_column, words[0]) + 1)
    return prefix_hit * 2 + func.ts_rank(vector_column, query) + early


def _tsquery_word(word: str) -> str:
    # Quoted so characters tsquery treats as operators stay plain text.
    return "'" + word.replace("'", "''").replace("\\", "\\\\") + "'"
