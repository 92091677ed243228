"""The fixed life cycles: each kind's states and the edges between them (DESIGN, "Lifecycle engine").

Organisations name and order their own statuses, but every status maps to one of these states,
and no configuration can add an edge: a won lead never goes back to pending.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

KindName = Literal["lead", "opportunity", "activity", "service_request", "sales_order", "issue"]


@dataclass(frozen=True)
class Kind:
    name: KindName
    states: tuple[str, ...]  # in life-cycle order
    initial: str
    edges: frozenset[tuple[str, str]]
    # Records in these states take no more changes at all (DESIGN: cancelled/completed).
    read_only: frozenset[str]
    # A state only some types use (a service request's temporary resolution).
    optional: frozenset[str] = frozenset()

    def has_edge(self, source: str, target: str) -> bool:
        return (source, target) in self.edges

    def final(self, state: str) -> bool:
        return not any(source == state for source, _ in self.edges)


def _chain(*states: str) -> set[tuple[str, str]]:
    return set(pairwise(states))


LEAD = Kind(
    name="lead",
    states=("pending", "in_progress", "won", "lost", "cancelled"),
    initial="pending",
    edges=frozenset(
        {
            ("pending", "in_progress"),
            ("in_progress", "won"),
            ("in_progress", "lost"),
            ("pending", "cancelled"),
        }
    ),
    read_only=frozenset({"cancelled"}),
)

OPPORTUNITY = Kind(
    name="opportunity",
    states=("open", "won", "lost", "cancelled"),
    initial="open",
    edges=frozenset({("open", "won"), ("open", "lost"), ("open", "cancelled")}),
    read_only=frozenset({"cancelled"}),
)

ACTIVITY = Kind(
    name="activity",
    states=("pending", "in_progress", "completed", "cancelled"),
    initial="pending",
    edges=frozenset({("pending", "in_progress"), ("in_progress", "completed"), ("pending", "cancelled")}),
    read_only=frozenset({"completed", "cancelled"}),
)

SERVICE_REQUEST = Kind(
    name="service_request",
    states=(
        "pending",
        "in_progress",
        "responded",
        "temporarily_resolved",
        "finally_resolved",
        "completed",
        "cancelled",
    ),
    initial="pending",
    edges=frozenset(
        _chain("pending", "in_progress", "responded", "temporarily_resolved", "finally_resolved", "completed")
        # The temporary step is optional per type: a type without it goes straight on.
        | {("responded", "finally_resolved"), ("pending", "cancelled")}
    ),
    read_only=frozenset({"completed", "cancelled"}),
    optional=frozenset({"temporarily_resolved"}),
)

# Placed in the CRM, handed to the ERP on submit; only the ERP acknowledges and fulfils it.
SALES_ORDER = Kind(
    name="sales_order",
    states=("draft", "submitted", "acknowledged", "fulfilled", "cancelled"),
    initial="draft",
    edges=frozenset(
        _chain("draft", "submitted", "acknowledged", "fulfilled")
        | {("draft", "cancelled"), ("submitted", "cancelled"), ("acknowledged", "cancelled")}
    ),
    read_only=frozenset({"fulfilled", "cancelled"}),
)

# An issue, form or enquiry filed against a customer account: worked, resolved, then closed once
# the resolution holds; a resolution that does not hold takes it back into work.
ISSUE = Kind(
    name="issue",
    states=("open", "in_progress", "resolved", "closed", "cancelled"),
    initial="open",
    edges=frozenset(
        _chain("open", "in_progress", "resolved", "closed")
        | {("resolved", "in_progress"), ("open", "cancelled"), ("in_progress", "cancelled")}
    ),
    read_only=frozenset({"closed", "cancelled"}),
)

KINDS: dict[str, Kind] = {
    k.name: k for k in (LEAD, OPPORTUNITY, ACTIVITY, SERVICE_REQUEST, SALES_ORDER, ISSUE)
}
