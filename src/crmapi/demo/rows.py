"""The rows of one demo organisation, generated in memory (see `crmapi.demo.data`).

`Builder` makes each kind of record as the plain dict a set-based insert takes, with the history
row its service would write; keys starting with `_` are the builder's bookkeeping, not columns.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from crmapi.demo import names as words
from crmapi.kit.ids import new_id
from crmapi.kit.search import fold
from crmapi.records import history

STAFF = 12  # the first is the administrator
SPAN = timedelta(days=3 * 365)  # records were created over the last three years
T = TypeVar("T")


@dataclass(frozen=True)
class Login:
    member_id: UUID
    email: str
    display_name: str


@dataclass
class Rows:
    users: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)
    custom_fields: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    account_contacts: list[dict[str, Any]] = field(default_factory=list)
    assignments: list[dict[str, Any]] = field(default_factory=list)
    sales_reps: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)


def slug(text: str) -> str:
    """ASCII lower case with dashes: for email local parts and domains."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


def nip(rng: random.Random) -> str:
    """A Polish NIP: ten digits whose last is the weighted check digit."""
    while True:
        digits = [rng.randint(1, 9), *(rng.randint(0, 9) for _ in range(8))]
        check = sum(d * w for d, w in zip(digits, (6, 5, 7, 2, 3, 4, 5, 6, 7), strict=True)) % 11
        if check < 10:
            return "".join(map(str, digits)) + str(check)


class Builder:
    """Builds every row of one demo organisation; no database access."""

    def __init__(self, rng: random.Random, org_id: UUID, n: int, now: datetime, password_hash: str) -> None:
        self.rng, self.org_id, self.n, self.now = rng, org_id, n, now
        self.password_hash = password_hash
        self.start = now - SPAN
        self.rows = Rows()
        self.domains: set[str] = set()
        self.emails: set[str] = set()
        self.employees: dict[UUID, list[dict[str, Any]]] = {}

    # --- helpers ---------------------------------------------------------------------------

    def pick(self, weighted: Sequence[tuple[T, float]]) -> T:
        return self.rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]

    def moment(self, after: datetime | None = None) -> datetime:
        low = after or self.start
        return low + (self.now - low) * self.rng.random()

    def digits(self, pattern: str) -> str:
        return "".join(str(self.rng.randint(0, 9)) if ch == "#" else ch for ch in pattern)

    def history(
        self,
        entity: str,
        entity_id: UUID,
        at: datetime,
        actor: UUID | None,
        changes: Any,
        action: str = "created",
    ) -> None:
        """A history row as `history.record` writes it (no request id: nobody asked over HTTP)."""
        self.rows.history.append(
            {
                "org_id": self.org_id,
                "id": new_id(),
                "entity": entity,
                "entity_id": entity_id,
                "at": at,
                "actor_member_id": actor,
                "actor_api_key_id": None,
                "request_id": None,
                "action": action,
                "changes": changes,
            }
        )

    def base(self, at: datetime) -> dict[str, Any]:
        return {"org_id": self.org_id, "id": new_id(), "created_at": at, "updated_at": at, "version": 1}

    def person_name(self, country: words.Country) -> tuple[str, str]:
        female = self.rng.random() < 0.5
        first = self.rng.choice(country.female if female else country.male)
        # Common surnames are commoner: a gentle Zipf curve over the list.
        weights = [1 / (rank + 1) ** 0.7 for rank in range(len(country.surnames))]
        last = self.rng.choices(country.surnames, weights)[0]
        return first, words.feminine(country, last) if female else last

    def unique_email(self, local: str, domain: str) -> str:
        email, extra = f"{local}@{domain}", 1
        while email in self.emails:
            extra += 1
            email = f"{local}{extra}@{domain}"
        self.emails.add(email)
        return email

    def phone(self, country: words.Country, mobile: bool) -> str:
        if country is words.POLAND:
            pattern = (
                f"{self.rng.choice('5678')}## ### ###" if mobile else f"{self.rng.randint(12, 95)} ### ## ##"
            )
        else:
            pattern = (
                f"{self.rng.randint(150, 999)} ### ###" if mobile else f"{self.rng.randint(20, 89)} #### ###"
            )
        return f"{country.phone_prefix} {self.digits(pattern)}"

    def address(self, country: words.Country, label: str, primary: bool) -> dict[str, Any]:
        city, postal, region = self.rng.choice(country.cities)
        number = str(self.rng.randint(1, 180)) + (
            f"/{self.rng.randint(1, 60)}" if self.rng.random() < 0.4 else ""
        )
        return {
            "label": label,
            "street": f"{self.rng.choice(country.streets)} {number}",
            "city": city,
            "postal_code": self.digits(postal),
            "region": region,
            "country": country.code,
            "primary": primary,
        }

    def tags(self, on_accounts: bool, cap: int) -> list[str]:
        chosen = [t[0] for t in words.TAGS if self.rng.random() < (t[3] if on_accounts else t[2])]
        return chosen[:cap]

    # --- members, catalogue ----------------------------------------------------------------

    def member(
        self,
        kind: str,
        first: str,
        last: str,
        email: str,
        at: datetime,
        actor: UUID | None,
    ) -> Login:
        user_id, display = new_id(), f"{first} {last}"
        self.rows.users.append(
            {
                "id": user_id,
                "email": email,
                "password_hash": self.password_hash,
                "created_at": at,
                "updated_at": at,
            }
        )
        row = {
            **self.base(at),
            "user_id": user_id,
            "kind": kind,
            "status": "active",
            "display_name": display,
            "time_zone": "Europe/Warsaw",
        }
        self.rows.members.append(row)
        created = {"email": email, "kind": kind, "status": "active", "time_zone": "Europe/Warsaw"}
        self.history("member", row["id"], at, actor, history.diff({}, created))
        return Login(row["id"], email, display)

    def staff(self) -> list[Login]:
        domain, names = f"demo{self.n}.example.com", set()
        logins: list[Login] = []
        while len(logins) < STAFF:
            first, last = self.person_name(words.POLAND)
            if (first, last) in names:
                continue
            names.add((first, last))
            at = self.start - timedelta(days=30) + timedelta(days=2 * len(logins))
            local = "admin" if not logins else f"{slug(first)}.{slug(last)}"
            email, actor = self.unique_email(local, domain), logins[0].member_id if logins else None
            logins.append(self.member("staff", first, last, email, at, actor))
        return logins

    def catalogue(self, admin: UUID) -> None:
        at = self.start - timedelta(days=25)
        for name, colour, *_ in words.TAGS:
            row = {**self.base(at), "name": name, "colour": colour}
            self.rows.tags.append(row)
            self.history("tag", row["id"], at, admin, history.diff({}, {"name": name, "colour": colour}))
        positions: dict[str, int] = {}
        for definition in words.CUSTOM_FIELDS:
            position = positions[definition["kind"]] = positions.get(definition["kind"], -1) + 1
            values = {**definition, "required": False, "position": position}
            row = {**self.base(at), **values}
            self.rows.custom_fields.append(row)
            self.history("custom_field", row["id"], at, admin, history.diff({}, values))

    # --- contacts -------------------------------------------------------------------------

    def contact_row(self, country: words.Country, owner: UUID, **values: Any) -> dict[str, Any]:
        row = {
            **self.base(self.moment()),
            "kind": "person",
            "first_name": None,
            "last_name": None,
            "name": None,
            "job_title": None,
            "emails": [],
            "phones": [],
            "addresses": [],
            "website": None,
            "web_domain": None,
            "tax_id": None,
            "time_zone": country.time_zone if self.rng.random() < 0.7 else None,
            "tags": self.tags(False, 4),
            "custom": {},
            "owner_member_id": owner,
            "business_unit_id": None,
            "lifecycle_state": "prospect",
            "parent_payer_id": None,
            "deleted_at": None,
            **values,
        }
        self.rows.contacts.append(row)
        return row

    def organisation(self, owner: UUID) -> dict[str, Any]:
        country = self.pick(words.COUNTRIES)
        surname = self.rng.choice(country.surnames)
        if country is words.POLAND:
            style = self.rng.random()
            if style < 0.6:
                core = f"{self.rng.choice(words.COMPANY_PREFIXES)}-{self.rng.choice(words.COMPANY_TRADES)}"
            elif style < 0.85:
                core = f"{surname} {self.rng.choice(words.COMPANY_TRADES)}"
            else:
                core = f"PHU {surname}"
            name = (
                f"P.H.U. {surname}"
                if core.startswith("PHU")
                else f"{core} {self.rng.choice(country.legal_forms)}"
            )
            tax_id = nip(self.rng)
        else:
            core = f"{surname} {self.rng.choice(words.FOREIGN_TRADES)}"
            name, tax_id = (
                f"{core} {self.rng.choice(country.legal_forms)}",
                country.code + self.digits("#########"),
            )
        domain, extra = f"{slug(core)}.{country.tld}", 1
        while domain in self.domains:
            extra += 1
            domain = f"{slug(core)}{extra}.{country.tld}"
        self.domains.add(domain)
        office = "biuro" if country is words.POLAND else "office"
        emails = [{"address": f"{office}@{domain}", "label": "office", "primary": True}]
        if self.rng.random() < 0.5:
            invoices = "faktury" if country is words.POLAND else "invoices"
            emails.append({"address": f"{invoices}@{domain}", "label": "invoices", "primary": False})
        phones = [{"number": self.phone(country, False), "label": "office", "primary": True}]
        if self.rng.random() < 0.3:
            phones.append({"number": self.phone(country, True), "label": "mobile", "primary": False})
        addresses = [self.address(country, "office", True)]
        if self.rng.random() < 0.25:
            addresses.append(self.address(country, self.rng.choice(("warehouse", "billing")), False))
        custom = {"industry": self.rng.choice(words.INDUSTRIES)} if self.rng.random() < 0.85 else {}
        row = self.contact_row(
            country,
            owner,
            kind="organisation",
            name=name,
            emails=emails,
            phones=phones,
            addresses=addresses,
            website=f"https://www.{domain}",
            web_domain=domain,
            tax_id=tax_id,
            custom=custom,
        )
        row["_country"] = country
        self.employees[row["id"]] = []
        return row

    def person(self, owner: UUID, employer: dict[str, Any] | None) -> dict[str, Any]:
        country = employer["_country"] if employer and self.rng.random() < 0.9 else self.pick(words.COUNTRIES)
        first, last = self.person_name(country)
        local = f"{slug(first)}.{slug(last)}"
        private = {
            "address": f"{local}{self.rng.randint(1, 99)}@{self.rng.choice(words.FREE_MAIL)}",
            "label": "private",
        }
        if employer:
            emails = [{"address": f"{local}@{employer['web_domain']}", "label": "work", "primary": True}]
            if self.rng.random() < 0.3:
                emails.append({**private, "primary": False})
        else:
            emails = [{**private, "primary": True}]
        phones = [{"number": self.phone(country, True), "label": "mobile", "primary": True}]
        if employer and self.rng.random() < 0.3:
            phones.append({"number": self.phone(country, False), "label": "work", "primary": False})
        addresses = [self.address(country, "home", True)] if not employer and self.rng.random() < 0.4 else []
        custom: dict[str, Any] = {}
        if self.rng.random() < 0.35:
            custom["linkedin"] = (
                f"https://www.linkedin.com/in/{local.replace('.', '-')}-{self.rng.randint(100, 999)}"
            )
        row = self.contact_row(
            country,
            owner,
            first_name=first,
            last_name=last,
            job_title=self.rng.choice(words.JOB_TITLES) if employer else None,
            emails=emails,
            phones=phones,
            addresses=addresses,
            custom=custom,
        )
        if employer:
            row["created_at"] = row["updated_at"] = self.moment(employer["created_at"])
            self.employees[employer["id"]].append(row)
        return row

    # --- accounts ---------------------------------------------------------------------------

    def account(
        self, number: int, owner: UUID, primary: dict[str, Any], linked: list[dict[str, Any]], **values: Any
    ) -> dict[str, Any]:
        at = self.moment(max(c["created_at"] for c in [primary, *linked]))
        classification = self.pick(words.CLASSIFICATIONS)
        big = classification in ("wholesale", "distributor", "public sector")
        limit = None
        if self.rng.random() < 0.9:
            limit = Decimal(self.rng.randint(4, 100) * (5000 if big else 500))
        tags = self.tags(True, 3)
        region = primary["addresses"][0]["region"] if primary["addresses"] else None
        custom: dict[str, Any] = {
            "region": words.VOIVODESHIP_REGION.get(region or "", self.rng.choice(words.REGIONS))
        }
        if self.rng.random() < 0.7:
            custom["employees"] = int(self.rng.lognormvariate(3.5, 1.2)) + 1
        if "VIP" in tags:
            custom["vip_since"] = self.moment(at).date().isoformat()
        row = {
            **self.base(at),
            "number": number,
            "code": f"D-{10000 + number}" if self.rng.random() < 0.92 else None,
            "name": primary["display_name"],
            "primary_contact_id": primary["id"],
            "classification": classification,
            "credit_rating": self.pick(words.CREDIT_RATINGS),
            "credit_limit_amount": limit,
            "credit_limit_currency": "PLN" if limit is not None else None,
            "payment_terms": self.pick(words.PAYMENT_TERMS),
            "payment_methods": self.rng.sample(words.PAYMENT_METHODS, self.rng.randint(1, 2)),
            "price_level": self.pick(words.PRICE_LEVELS),
            "status": self.pick(words.STATUSES),
            "is_retail_default": False,
            "owner_member_id": owner,
            "business_unit_id": None,
            "tags": tags,
            "custom": custom,
            "deleted_at": None,
            **values,
        }
        self.rows.accounts.append(row)
        for contact, role in [(primary, None), *((c, self.rng.choice(words.LINK_ROLES)) for c in linked)]:
            contact["lifecycle_state"] = "financial"
            self.rows.account_contacts.append(
                {
                    "org_id": self.org_id,
                    "id": new_id(),
                    "account_id": row["id"],
                    "contact_id": contact["id"],
                    "role": role,
                }
            )
        codes = (
            sorted(self.rng.sample(words.SALES_REP_CODES, self.rng.randint(1, 2)))
            if self.rng.random() < 0.35
            else []
        )
        for code in codes:
            self.rows.sales_reps.append(
                {"org_id": self.org_id, "id": new_id(), "account_id": row["id"], "sales_rep_code": code}
            )
        row["_codes"] = codes
        row["_linked"] = linked
        return row

    # --- notes ------------------------------------------------------------------------------

    def note(self, subject: str, record: dict[str, Any], staff: list[Login]) -> None:
        owner = record["owner_member_id"]
        author = owner if self.rng.random() < 0.5 else self.rng.choice(staff).member_id
        body = self.rng.choice(words.NOTES).format(
            item=self.rng.choice(words.NOTE_ITEMS),
            terms=record.get("payment_terms") or "14 days net",
            year=self.rng.choice((2025, 2026)),
            number=self.rng.randint(100, 9999),
            limit=f"{self.rng.randint(2, 50) * 1000:,}".replace(",", " "),
        )
        row = {
            **self.base(self.moment(record["created_at"])),
            "subject": subject,
            "subject_id": record["id"],
            "author_member_id": author,
            "body": body,
            "deleted_at": None,
        }
        self.rows.notes.append(row)
        created = {"subject": subject, "subject_id": record["id"], "author_member_id": author, "body": body}
        self.history("note", row["id"], row["created_at"], author, history.diff({}, created))


def plain(row: dict[str, Any]) -> dict[str, Any]:
    """The row without the builder's bookkeeping keys (those starting with `_`)."""
    return {k: v for k, v in row.items() if not k.startswith("_")}
