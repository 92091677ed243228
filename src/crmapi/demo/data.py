"""`crmapi demo-data`: a new organisation "Demo <n>" filled with realistic staff, customers and records.

Everything is generated in memory (`crmapi.demo.rows`) from one seeded `random.Random` (ids are
UUIDv7, so only they and the timestamps differ between runs), then written set-based as crmapi_app
with the organisation bound, so row-level security checks every row. Display names and search text
come from the services' own `derive`; each record gets a "created" history row (the ERP's documents
of `crmapi.demo.trading` none: they are the ERP's record). No outbox rows are written: webhooks and
other event consumers never hear of demo data.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Table, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access import bootstrap
from crmapi.access.models import (
    BusinessUnit,
    Group,
    GroupGrant,
    GroupMember,
    MemberUnit,
    SalesRep,
    SalesRepMember,
)
from crmapi.access.policy import UNIT_VISIBILITY
from crmapi.accounts import service as account_service
from crmapi.accounts.models import Account, AccountAssignment, AccountContact, AccountSalesRep
from crmapi.attachments.models import Attachment
from crmapi.attachments.storage import Storage
from crmapi.config.models import LookupList, LookupValue
from crmapi.contacts import service as contact_service
from crmapi.contacts.models import Contact
from crmapi.conversations.models import Conversation, Message, Participant, ReadMarker, Revision
from crmapi.custom_fields.models import CustomFieldDefinition
from crmapi.demo import hooks as demo_hooks
from crmapi.demo import issues as demo_issues
from crmapi.demo import sales as demo_sales
from crmapi.demo import talk as demo_talk
from crmapi.demo import trading as demo_trading
from crmapi.demo.access import build_access
from crmapi.demo.rows import SPAN, Builder, Login, Rows, plain, slug
from crmapi.documents.models import AccountBalance, Allocation, Document, DocumentLine
from crmapi.events.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from crmapi.feedback.models import Feedback
from crmapi.feeds.models import Feed, FeedComment, FeedMember, FeedPost
from crmapi.identity.models import Member, Organisation, User
from crmapi.identity.security import hash_password
from crmapi.issues.models import Issue, IssueComment, IssueFollower, IssueForm, WorkLog
from crmapi.kit.base import Base
from crmapi.kit.db import bind_org
from crmapi.kit.ids import new_id
from crmapi.leads.models import Lead
from crmapi.lifecycle import defaults as lifecycle_defaults
from crmapi.lifecycle.models import LifecycleType
from crmapi.notes.models import Note
from crmapi.opportunities.models import Opportunity
from crmapi.records import history
from crmapi.records.history import HistoryEntry
from crmapi.sales_orders.models import SalesOrder, SalesOrderLine
from crmapi.service_requests.models import ServiceRequest
from crmapi.tags.models import Tag

PASSWORD = "demo-password-1"
CUSTOMERS = 4
CHUNK = 1000
FOUNDED = SPAN + timedelta(days=60)  # the organisation is a little older than its records


@dataclass
class Demo:
    """What was created: who can sign in (all with PASSWORD), and how many rows of each kind."""

    organisation_id: UUID
    name: str
    admin: Login
    staff: list[Login]
    customers: list[Login]
    assigned: dict[UUID, list[UUID]]  # customer member id -> account ids
    counts: dict[str, int]


def build(
    rng: random.Random,
    *,
    org_id: UUID,
    n: int,
    now: datetime,
    password_hash: str,
    contacts: int,
    accounts: int,
    numbers: Sequence[int],
) -> tuple[Rows, list[Login], list[Login], dict[UUID, list[UUID]]]:
    """Every row of the demo organisation (with its history rows), in memory."""
    b = Builder(rng, org_id, n, now, password_hash)
    b.history("organisation", org_id, now - FOUNDED, None, {"name": {"old": None, "new": f"Demo {n}"}})
    staff = b.staff()
    admin = staff[0].member_id
    b.catalogue(admin)
    # Owners: the administrator owns a few records, the rest of the staff share the others.
    owners = [s.member_id for s in staff]
    owner_weights = [0.3, *([1.0] * (len(staff) - 1))]

    def owner() -> UUID:
        return rng.choices(owners, owner_weights)[0]

    organisations = [b.organisation(owner()) for _ in range(max(1, round(contacts * 0.3)))]
    persons = [
        b.person(owner(), rng.choice(organisations) if rng.random() < 0.55 else None)
        for _ in range(contacts - len(organisations))
    ]
    for row in b.rows.contacts:
        contact = Contact(**plain(row))
        contact_service.derive(contact)
        row["display_name"], row["search_text"] = contact.display_name, contact.search_text
    private = [p for p in persons if p["job_title"] is None] or persons

    # The retail default first (number 1), then companies, then private customers.
    numbered = iter(numbers)
    buyers = rng.sample(private, min(len(private), rng.randint(1, 3)))
    retail = b.account(
        next(numbered),
        admin,
        buyers[0],
        buyers[1:],
        name="Klienci detaliczni",
        classification="retail",
        price_level="retail",
        payment_terms="prepayment",
        payment_methods=["card", "BLIK", "cash"],
        status="active",
        is_retail_default=True,
        credit_rating=None,
        credit_limit_amount=None,
        credit_limit_currency=None,
        tags=["detal"],
        custom={"region": "central"},
    )
    candidates = rng.sample(organisations, len(organisations)) + rng.sample(private, len(private))
    for index in range(accounts - 1):
        primary = candidates[index % len(candidates)]
        wanted = rng.randint(1, 3)
        staffers = b.employees.get(primary["id"]) or [p for p in private if p is not primary]
        linked = rng.sample(staffers, min(wanted, len(staffers)))
        b.account(next(numbered), owner(), primary, linked)

    # Customer members: people linked to an account, personally assigned to it and up to two more.
    eligible = [a for a in b.rows.accounts if a is not retail and a["_linked"]]
    rng.shuffle(eligible)
    eligible.sort(key=lambda a: a["status"] != "active")  # active ones first, still shuffled
    chosen = eligible[: CUSTOMERS * 3]
    customers: list[Login] = []
    assigned: dict[UUID, list[UUID]] = {}
    for index in range(min(CUSTOMERS, len(chosen))):
        first = chosen[index]
        person = first["_linked"][0]
        at = b.moment(first["created_at"])
        email = b.unique_email(
            f"{slug(person['first_name'] or '')}.{slug(person['last_name'] or '')}",
            f"customers.demo{n}.example.com",
        )
        login = b.member("customer", person["first_name"] or "", person["last_name"] or "", email, at, admin)
        customers.append(login)
        extra = [a for a in chosen[CUSTOMERS:] if a["id"] not in {x for v in assigned.values() for x in v}]
        picks = [first, *rng.sample(extra, min(len(extra), rng.randint(0, 2)))]
        assigned[login.member_id] = [a["id"] for a in picks]
        for picked in picks:
            b.rows.assignments.append(
                {"org_id": org_id, "id": new_id(), "account_id": picked["id"], "member_id": login.member_id}
            )
            change = {"member_id": {"old": None, "new": str(login.member_id)}}
            b.history("account", picked["id"], at, admin, change, action="member_assigned")

    for _ in range(contacts // 2):
        b.note("contact", rng.choice(b.rows.contacts), staff)
    for _ in range(accounts * 6 // 5):
        b.note("account", rng.choice(b.rows.accounts), staff)

    # Derived text and "created" history, as the services write them.
    for row in b.rows.contacts:
        snapshot = {k: row[k] for k in contact_service.WRITABLE}
        b.history("contact", row["id"], row["created_at"], row["owner_member_id"], history.diff({}, snapshot))
    for row in b.rows.accounts:
        account = Account(**plain(row))
        account_service.derive(account)
        row["search_text"] = account.search_text
        snapshot = {**account_service.snapshot(account, row["_codes"]), "number": row["number"]}
        b.history("account", row["id"], row["created_at"], row["owner_member_id"], history.diff({}, snapshot))
    return b.rows, staff, customers, assigned


async def _demo_number(session: AsyncSession) -> int:
    """The next free n for "Demo <n>" whose email domains no user has yet."""
    names = (
        await session.execute(select(Organisation.name).where(Organisation.name.like("Demo %")))
    ).scalars()
    taken = [int(m.group(1)) for name in names if (m := re.fullmatch(r"Demo (\d+)", name))]
    n = max(taken, default=0) + 1
    while True:
        domain = f"demo{n}.example.com"
        used = await session.execute(
            select(User.id)
            .where(or_(User.email.like(f"%@{domain}"), User.email.like(f"%.{domain}")))
            .limit(1)
        )
        if used.first() is None:
            return n
        n += 1


async def _insert(session: AsyncSession, model: type[Base], rows: list[dict[str, Any]]) -> None:
    # Into the table, not through the ORM: its bulk insert writes a versioned model's rows one
    # statement each.
    table = model.__table__
    assert isinstance(table, Table)
    for start in range(0, len(rows), CHUNK):
        await session.execute(insert(table), [plain(r) for r in rows[start : start + CHUNK]])


async def load(
    session: AsyncSession,
    *,
    seed: int = 1,
    contacts: int = 2000,
    accounts: int = 500,
    password: str = PASSWORD,
    store: Storage | None = None,
) -> Demo:
    """Create "Demo <n>" and fill it; the caller commits. Needs at least 10 contacts and 5 accounts.
    With `store`, some messages carry an attachment, its bytes written there."""
    if contacts < 10 or accounts < 5:
        raise ValueError("demo data needs at least 10 contacts and 5 accounts")
    rng, now = random.Random(seed), datetime.now(UTC)
    n = await _demo_number(session)
    org_id, name = new_id(), f"Demo {n}"
    created = now - FOUNDED
    await session.execute(
        insert(Organisation).values(
            id=org_id,
            name=name,
            default_currency="PLN",
            time_zone="Europe/Warsaw",
            settings={UNIT_VISIBILITY: True},
            policy_version=1,
            version=1,
            created_at=created,
            updated_at=created,
        )
    )
    await bind_org(session, org_id)
    await lifecycle_defaults.seed(session, org_id)
    # The organisation's account counter ends at the highest number the demo uses.
    numbers = await account_service.next_numbers(session, org_id, "account", accounts)
    rows, staff, customers, assigned = build(
        rng,
        org_id=org_id,
        n=n,
        now=now,
        password_hash=hash_password(password),
        contacts=contacts,
        accounts=accounts,
        numbers=numbers,
    )
    access = build_access(rng, org_id, created, staff, rows)
    for model, table in (
        (User, rows.users),
        (Member, rows.members),
        (BusinessUnit, access.units),
        (MemberUnit, access.member_units),
        (SalesRep, access.sales_reps),
        (SalesRepMember, access.sales_rep_members),
        (Group, access.groups),
        (GroupGrant, access.grants),
        (GroupMember, access.group_members),
        (Tag, rows.tags),
        (CustomFieldDefinition, rows.custom_fields),
        (Contact, rows.contacts),
        (Account, rows.accounts),
        (AccountContact, rows.account_contacts),
        (AccountAssignment, rows.assignments),
        (AccountSalesRep, rows.sales_reps),
        (Note, rows.notes),
        (HistoryEntry, rows.history),
    ):
        await _insert(session, model, table)
    await bootstrap.administrators(session, org_id, staff[0].member_id)
    cfg = await demo_sales.config(session)
    sales = demo_sales.build(
        rng,
        org_id,
        now,
        cfg,
        [s.member_id for s in staff],
        rows.contacts,
        rows.accounts,
    )
    # The series end at the highest numbers the demo uses, so the API's next ones follow them.
    await account_service.next_numbers(session, org_id, "lead", len(sales.leads))
    await account_service.next_numbers(session, org_id, "opportunity", len(sales.opportunities))
    await account_service.next_numbers(session, org_id, "service_request", len(sales.service_requests))
    await _insert(session, Lead, sales.leads)
    await _insert(session, Opportunity, sales.opportunities)
    await _insert(session, ServiceRequest, sales.service_requests)
    await _insert(session, Feedback, sales.feedback)
    await _insert(session, HistoryEntry, sales.history)
    hooks = demo_hooks.build(rng, org_id, n, now, rows.accounts)
    await _insert(session, WebhookEndpoint, hooks.endpoints)
    await _insert(session, WebhookDelivery, hooks.deliveries)
    await _insert(session, WebhookAttempt, hooks.attempts)
    # Sales orders in every state, then the coded accounts' year of invoices, payments, credit
    # notes and back orders (some naming the orders the ERP acknowledged), and their balances.
    orders = await account_service.next_numbers(
        session, org_id, "sales_order", demo_trading.ORDERS_PER_STATE * len(demo_trading.ORDER_STATES)
    )
    trading = demo_trading.build(rng, org_id, now, cfg, [s.member_id for s in staff], rows.accounts, orders)
    written: tuple[tuple[type[Base], list[dict[str, Any]]], ...] = (
        (SalesOrder, trading.orders),
        (SalesOrderLine, trading.order_lines),
        (HistoryEntry, trading.history),
        (Document, trading.documents),
        (DocumentLine, trading.lines),
        (Allocation, trading.allocations),
        (AccountBalance, trading.balances),
    )
    for kind, table in written:
        await _insert(session, kind, table)
    # Conversations on the customers' and some other accounts, and two sales-team feeds.
    staff_ids = [s.member_id for s in staff]
    talk = demo_talk.build(rng, org_id, now, staff_ids, rows.accounts, assigned, attach=store is not None)
    if store is not None and talk.attachments:
        await store.put(org_id, talk.attachments[0]["sha256"], demo_talk.NOTE_PDF)
    spoken: tuple[tuple[type[Base], list[dict[str, Any]]], ...] = (
        (Conversation, talk.conversations),
        (Participant, talk.participants),
        (Message, talk.messages),
        (Revision, talk.revisions),
        (ReadMarker, talk.reads),
        (Feed, talk.feeds),
        (FeedMember, talk.feed_members),
        (FeedPost, talk.posts),
        (FeedComment, talk.comments),
        (Attachment, talk.attachments),
    )
    for kind, table in spoken:
        await _insert(session, kind, table)
    # The seed's issue types with their forms, and issues filed on the accounts.
    customers_of: dict[UUID, list[UUID]] = {}
    for customer, account_ids in assigned.items():
        for account_id in account_ids:
            customers_of.setdefault(account_id, []).append(customer)
    filed = demo_issues.build(
        rng,
        org_id,
        now,
        {state: cfg.statuses[("issue", state)][0] for state in demo_issues.STATES},
        staff_ids,
        rows.accounts,
        customers_of,
        await account_service.next_numbers(session, org_id, "issue", max(30, len(rows.accounts) // 2)),
    )
    issued: tuple[tuple[type[Base], list[dict[str, Any]]], ...] = (
        (LookupList, filed.lookup_lists),
        (LookupValue, filed.lookup_values),
        (LifecycleType, filed.types),
        (IssueForm, filed.forms),
        (Issue, filed.issues),
        (IssueFollower, filed.followers),
        (IssueComment, filed.comments),
        (WorkLog, filed.work_logs),
    )
    for kind, table in issued:
        await _insert(session, kind, table)
    counts = {
        "staff": len(staff),
        "customers": len(customers),
        "contacts": len(rows.contacts),
        "organisations": sum(1 for c in rows.contacts if c["kind"] == "organisation"),
        "persons": sum(1 for c in rows.contacts if c["kind"] == "person"),
        "accounts": len(rows.accounts),
        "account_contacts": len(rows.account_contacts),
        "assignments": len(rows.assignments),
        "sales_rep_codes": len(rows.sales_reps),
        "sales_reps": len(access.sales_reps),
        "business_units": len(access.units),
        "groups": len(access.groups) + 1,
        "notes": len(rows.notes),
        "tags": len(rows.tags),
        "custom_fields": len(rows.custom_fields),
        "history": len(rows.history) + len(sales.history) + len(trading.history),
        "leads": len(sales.leads),
        "opportunities": len(sales.opportunities),
        "service_requests": len(sales.service_requests),
        "feedback": len(sales.feedback),
        "webhook_endpoints": len(hooks.endpoints),
        "webhook_deliveries": len(hooks.deliveries),
        **trading.counts(),
        **talk.counts(),
        "issue_types": len(filed.types),
        "issues": len(filed.issues),
        "issue_comments": len(filed.comments),
        "issue_work_logs": len(filed.work_logs),
    }
    return Demo(
        organisation_id=org_id,
        name=name,
        admin=staff[0],
        staff=staff[1:],
        customers=customers,
        assigned=assigned,
        counts=counts,
    )
