"""The transition decision: a pure function of (a type's configuration, the record's status, the
move asked for, who asks), so every rule is testable without a database (DESIGN, binding).

The caller locks the record, asks `decide`, and on `Allowed` writes the new status and a history
row; a `Refused` maps straight to its HTTP answer: 409 when the life cycle has no such move (or
the record is read-only, or the type's rules do not list the pair), 422 when the status is not
one the type allows or a guard's input is missing, 403 when the pair's rules exclude the actor,
naming those rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from crmapi.kit.errors import ProblemError
from crmapi.kit.words import a
from crmapi.lifecycle.kinds import Kind
from crmapi.lifecycle.problems import (
    NoSuchTransition,
    ReadOnly,
    ReasonRequired,
    StatusNotAllowed,
    TransitionRule,
)


@dataclass(frozen=True)
class Status:
    id: UUID
    code: str
    state: str


@dataclass(frozen=True)
class Mover:
    """Who asks for the move, as the rules see them."""

    member_id: UUID | None
    unit_ids: frozenset[UUID] = frozenset()


@dataclass(frozen=True)
class Rule:
    """A permitted move from one status to another, for the members and units it names (nobody
    named: everyone)."""

    id: UUID
    name: str
    from_status: UUID
    to_status: UUID
    member_ids: frozenset[UUID] = frozenset()
    unit_ids: frozenset[UUID] = frozenset()

    def admits(self, mover: Mover) -> bool:
        if not self.member_ids and not self.unit_ids:
            return True
        return mover.member_id in self.member_ids or bool(self.unit_ids & mover.unit_ids)


@dataclass(frozen=True)
class TypeConfig:
    """What decides a record's moves: its kind, the statuses its type allows, the type's rules
    (none: every move of the life cycle), and the optional states the type uses."""

    kind: Kind
    statuses: Mapping[UUID, Status]
    rules: tuple[Rule, ...] = ()
    uses: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Move:
    to_status: UUID
    reason: str | None = None  # why a lead or opportunity was lost (a lost reason id)


@dataclass(frozen=True)
class Allowed:
    status: Status
    rule: Rule | None  # the rule that let it through, when the type has rules


@dataclass(frozen=True)
class Refused:
    problem: type[ProblemError]
    message: str
    field: str | None = None
    rules: tuple[Rule, ...] = ()

    @property
    def http_status(self) -> int:
        return self.problem.status

    @property
    def slug(self) -> str:
        return self.problem.slug


Decision = Allowed | Refused

# States a move into needs a reason for.
NEEDS_REASON = frozenset({"lost"})


def decide(config: TypeConfig, current: Status, move: Move, mover: Mover) -> Decision:
    kind = config.kind
    if current.state in kind.read_only:
        return Refused(ReadOnly, f"{a(_name(kind), start=True)} in state '{current.state}' cannot change.")
    target = config.statuses.get(move.to_status)
    if target is None:
        return Refused(StatusNotAllowed, "This type does not allow that status.", "body.status_id")
    if target.id == current.id:
        return Refused(NoSuchTransition, f"The {_name(kind)} already has status '{target.code}'.")
    if not _possible(kind, config, current.state, target.state):
        return Refused(
            NoSuchTransition,
            f"{a(_name(kind), start=True)} cannot go from '{current.state}' to '{target.state}'.",
        )
    if target.state in NEEDS_REASON and not (move.reason and move.reason.strip()):
        return Refused(ReasonRequired, f"Moving to '{target.state}' needs a reason.", "body.lost_reason_id")
    if not config.rules:
        return Allowed(target, None)
    listed = tuple(r for r in config.rules if (r.from_status, r.to_status) == (current.id, target.id))
    if not listed:
        return Refused(
            NoSuchTransition,
            f"This type's rules do not allow going from '{current.code}' to '{target.code}'.",
        )
    admitting = next((r for r in listed if r.admits(mover)), None)
    if admitting is None:
        names = ", ".join(f"'{r.name}'" for r in listed)
        return Refused(TransitionRule, f"Refused by the transition rule {names}.", rules=listed)
    return Allowed(target, admitting)


def _possible(kind: Kind, config: TypeConfig, source: str, target: str) -> bool:
    """The life cycle has the move: along an edge, or to another status of the same state (an
    opportunity's stages) while the state still has a way on."""
    if target in kind.optional and target not in config.uses:
        return False
    if source == target:
        return not kind.final(source)
    return kind.has_edge(source, target)


def _name(kind: Kind) -> str:
    return kind.name.replace("_", " ")
