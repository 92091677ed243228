"""An organisation's access policy, loaded from its tables and cached by `policy_version`.

The policy answers, per member: the capabilities its groups grant (through Casbin, from the
model in `model.conf`), the sales-rep codes it works as, and the business units whose records it
sees (its own and every unit below them) when the organisation turned unit visibility on.
Every change to groups, grants, sales-rep links, units or that setting bumps
`organisations.policy_version` in its transaction; the Actor query reads the version, so a
stale cache entry is never used, in this process or any other.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

import casbin
from casbin.model import Model
from casbin.persist.adapter import Adapter
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.models import BusinessUnit, GroupGrant, GroupMember, MemberUnit, SalesRep, SalesRepMember
from crmapi.identity.models import Organisation

MODEL = Path(__file__).with_name("model.conf")
ACT = "use"
UNIT_VISIBILITY = "unit_visibility"


@dataclass(frozen=True)
class Grants:
    """What a member holds by way of the organisation's configuration."""

    capabilities: frozenset[str] = frozenset()
    sales_rep_codes: tuple[str, ...] = ()
    unit_ids: tuple[UUID, ...] = ()


@dataclass
class _Rows:
    """The organisation's policy rows, as the adapter hands them to Casbin."""

    grants: list[tuple[UUID, str]] = field(default_factory=list)  # group, capability
    memberships: list[tuple[UUID, UUID]] = field(default_factory=list)  # member, group


class _TableAdapter(Adapter):  # type: ignore[misc]
    """Feeds Casbin one organisation's group_grants (p) and group_members (g) rows."""

    def __init__(self, org_id: UUID, rows: _Rows) -> None:
        self._org, self._rows = str(org_id), rows

    def load_policy(self, model: Model) -> None:
        for group_id, capability in self._rows.grants:
            model.add_policy("p", "p", [f"group:{group_id}", self._org, capability, ACT])
        for member_id, group_id in self._rows.memberships:
            model.add_policy("g", "g", [f"member:{member_id}", f"group:{group_id}", self._org])


class OrgPolicy:
    """One organisation's policy at one version; per-member answers are computed once."""

    def __init__(
        self,
        org_id: UUID,
        rows: _Rows,
        rep_codes: dict[UUID, tuple[str, ...]],
        units: dict[UUID, tuple[UUID, ...]],
        unit_visibility: bool,
    ) -> None:
        self._org = str(org_id)
        self._enforcer = casbin.Enforcer(str(MODEL), _TableAdapter(org_id, rows))
        self._rep_codes = rep_codes
        self._units = units if unit_visibility else {}
        self._members: dict[UUID, Grants] = {}

    def grants(self, member_id: UUID) -> Grants:
        known = self._members.get(member_id)
        if known is None:
            held = self._enforcer.get_implicit_permissions_for_user(f"member:{member_id}", self._org)
            known = Grants(
                capabilities=frozenset(rule[2] for rule in held),
                sales_rep_codes=self._rep_codes.get(member_id, ()),
                unit_ids=self._units.get(member_id, ()),
            )
            self._members[member_id] = known
        return known


class PolicyCache:
    """The newest policy of the most recently used organisations, in this process."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._entries: OrderedDict[UUID, tuple[int, OrgPolicy]] = OrderedDict()

    async def grants(self, session: AsyncSession, org_id: UUID, version: int, member_id: UUID) -> Grants:
        entry = self._entries.get(org_id)
        if entry is None or entry[0] != version:
            entry = (version, await load(session, org_id))
            self._entries[org_id] = entry
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(org_id)
        return entry[1].grants(member_id)


async def load(session: AsyncSession, org_id: UUID) -> OrgPolicy:
    """Read an organisation's policy (the session is bound to it, so RLS shows only its rows)."""
    rows = _Rows(
        grants=[(g, c) for g, c in await session.execute(select(GroupGrant.group_id, GroupGrant.capability))],
        memberships=[
            (m, g) for m, g in await session.execute(select(GroupMember.member_id, GroupMember.group_id))
        ],
    )
    codes: dict[UUID, list[str]] = defaultdict(list)
    linked = select(SalesRepMember.member_id, SalesRep.code).join(
        SalesRep, (SalesRep.org_id == SalesRepMember.org_id) & (SalesRep.id == SalesRepMember.sales_rep_id)
    )
    for member_id, code in await session.execute(linked.where(SalesRep.active).order_by(SalesRep.code)):
        codes[member_id].append(code)
    settings = (
        await session.execute(select(Organisation.settings).where(Organisation.id == org_id))
    ).scalar_one()
    visible = bool(settings.get(UNIT_VISIBILITY, False))
    units = await _units_seen(session) if visible else {}
    return OrgPolicy(org_id, rows, {m: tuple(c) for m, c in codes.items()}, units, visible)


async def _units_seen(session: AsyncSession) -> dict[UUID, tuple[UUID, ...]]:
    """Per member: its units and every unit below them."""
    children: dict[UUID | None, list[UUID]] = defaultdict(list)
    for unit_id, parent_id in await session.execute(select(BusinessUnit.id, BusinessUnit.parent_id)):
        children[parent_id].append(unit_id)
    below: dict[UUID, list[UUID]] = {}

    def subtree(unit_id: UUID) -> list[UUID]:
        if unit_id not in below:
            below[unit_id] = [unit_id]  # set first: a cycle cannot recurse forever
            for child in children[unit_id]:
                below[unit_id].extend(u for u in subtree(child) if u not in below[unit_id])
        return below[unit_id]

    seen: dict[UUID, set[UUID]] = defaultdict(set)
    for member_id, unit_id in await session.execute(
        select(MemberUnit.member_id, MemberUnit.business_unit_id)
    ):
        seen[member_id].update(subtree(unit_id))
    return {m: tuple(sorted(u)) for m, u in seen.items()}


async def changed(session: AsyncSession, org_id: UUID) -> None:
    """Mark the organisation's policy as changed; every process reloads it on its next request."""
    await session.execute(
        update(Organisation)
        .where(Organisation.id == org_id)
        .values(policy_version=Organisation.policy_version + 1)
        .execution_options(synchronize_session=False)
    )
