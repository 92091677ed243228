"""Versions as ETags; a stale If-Match answers 412."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header

from crmapi.kit.errors import PreconditionFailed

IfMatch = Annotated[str | None, Header(description='The ETag you read, e.g. "3"; a stale one answers 412.')]

_TAG = re.compile(r'^\s*(?:W/)?"(\d{1,18})"\s*$')


def etag(version: int) -> str:
    return f'"{version}"'


class InvalidIfMatch(PreconditionFailed):
    """`If-Match` is not an ETag this API gave (a quoted version, `"3"`) nor `*`: the precondition
    cannot hold."""

    slug = "invalid-if-match"


class StaleVersion(PreconditionFailed):
    """The record changed since the caller read it (`If-Match` names an older version): read it
    again, then send the change again if it still applies."""

    slug = "stale-version"


def expected_version(if_match: str | None) -> int | None:
    """The version an If-Match header asks for; None when absent or `*`."""
    if if_match is None or if_match.strip() == "*":
        return None
    match = _TAG.match(if_match)
    if match is None:
        raise InvalidIfMatch('If-Match must be an ETag this API gave, e.g. "3".')
    return int(match.group(1))


def check_version(current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise StaleVersion(f"The record is at version {current}, not {expected}: read it again and retry.")
