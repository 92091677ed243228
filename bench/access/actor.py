"""The Actor build, in process, with the code `current_actor` runs.

`access.dependencies._member_actor` is one function: bind the organisation, read the member's row
(kind, time zone, the organisation's policy_version, joined to the live auth session), ask the
`PolicyCache` for the member's grants, make the `Actor`. The list endpoints then build the scope
predicate (`accounts.queries.scope`, `contacts.queries.scope`). To time the parts apart, the row
query is issued here as `_member_actor` issues it (the same statement), and the rest runs with
the real functions: `PolicyCache.grants`, `capabilities_of`, `Actor`, both `scope`s.
`_member_actor` itself is timed too, end to end, as a cross-check.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.access.load import Loaded, Member
from crmapi.access.actor import BUILT_MAX, Actor
from crmapi.access.dependencies import MEMBER_ROW, _member_actor, member_actor
from crmapi.access.policy import PolicyCache
from crmapi.accounts import queries as account_queries
from crmapi.contacts import queries as contact_queries
from crmapi.kit.db import bind_org

Sessions = async_sessionmaker[AsyncSession]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank: what wrk and most latency tools report."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


async def actor_of(session: AsyncSession, policies: PolicyCache, m: Member, kind: str, version: int) -> Actor:
    """Everything `_member_actor` does after its row query."""
    grants = await policies.grants(session, m.org_id, version, m.member_id)
    return member_actor(m.org_id, m.member_id, m.session_id, kind, "Europe/Warsaw", grants)


def scopes(actor: Actor) -> None:
    """The predicates the account and contact lists start from."""
    account_queries.scope(actor)
    contact_queries.scope(actor)


def _ms(ns: int) -> float:
    return ns / 1e6


def _summary(samples: list[float]) -> dict[str, Any]:
    return {"n": len(samples), "p50_ms": percentile(samples, 50), "p99_ms": percentile(samples, 99)}


def _medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "p50_ms": statistics.median(r["p50_ms"] for r in runs),
        "p99_ms": statistics.median(r["p99_ms"] for r in runs),
        "runs": runs,
    }


async def _warm(sessions: Sessions, policies: PolicyCache, loaded: Loaded) -> dict[str, Any]:
    """Load every organisation's policy (timed: the cold load), then every member's Actor and
    scopes (timed: a member's first request after a load, when Casbin works out its permissions
    and the scope predicates are built)."""
    cold: list[float] = []
    first: list[float] = []
    big_cold = 0.0
    for org, members in loaded.members.items():
        async with sessions() as s:
            await bind_org(s, org)
            await s.connection()
            start = time.perf_counter_ns()
            await policies.grants(s, org, 1, members[0].member_id)
            cold.append(_ms(time.perf_counter_ns() - start))
            if org == loaded.big_org:
                big_cold = cold[-1]
            scopes(await actor_of(s, policies, members[0], members[0].kind, 1))
            for m in members[1:]:
                start = time.perf_counter_ns()
                scopes(await actor_of(s, policies, m, m.kind, 1))
                first.append(_ms(time.perf_counter_ns() - start))
    return {
        "cold_policy_load": {**_summary(cold), "max_ms": max(cold), "big_org_ms": big_cold},
        "member_first_request": _summary(first),
    }


# Members active at once, their scopes all kept: a few entries each, well within BUILT_MAX.
ACTIVE = BUILT_MAX // 4
FIGURES = ("build", "actor", "scopes", "row_query", "member_actor")


async def _run(sessions: Sessions, policies: PolicyCache, picks: list[Member]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {name: [] for name in FIGURES}
    clock = time.perf_counter_ns
    for m in picks:
        async with sessions() as s:
            await bind_org(s, m.org_id)
            await s.connection()  # begins: the organisation is bound before the clock starts
            start = clock()
            params = {"org_id": m.org_id, "member_id": m.member_id, "session_id": m.session_id}
            row = (await s.execute(MEMBER_ROW, params)).one()
            queried = clock()
            actor = await actor_of(s, policies, m, row.kind, row.policy_version)
            made = clock()
            scopes(actor)
            built = clock()
            await _member_actor(s, policies, m.org_id, m.member_id, m.session_id)
            whole = clock()
        out["row_query"].append(_ms(queried - start))
        out["actor"].append(_ms(made - queried))
        out["scopes"].append(_ms(built - made))
        out["build"].append(_ms(built - queried))
        out["member_actor"].append(_ms(whole - built))
    return out


async def _profile(
    sessions: Sessions, policies: PolicyCache, members: list[Member], rng: random.Random
) -> list[str]:
    """Where the build's time goes (cProfile, 2,000 warm builds), heaviest first."""
    profiler = cProfile.Profile()
    async with sessions() as s:
        picks = [rng.choice(members) for _ in range(2000)]
        profiler.enable()
        for m in picks:
            scopes(await actor_of(s, policies, m, m.kind, 1))
        profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(18)
    return [line for line in text.getvalue().splitlines() if line.strip()][-19:]


async def measure(
    sessions: Sessions, loaded: Loaded, *, samples: int, runs: int, seed: int, progress: Callable[[str], None]
) -> dict[str, Any]:
    """Warm the cache, then `runs` runs of `samples` builds for random members of a set of
    active ones (random members of random organisations). A member outside the set pays what
    `member_first_request` shows."""
    policies = PolicyCache()
    warm = await _warm(sessions, policies, loaded)
    progress(
        f"bench.access: policy cache warm ({len(loaded.members)} organisations, cold load p50 "
        f"{warm['cold_policy_load']['p50_ms']:.2f} ms); timing {runs} x {samples} Actor builds"
    )
    rng = random.Random(seed)
    orgs = list(loaded.members)
    members = [m for org in orgs for m in loaded.members[org]]
    per_run: dict[str, list[dict[str, Any]]] = {name: [] for name in FIGURES}
    for _ in range(runs):
        # The members active lately, whose scopes are kept (Actor.remember keeps BUILT_MAX entries,
        # a few per member): random organisations first, then a random member of each.
        active = [rng.choice(loaded.members[rng.choice(orgs)]) for _ in range(ACTIVE)]
        async with sessions() as s:
            for m in active:
                scopes(await actor_of(s, policies, m, m.kind, 1))
        picks = [rng.choice(active) for _ in range(samples)]
        figures = await _run(sessions, policies, picks)
        for name, values in figures.items():
            per_run[name].append(_summary(values))
        built, queried = per_run["build"][-1], per_run["row_query"][-1]
        progress(
            f"bench.access: Actor build p50 {built['p50_ms']:.3f} p99 {built['p99_ms']:.3f} ms; "
            f"row query p50 {queried['p50_ms']:.3f} p99 {queried['p99_ms']:.3f} ms"
        )
    return {
        "samples_per_run": samples,
        "active": ACTIVE,
        "members": len(members),
        "organisations": len(orgs),
        **{name: _medians(runs) for name, runs in per_run.items()},
        **warm,
        "profile": await _profile(sessions, policies, members, rng),
    }
