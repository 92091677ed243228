"""Machine facts, per-scenario medians, the plain-text table and the JSON file."""

from __future__ import annotations

import json
import os
import platform
import statistics
from pathlib import Path
from typing import Any

from bench.load import Run

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    facts: dict[str, Any] = {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    cpuinfo, meminfo = Path("/proc/cpuinfo"), Path("/proc/meminfo")
    if cpuinfo.exists():
        models = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line
        ]
        facts["cpu"] = models[0] if models else platform.processor()
    if meminfo.exists():
        total_kb = int(meminfo.read_text().split()[1])
        facts["memory_gb"] = round(total_kb / 1024 / 1024, 1)
    return facts


def scenario(name: str, request: str, runs: list[Run], cpu_ms: list[float]) -> dict[str, Any]:
    """Totals over the runs and the median of each figure (the median p95 is the headline).

    `cpu_ms`: the server process's CPU time per request in each run (empty where unknown).
    """
    summaries = [run.summary() for run in runs]
    errors: dict[str, int] = {}
    for run in runs:
        for kind, n in run.errors.items():
            errors[kind] = errors.get(kind, 0) + n
    return {
        "name": name,
        "request": request,
        "requests": sum(run.requests for run in runs),
        "errors": sum(errors.values()),
        "error_statuses": errors,
        **{
            key: statistics.median(s[key] for s in summaries)
            for key in ("req_per_s", "p50_ms", "p95_ms", "p99_ms")
        },
        "p95_ms_runs": [s["p95_ms"] for s in summaries],
        "server_cpu_ms_per_request": round(statistics.median(cpu_ms), 2) if cpu_ms else None,
        "runs": summaries,
    }


def table(report: dict[str, Any]) -> str:
    m, db, data, load = report["machine"], report["database"], report["data"], report["load"]
    seconds = data["load_seconds"]
    lines = [
        f"crmapi bench, {report['generated_at']}",
        f"machine:  {m['cores']} cores ({m.get('cpu', '?')}), {m.get('memory_gb', '?')} GB, "
        f"{m['platform']}, Python {m['python']}; load average "
        f"{'/'.join(str(x) for x in m['load_average_before'])} before, "
        f"{'/'.join(str(x) for x in m.get('load_average_after', []))} after",
        f"database: PostgreSQL {db['version']} ({db['source']}), shared_buffers {db['shared_buffers']}",
        f"data:     {data['contacts']:,} contacts ({data['live']:,} live, {data['organisation_contacts']:,} "
        f"organisations) in 1 organisation with {data['members']} members; contacts table "
        f"{data['contacts_table']}",
        f"loaded:   in {seconds['total']:.2f} s (generate {seconds['generate']:.2f} s, "
        f"COPY {seconds['copy']:.2f} s, VACUUM ANALYZE {seconds['vacuum_analyze']:.2f} s)",
        f"load:     {load['concurrency']} connections, {load['seconds']:g} s per run (at most "
        f"{load['max_requests']:,} requests), {load['runs']} runs per scenario after "
        f"{load['warmup_seconds']:g} s warm-up; medians shown",
        "",
        f"{'scenario':<15} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'srv CPU':>7}  {'p95 per run':<22} request",
    ]
    for s in report["scenarios"]:
        runs = "/".join(f"{p:.1f}" for p in s["p95_ms_runs"])
        cpu = "?" if s["server_cpu_ms_per_request"] is None else f"{s['server_cpu_ms_per_request']:.1f}"
        lines.append(
            f"{s['name']:<15} {s['requests']:>8} {s['errors']:>6} {s['req_per_s']:>7.1f} {s['p50_ms']:>7.1f} "
            f"{s['p95_ms']:>7.1f} {s['p99_ms']:>7.1f} {cpu:>7}  {runs:<22} {s['request']}"
        )
    lines.append(
        "(srv CPU: the server process's CPU milliseconds per request; PostgreSQL's are not included)"
    )
    lines.append(_cpu_line(report.get("cpu_during_load") or {}, m["cores"]))
    if m["load_average_before"][0] > 0.5 * (m["cores"] or 1):
        lines.append(
            "warning: the machine was already busy before the run (load average); figures are pessimistic"
        )
    for s in report["scenarios"]:
        if s["errors"]:
            lines.append(f"errors in {s['name']}: {s['error_statuses']}; e.g. {_first_sample(s)}")
    return "\n".join(lines)


def _cpu_line(usage: dict[str, Any], cores: int | None) -> str:
    if usage.get("machine") is None:
        return "cpu during the load: unknown (no /proc)"
    return (
        f"cpu during the load, in busy cores of {cores}: machine {usage['machine']}, "
        f"server {usage['server']}, load generator {usage['load_generator']}, "
        f"the rest {usage['rest']} (PostgreSQL, Redis and anything else on the machine)"
    )


def _first_sample(s: dict[str, Any]) -> str:
    for run in s["runs"]:
        for text in run["error_samples"].values():
            return str(text)
    return ""


def write(report: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "latest.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return path
