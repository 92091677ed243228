"""`python -m bench.same [BASE]`: every read route answers here as it does at BASE (default HEAD).

Both revisions serve the same database of demo data, side by side, with the same signing key.
The reads are walked here (`bench.reads`) as the administrator, a sales rep and a customer, and
each is asked of both servers: status, JSON value, ETag and content type must be equal; a
`next_cursor` is compared as present or absent (each server's cursor is followed on its own).
BASE's code runs from a git worktree with this checkout's installed dependencies.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx

from bench import database, reads, server
from bench.run import demo_data, progress

NAME = "crmapi_same"
ROOT = Path(__file__).resolve().parents[1]
STATE = database.STATE / "same"


async def compare(base: str, contacts: int, accounts: int) -> list[str]:
    """The reads whose answers differ, each with what differs; empty when all are the same."""
    server_url, source = await asyncio.to_thread(database.server_url)
    progress(f"same: PostgreSQL {source}; creating {NAME}")
    url = await database.create(server_url, NAME)
    try:
        demo = await demo_data(url, contacts, accounts)
        with _worktree(base) as source:
            async with _served(url, "here", {}) as here, _served(url, base, {"PYTHONPATH": source}) as there:
                return await _differences(here, there, demo)
    finally:
        await database.drop(server_url, NAME)


async def _differences(here: httpx.AsyncClient, there: httpx.AsyncClient, demo: dict[str, Any]) -> list[str]:
    admin = await _sign_in(here, demo["admin"])
    await reads.complete(here, admin)
    routes = reads.read_routes((await here.get("/openapi.json")).json())
    found = []
    for who in ("admin", "staff", "customer"):
        headers = admin if who == "admin" else await _sign_in(here, demo[who])
        walked = await reads.walk(here, headers, routes)
        for read in walked.reads:
            mine = _comparable(await reads.fetch(here, headers, read))
            theirs = _comparable(await reads.fetch(there, headers, read))
            if mine != theirs:
                found.append(f"{who}: {read}\n  here: {mine}\n  base: {theirs}")
        progress(
            f"same: {who}: {len(walked.reads)} reads of {len(routes) - len(walked.unreached)} routes, "
            f"{len(found)} different so far; not reached: {sorted(r.template for r in walked.unreached)}"
        )
    return found


def _comparable(answer: reads.Answer) -> tuple[Any, ...]:
    body = answer.body
    if isinstance(body, dict) and body.get("next_cursor") is not None:
        body = {**body, "next_cursor": "<a cursor>"}
    return answer.status, body, answer.etag, answer.content_type


async def _sign_in(client: httpx.AsyncClient, who: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {await server.token(client, who['email'], who['password'])}"}


@contextlib.asynccontextmanager
async def _served(url: str, name: str, env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    folder = STATE / name.replace("/", "-")
    proc = await server.start(url, os.environ.get("TEST_REDIS_URL"), folder, folder / "server.log", 1, env)
    try:
        async with httpx.AsyncClient(base_url=proc.base_url, timeout=60) as client:
            await server.wait_healthy(proc, client)
            progress(f"same: {name} serves on {proc.base_url}")
            yield client
    finally:
        await server.stop(proc)


@contextlib.contextmanager
def _worktree(rev: str) -> Iterator[str]:
    """rev checked out beside this checkout; the path of its source folder."""
    folder = Path(tempfile.mkdtemp(prefix="crmapi-same-"))
    subprocess.run(["git", "worktree", "add", "--detach", "-q", str(folder), rev], cwd=ROOT, check=True)
    try:
        yield str(folder / "src")
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=ROOT, check=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.same", description=__doc__.splitlines()[0])
    parser.add_argument("base", nargs="?", default="HEAD", help="the revision to compare with (default HEAD)")
    parser.add_argument("--contacts", type=int, default=300, help="demo contacts (default 300)")
    parser.add_argument("--accounts", type=int, default=60, help="demo accounts (default 60)")
    args = parser.parse_args(argv)
    differences = asyncio.run(compare(args.base, args.contacts, args.accounts))
    for difference in differences:
        print(difference, flush=True)
    print(f"{len(differences)} reads answered differently from {args.base}", flush=True)
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
