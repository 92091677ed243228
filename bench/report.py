"""Machine facts, each scenario's share of the bare rate, the targets' verdicts, the table and the JSON."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

from bench.targets import Criterion, baseline, judge

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    facts: dict[str, Any] = {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        # Anything else busy on the machine takes cores from the server and wrk: worth seeing.
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line
        ]
        facts["cpu"] = models[0] if models else platform.processor()
    return facts


def with_targets(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each scenario's share of the bare endpoint's rate and, where the issue sets them, its verdicts."""
    bare = next(r["req_per_s"] for r in results if r["name"] == "bare")
    by_name: dict[str, Any] = {r["name"]: r for r in results}
    by_name["baseline"] = baseline()
    out = []
    for r in results:
        criteria: tuple[Criterion, ...] = r.pop("criteria")
        r["share_of_bare"] = r["req_per_s"] / bare
        versus = r.pop("versus")
        r["share_of_reference"] = r["req_per_s"] / by_name[versus]["req_per_s"] if versus else None
        r["targets"] = [judge(c, r, by_name) for c in criteria]
        out.append(r)
    return out


def table(result: dict[str, Any]) -> str:
    m, load, db = result["machine"], result["load"], result["database"]
    lines = [
        f"{result['generated_at']}  {m.get('cpu', '?')}, {m['cores']} cores, Python {m['python']}, "
        f"{m['server_processes']} server process(es); PostgreSQL {db['version']} ({db['source']})",
        f"load: {load['generator']}, {load['connections']} connections, {load['runs']} runs of "
        f"{load['seconds']:g} s each after {load['warmup_seconds']:g} s warm-up (medians); data: "
        f"{result['demo']['counts']['contacts']:,} contacts, {result['demo']['counts']['accounts']:,} "
        f"accounts (crmapi demo-data); load average before {m['load_average_before'][0]:.2f}",
        "",
        f"{'scenario':<18} {'req/s':>7} {'of bare':>8} {'of ref':>7} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'trips':>5}  request",
    ]
    for r in result["scenarios"]:
        of_ref = f"{r['share_of_reference']:7.0%}" if r.get("share_of_reference") is not None else f"{'':>7}"
        trips = f"{r['round_trips']:5.1f}" if r.get("round_trips") is not None else f"{'':>5}"
        lines.append(
            f"{r['name']:<18} {r['req_per_s']:7.0f} {r['share_of_bare']:8.0%} {of_ref} {r['p50_ms']:7.1f} "
            f"{r['p95_ms']:7.1f} {r['p99_ms']:7.1f} {trips}  {r['request']}"
        )
    lines += [
        "",
        "trips: round trips to PostgreSQL per request, counted on the wire (bench/wire.py)",
        "",
        "targets (the issue's, at this run's connections):",
    ]
    for r in result["scenarios"]:
        for t in r["targets"]:
            lines.append(f"  {r['name']:<18} {t['target']:<34} {t['verdict']}")
    met = sum(t["met"] for r in result["scenarios"] for t in r["targets"])
    total = sum(len(r["targets"]) for r in result["scenarios"])
    answers = sum(r["requests"] for r in result["scenarios"])
    lines.append(
        f"  {met} of {total} met; {answers:,} answers, none outside 2xx; the whole run took "
        f"{result['seconds']:.0f} s"
    )
    return "\n".join(lines)


def write(result: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "latest.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return path
