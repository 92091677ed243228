"""What the routes that tag one record or many share, whichever kind's router declares them
(contacts, accounts, leads, opportunities): the tag in the path, the answers and their ETag."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Response
from pydantic import AfterValidator

from crmapi.kit.concurrency import etag
from crmapi.kit.errors import problem_responses
from crmapi.kit.scalars import storable
from crmapi.tags.schemas import BulkResult, RecordTags

TagName = Annotated[
    str,
    Path(min_length=1, max_length=64, description="The tag's name (any case)."),
    AfterValidator(storable),
]

# The routes' common declaration: what they answer and, as the description, what they do.
BULK: dict[str, Any] = {
    "response_model": BulkResult,
    "responses": problem_responses(401, 403, 409, 422, 503),
    "description": "Up to 10,000 ids; each gets its own outcome, in the order sent. Tags in `add` must be\n"
    "in the catalogue already (422 on `body.add` otherwise); a record changes only when its\n"
    "tags do, and then gets a history entry and an event.",
}
ADD: dict[str, Any] = {
    "response_model": RecordTags,
    "responses": problem_responses(401, 403, 404, 409, 412, 422, 503),
    "description": "A name not yet in the catalogue is added to it. Answers the record's tags and new ETag.",
}
REMOVE: dict[str, Any] = {
    "response_model": RecordTags,
    "responses": problem_responses(401, 403, 404, 412, 422, 503),
    "description": "A tag the record does not carry changes nothing. Answers the record's tags and ETag.",
}


def answer(record: Any, response: Response) -> RecordTags:
    """The record's tags after the change, with its new ETag."""
    response.headers["ETag"] = etag(record.version)
    return RecordTags(tags=record.tags)
