"""CPU accounting from /proc (Linux; None elsewhere): who used the cores while the load ran."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_seconds(pid: int) -> float | None:
    """User plus system CPU seconds one process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_busy_seconds() -> float | None:
    """CPU seconds all cores have spent on anything but idle and I/O wait."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return None
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / TICK


@dataclass(frozen=True)
class Snapshot:
    wall: float
    machine: float | None
    server: float | None
    generator: float


def snapshot(server_pid: int) -> Snapshot:
    own = os.times()
    return Snapshot(
        time.monotonic(), machine_busy_seconds(), process_seconds(server_pid), own.user + own.system
    )


def usage(start: Snapshot, end: Snapshot) -> dict[str, float | None]:
    """Average busy cores between two snapshots: the machine, the server, this load generator, the rest."""
    wall = end.wall - start.wall or 1.0

    def cores(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else round((b - a) / wall, 2)

    machine = cores(start.machine, end.machine)
    server = cores(start.server, end.server)
    generator = cores(start.generator, end.generator)
    rest = None if machine is None or server is None else round(machine - server - (generator or 0), 2)
    return {"machine": machine, "server": server, "load_generator": generator, "rest": rest}
