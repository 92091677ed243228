"""Where attachment bytes live: a small interface, a folder under the data folder by default, or
an S3-compatible bucket (`attachments.s3`). Objects are named by organisation and content hash,
so the same file uploaded twice is stored once and an object never changes once written."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Protocol
from uuid import UUID

from crmapi.attachments.s3 import S3
from crmapi.settings import Settings


class Storage(Protocol):
    async def put(self, org_id: UUID, sha256: str, data: bytes) -> None: ...

    async def get(self, org_id: UUID, sha256: str) -> bytes: ...

    async def close(self) -> None: ...


class LocalDisk:
    """Files under `root/<org_id>/<sha256[:2]>/<sha256>`, each written whole to a temporary
    file and renamed into place, so a crash never leaves half a file under its name."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, org_id: UUID, sha256: str) -> Path:
        return self.root / str(org_id) / sha256[:2] / sha256

    async def put(self, org_id: UUID, sha256: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self._path(org_id, sha256), data)

    async def get(self, org_id: UUID, sha256: str) -> bytes:
        return await asyncio.to_thread(self._path(org_id, sha256).read_bytes)

    async def close(self) -> None:
        pass

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        if path.exists():
            return  # the same content, by its name
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def configured(settings: Settings) -> Storage:
    """The bucket when `S3_BUCKET` is set, else the data folder."""
    if settings.s3_bucket:
        return S3(
            settings.s3_endpoint_url,
            settings.s3_bucket,
            region=settings.s3_region,
            access_key=settings.s3_access_key_id,
            secret_key=settings.s3_secret_access_key,
            prefix=settings.s3_prefix,
        )
    return LocalDisk(settings.data_dir / "attachments")
