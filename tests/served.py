"""`crmapi serve` run as a user runs it, and the embedded servers found working in a data folder."""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]


class Served:
    """`crmapi serve` in a process of its own, its output in a file (a pipe nobody reads fills up)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "crmapi.cli", "serve"],
                env=env,
                cwd=ROOT,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def wait_for(self, url: str) -> httpx.Response:
        deadline = time.monotonic() + 120
        while True:
            try:
                answer = httpx.get(url, timeout=2)
                if answer.status_code == 200:
                    return answer
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{url} did not answer 200; the server said:\n{self.output()}")
            time.sleep(0.2)

    def stop(self, signum: int) -> int:
        """Send signum and wait for the end; the exit code. After a SIGKILL the server's own worker
        processes are killed too, as a service manager stops what is left of a killed unit: they
        would live on as orphans (the embedded servers are meant to, and are left alone)."""
        workers = [
            p for p in psutil.Process(self.process.pid).children(recursive=True) if "python" in p.name()
        ]
        self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.process.kill()
            said = self.output()
            raise AssertionError(f"no exit in 90 s after signal {signum}; the server said:\n{said}") from None
        if signum == signal.SIGKILL:
            for worker in workers:
                with contextlib.suppress(psutil.Error):
                    worker.kill()
        return code

    def output(self) -> str:
        return self.log.read_text()


@contextlib.contextmanager
def data_folder() -> Iterator[Path]:
    """A data folder of its own, its servers stopped afterwards should a test fail to.

    Not under pytest's tmp_path: a pytest session started meanwhile (another checkout's) may
    remove older sessions' folders under a running server.
    """
    folder = Path(tempfile.mkdtemp(prefix="crmapi-data-"))
    try:
        yield folder
    finally:
        for pid in postmasters_in(folder):
            with contextlib.suppress(psutil.Error):
                psutil.Process(pid).send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown
        for pid in valkeys_in(folder):
            with contextlib.suppress(psutil.Error):
                psutil.Process(pid).terminate()
        shutil.rmtree(folder, ignore_errors=True)


def postmasters_in(data_dir: Path) -> list[int]:
    """PostgreSQL servers on the data folder: postgres processes working in it, not started by one."""
    workers = _working_in(data_dir / "pg", "postgres")
    return [pid for pid, parent in workers.items() if parent not in workers]


def valkeys_in(data_dir: Path) -> list[int]:
    """Valkey servers on the data folder (a server's working directory is its data folder)."""
    return list(_working_in(data_dir / "valkey", "valkey-server"))


def _working_in(folder: Path, name: str) -> dict[int, int]:
    """Live processes called name working in folder, by pid, with their parent's pid."""
    found = {}
    for process in psutil.process_iter(["name", "cwd", "status", "ppid"]):
        info = process.info
        if (
            info["name"] == name
            and info["cwd"] == str(folder.resolve())
            and info["status"] != psutil.STATUS_ZOMBIE
        ):
            found[process.pid] = info["ppid"]
    return found
