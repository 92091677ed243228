"""Round trips to PostgreSQL, counted on the wire: a TCP proxy between a server and PostgreSQL
that reads the client's side of the protocol and counts each message the client then waits on
(a simple Query, a Sync ending an extended-protocol batch, a Flush). A request's round trips are
the count's growth while it runs.

Only the counting pass goes through it: the proxy's hop is in none of the rates.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct

from crmapi.kit.embedded import free_port

_SSL_OR_GSS_REQUEST = {80877103, 80877104}
_WAITED_ON = {ord("Q"), ord("S"), ord("H")}


class RoundTrips:
    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.port = free_port()
        self.count = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> RoundTrips:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(*self.upstream)
        pipes = [
            asyncio.create_task(self._client_to_server(client_r, client_w, server_w)),
            asyncio.create_task(_copy(server_r, client_w)),
        ]
        await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        for pipe in pipes:
            pipe.cancel()
        for writer in (client_w, server_w):
            writer.close()

    async def _client_to_server(
        self, reader: asyncio.StreamReader, client: asyncio.StreamWriter, server: asyncio.StreamWriter
    ) -> None:
        # Startup: length-prefixed messages without a type byte. An SSL or GSS request, which comes
        # first, the proxy declines itself (`N`), so what follows stays plain text it can read.
        while True:
            head = await reader.readexactly(8)
            length, code = struct.unpack("!ii", head)
            rest = await reader.readexactly(length - 8)
            if code in _SSL_OR_GSS_REQUEST:
                client.write(b"N")
                await client.drain()
                continue
            server.write(head + rest)
            await server.drain()
            break
        while True:
            kind = await reader.readexactly(1)
            size = await reader.readexactly(4)
            body = await reader.readexactly(struct.unpack("!i", size)[0] - 4)
            if kind[0] in _WAITED_ON:
                self.count += 1
            server.write(kind + size + body)
            await server.drain()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
