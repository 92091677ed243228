"""The benchmark's data, written with COPY as the owner.

`crmapi demo-data` inserts as crmapi_app so row-level security checks every row, at a few thousand
rows a second; a million contacts need COPY, which RLS refuses to crmapi_app, so the owner writes
them here. Every NOT NULL, tenant and foreign-key column is filled as the services would; the
foreign-key triggers are skipped while copying (`session_replication_role = replica`, superuser
only; without one they run and the load is slower) and the big tables' secondary indexes are
dropped and rebuilt afterwards with their exact definitions, which is much faster than
maintaining GIN indexes row by row. VACUUM (ANALYZE) at the end, as autovacuum would, so the
planner has statistics and index-only scans a visibility map.

Organisation 0 is the big one: `accounts` accounts and `contacts` contacts, each contact linked
to one account, each account carrying one of `REP_CODES` sales-rep codes, so the member linked
to the first code sees 1% of the accounts and their contacts. The others are "realistic
handfuls": 4-30 staff and 0-3 customers, 3-7 groups with 1-4 grants each, 2-6 business units
(unit visibility on for about half), 1-8 sales-rep records.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from bench import database
from crmapi.access.capabilities import CATALOGUE
from crmapi.identity.security import hash_password
from crmapi.kit.ids import new_id

PASSWORD = "bench-access-password-1"
DOMAIN = "bench-access.example.com"
REP_CODES = 100  # one code each for 1% of the big organisation's accounts
BIG_STAFF = 40
SPAN = timedelta(days=730)
# Tables whose secondary indexes are rebuilt after the load, instead of maintained row by row.
BIG_TABLES = ("contacts", "accounts", "account_contacts", "account_sales_reps")

GROUP_NAMES = ("Sales", "Back office", "Managers", "Support", "Accounting", "Marketing", "Warehouse")
GRANTABLE = sorted(c for c in CATALOGUE if c != "org.admin")
FIRST = ("Anna", "Jan", "Maria", "Piotr", "Katarzyna", "Tomasz", "Agnieszka", "Paweł", "Ewa", "Michał")
LAST = ("Nowak", "Kowalski", "Wiśniewska", "Wójcik", "Kamiński", "Lewandowska", "Zieliński", "Szymańska")
TRADES = ("Hurtownia", "Serwis", "Transport", "Handel", "Budownictwo", "Elektro", "Meble", "Agro")
STATUSES = ("active",) * 8 + ("on_hold", "closed")
CLASSIFICATIONS = ("wholesale", "retail", "distributor", "service", None)


@dataclass(frozen=True)
class Member:
    org_id: UUID
    member_id: UUID
    session_id: UUID
    kind: str
    email: str


@dataclass
class Loaded:
    """What the load wrote: every organisation's members (with a live auth session each)."""

    big_org: UUID
    admin: Member
    rep: Member
    rep_code: str
    members: dict[UUID, list[Member]]  # org -> its members
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def _v7(ms: int, n: int) -> UUID:
    """A UUIDv7 with a fixed timestamp and `n` in its random bits: deterministic, no need to keep
    a million ids in memory to link rows to them."""
    return UUID(int=(ms << 80) | (7 << 76) | (((n >> 62) & 0xFFF) << 64) | (2 << 62) | (n & ((1 << 62) - 1)))


class _Small:
    """The rows of every table but the big four, collected for one COPY per table."""

    def __init__(self, rng: random.Random, now: datetime, password_hash: str) -> None:
        self.rng, self.now, self.password_hash = rng, now, password_hash
        self.rows: dict[str, list[tuple[Any, ...]]] = {}
        self.members: dict[UUID, list[Member]] = {}

    def add(self, table: str, *row: Any) -> None:
        self.rows.setdefault(table, []).append(row)

    def dated(self) -> tuple[datetime, datetime]:
        return self.now - SPAN, self.now - SPAN

    def organisation(self, n: int, unit_visibility: bool) -> UUID:
        org = new_id()
        settings = '{"unit_visibility": true}' if unit_visibility else "{}"
        self.add("organisations", org, f"Bench {n}", "PLN", "Europe/Warsaw", settings, 1, *self.dated(), 1)
        self.members[org] = []
        return org

    def member(self, org: UUID, n: int, i: int, kind: str, local: str | None = None) -> Member:
        user, member, session = new_id(), new_id(), new_id()
        email = f"{local or f'{kind}{i}'}@o{n}.{DOMAIN}"
        self.add("users", user, email, self.password_hash, *self.dated())
        name = f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"
        self.add("members", user, kind, "active", name, "Europe/Warsaw", org, member, *self.dated(), 1)
        expires = self.now + timedelta(days=30)
        self.add("auth_sessions", member, self.rng.randbytes(32), self.now, expires, None, org, session)
        found = Member(org, member, session, kind, email)
        self.members[org].append(found)
        return found

    def group(self, org: UUID, name: str, capabilities: Sequence[str], members: Sequence[Member]) -> None:
        group = new_id()
        self.add("groups", name, None, org, group, *self.dated(), 1)
        for capability in capabilities:
            self.add("group_grants", group, capability, org, new_id())
        for m in members:
            self.add("group_members", group, m.member_id, org, new_id())

    def units(self, org: UUID, count: int, staff: Sequence[Member]) -> None:
        ids: list[UUID] = []
        for i in range(count):
            unit = new_id()
            parent = self.rng.choice(ids) if ids else None
            self.add("business_units", f"Unit {i}", parent, org, unit, *self.dated(), 1)
            ids.append(unit)
        for m in staff:
            if self.rng.random() < 0.5:
                self.add("member_business_units", m.member_id, self.rng.choice(ids), org, new_id())

    def sales_rep(self, org: UUID, code: str, linked: Sequence[Member]) -> None:
        record = new_id()
        self.add("sales_reps", code, f"Rep {code}", None, True, org, record, *self.dated(), 1)
        for m in linked:
            self.add("sales_rep_members", record, m.member_id, org, new_id())

    def small_org(self, n: int) -> None:
        rng = self.rng
        org = self.organisation(n, unit_visibility=rng.random() < 0.5)
        staff = [self.member(org, n, i, "staff") for i in range(rng.randint(4, 30))]
        for i in range(rng.randint(0, 3)):
            self.member(org, n, i, "customer")
        self.group(org, "Administrators", ["org.admin"], staff[:1])
        for name in rng.sample(GROUP_NAMES, rng.randint(2, 6)):
            grants = rng.sample(GRANTABLE, rng.randint(1, 4))
            self.group(org, name, grants, [m for m in staff[1:] if rng.random() < 0.4])
        self.units(org, rng.randint(2, 6), staff)
        for i in range(rng.randint(1, 8)):
            linked = [rng.choice(staff)] if rng.random() < 0.9 else []
            self.sales_rep(org, f"PH{i + 1:02d}", linked)


# Each table's columns, in the order its rows list them.
COLUMNS = {
    "organisations": "id name default_currency time_zone settings policy_version created_at updated_at "
    "version",
    "users": "id email password_hash created_at updated_at",
    "members": "user_id kind status display_name time_zone org_id id created_at updated_at version",
    "auth_sessions": "member_id refresh_hash created_at expires_at revoked_at org_id id",
    "groups": "name description org_id id created_at updated_at version",
    "group_grants": "group_id capability org_id id",
    "group_members": "group_id member_id org_id id",
    "business_units": "name parent_id org_id id created_at updated_at version",
    "member_business_units": "member_id business_unit_id org_id id",
    "sales_reps": "code name email active org_id id created_at updated_at version",
    "sales_rep_members": "sales_rep_id member_id org_id id",
    "counters": "name value org_id id",
    "account_assignments": "account_id member_id org_id id",
    "contacts": "kind first_name last_name name display_name emails phones addresses tags custom "
    "owner_member_id lifecycle_state search_text org_id id created_at updated_at version",
    "accounts": "number code name primary_contact_id classification payment_terms payment_methods status "
    "is_retail_default owner_member_id tags custom search_text deleted_at org_id id created_at "
    "updated_at version",
    "account_contacts": "account_id contact_id role org_id id",
    "account_sales_reps": "account_id sales_rep_code org_id id",
}


class _Big:
    """The big organisation's records, generated row by row as COPY reads them."""

    def __init__(
        self,
        rng: random.Random,
        org: UUID,
        now: datetime,
        owners: Sequence[UUID],
        accounts: int,
        contacts: int,
    ) -> None:
        self.rng, self.org, self.now, self.owners = rng, org, now, owners
        self.accounts, self.contacts = accounts, contacts
        ms = int(now.timestamp() * 1000)
        self.contact_ms, self.account_ms, self.link_ms, self.code_ms = ms, ms + 1, ms + 2, ms + 3

    def contact_id(self, j: int) -> UUID:
        return _v7(self.contact_ms, j)

    def account_id(self, i: int) -> UUID:
        return _v7(self.account_ms, i)

    def _moment(self) -> datetime:
        return self.now - SPAN * self.rng.random()

    def contact_rows(self) -> Iterator[tuple[Any, ...]]:
        rng, org, owners = self.rng, self.org, self.owners
        for j in range(self.contacts):
            at = self._moment()
            if rng.random() < 0.2:
                name = f"{rng.choice(TRADES)} {rng.choice(LAST)} sp. z o.o. {j}"
                kind, first, last, display = "organisation", None, None, name
            else:
                first, last, name = rng.choice(FIRST), rng.choice(LAST), None
                kind, display = "person", f"{first} {last}"
            yield (
                kind, first, last, name, display, "[]", "[]", "[]", [], "{}", rng.choice(owners),
                "prospect" if rng.random() < 0.3 else "financial", display.lower(), org,
                self.contact_id(j), at, at, 1,
            )  # fmt: skip

    def account_rows(self) -> Iterator[tuple[Any, ...]]:
        rng, org, owners = self.rng, self.org, self.owners
        for i in range(self.accounts):
            at = self._moment()
            name = f"{rng.choice(TRADES)} {rng.choice(LAST)} {i + 1}"
            deleted = at + timedelta(days=1) if rng.random() < 0.005 else None
            yield (
                i + 1, f"K{i + 1:07d}", name, self.contact_id(i), rng.choice(CLASSIFICATIONS), "14 days",
                ["transfer"], rng.choice(STATUSES), False, rng.choice(owners), [], "{}", name.lower(),
                deleted, org, self.account_id(i), at, at, 1,
            )  # fmt: skip

    def link_rows(self) -> Iterator[tuple[Any, ...]]:
        # Contact j belongs to account j % accounts: about contacts / accounts contacts each.
        for j in range(self.contacts):
            yield self.account_id(j % self.accounts), self.contact_id(j), None, self.org, _v7(self.link_ms, j)

    def code_rows(self) -> Iterator[tuple[Any, ...]]:
        for i in range(self.accounts):
            yield self.account_id(i), rep_code(i % REP_CODES), self.org, _v7(self.code_ms, i)


def rep_code(n: int) -> str:
    return f"R{n:03d}"


async def _secondary_indexes(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    """The big tables' indexes that back no constraint: (name, definition)."""
    rows = await conn.fetch(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = 'public' AND i.tablename = ANY($1::text[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        list(BIG_TABLES),
    )
    return [(r["indexname"], r["indexdef"]) for r in rows]


# Parents before children, for a reader of the foreign keys; the triggers are off while copying.
SMALL_TABLES = (
    "organisations", "users", "members", "auth_sessions", "groups", "group_grants", "group_members",
    "business_units", "member_business_units", "sales_reps", "sales_rep_members", "counters",
)  # fmt: skip


async def _copy(conn: asyncpg.Connection, table: str, rows: Iterable[tuple[Any, ...]]) -> None:
    await conn.copy_records_to_table(table, records=rows, columns=COLUMNS[table].split())


async def load(url: str, *, orgs: int, accounts: int, contacts: int, seed: int, progress: Any) -> Loaded:
    """Write the organisations, then the big one's records; returns who can sign in."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    started = time.monotonic()
    small = _Small(rng, now, hash_password(PASSWORD))
    big = small.organisation(0, unit_visibility=False)
    staff = [small.member(big, 0, 0, "staff", "admin"), small.member(big, 0, 1, "staff", "rep")]
    staff += [small.member(big, 0, i, "staff") for i in range(2, BIG_STAFF)]
    admin, rep = staff[0], staff[1]
    customers = [small.member(big, 0, i, "customer") for i in range(3)]
    small.group(big, "Administrators", ["org.admin"], [admin])
    small.group(big, "Kierownicy sprzedaży", ["accounts.view_any", "contacts.view_any"], staff[2:4])
    small.group(big, "Back office", ["accounts.manage", "contacts.manage", "tags.manage"], staff[4:6])
    small.group(big, "Handlowcy", ["accounts.create", "contacts.create"], staff[1:])
    small.units(big, 4, [])
    for n in range(REP_CODES):
        # The rep works as R000 only; the other codes go round the other staff.
        small.sales_rep(big, rep_code(n), [rep] if n == 0 else [staff[2 + n % (BIG_STAFF - 2)]])
    owners = [m.member_id for m in staff[2:]]  # the rep owns nothing: it sees exactly its code's share
    records = _Big(rng, big, now, owners, accounts, contacts)
    small.add("counters", "account", accounts, big, new_id())
    for k, customer in enumerate(customers):
        account = records.account_id(k * 7 + 1)
        small.add("account_assignments", account, customer.member_id, big, new_id())
    for n in range(1, orgs):
        small.small_org(n)
    conn = await database.connect(url)
    counts: dict[str, int] = {}
    try:
        try:
            await conn.execute("SET session_replication_role = replica")
        except asyncpg.InsufficientPrivilegeError:
            progress("bench.access: not a superuser; foreign keys are checked while copying (slower)")
        dropped = await _secondary_indexes(conn)
        for name, _ in dropped:
            await conn.execute(f'DROP INDEX "{name}"')
        async with conn.transaction():
            for table in SMALL_TABLES:
                rows = small.rows.get(table, [])
                await _copy(conn, table, rows)
                counts[table] = len(rows)
            progress(f"bench.access: {orgs} organisations copied; now {contacts:,} contacts")
            await _copy(conn, "contacts", records.contact_rows())
            progress(f"bench.access: {accounts:,} accounts and their links")
            await _copy(conn, "accounts", records.account_rows())
            await _copy(conn, "account_contacts", records.link_rows())
            await _copy(conn, "account_sales_reps", records.code_rows())
            await _copy(conn, "account_assignments", small.rows["account_assignments"])
        counts["account_assignments"] = len(small.rows["account_assignments"])
        counts.update(
            contacts=contacts, accounts=accounts, account_contacts=contacts, account_sales_reps=accounts
        )
        copied = time.monotonic()
        progress(f"bench.access: copied in {copied - started:.0f} s; rebuilding {len(dropped)} indexes")
        await conn.execute("RESET session_replication_role")
        await conn.execute("SET maintenance_work_mem = '512MB'")
        for _, definition in dropped:
            await conn.execute(definition)
        indexed = time.monotonic()
        await conn.execute("VACUUM (ANALYZE)")
        analysed = time.monotonic()
    finally:
        await conn.close()
    progress(
        f"bench.access: indexes in {indexed - copied:.0f} s, VACUUM (ANALYZE) in {analysed - indexed:.0f} s"
    )
    return Loaded(
        big_org=big,
        admin=admin,
        rep=rep,
        rep_code=rep_code(0),
        members=small.members,
        counts=counts,
        seconds={
            "copy": round(copied - started, 1),
            "indexes": round(indexed - copied, 1),
            "vacuum_analyze": round(analysed - indexed, 1),
        },
    )
