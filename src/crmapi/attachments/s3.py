"""An S3-compatible bucket as attachment storage: objects PUT and GET by path-style URL
(`<endpoint>/<bucket>/<key>`, which MinIO, Ceph, Garage and AWS all serve), each request signed
with AWS Signature Version 4. A few dozen lines of signing instead of an SDK: the two calls
needed do not justify boto3's weight in every process."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit
from uuid import UUID

import httpx

from crmapi.attachments.problems import StorageUnavailable

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def authorization(
    method: str,
    url: str,
    headers: dict[str, str],
    payload_sha256: str,
    *,
    region: str,
    access_key: str,
    secret_key: str,
    at: datetime,
) -> str:
    """The `Authorization` header of a request (SigV4, service `s3`) whose `headers` hold every
    header to sign, `host`, `x-amz-date` and `x-amz-content-sha256` among them."""
    parts = urlsplit(url)
    query = "&".join(
        sorted(
            f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
            for k, _, v in (pair.partition("=") for pair in parts.query.split("&") if pair)
        )
    )
    lowered = {name.lower(): " ".join(value.split()) for name, value in headers.items()}
    signed = sorted(lowered)
    canonical_headers = "".join(f"{name}:{lowered[name]}\n" for name in signed)
    canonical = "\n".join(
        [
            method,
            quote(parts.path or "/", safe="/-_.~"),
            query,
            canonical_headers,
            ";".join(signed),
            payload_sha256,
        ]
    )
    day = at.strftime("%Y%m%d")
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = "\n".join(
        [ALGORITHM, at.strftime("%Y%m%dT%H%M%SZ"), scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), day), region), "s3"), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"{ALGORITHM} Credential={access_key}/{scope},SignedHeaders={';'.join(signed)},Signature={signature}"
    )


class S3:
    """Objects `<prefix><org_id>/<sha256>` in `bucket` at `endpoint`."""

    def __init__(
        self,
        endpoint: str,
        bucket: str,
        *,
        region: str,
        access_key: str,
        secret_key: str,
        prefix: str = "",
        timeout: float = 30.0,
    ) -> None:
        self.base = f"{endpoint.rstrip('/')}/{bucket}/{prefix}"
        self.region, self.access_key, self.secret_key = region, access_key, secret_key
        self._client = httpx.AsyncClient(timeout=timeout)

    async def _send(self, method: str, org_id: UUID, sha256: str, body: bytes = b"") -> httpx.Response:
        url = f"{self.base}{org_id}/{sha256}"
        at = datetime.now(UTC)
        payload = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
        headers = {
            "host": urlsplit(url).netloc,
            "x-amz-date": at.strftime("%Y%m%dT%H%M%SZ"),
            "x-amz-content-sha256": payload,
        }
        headers["authorization"] = authorization(
            method,
            url,
            headers,
            payload,
            region=self.region,
            access_key=self.access_key,
            secret_key=self.secret_key,
            at=at,
        )
        try:
            return await self._client.request(method, url, content=body or None, headers=headers)
        except httpx.HTTPError as exc:
            raise StorageUnavailable(f"The file store did not answer: {type(exc).__name__}.") from exc

    async def put(self, org_id: UUID, sha256: str, data: bytes) -> None:
        answer = await self._send("PUT", org_id, sha256, data)
        if answer.status_code != 200:
            raise StorageUnavailable(f"The file store refused the file ({answer.status_code}).")

    async def get(self, org_id: UUID, sha256: str) -> bytes:
        answer = await self._send("GET", org_id, sha256)
        if answer.status_code == 404:
            raise FileNotFoundError(f"{org_id}/{sha256}")
        if answer.status_code != 200:
            raise StorageUnavailable(f"The file store answered {answer.status_code}.")
        return answer.content

    async def close(self) -> None:
        await self._client.aclose()
