"""The issue's targets as criteria on a scenario's medians, each judged met or missed and by how much.

A criterion is absolute (`p95 ms <= 25`) or relative: the figure as a multiple of the same figure
of another scenario of the same run (`versus`: the lean reference's, the administrator's) or of
the baseline recorded when the issue started (`bench/baseline.json`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Show = Callable[[float], str]

BASELINE = Path(__file__).resolve().parent / "baseline.json"

# Per figure: its label, how a value reads, how a margin reads.
_FIGURES: dict[str, tuple[str, Show, Show]] = {
    "req_per_s": ("req/s", lambda v: f"{v:,.0f}", lambda d: f"{d:,.0f}"),
    "p50_ms": ("p50 ms", lambda v: f"{v:.1f}", lambda d: f"{d:.1f}"),
    "p95_ms": ("p95 ms", lambda v: f"{v:.1f}", lambda d: f"{d:.1f}"),
    "p99_ms": ("p99 ms", lambda v: f"{v:.1f}", lambda d: f"{d:.1f}"),
}


def _times(v: float) -> str:
    return f"{v:.0%}" if v < 1 else f"{v:.2g}x"


@dataclass(frozen=True)
class Criterion:
    """`figure` (a key of a scenario's medians) at least or at most `limit`; with `versus` (a
    scenario's name) or `baseline`, `limit` is a multiple of that scenario's or the baseline's."""

    figure: str
    limit: float
    at_least: bool
    versus: str | None = None
    baseline: bool = False

    @property
    def relative(self) -> bool:
        return self.versus is not None or self.baseline

    @property
    def text(self) -> str:
        label, show, _ = _FIGURES[self.figure]
        sign = ">=" if self.at_least else "<="
        if self.versus:
            return f"{label} {sign} {_times(self.limit)} of {self.versus}"
        if self.baseline:
            return f"{label} {sign} {_times(self.limit)} the baseline"
        return f"{label} {sign} {show(self.limit)}"


def at_least(figure: str, limit: float, *, versus: str | None = None, baseline: bool = False) -> Criterion:
    return Criterion(figure, limit, at_least=True, versus=versus, baseline=baseline)


def at_most(figure: str, limit: float, *, versus: str | None = None, baseline: bool = False) -> Criterion:
    return Criterion(figure, limit, at_least=False, versus=versus, baseline=baseline)


def baseline() -> dict[str, dict[str, float]]:
    """Per scenario, the figures recorded when the issue started (empty when none were)."""
    if not BASELINE.exists():
        return {}
    recorded: dict[str, dict[str, float]] = json.loads(BASELINE.read_text())["scenarios"]
    return recorded


def judge(criterion: Criterion, figures: dict[str, Any], others: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The verdict on one criterion: the figure, met or missed, and the margin either way.
    `others`: the run's scenarios by name, and the baseline's under `baseline`."""
    _, show, margin = _FIGURES[criterion.figure]
    value = figures[criterion.figure]
    if criterion.relative:
        source = others["baseline"] if criterion.baseline else others
        compared = source.get(figures["name"] if criterion.baseline else criterion.versus or "")
        if compared is None:
            return {
                "target": criterion.text,
                "value": None,
                "met": False,
                "verdict": "not judged: nothing to compare",
            }
        other = compared[criterion.figure]
        ratio = value / other
        ahead = ratio - criterion.limit if criterion.at_least else criterion.limit - ratio
        shown = f"{_times(ratio)} ({show(value)} against {show(other)})"
        by = f"{abs(ahead) / criterion.limit:.0%}"
    else:
        ahead = value - criterion.limit if criterion.at_least else criterion.limit - value
        shown = show(value)
        by = f"{margin(abs(ahead))} ({abs(ahead) / criterion.limit:.0%})"
    met = ahead >= 0
    if met:
        verdict = f"met: {shown}, {by} to spare"
    else:
        verdict = f"MISSED: {shown}, {by} {'short' if criterion.at_least else 'over'}"
    return {"target": criterion.text, "value": value, "met": met, "verdict": verdict}
