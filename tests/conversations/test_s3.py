"""Attachments in an S3-compatible bucket: requests signed as AWS documents Signature Version 4,
and a message's file stored in and served from a local S3-compatible server (moto's)."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from uuid import UUID

import boto3
import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from moto.server import ThreadedMotoServer

from crmapi.app import create_app
from crmapi.attachments import storage
from crmapi.attachments.problems import StorageUnavailable
from crmapi.attachments.s3 import S3, authorization
from crmapi.kit.db import Database
from crmapi.settings import Settings
from tests.support import Tenants, assert_problem, ok

PDF = b"%PDF-1.4\n% a delivery note\n%%EOF\n"


def test_a_request_is_signed_as_the_s3_documentation_signs_its_example() -> None:
    # "GET Object" in AWS's "Signature Calculations for the Authorization Header: Transferring
    # Payload in a Single Chunk", with its example credentials, date and expected signature.
    headers = {
        "Host": "examplebucket.s3.amazonaws.com",
        "Range": "bytes=0-9",
        "x-amz-content-sha256": hashlib.sha256(b"").hexdigest(),
        "x-amz-date": "20130524T000000Z",
    }
    signed = authorization(
        "GET",
        "https://examplebucket.s3.amazonaws.com/test.txt",
        headers,
        headers["x-amz-content-sha256"],
        region="us-east-1",
        access_key="AKIAIOSFODNN7EXAMPLE",
        secret_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        at=datetime(2013, 5, 24, tzinfo=UTC),
    )
    assert signed == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def bucket() -> Iterator[str]:
    """A local S3-compatible server with an empty bucket `attachments`; its endpoint."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        assert httpx.put(f"{endpoint}/attachments").status_code == 200
        yield endpoint
    finally:
        server.stop()


@pytest_asyncio.fixture
async def on_s3(db: Database, settings: Settings, bucket: str) -> AsyncIterator[FastAPI]:
    s3 = settings.model_copy(
        update={
            "s3_bucket": "attachments",
            "s3_endpoint_url": bucket,
            "s3_access_key_id": "test",
            "s3_secret_access_key": "test",
            "s3_prefix": "crm/",
        }
    )
    app = create_app(s3, background=False)
    app.state.db = db
    yield app
    await app.state.storage.close()


async def test_a_message_file_goes_to_the_bucket_and_comes_back_to_its_readers(
    on_s3: FastAPI, tenants: Tenants, bucket: str
) -> None:
    assert isinstance(on_s3.state.storage, S3)
    acme = await tenants.create("Acme")
    async with AsyncClient(transport=ASGITransport(app=on_s3), base_url="http://test") as client:
        h = acme.admin.headers
        uploaded = ok(
            await client.post(
                "/v1/attachments", files={"file": ("note.pdf", PDF, "application/pdf")}, headers=h
            ),
            201,
        )
        digest = hashlib.sha256(PDF).hexdigest()
        # The object is where the interface names it, byte for byte (read by another client).
        other = boto3.client(
            "s3",
            endpoint_url=bucket,
            region_name="us-east-1",
            aws_access_key_id="t",
            aws_secret_access_key="t",
        )
        stored = other.get_object(Bucket="attachments", Key=f"crm/{acme.org_id}/{digest}")
        assert stored["Body"].read() == PDF
        content = await client.get(f"/v1/attachments/{uploaded['id']}/content", headers=h)
        assert (content.status_code, content.content) == (200, PDF)
        outsider = await tenants.member(acme)
        assert_problem(
            await client.get(f"/v1/attachments/{uploaded['id']}/content", headers=outsider.headers),
            404,
            "not-found",
        )


async def test_an_unreachable_bucket_is_refused_as_a_503_problem(settings: Settings) -> None:
    store = storage.configured(
        settings.model_copy(
            update={
                "s3_bucket": "b",
                "s3_endpoint_url": f"http://127.0.0.1:{_free_port()}",
                "s3_access_key_id": "k",
            }
        )
    )
    try:
        with pytest.raises(StorageUnavailable, match="did not answer"):
            await store.put(UUID(int=1), "0" * 64, b"x")
    finally:
        await store.close()
