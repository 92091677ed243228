"""One organisation with an admin and staff (through the service, as crmapi_app), contacts by COPY."""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from bench import catalogue
from bench.database import connect
from crmapi.access.actor import Actor
from crmapi.contacts import service as contact_service
from crmapi.contacts.models import Contact
from crmapi.db import app_database_url, make_engine, make_sessions
from crmapi.identity.schemas import MemberCreate
from crmapi.identity.service import add_member, create_organisation
from crmapi.ids import new_id
from crmapi.settings import Settings

PASSWORD = "bench-password-123"
ADMIN_EMAIL = "admin@bench.example.com"
SPAN = timedelta(days=730)
COLUMNS = (
    "org_id", "id", "kind", "first_name", "last_name", "name", "display_name", "job_title", "emails",
    "phones", "addresses", "website", "web_domain", "tax_id", "time_zone", "tags", "custom",
    "owner_member_id", "business_unit_id", "lifecycle_state", "parent_payer_id", "search_text",
    "deleted_at", "created_at", "updated_at", "version",
)  # fmt: skip
JSON_COLUMNS = ("emails", "phones", "addresses", "custom")


@dataclass
class Org:
    id: UUID
    admin_id: UUID
    staff: list[tuple[UUID, str]] = field(default_factory=list)  # (member id, email)

    @property
    def member_ids(self) -> list[UUID]:
        return [self.admin_id, *(member_id for member_id, _ in self.staff)]


@dataclass
class Loaded:
    contacts: int
    live: int
    seconds: dict[str, float]
    ids: list[UUID]  # a sample of live contact ids


async def create_org(owner_url: str, staff: int) -> Org:
    """Exactly as `crmapi create-org` and `POST /v1/members` would: service calls as crmapi_app."""
    url = app_database_url(Settings(app_database_url=None), owner_url)
    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessions(engine)() as session, session.begin():
            org, admin = await create_organisation(
                session,
                name="Bench sp. z o.o.",
                admin_email=ADMIN_EMAIL,
                admin_password=PASSWORD,
                currency="PLN",
            )
            result = Org(id=org.id, admin_id=admin.id)
            actor = Actor(
                org_id=org.id, kind="staff", member_id=admin.id, capabilities=frozenset({"org.admin"})
            )
            for n in range(1, staff + 1):
                email = f"staff{n}@bench.example.com"
                data = MemberCreate(email=email, password=PASSWORD, display_name=f"Staff {n}")
                row = await add_member(session, actor, data)
                result.staff.append((row["id"], email))
        return result
    finally:
        await engine.dispose()


def _derived(body: dict[str, Any]) -> tuple[str, str]:
    """display_name and search_text exactly as the service derives them on every write."""
    contact = Contact(**body)
    contact_service.derive(contact)
    return contact.display_name, contact.search_text


def _row(org: Org, rng: random.Random, now: datetime, payers: list[UUID]) -> tuple[Any, ...]:
    body = catalogue.contact(rng)
    display_name, search_text = _derived(body)
    created = now - SPAN * rng.random()
    updated = created + (now - created) * rng.random() if rng.random() < 0.4 else created
    deleted = None
    if rng.random() < 0.02:
        deleted = updated = created + (now - created) * rng.random()
    values: dict[str, Any] = {
        **{column: None for column in COLUMNS},
        **body,
        "org_id": org.id,
        "id": new_id(),
        "display_name": display_name,
        "search_text": search_text,
        "owner_member_id": rng.choice(org.member_ids),
        "deleted_at": deleted,
        "created_at": created,
        "updated_at": updated,
        "version": 1,
    }
    if body["kind"] == "organisation":
        payers.append(values["id"])
    elif payers and rng.random() < 0.1:
        values["parent_payer_id"] = rng.choice(payers)
    for column in ("emails", "phones", "addresses"):
        values[column] = values[column] or []
    for column in JSON_COLUMNS:
        values[column] = json.dumps(values[column], ensure_ascii=False)
    return tuple(values[column] for column in COLUMNS)


async def load_contacts(owner_url: str, org: Org, count: int, seed: int) -> Loaded:
    """Generate `count` contacts, COPY them in as the owner, then VACUUM ANALYZE."""
    rng, now = random.Random(seed), datetime.now(UTC)
    payers: list[UUID] = []
    started = time.perf_counter()
    rows = [_row(org, rng, now, payers) for _ in range(count)]
    generated = time.perf_counter()
    conn = await connect(owner_url)
    try:
        await conn.copy_records_to_table("contacts", records=rows, columns=list(COLUMNS))
        copied = time.perf_counter()
        await conn.execute("VACUUM (ANALYZE)")
        analysed = time.perf_counter()
    finally:
        await conn.close()
    deleted_at = COLUMNS.index("deleted_at")
    live = [row[1] for row in rows if row[deleted_at] is None]
    seconds = {
        "generate": generated - started,
        "copy": copied - generated,
        "vacuum_analyze": analysed - copied,
        "total": analysed - started,
    }
    return Loaded(contacts=count, live=len(live), seconds=seconds, ids=rng.sample(live, min(2000, len(live))))
