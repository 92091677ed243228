"""`python -m fuzz`: see fuzz/__init__.py."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree

import httpx

from crmapi.kit import embedded

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
# How schemathesis names each failure in its JUnit report: "- ST202 Schema-valid request rejected".
FAILURE = re.compile(r"^- (ST\d{3} [^\n]+)$", re.M)


def main() -> None:
    minutes = float(os.environ.get("FUZZ_MINUTES", "15"))
    report = Path(os.environ.get("FUZZ_REPORT", HERE / "report")).resolve()
    report.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="crmapi-fuzz-") as folder:
        data = Path(folder)
        # Served as the app's owner would: the schema owner's URL, the API as crmapi_app.
        owner = os.environ.get("DATABASE_URL") or embedded.start_postgres(data)
        port = embedded.free_port()
        email, password = f"fuzz-{secrets.token_hex(4)}@example.com", secrets.token_urlsafe(16)
        env = {
            **os.environ,
            "DATABASE_URL": owner,
            "DATA_DIR": str(data),
            "SECRET_KEY": secrets.token_urlsafe(48),
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "FUZZ_ADMIN_EMAIL": email,
            "FUZZ_ADMIN_PASSWORD": password,
            # The fuzzer calls sign-in thousands of times from this one address; its own sign-in
            # after a 401 (it logs itself out) must not be throttled by that.
            "SIGN_IN_PER_MINUTE": "1000000",
        }
        crmapi = str(BIN / "crmapi")
        subprocess.run([crmapi, "migrate"], env=env, check=True)
        org = ["create-org", "--name", "Fuzz", "--admin-email", email, "--admin-password", password]
        subprocess.run([crmapi, *org, "--currency", "PLN"], env=env, check=True)
        with (report / "server.log").open("w") as log:
            server = subprocess.Popen([crmapi, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                base = f"http://127.0.0.1:{port}"
                _wait_for(f"{base}/healthz")
                code = _schemathesis(base, minutes, report, env)
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=60)
    print(summary(report))
    print(f"schemathesis exited with {code}; reports in {report}")


def _schemathesis(base: str, minutes: float, report: Path, env: dict[str, str]) -> int:
    command = [
        str(BIN / "schemathesis"),
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        f"{base}/openapi.json",
        "--url",
        base,
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-time",
        str(int(minutes * 60)),
        "--workers",
        os.environ.get("FUZZ_WORKERS", "1"),
        "--continue-on-failure",
        "--report",
        "json,junit",
        "--report-dir",
        str(report),
        "--report-json-path",
        str(report / "run.json"),
        "--no-color",
    ]
    if seed := os.environ.get("FUZZ_SEED"):
        command += ["--seed", seed]
    with (report / "schemathesis.log").open("w") as log:
        return subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT).returncode


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not answer 200 within 120 s; see the server log")


def summary(report: Path) -> str:
    """The failures of the run, counted by check and by operation, as Markdown (also written to
    summary.md). Each failure schemathesis reports once per operation is counted once."""
    by_check: Counter[str] = Counter()
    by_operation: Counter[tuple[str, str]] = Counter()
    for junit in sorted(report.glob("junit-*.xml"))[-1:]:
        for case in ElementTree.parse(junit).getroot().iter("testcase"):
            for failure in case:
                for check in FAILURE.findall(failure.text or ""):
                    by_check[check] += 1
                    by_operation[(case.attrib["name"], check)] += 1
    lines = ["# Deep fuzz: failures by check", "", "| check | failures |", "| --- | --- |"]
    lines += [f"| {check} | {n} |" for check, n in by_check.most_common()]
    lines += ["", "## By operation", "", "| operation | check | failures |", "| --- | --- | --- |"]
    lines += [f"| {op} | {check} | {n} |" for (op, check), n in sorted(by_operation.items())]
    text = "\n".join(lines) + "\n"
    (report / "summary.md").write_text(text)
    return text


if __name__ == "__main__":
    main()
