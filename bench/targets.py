"""The issue's targets as criteria on a scenario's medians, each judged met or missed and by how much."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Show = Callable[[float], str]

# Per figure: its label, how a value reads, how a margin reads (a share's margin is in points).
_FIGURES: dict[str, tuple[str, Show, Show]] = {
    "req_per_s": ("req/s", lambda v: f"{v:,.0f}", lambda d: f"{d:,.0f}"),
    "share_of_bare": ("share of bare", lambda v: f"{v:.0%}", lambda d: f"{d * 100:.0f} points"),
    "share_of_reference": ("share of reference", lambda v: f"{v:.0%}", lambda d: f"{d * 100:.0f} points"),
    "p95_ms": ("p95 ms", lambda v: f"{v:.1f}", lambda d: f"{d:.1f}"),
    "p99_ms": ("p99 ms", lambda v: f"{v:.1f}", lambda d: f"{d:.1f}"),
}


@dataclass(frozen=True)
class Criterion:
    """A figure the issue asks for: `figure` (a key of a scenario's medians) at least or at most `limit`."""

    figure: str
    limit: float
    at_least: bool

    @property
    def text(self) -> str:
        label, show, _ = _FIGURES[self.figure]
        return f"{label} {'>=' if self.at_least else '<='} {show(self.limit)}"


def at_least(figure: str, limit: float) -> Criterion:
    return Criterion(figure, limit, at_least=True)


def at_most(figure: str, limit: float) -> Criterion:
    return Criterion(figure, limit, at_least=False)


def judge(criterion: Criterion, figures: dict[str, Any]) -> dict[str, Any]:
    """The verdict on one criterion: the figure, met or missed, and the margin either way."""
    value = figures[criterion.figure]
    ahead = value - criterion.limit if criterion.at_least else criterion.limit - value
    met = ahead >= 0
    _, show, margin = _FIGURES[criterion.figure]
    by = f"{margin(abs(ahead))} ({abs(ahead) / criterion.limit:.0%})"
    if met:
        verdict = f"met: {show(value)}, {by} to spare"
    else:
        verdict = f"MISSED: {show(value)}, {by} {'short' if criterion.at_least else 'over'}"
    return {"target": criterion.text, "value": value, "met": met, "verdict": verdict}
