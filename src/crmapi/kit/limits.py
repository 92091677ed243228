"""Request bodies over 20 MB answer 413 before they are read whole; bulk calls take 10,000 records."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crmapi.kit.errors import PayloadTooLarge, problem_response

MAX_BODY_BYTES = 20 * 1024 * 1024
# Records (or ids) in one bulk call (DESIGN, "Bulk"); larger loads are for import jobs.
MAX_BULK = 10_000


class BodySizeLimit:
    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        too_large = PayloadTooLarge(f"Request bodies are limited to {self.limit // (1024 * 1024)} MB.")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await problem_response(too_large)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # FastAPI's body reader turns any other exception into a 400.
                    raise HTTPException(413, too_large.detail)
            return message

        await self.app(scope, counted, send)
