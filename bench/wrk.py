"""Load from wrk (Debian's `wrk` package), a C load generator in its own process.

A Lua script per run cycles through prepared paths, counts every answer outside 2xx (wrk's own
status counter only sees >= 400) and prints the run's figures as one JSON line when wrk is done.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass

_SCRIPT = """
local paths = {%(paths)s}
local key_prefix = %(key_prefix)s
local i = 0
non_2xx = 0
wrk.method = %(method)s
%(headers)s
%(body)s
request = function()
  i = i + 1
  if key_prefix then
    wrk.headers["Idempotency-Key"] = key_prefix .. i
  end
  return wrk.format(nil, paths[(i %% #paths) + 1])
end
response = function(status, headers, body)
  if status < 200 or status > 299 then
    non_2xx = non_2xx + 1
  end
end
-- setup/done run in wrk's main Lua state; the counter lives in the thread's, hence thread:get.
local threads = {}
setup = function(thread)
  table.insert(threads, thread)
end
done = function(summary, latency, requests)
  local e = summary.errors
  local counted = 0
  for _, thread in ipairs(threads) do
    counted = counted + thread:get("non_2xx")
  end
  io.write(string.format(
    '{"requests": %%d, "duration_us": %%d, "non_2xx": %%d, "socket_errors": %%d, '
    .. '"p50_us": %%d, "p95_us": %%d, "p99_us": %%d}\\n',
    summary.requests, summary.duration, counted, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class Load:
    method: str
    paths: list[str]
    headers: dict[str, str]
    body: str | None = None
    # A fresh Idempotency-Key on every request, so each POST creates a row rather than replaying one.
    idempotency_keys: bool = False


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
    # A JSON string is a valid Lua string literal for these values; Lua has no \\u escape, so UTF-8 as is.
    return json.dumps(text, ensure_ascii=False)


def script(load: Load) -> str:
    # A new prefix per script: keys from a warm-up or an earlier run must not be replayed.
    key_prefix = _lua(f"bench-{secrets.token_hex(8)}-") if load.idempotency_keys else "nil"
    return _SCRIPT % {
        "paths": ", ".join(_lua(p) for p in load.paths),
        "key_prefix": key_prefix,
        "method": _lua(load.method),
        "headers": "\n".join(f"wrk.headers[{_lua(k)}] = {_lua(v)}" for k, v in load.headers.items()),
        "body": f"wrk.body = {_lua(load.body)}" if load.body is not None else "",
    }


async def run(base_url: str, load: Load, *, connections: int, seconds: int) -> Run:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script(load))
    try:
        process = await asyncio.create_subprocess_exec(
            binary(),
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
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
