"""The pure transition decision, by example and by property (hypothesis): random configurations
and sequences of moves never reach a state the kind forbids, never get past a rule, and replaying
the history gives the current status."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from crmapi.lifecycle.decide import (
    NEEDS_REASON,
    Allowed,
    Move,
    Mover,
    Refused,
    Rule,
    Status,
    TypeConfig,
    decide,
)
from crmapi.lifecycle.kinds import KINDS, LEAD, OPPORTUNITY, SERVICE_REQUEST, Kind

MEMBERS = [UUID(int=1000 + i) for i in range(3)]
UNITS = [UUID(int=2000 + i) for i in range(3)]


def statuses_of(kind: Kind, per_state: int = 1) -> dict[UUID, Status]:
    made = {}
    for s, state in enumerate(kind.states):
        for n in range(per_state):
            status = Status(UUID(int=100 * s + n + 1), f"{state}-{n}", state)
            made[status.id] = status
    return made


def by_code(statuses: dict[UUID, Status], code: str) -> Status:
    return next(s for s in statuses.values() if s.code == code)


# --- by example --------------------------------------------------------------------------------


def test_a_lead_moves_along_its_life_cycle_and_not_back() -> None:
    statuses = statuses_of(LEAD)
    config = TypeConfig(LEAD, statuses)
    anyone = Mover(MEMBERS[0])
    pending, started = by_code(statuses, "pending-0"), by_code(statuses, "in_progress-0")
    assert decide(config, pending, Move(started.id), anyone) == Allowed(started, None)
    back = decide(config, started, Move(pending.id), anyone)
    assert isinstance(back, Refused) and (back.http_status, back.slug) == (409, "no-such-transition")


def test_cancelling_an_in_progress_lead_is_409_and_a_cancelled_lead_is_read_only() -> None:
    statuses = statuses_of(LEAD)
    config = TypeConfig(LEAD, statuses)
    anyone = Mover(MEMBERS[0])
    cancelled = by_code(statuses, "cancelled-0")
    refused = decide(config, by_code(statuses, "in_progress-0"), Move(cancelled.id), anyone)
    assert isinstance(refused, Refused) and refused.http_status == 409
    frozen = decide(config, cancelled, Move(by_code(statuses, "pending-0").id), anyone)
    assert isinstance(frozen, Refused) and (frozen.http_status, frozen.slug) == (409, "read-only")


def test_losing_needs_a_reason() -> None:
    statuses = statuses_of(LEAD)
    config = TypeConfig(LEAD, statuses)
    started, lost = by_code(statuses, "in_progress-0"), by_code(statuses, "lost-0")
    refused = decide(config, started, Move(lost.id, reason="  "), Mover(MEMBERS[0]))
    assert isinstance(refused, Refused) and (refused.http_status, refused.field) == (
        422,
        "body.lost_reason_id",
    )
    assert isinstance(decide(config, started, Move(lost.id, reason="price"), Mover(MEMBERS[0])), Allowed)


def test_a_rule_limited_to_a_unit_refuses_others_with_403_naming_it() -> None:
    statuses = statuses_of(LEAD)
    pending, started = by_code(statuses, "pending-0"), by_code(statuses, "in_progress-0")
    rule = Rule(
        UUID(int=9), "Sales desk starts leads", pending.id, started.id, unit_ids=frozenset({UNITS[0]})
    )
    config = TypeConfig(LEAD, statuses, rules=(rule,))
    outside = decide(config, pending, Move(started.id), Mover(MEMBERS[0], frozenset({UNITS[1]})))
    assert isinstance(outside, Refused) and outside.http_status == 403
    assert "Sales desk starts leads" in outside.message and outside.rules == (rule,)
    inside = decide(config, pending, Move(started.id), Mover(MEMBERS[1], frozenset({UNITS[0]})))
    assert inside == Allowed(started, rule)
    unlisted = decide(config, pending, Move(by_code(statuses, "cancelled-0").id), Mover(MEMBERS[1]))
    assert isinstance(unlisted, Refused) and unlisted.http_status == 409


def test_a_status_the_type_does_not_allow_is_422() -> None:
    statuses = statuses_of(LEAD)
    allowed = {k: v for k, v in statuses.items() if v.code != "in_progress-0"}
    config = TypeConfig(LEAD, allowed)
    refused = decide(
        config, by_code(statuses, "pending-0"), Move(by_code(statuses, "in_progress-0").id), Mover(None)
    )
    assert isinstance(refused, Refused) and (refused.http_status, refused.field) == (422, "body.status_id")


def test_opportunity_stages_are_statuses_of_the_open_state() -> None:
    statuses = statuses_of(OPPORTUNITY, per_state=3)
    config = TypeConfig(OPPORTUNITY, statuses)
    first, third = by_code(statuses, "open-0"), by_code(statuses, "open-2")
    assert decide(config, first, Move(third.id), Mover(None)) == Allowed(third, None)
    won, won_too = by_code(statuses, "won-0"), by_code(statuses, "won-1")
    after = decide(config, won, Move(won_too.id), Mover(None))
    assert isinstance(after, Refused) and after.http_status == 409


def test_the_temporary_resolution_is_only_for_types_that_use_it() -> None:
    statuses = statuses_of(SERVICE_REQUEST)
    responded, temporary = by_code(statuses, "responded-0"), by_code(statuses, "temporarily_resolved-0")
    without = decide(TypeConfig(SERVICE_REQUEST, statuses), responded, Move(temporary.id), Mover(None))
    assert isinstance(without, Refused) and without.http_status == 409
    with_it = TypeConfig(SERVICE_REQUEST, statuses, uses=frozenset({"temporarily_resolved"}))
    assert decide(with_it, responded, Move(temporary.id), Mover(None)) == Allowed(temporary, None)


# --- by property -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    config: TypeConfig
    start: Status
    steps: list[tuple[UUID, Mover, str | None]]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    kind = draw(st.sampled_from(list(KINDS.values())))
    every = statuses_of(kind, per_state=draw(st.integers(1, 3)))
    ids = sorted(every)
    start = draw(st.sampled_from([s for s in every.values() if s.state == kind.initial]))
    others = draw(st.sets(st.sampled_from(ids)))
    allowed = {i: every[i] for i in others | {start.id}}
    people = st.frozensets(st.sampled_from(MEMBERS), max_size=2)
    units = st.frozensets(st.sampled_from(UNITS), max_size=2)
    rules = draw(
        st.lists(
            st.builds(
                lambda n, pair, members, unit_ids: Rule(
                    UUID(int=5000 + n), f"rule {n}", *pair, members, unit_ids
                ),
                st.integers(0, 10_000),
                st.tuples(st.sampled_from(sorted(allowed)), st.sampled_from(sorted(allowed))),
                people,
                units,
            ),
            max_size=8,
        )
    )
    config = TypeConfig(
        kind, allowed, tuple(rules), draw(st.frozensets(st.sampled_from(sorted(kind.optional) or ["-"])))
    )
    movers = st.builds(Mover, st.sampled_from([*MEMBERS, None]), units)
    reasons = st.sampled_from([None, "", "price", "went elsewhere"])
    steps = draw(st.lists(st.tuples(st.sampled_from(ids), movers, reasons), max_size=25))
    return Scenario(config, start, steps)


def _legal(config: TypeConfig, current: Status, target: Status) -> bool:
    kind = config.kind
    if current.state in kind.read_only or target.id == current.id:
        return False
    if target.state in kind.optional and target.state not in config.uses:
        return False
    if target.state == current.state:
        return not kind.final(current.state)
    return kind.has_edge(current.state, target.state)


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_moves_stay_in_the_life_cycle_obey_the_rules_and_replay(scenario: Scenario) -> None:
    config, current = scenario.config, scenario.start
    history: list[tuple[UUID, UUID]] = []
    for to_status, mover, reason in scenario.steps:
        decision = decide(config, current, Move(to_status, reason), mover)
        target = config.statuses.get(to_status)
        listed = [
            r for r in config.rules if target and (r.from_status, r.to_status) == (current.id, target.id)
        ]
        if isinstance(decision, Allowed):
            assert target is not None and decision.status == target
            assert _legal(config, current, target), (current, target)
            if target.state in NEEDS_REASON:
                assert reason and reason.strip()
            if config.rules:
                assert decision.rule in listed and decision.rule is not None and decision.rule.admits(mover)
            history.append((current.id, target.id))
            current = target
            continue
        assert decision.http_status in (403, 409, 422)
        # Never refused without a cause.
        if decision.http_status == 403:
            assert listed and not any(r.admits(mover) for r in listed)
        elif decision.http_status == 422:
            assert target is None or (target.state in NEEDS_REASON and not (reason and reason.strip()))
        elif current.state not in config.kind.read_only:  # read-only answers 409 before all else
            assert target is not None
            assert not _legal(config, current, target) or (config.rules and not listed)
    replayed = scenario.start
    for source, target_id in history:
        assert source == replayed.id
        replayed = config.statuses[target_id]
    assert replayed == current
    assert current.state in config.kind.states
