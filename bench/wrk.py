"""Load from wrk (Debian's `wrk` package), a C load generator in its own process.

A Lua script per scenario cycles through prepared paths and prints the run's figures as one
JSON line when wrk is done; non-2xx answers are counted by wrk as status errors.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
from dataclasses import dataclass

_SCRIPT = """
local paths = {%(paths)s}
local i = 0
wrk.method = %(method)s
%(headers)s
%(body)s
request = function()
  i = i + 1
  return wrk.format(nil, paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "duration_us": %%d, "non_2xx": %%d, "socket_errors": %%d, '
    .. '"p50_us": %%d, "p95_us": %%d, "p99_us": %%d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class Load:
    method: str
    paths: list[str]
    headers: dict[str, str]
    body: str | None = None


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("bench needs wrk: apt-get install wrk")
    return found


def _lua(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid Lua string literal for these values


def script(load: Load) -> str:
    return _SCRIPT % {
        "paths": ", ".join(_lua(p) for p in load.paths),
        "method": _lua(load.method),
        "headers": "\n".join(f"wrk.headers[{_lua(k)}] = {_lua(v)}" for k, v in load.headers.items()),
        "body": f"wrk.body = {_lua(load.body)}" if load.body is not None else "",
    }


async def run(base_url: str, load: Load, *, connections: int, seconds: float) -> Run:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script(load))
    try:
        process = await asyncio.create_subprocess_exec(
            binary(),
            "-t1",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--timeout",
            "10s",
            "-s",
            f.name,
            base_url,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
    finally:
        await asyncio.to_thread(os.unlink, f.name)
    lines = [line for line in out.decode().splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({process.returncode}): {err.decode()} {out.decode()}")
    figures = json.loads(lines[-1])
    return Run(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        non_2xx=figures["non_2xx"],
        socket_errors=figures["socket_errors"],
        p50_ms=figures["p50_us"] / 1000,
        p95_ms=figures["p95_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
    )
