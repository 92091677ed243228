"""Demo data's access set-up: a sales department by region, sales-rep records, groups.

Staff 1 to 8 work as the sales-rep records PH01 to PH08 the accounts already carry; staff 9 to 11 are
regional managers who see their region's accounts through business units; "Kierownicy
sprzedaży" see everything and "Back office" may change everything. The organisation turns
unit visibility on.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from crmapi.demo.names import REGIONS, SALES_REP_CODES
from crmapi.demo.rows import Login, Rows
from crmapi.kit.ids import new_id

UNIT_NAMES = {
    "north": "Północ",
    "south": "Południe",
    "east": "Wschód",
    "west": "Zachód",
    "central": "Centrum",
}
GROUPS = {
    "Kierownicy sprzedaży": ("accounts.view_any", "contacts.view_any"),
    "Back office": ("accounts.manage", "contacts.manage", "tags.manage"),
}


@dataclass
class AccessRows:
    units: list[dict[str, Any]] = field(default_factory=list)
    member_units: list[dict[str, Any]] = field(default_factory=list)
    sales_reps: list[dict[str, Any]] = field(default_factory=list)
    sales_rep_members: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    grants: list[dict[str, Any]] = field(default_factory=list)
    group_members: list[dict[str, Any]] = field(default_factory=list)


def build_access(
    rng: random.Random, org_id: UUID, at: datetime, staff: list[Login], rows: Rows
) -> AccessRows:
    """The access rows; also puts every account into its region's unit."""
    out = AccessRows()

    def row(**values: Any) -> dict[str, Any]:
        return {"org_id": org_id, "id": new_id(), **values}

    dated = {"created_at": at, "updated_at": at, "version": 1}
    sales = row(name="Sprzedaż", parent_id=None, **dated)
    out.units.append(sales)
    regions = {r: row(name=UNIT_NAMES[r], parent_id=sales["id"], **dated) for r in REGIONS}
    out.units.extend(regions.values())
    for account in rows.accounts:
        region = account["custom"].get("region")
        account["business_unit_id"] = regions[region]["id"] if region in regions else sales["id"]

    reps = staff[1 : 1 + len(SALES_REP_CODES)]
    for code, member in zip(SALES_REP_CODES, reps, strict=False):
        record = row(code=code, name=member.display_name, email=member.email, active=True, **dated)
        out.sales_reps.append(record)
        out.sales_rep_members.append(row(sales_rep_id=record["id"], member_id=member.member_id))
    managers = staff[1 + len(SALES_REP_CODES) :]
    for member, region in zip(managers, rng.sample(REGIONS, len(REGIONS)), strict=False):
        out.member_units.append(row(member_id=member.member_id, business_unit_id=regions[region]["id"]))

    for name, capabilities in GROUPS.items():
        group = row(name=name, description=None, **dated)
        out.groups.append(group)
        out.grants.extend(row(group_id=group["id"], capability=c) for c in capabilities)
    heads, office = out.groups
    if managers:
        out.group_members.append(row(group_id=heads["id"], member_id=managers[0].member_id))
    if len(staff) > 1:
        out.group_members.append(row(group_id=office["id"], member_id=staff[-1].member_id))
    return out
