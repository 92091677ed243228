"""Uploads: checked for size and type (the type the part claims, held to the file's first bytes),
hashed, stored through `storage`, then attached once to what the uploader posts."""

from __future__ import annotations

import hashlib
import mimetypes
import re
import unicodedata
from collections.abc import Sequence
from uuid import UUID

from fastapi import UploadFile
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.attachments import storage
from crmapi.attachments.models import Attachment
from crmapi.attachments.problems import AttachmentTooLarge, AttachmentTypeRefused
from crmapi.kit.errors import FieldError, Unprocessable
from crmapi.kit.ids import new_id

_ZIP, _OLE = (b"PK\x03\x04",), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
# The types taken, each with the first bytes its files start with (None: text, no NUL bytes).
TYPES: dict[str, tuple[bytes, ...] | None] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "text/plain": None,
    "text/csv": None,
    "application/zip": _ZIP,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _ZIP,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _ZIP,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": _ZIP,
    "application/vnd.oasis.opendocument.text": _ZIP,
    "application/vnd.oasis.opendocument.spreadsheet": _ZIP,
    "application/msword": _OLE,
    "application/vnd.ms-excel": _OLE,
}
_CHUNK = 1024 * 1024
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


def _filename(raw: str | None) -> str:
    """The name as sent, without a path, control characters or more than 255 characters."""
    name = unicodedata.normalize("NFC", (raw or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = _UNSAFE.sub("", name).strip()
    return name[:255] or "attachment"


def _content_type(claimed: str | None, filename: str) -> str:
    kind = (claimed or "").split(";", 1)[0].strip().lower()
    if kind in ("", "application/octet-stream"):
        kind = mimetypes.guess_type(filename)[0] or kind
    return kind


def _check_type(kind: str, head: bytes) -> None:
    taken = ", ".join(sorted(TYPES))
    if kind not in TYPES:
        raise AttachmentTypeRefused(f"Files of type '{kind or 'unknown'}' are not taken; these are: {taken}.")
    starts = TYPES[kind]
    fits = b"\x00" not in head if starts is None else head.startswith(starts)
    if kind == "image/webp":
        fits = fits and head[8:12] == b"WEBP"
    if not fits:
        raise AttachmentTypeRefused(f"The file's content is not {kind}, the type it was sent as.")


async def _read(file: UploadFile, limit: int) -> bytes:
    parts, size = [], 0
    while chunk := await file.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise AttachmentTooLarge(f"Attachments are limited to {limit:,} bytes.")
        parts.append(chunk)
    return b"".join(parts)


async def upload(
    session: AsyncSession, actor: Actor, file: UploadFile, store: storage.Storage, limit: int
) -> Attachment:
    """Store the file (at most `limit` bytes) and record it as the uploader's, not attached to
    anything yet."""
    assert actor.member_id is not None  # the router lets members only
    name = _filename(file.filename)
    data = await _read(file, limit)
    if not data:
        raise Unprocessable.on("body.file", "The file is empty.")
    kind = _content_type(file.content_type, name)
    _check_type(kind, data[:64] if TYPES.get(kind) else data[:8192])
    digest = hashlib.sha256(data).hexdigest()
    await store.put(actor.org_id, digest, data)
    attachment = Attachment(
        org_id=actor.org_id,
        id=new_id(),
        uploaded_by_member_id=actor.member_id,
        filename=name,
        content_type=kind,
        size=len(data),
        sha256=digest,
    )
    session.add(attachment)
    await session.flush()
    return attachment


async def attach(
    session: AsyncSession,
    actor: Actor,
    ids: Sequence[UUID],
    owner_kind: str,
    owner_id: UUID,
    field: str,
    *,
    listed: bool = True,
) -> None:
    """Attach the actor's loose uploads to the owner; 422 naming each id that is not one (the
    item of the list `field`, or with `listed` False the one id `field` holds)."""
    if not ids:
        return
    taken = await session.execute(
        update(Attachment)
        .where(
            Attachment.org_id == actor.org_id,
            Attachment.id.in_(ids),
            Attachment.uploaded_by_member_id == actor.member_id,
            Attachment.owner_id.is_(None),
        )
        .values(owner_kind=owner_kind, owner_id=owner_id)
        .returning(Attachment.id)
        .execution_options(synchronize_session=False)
    )
    done = set(taken.scalars())
    errors = [
        FieldError(
            field=f"{field}[{i}]" if listed else field,
            message=f"{a} is not an upload of yours waiting to be attached.",
        )
        for i, a in enumerate(ids)
        if a not in done
    ]
    if errors:
        raise Unprocessable("Attach files you uploaded and did not attach yet.", errors=errors)


async def of_owners(
    session: AsyncSession, owner_kind: str, owner_ids: Sequence[UUID]
) -> dict[UUID, list[Attachment]]:
    """The attachments of each owner, in upload order."""
    found: dict[UUID, list[Attachment]] = {}
    if owner_ids:
        stmt = (
            select(Attachment)
            .where(Attachment.owner_kind == owner_kind, Attachment.owner_id.in_(owner_ids))
            .order_by(Attachment.created_at, Attachment.id)
        )
        for attachment in (await session.execute(stmt)).scalars():
            found.setdefault(attachment.owner_id, []).append(attachment)  # type: ignore[arg-type]
    return found
