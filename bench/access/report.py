"""The access benchmark's verdicts, its table and its JSON (`bench/results/access.json`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.report import RESULTS

BUILD_P99_MS = 0.5
LIST_RATIO = 1.5
PLAN_LINES = 40  # of each rep plan, in the table; the JSON keeps all


def _at_most(target: str, value: float, limit: float, show: str) -> dict[str, Any]:
    """Judged as bench/targets.py judges: met or missed, and by how much either way."""
    ahead = limit - value
    by = f"{abs(ahead):{show}} ({abs(ahead) / limit:.0%})"
    verdict = f"met: {value:{show}}, {by} to spare" if ahead >= 0 else f"MISSED: {value:{show}}, {by} over"
    return {"target": target, "value": value, "met": ahead >= 0, "verdict": verdict}


def _plan_uses_indexes(kind: str, e: dict[str, Any]) -> dict[str, Any]:
    if e["uses_indexes"]:
        verdict = "met: " + ", ".join(sorted({f"{s['node']} {s['index']}" for s in e["scans"]}))
        verdict += f"; {e['execution_ms']:.1f} ms"
    else:
        seq = (
            ", ".join(f"Seq Scan on {s['relation']}" for s in e["sequential"])
            or "no scan of the scope's tables"
        )
        verdict = f"MISSED: {seq}"
    return {
        "target": f"EXPLAIN rep {kind}: scope by index",
        "value": e["uses_indexes"],
        "met": e["uses_indexes"],
        "verdict": verdict,
    }


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    actor, lists, plans = result["actor"], result["lists"], result["explain"]
    out = [
        _at_most(f"Actor+scope build p99 <= {BUILD_P99_MS} ms", actor["build"]["p99_ms"], BUILD_P99_MS, ".3f")
    ]
    by_name = {s["name"]: s for s in lists["scenarios"]}
    for kind in ("accounts", "contacts"):
        admin, rep = by_name[f"admin {kind}"]["p99_ms"], by_name[f"rep {kind}"]["p99_ms"]
        judged = _at_most(f"rep {kind} p99 <= {LIST_RATIO}x admin", rep / admin, LIST_RATIO, ".2f")
        judged["verdict"] += f" (rep {rep:.1f} ms, admin {admin:.1f} ms)"
        out.append(judged)
    out += [_plan_uses_indexes(kind, e) for kind, e in plans.items()]
    return out


def table(result: dict[str, Any]) -> str:
    m, data, actor, lists = result["machine"], result["data"], result["actor"], result["lists"]
    c = data["counts"]
    lines = [
        f"{result['generated_at']}  {m.get('cpu', '?')}, {m['cores']} cores (shared: figures are noisy), "
        f"Python {m['python']}; PostgreSQL {result['database']['version']}; load average before "
        f"{m['load_average_before'][0]:.2f}, after {m['load_average_after'][0]:.2f}",
        f"data: {c['organisations']:,} organisations, {c['members']:,} members, {c['groups']:,} groups, "
        f"{c['group_grants']:,} grants, {c['group_members']:,} group memberships, {c['sales_reps']:,} "
        f"sales-rep records; the big one: {c['accounts']:,} accounts, {c['contacts']:,} contacts; "
        f"loaded in {sum(data['seconds'].values()):.0f} s {data['seconds']}",
        "",
        f"Actor build, in process, warm policy cache ({actor['organisations']:,} organisations, "
        f"{actor['members']:,} members; median of {len(actor['build']['runs'])} runs of "
        f"{actor['samples_per_run']:,} builds for random members of {actor['active']:,} active ones):",
        f"  {'':<46} {'p50 ms':>8} {'p99 ms':>8}",
    ]
    rows = [
        ("Actor + accounts/contacts scope (no row query)", actor["build"]),
        ("  of which grants (cache hit) + Actor", actor["actor"]),
        ("  of which accounts.scope + contacts.scope", actor["scopes"]),
        ("the Actor row's query alone", actor["row_query"]),
        ("_member_actor end to end (no scope)", actor["member_actor"]),
        (
            "a member not active lately: grants, Actor, scopes built",
            actor["member_first_request"],
        ),
        ("cold policy load of an organisation", actor["cold_policy_load"]),
    ]
    lines += [f"  {label:<46} {f['p50_ms']:8.3f} {f['p99_ms']:8.3f}" for label, f in rows]
    lines.append(
        f"  cold load of the big organisation's policy: {actor['cold_policy_load']['big_org_ms']:.2f} ms; "
        f"slowest organisation {actor['cold_policy_load']['max_ms']:.2f} ms"
    )
    opts = result["options"]
    lines += [
        "",
        f"Lists through the real server (wrk, 1 thread, {opts['connections']} connections, medians of "
        f"{opts['runs']} x {opts['seconds']} s runs, taking turns); visible: {lists['visible']}",
        f"  {'scenario':<16} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8}  request",
    ]
    lines += [
        f"  {s['name']:<16} {s['req_per_s']:7.0f} {s['p50_ms']:8.1f} {s['p99_ms']:8.1f}  {s['request']}"
        for s in lists["scenarios"]
    ]
    for kind, e in result["explain"].items():
        lines += [
            "",
            f"EXPLAIN (ANALYZE, BUFFERS) of the rep's {kind} list as crmapi_app, organisation bound: "
            f"execution {e['execution_ms']:.2f} ms (median of 3), planning {e['planning_ms']:.2f} ms; "
            f"admin's: {result['explain_admin'][kind]['execution_ms']:.2f} ms",
            *[f"    {line}" for line in e["plan_text"][:PLAN_LINES]],
        ]
        if len(e["plan_text"]) > PLAN_LINES:
            lines.append(f"    ... {len(e['plan_text']) - PLAN_LINES} more lines in the JSON")
    lines += ["", "targets (issue 4):"]
    lines += [f"  {t['target']:<40} {t['verdict']}" for t in result["targets"]]
    met = sum(t["met"] for t in result["targets"])
    lines.append(f"  {met} of {len(result['targets'])} met; the whole run took {result['seconds']:.0f} s")
    if not result["targets"][0]["met"]:
        lines += ["", "profile of 2,000 warm builds (cProfile, cumulative):", *actor["profile"]]
    return "\n".join(lines)


def write(result: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "access.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return path
