"""The real server (`crmapi serve`) as a subprocess on a free port of 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from uuid import UUID

import httpx

from crmapi.kit.embedded import free_port

SECRET_KEY = "bench-secret-key-" + "b" * 32
# Inherited settings that would point the server somewhere else.
_DROPPED = (
    "DATABASE_URL",
    "APP_DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "HOST",
    "PORT",
    "DATA_DIR",
    "WORKERS",
)


def environment() -> dict[str, str]:
    """This process's environment without the settings that would point a crmapi command elsewhere."""
    return {k: v for k, v in os.environ.items() if k not in _DROPPED}


@dataclass
class Server:
    process: asyncio.subprocess.Process
    base_url: str
    log_path: Path
    log: IO[bytes]


def _prepare(data_dir: Path, log_path: Path) -> IO[bytes]:
    # A fresh data folder: an embedded Valkey must not replay jobs of an earlier bench database.
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    return log_path.open("wb")


async def start(
    database_url: str,
    redis_url: str | None,
    data_dir: Path,
    log_path: Path,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
) -> Server:
    port = free_port()
    env = environment()
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET_KEY,
        HOST="127.0.0.1",
        PORT=str(port),
        DATA_DIR=str(data_dir),
        WORKERS=str(workers),
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra_env or {})
    log = await asyncio.to_thread(_prepare, data_dir, log_path)
    return await _spawn(["crmapi.cli", "serve"], env, port, log_path, log)


async def start_reference(app_url: str, log_path: Path) -> Server:
    """The lean reference (bench/reference.py) on a free port, reading as crmapi_app."""
    port = free_port()
    env = {**environment(), "DATABASE_URL": app_url, "SECRET_KEY": SECRET_KEY, "PORT": str(port)}
    log = await asyncio.to_thread(log_path.open, "wb")
    return await _spawn(["bench.reference"], env, port, log_path, log)


async def _spawn(module: list[str], env: dict[str, str], port: int, log_path: Path, log: IO[bytes]) -> Server:
    """`python -m <module...>` in a session of its own (so a stop reaches its children too)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        *module,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    return Server(process=process, base_url=f"http://127.0.0.1:{port}", log_path=log_path, log=log)


async def wait_healthy(
    server: Server, client: httpx.AsyncClient, limit_seconds: float = 90, path: str = "/healthz"
) -> None:
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        if server.process.returncode is not None:
            raise RuntimeError(f"the server exited with {server.process.returncode}; see {server.log_path}")
        with contextlib.suppress(httpx.TransportError):
            answer = await client.get(path, timeout=2)
            if answer.status_code == 200:
                return
        await asyncio.sleep(0.2)
    raise RuntimeError(
        f"the server did not answer {path} within {limit_seconds:.0f} s; see {server.log_path}"
    )


async def token(client: httpx.AsyncClient, email: str, password: str) -> str:
    answer = await client.post("/v1/auth/token", data={"username": email, "password": password})
    if answer.status_code != 200:
        raise RuntimeError(f"login as {email} failed: {answer.status_code} {answer.text}")
    return str(answer.json()["access_token"])


async def stop(server: Server, grace_seconds: float = 15) -> None:
    """SIGINT (uvicorn's graceful shutdown, which runs the lifespan's cleanup), then SIGKILL."""
    process = server.process
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), grace_seconds)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
    server.log.close()


async def create_org(url: str, name: str, email: str, password: str) -> UUID:
    """A new organisation and its administrator through `crmapi create-org`; its id."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crmapi.cli",
        "create-org",
        "--name",
        name,
        "--admin-email",
        email,
        "--admin-password",
        password,
        env={**environment(), "DATABASE_URL": url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"create-org failed: {err.decode()}")
    return UUID(json.loads(out.decode().strip().splitlines()[-1])["organisation_id"])
