"""Problem types of attachments."""

from __future__ import annotations

from crmapi.kit.errors import ProblemError


class AttachmentTooLarge(ProblemError):
    """The file is larger than an attachment may be (`ATTACHMENT_MAX_BYTES`, 10 MB unless the
    operator set it); nothing was stored."""

    status, slug, title = 413, "attachment-too-large", "Attachment too large"


class AttachmentTypeRefused(ProblemError):
    """The file's type is not one attachments take, or its content is not of the type it claims;
    the detail lists the types taken. Nothing was stored."""

    status, slug, title = 415, "attachment-type-refused", "Attachment type refused"


class StorageUnavailable(ProblemError):
    """The file store (an S3-compatible bucket) did not take or give the file; nothing was
    recorded. Try again later."""

    status, slug, title = 503, "storage-unavailable", "File store unavailable"
