"""Primary keys: UUIDv7, generated in Python so a row's id is known before it is flushed."""

from uuid import UUID

import uuid_utils


def new_id() -> UUID:
    return UUID(bytes=uuid_utils.uuid7().bytes)
