"""Machine facts, the targets' verdicts, the plain-text table and the JSON file."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

from bench.scenarios import Target

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    facts: dict[str, Any] = {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line
        ]
        facts["cpu"] = models[0] if models else platform.processor()
    return facts


def _verdict(target: Target, figures: dict[str, Any], bare_rate: float) -> str:
    misses = []
    rate, share = figures["req_per_s"], figures["req_per_s"] / bare_rate
    if target.min_rate is not None and rate < target.min_rate:
        misses.append(f"{rate:,.0f} req/s is {rate / target.min_rate:.0%} of {target.min_rate:,.0f}")
    if target.min_share_of_bare is not None and share < target.min_share_of_bare:
        misses.append(f"{share:.0%} of bare, not {target.min_share_of_bare:.0%}")
    if target.max_p95_ms is not None and figures["p95_ms"] > target.max_p95_ms:
        misses.append(f"p95 {figures['p95_ms']:.1f} ms > {target.max_p95_ms:g} ms")
    if target.max_p99_ms is not None and figures["p99_ms"] > target.max_p99_ms:
        misses.append(f"p99 {figures['p99_ms']:.1f} ms > {target.max_p99_ms:g} ms")
    return "met" if not misses else "missed: " + "; ".join(misses)


def with_targets(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each scenario's share of the bare endpoint's rate and, where the issue sets one, its verdict."""
    bare = next(r["req_per_s"] for r in results if r["name"] == "bare")
    out = []
    for r in results:
        target: Target | None = r.pop("target")
        r["share_of_bare"] = r["req_per_s"] / bare
        if target is not None:
            r["target"], r["verdict"] = target.text, _verdict(target, r, bare)
        out.append(r)
    return out


def table(result: dict[str, Any]) -> str:
    m, load = result["machine"], result["load"]
    lines = [
        f"{result['generated_at']}  {m.get('cpu', '?')}, {m['cores']} cores, Python {m['python']}, "
        f"{m['server_processes']} server process(es); PostgreSQL {result['database']['version']} "
        f"({result['database']['source']})",
        f"load: {load['generator']}, {load['connections']} connections, {load['runs']} runs of "
        f"{load['seconds']:g} s each (medians); data: {result['demo']['counts']['contacts']:,} contacts, "
        f"{result['demo']['counts']['accounts']:,} accounts (crmapi demo-data)",
        "",
        f"{'scenario':<15} {'req/s':>8} {'of bare':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}  target",
    ]
    for r in result["scenarios"]:
        verdict = f"{r['target']}: {r['verdict']}" if "target" in r else ""
        lines.append(
            f"{r['name']:<15} {r['req_per_s']:8.0f} {r['share_of_bare']:8.0%} {r['p50_ms']:7.1f} "
            f"{r['p95_ms']:7.1f} {r['p99_ms']:7.1f}  {verdict}"
        )
    return "\n".join(lines)


def write(result: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "latest.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return path
