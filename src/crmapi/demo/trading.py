"""The demo accounts' trading record as their ERP would have pushed it, and sales orders placed in
the CRM in every state.

Every account with a debtor code gets about a year of monthly invoices (1-3 lines at 23% tax, due
30 days after issue). How it pays depends on its credit rating: most invoices older than a month
are settled by a payment allocated to them; some are paid in part or not at all, so the balance's
overdue buckets and the accounts' `overdue_days_gt` filter have something to show. Now and then
a credit note settles part of an invoice, a payment arrives ahead of any invoice, or goods are on
back order. Sales orders (five of each state) are placed on coded accounts by staff: the ERP's
number links the acknowledged ones to a back order and the fulfilled ones to their invoice.

Figures add up as a push checks them (`crmapi.documents.totals`, `crmapi.sales_orders.service`),
and `account_balances` holds what the push's rebalance would sum. Documents get no history or
events (the ERP's record, not the CRM's); sales orders get the "created" and "transition" history
their service writes. All from the demo's `rng` and times relative to `now`, so the counts of a
seed are the same on every run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from crmapi.demo.sales import Config
from crmapi.documents.totals import cents
from crmapi.kit.ids import new_id
from crmapi.records import history
from crmapi.sales_orders import service as order_service
from crmapi.sales_orders.models import SalesOrder, SalesOrderLine

ZONE = ZoneInfo("Europe/Warsaw")  # the demo organisation's time zone: documents' dates are local
CURRENCY = "PLN"
TAX_RATE = Decimal(23)
HUNDRED = Decimal(100)
YEAR = 365.0
MONTH = YEAR / 12
TERMS = timedelta(days=30)  # an invoice is due 30 days after issue
ORDERS_PER_STATE = 5
ORDER_STATES = ("draft", "submitted", "acknowledged", "fulfilled", "cancelled")
# How many days ago an order in each state was placed, at least and at most.
ORDER_AGES = {
    "draft": (0.2, 10),
    "submitted": (1, 10),
    "acknowledged": (5, 30),
    "fulfilled": (20, 120),
    "cancelled": (3, 60),
}
# Product code, description, list price, the most a line usually orders.
PRODUCTS: tuple[tuple[str, str, Decimal, int], ...] = (
    ("PAL-EUR", "Paleta EUR 1200x800", Decimal("48.00"), 60),
    ("KAR-604", "Karton 600x400x400, 20 szt.", Decimal("36.90"), 40),
    ("FOL-S23", "Folia stretch 23 µm, rolka", Decimal("29.50"), 50),
    ("TAS-48", "Taśma pakowa 48 mm, 36 szt.", Decimal("79.20"), 20),
    ("PAP-A4", "Papier ksero A4, karton 5 ryz", Decimal("114.00"), 30),
    ("TON-59A", "Toner HP 59A", Decimal("389.00"), 6),
    ("REK-NIT", "Rękawice nitrylowe, 100 szt.", Decimal("24.99"), 80),
    ("ETY-100", "Etykiety termiczne 100x150, 10 rolek", Decimal("95.00"), 25),
    ("SKN-BT", "Skaner magazynowy Bluetooth", Decimal("1290.00"), 3),
    ("SRV-H", "Usługa serwisowa, roboczogodzina", Decimal("180.00"), 8),
    ("TRN-CHL", "Transport chłodniczy, paleta", Decimal("260.00"), 12),
    ("LIC-WEB", "Licencja modułu sklepu, miesiąc", Decimal("149.00"), 5),
)
PRICE_LEVELS = {"A": Decimal("0.90"), "B": Decimal("0.95"), "C": Decimal(1), "retail": Decimal("1.10")}
# How an account pays, by its credit rating (an account on hold pays as a D).
PAYERS = {None: "prompt", "A": "prompt", "B": "late", "C": "slow", "D": "bad"}
DELAYS = {"prompt": (5, 32), "late": (20, 50), "slow": (30, 80), "bad": (40, 120)}  # days to pay
PREFIXES = {"invoice": "FV", "credit": "KOR", "back_order": "ZAL", "payment": "KP"}
INSTRUCTIONS = (
    None,
    None,
    "Dostawa do godziny 12:00.",
    "Proszę o awizację telefoniczną dzień wcześniej.",
    "Rozładunek od strony magazynu, brama 3.",
)


@dataclass
class Trading:
    orders: list[dict[str, Any]] = field(default_factory=list)
    order_lines: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    allocations: list[dict[str, Any]] = field(default_factory=list)
    balances: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        kinds = Counter(document["kind"] for document in self.documents)
        return {
            "invoices": kinds["invoice"],
            "payments": kinds["payment"],
            "credits": kinds["credit"],
            "back_orders": kinds["back_order"],
            "document_lines": len(self.lines),
            "allocations": len(self.allocations),
            "account_balances": len(self.balances),
            "sales_orders": len(self.orders),
        }


@dataclass(frozen=True)
class _Line:
    """A document line; its net (quantity times unit price) and tax, each to the cent, follow."""

    product_code: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    quantity_outstanding: Decimal | None = None
    net: Decimal = field(init=False)
    tax: Decimal = field(init=False)

    def __post_init__(self) -> None:
        net = cents(self.quantity * self.unit_price)
        object.__setattr__(self, "net", net)
        object.__setattr__(self, "tax", cents(net * TAX_RATE / HUNDRED))


def build(
    rng: random.Random,
    org_id: UUID,
    now: datetime,
    cfg: Config,
    staff: list[UUID],
    accounts: list[dict[str, Any]],
    numbers: Sequence[int],
) -> Trading:
    """The sales orders (numbered from `numbers`, one per order: `ORDERS_PER_STATE` a state) and
    the coded accounts' documents and balances."""
    maker = _Maker(rng, org_id, now)
    coded = [a for a in accounts if a["code"]]
    maker.orders(cfg, staff, coded or accounts, numbers)
    for account in coded:
        maker.account(account)
    maker.number()
    maker.balance()
    return maker.trading


class _Maker:
    def __init__(self, rng: random.Random, org_id: UUID, now: datetime) -> None:
        self.rng, self.org_id, self.now = rng, org_id, now
        self.trading = Trading()
        # What the fulfilled and acknowledged orders leave on their account's record.
        self.invoiced: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
        self.back_ordered: dict[UUID, list[dict[str, Any]]] = defaultdict(list)

    # --- helpers ---------------------------------------------------------------------------

    def ago(self, low: float, high: float) -> datetime:
        return self.now - timedelta(days=self.rng.uniform(low, high))

    def past(self, at: datetime, earliest: datetime | None = None) -> datetime:
        """`at`, or a moment of the last day (not before `earliest`) when that is still to come."""
        if at < self.now:
            return at
        moment = self.now - timedelta(hours=self.rng.uniform(1, 20))
        return moment if earliest is None else max(moment, earliest)

    def lines(self, account: dict[str, Any], count: int) -> list[_Line]:
        level = PRICE_LEVELS.get(account.get("price_level") or "", Decimal(1))
        picked = self.rng.sample(PRODUCTS, count)
        return [
            _Line(code, text, Decimal(self.rng.randint(1, most)), cents(price * level))
            for code, text, price, most in picked
        ]

    # --- sales orders ----------------------------------------------------------------------

    def orders(
        self, cfg: Config, staff: list[UUID], accounts: list[dict[str, Any]], numbers: Sequence[int]
    ) -> None:
        made = [
            self.order(cfg, staff, accounts, ORDER_STATES[index % len(ORDER_STATES)])
            for index in range(ORDERS_PER_STATE * len(ORDER_STATES))
        ]
        made.sort(key=lambda o: o["created_at"])
        acknowledged = sorted((o for o in made if o["acknowledged_at"]), key=lambda o: o["acknowledged_at"])
        for seq, order in enumerate(acknowledged, 1):
            order["erp_number"] = f"ZS/{_local(order['acknowledged_at']).year}/{seq:04d}"
        for number, order in zip(numbers, made, strict=True):
            order["number"] = number
            self.trading.orders.append(order)
            self.order_history(cfg, order)
            linked = {"erp_number": order["erp_number"], "order_id": order["id"], "lines": order["_lines"]}
            if order["state"] == "fulfilled":
                self.invoiced[order["account_id"]].append({**linked, "at": order["closed_at"]})
            elif order["state"] == "acknowledged":
                self.back_ordered[order["account_id"]].append({**linked, "at": order["acknowledged_at"]})

    def order(
        self, cfg: Config, staff: list[UUID], accounts: list[dict[str, Any]], state: str
    ) -> dict[str, Any]:
        rng = self.rng
        created = self.ago(*ORDER_AGES[state])
        older = [a for a in accounts if a["created_at"] < created] or accounts
        account = rng.choice(older)
        owner = account["owner_member_id"] if rng.random() < 0.7 else rng.choice(staff)
        submitted = acknowledged = closed = None
        if state != "draft" and (state != "cancelled" or rng.random() < 0.5):
            submitted = self.past(created + timedelta(hours=rng.uniform(1, 20)))
        if state in ("acknowledged", "fulfilled"):
            acknowledged = self.past((submitted or created) + timedelta(hours=rng.uniform(2, 30)))
        if state == "fulfilled":
            closed = self.past((acknowledged or created) + timedelta(days=rng.uniform(2, 10)))
        elif state == "cancelled":
            closed = self.past((submitted or created) + timedelta(days=rng.uniform(0.5, 5)))
        order_id = new_id()
        level = PRICE_LEVELS.get(account.get("price_level") or "", Decimal(1))
        lines: list[dict[str, Any]] = []
        net = tax = Decimal(0)
        for position, (code, text, price, most) in enumerate(rng.sample(PRODUCTS, rng.randint(1, 4)), 1):
            quantity, unit_price = Decimal(rng.randint(1, most)), cents(price * level)
            discount = Decimal(rng.choice((0, 0, 0, 5, 10)))
            line_net = cents(quantity * unit_price * (HUNDRED - discount) / HUNDRED)
            line_tax = cents(line_net * TAX_RATE / HUNDRED)
            net, tax = net + line_net, tax + line_tax
            lines.append(
                {
                    "org_id": self.org_id,
                    "order_id": order_id,
                    "position": position,
                    "product_code": code,
                    "description": text,
                    "quantity": quantity,
                    "unit_price": unit_price,
                    "discount_percent": discount,
                    "tax_rate": TAX_RATE,
                    "net": line_net,
                    "tax": line_tax,
                }
            )
        self.trading.order_lines += lines
        moves = [t for t in (submitted, acknowledged, closed) if t is not None]
        status_id, _ = cfg.statuses[("sales_order", state)]
        return {
            "org_id": self.org_id,
            "id": order_id,
            "created_at": created,
            "updated_at": max(moves, default=created),
            "version": 1 + len(moves),
            "number": None,
            "account_id": account["id"],
            "type_id": cfg.types["sales_order"],
            "status_id": status_id,
            "state": state,
            "currency": CURRENCY,
            "net": net,
            "tax": tax,
            "gross": net + tax,
            "reference": f"PO-{_local(created).year}-{rng.randint(100, 999)}" if rng.random() < 0.6 else None,
            "delivery_address": None,
            "instructions": rng.choice(INSTRUCTIONS),
            "requested_on": _local(created + timedelta(days=rng.randint(7, 21))).date()
            if rng.random() < 0.5
            else None,
            "erp_number": None,
            "erp_status": {"acknowledged": "accepted", "fulfilled": "delivered"}.get(state),
            "submitted_at": submitted,
            "acknowledged_at": acknowledged,
            "closed_at": closed,
            "owner_member_id": owner,
            "_lines": [
                _Line(line["product_code"], line["description"], line["quantity"], _discounted(line))
                for line in lines
            ],
        }

    def order_history(self, cfg: Config, order: dict[str, Any]) -> None:
        """The order's history as its service writes it: created by its placer, then each move
        (submitted and cancelled by the placer, acknowledged and fulfilled by the ERP)."""
        record = SalesOrder(**{k: v for k, v in order.items() if not k.startswith("_")})
        lines = [
            SalesOrderLine(**line) for line in self.trading.order_lines if line["order_id"] == order["id"]
        ]
        owner = order["owner_member_id"]
        self.record(
            order,
            order["created_at"],
            owner,
            "created",
            history.diff({}, order_service.snapshot(record, lines)),
        )
        steps: list[tuple[str, datetime, UUID | None, dict[str, Any]]] = []
        if order["submitted_at"]:
            steps.append(("submitted", order["submitted_at"], owner, {"submitted_at": order["submitted_at"]}))
        if order["acknowledged_at"]:
            ack = {k: order[k] for k in ("erp_status", "erp_number", "acknowledged_at")}
            steps.append(("acknowledged", order["acknowledged_at"], None, ack))
        if order["state"] == "fulfilled":
            steps.append(("fulfilled", order["closed_at"], None, {"closed_at": order["closed_at"]}))
        elif order["state"] == "cancelled":
            steps.append(("cancelled", order["closed_at"], owner, {"closed_at": order["closed_at"]}))
        before = "draft"
        for state, at, actor, values in steps:
            changes = {
                "status": {
                    "old": cfg.statuses[("sales_order", before)][1],
                    "new": cfg.statuses[("sales_order", state)][1],
                },
                "state": {"old": before, "new": state},
                **{k: {"old": None, "new": history.jsonable(v)} for k, v in values.items()},
            }
            self.record(order, at, actor, "transition", changes)
            before = state

    def record(
        self, order: dict[str, Any], at: datetime, actor: UUID | None, action: str, changes: dict[str, Any]
    ) -> None:
        self.trading.history.append(
            {
                "org_id": self.org_id,
                "id": new_id(),
                "entity": "sales_order",
                "entity_id": order["id"],
                "at": at,
                "actor_member_id": actor,
                "actor_api_key_id": None,
                "request_id": None,
                "action": action,
                "changes": changes,
            }
        )

    # --- documents -------------------------------------------------------------------------

    def document(
        self,
        kind: str,
        account: dict[str, Any],
        at: datetime,
        lines: list[_Line],
        *,
        due: timedelta | None = None,
        amount: Decimal | None = None,
        order: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A document issued (ordered, paid) at `at`, due (expected) `due` after that day; its
        outstanding is its gross (a back order's: what is still to deliver) until something
        settles it."""
        document_id = new_id()
        net = sum((line.net for line in lines), Decimal(0))
        tax = sum((line.tax for line in lines), Decimal(0))
        gross = amount if amount is not None else net + tax
        if kind == "back_order":
            outstanding = sum(
                (cents((line.quantity_outstanding or Decimal(0)) * line.unit_price) for line in lines),
                Decimal(0),
            )
        else:
            outstanding = gross
        row = {
            "org_id": self.org_id,
            "id": document_id,
            "created_at": at,
            "updated_at": at,
            "version": 1,
            "kind": kind,
            "number": "",
            "account_id": account["id"],
            "status": {"payment": "received"}.get(kind, "open"),
            "issued_on": _local(at).date(),
            "due_on": _local(at).date() + due if due is not None else None,
            "currency": CURRENCY,
            "net": None if kind == "payment" else net,
            "tax": None if kind == "payment" else tax,
            "gross": gross,
            "outstanding": outstanding,
            "method": None,
            "reference": None,
            "sales_order_number": order["erp_number"] if order else None,
            "sales_order_id": order["order_id"] if order else None,
            "line_count": len(lines),
            "fingerprint": b"",
        }
        for position, line in enumerate(lines, 1):
            self.trading.lines.append(
                {
                    "org_id": self.org_id,
                    "document_id": document_id,
                    "position": position,
                    "product_code": line.product_code,
                    "description": line.description,
                    "quantity": line.quantity,
                    "quantity_outstanding": line.quantity_outstanding,
                    "unit_price": line.unit_price,
                    "net": line.net,
                    "tax": line.tax,
                }
            )
        self.trading.documents.append(row)
        return row

    def allocate(self, document: dict[str, Any], invoice: dict[str, Any], amount: Decimal) -> None:
        """`document` (a payment or credit note) settles `amount` of `invoice`."""
        self.trading.allocations.append(
            {
                "org_id": self.org_id,
                "document_id": document["id"],
                "invoice_id": invoice["id"],
                "amount": amount,
            }
        )
        document["outstanding"] -= amount
        invoice["outstanding"] -= amount
        self.touch(invoice, document["created_at"])
        document["_for"] = invoice

    def touch(self, document: dict[str, Any], at: datetime) -> None:
        """The ERP pushed the document again at `at` (a payment or credit settled it)."""
        if at > document["updated_at"]:
            document["updated_at"] = at
            document["version"] += 1

    def pay(self, account: dict[str, Any], invoice: dict[str, Any], at: datetime, amount: Decimal) -> None:
        payment = self.document("payment", account, at, [], amount=amount)
        payment["method"] = self.rng.choice(account["payment_methods"] or ["transfer"])
        self.allocate(payment, invoice, amount)

    def account(self, account: dict[str, Any]) -> None:
        """A year of monthly invoices (the ERP's debtor may be older than the CRM's account), the
        orders' invoices and back orders, now and then a payment on account or a back order of
        its own."""
        rng = self.rng
        payer = "bad" if account["status"] == "on_hold" else PAYERS.get(account["credit_rating"], "late")
        day = rng.uniform(1, 26)  # its billing day
        for month in range(12):
            at = self.now - timedelta(days=YEAR - month * MONTH - day - rng.uniform(0, 3))
            if rng.random() < 0.08:
                continue  # nothing bought that month
            self.invoice(account, payer, at, self.lines(account, rng.randint(1, 3)))
        for order in self.invoiced.get(account["id"], ()):
            at = self.past(order["at"] + timedelta(hours=rng.uniform(1, 30)))
            self.invoice(account, payer, at, order["lines"], order)
        for order in self.back_ordered.get(account["id"], ()):
            lines = [_with_outstanding(line, line.quantity) for line in order["lines"]]
            self.back_order(account, order["at"], lines, order)
        if rng.random() < 0.15:
            at = self.ago(3, 45)
            lines = []
            for line in self.lines(account, rng.randint(1, 3)):
                still = Decimal(rng.randint(1, int(line.quantity)))
                lines.append(_with_outstanding(line, still))
            self.back_order(account, at, lines, None)
        if rng.random() < 0.05:
            at = self.ago(1, 30)
            payment = self.document("payment", account, at, [], amount=Decimal(rng.randint(5, 50) * 100))
            payment["method"] = "transfer"
            payment["reference"] = "Przedpłata"

    def back_order(
        self, account: dict[str, Any], at: datetime, lines: list[_Line], order: dict[str, Any] | None
    ) -> None:
        expected = timedelta(days=self.rng.randint(10, 40))  # after the day ordered
        self.document("back_order", account, at, lines, due=expected, order=order)

    def invoice(
        self,
        account: dict[str, Any],
        payer: str,
        at: datetime,
        lines: list[_Line],
        order: dict[str, Any] | None = None,
    ) -> None:
        rng, now = self.rng, self.now
        invoice = self.document("invoice", account, at, lines, due=TERMS, order=order)
        owed, settled = invoice["gross"], at  # what is owed, and since when
        # A credit note for part of a line (goods returned, a price corrected), mostly allocated.
        if rng.random() < 0.06 and at + timedelta(days=20) < now:
            line = rng.choice(lines)
            returned = dataclasses.replace(line, quantity=Decimal(rng.randint(1, int(line.quantity))))
            credit = self.document("credit", account, at + timedelta(days=rng.uniform(3, 20)), [returned])
            if rng.random() < 0.85:
                self.allocate(credit, invoice, credit["gross"])
                owed, settled = owed - credit["gross"], credit["created_at"]
            credit["status"] = "settled" if credit["outstanding"] == 0 else "open"
        late = (now - at - TERMS) / timedelta(days=1)  # days past due (negative: not yet due)
        if owed > 0:
            if self.unpaid(payer, late):
                if late > 0 and rng.random() < 0.25:  # paid in part
                    paid_at = self.past(settled + timedelta(days=rng.uniform(1, 30 + late)), settled)
                    self.pay(account, invoice, paid_at, cents(owed * Decimal(rng.randint(30, 70)) / HUNDRED))
            else:
                low, high = DELAYS[payer]
                paid_at = self.past(max(at + timedelta(days=rng.uniform(low, high)), settled), settled)
                self.pay(account, invoice, paid_at, owed)
        left = invoice["outstanding"]
        invoice["status"] = "paid" if left == 0 else "partially_paid" if left < invoice["gross"] else "open"

    def unpaid(self, payer: str, late: float) -> bool:
        """Whether an invoice `late` days past its due date is still (partly) owed."""
        chance = self.rng.random()
        if late <= 0:
            return chance < 0.8  # most pay around the due date
        return {
            "prompt": False,
            "late": late <= 30 and chance < 0.4,
            "slow": (late <= 60 and chance < 0.35) or (late <= 120 and chance < 0.06),
            "bad": (late <= 180 and chance < 0.35) or chance < 0.08,
        }[payer]

    # --- numbers and balances --------------------------------------------------------------

    def number(self) -> None:
        """Number each kind's documents by month in the order issued; a payment's bank reference
        names the invoice it pays; fingerprints stand in for the pushed records' digests."""
        seqs: dict[tuple[str, int, int], int] = defaultdict(int)
        for row in sorted(self.trading.documents, key=lambda d: (d["kind"], d["created_at"])):
            issued: date = row["issued_on"]
            key = (row["kind"], issued.year, issued.month)
            seqs[key] += 1
            row["number"] = f"{PREFIXES[row['kind']]}/{issued.year}/{issued.month:02d}/{seqs[key]:05d}"
        for row in self.trading.documents:
            paid = row.pop("_for", None)
            if row["kind"] == "payment" and paid is not None and row["method"] == "transfer":
                row["reference"] = f"Zapłata za {paid['number']}"
            row["fingerprint"] = b"".join(
                hashlib.sha256(f"{row['kind']} {row['number']} {part}".encode()).digest()
                for part in ("head", "lines", "allocations")
            )

    def balance(self) -> None:
        """Per account and currency: its open invoices' outstanding summed and oldest due date."""
        found: dict[tuple[UUID, str], tuple[Decimal, date]] = {}
        for row in self.trading.documents:
            if row["kind"] != "invoice" or row["outstanding"] <= 0:
                continue
            key = (row["account_id"], row["currency"])
            total, oldest = found.get(key, (Decimal(0), row["due_on"]))
            found[key] = (total + row["outstanding"], min(oldest, row["due_on"]))
        for (account_id, currency), (outstanding, oldest) in found.items():
            self.trading.balances.append(
                {
                    "org_id": self.org_id,
                    "account_id": account_id,
                    "currency": currency,
                    "outstanding": outstanding,
                    "oldest_due_on": oldest,
                    "updated_at": self.now,
                }
            )


def _local(at: datetime) -> datetime:
    return at.astimezone(ZONE)


def _discounted(line: dict[str, Any]) -> Decimal:
    """An order line's unit price less its discount, as the ERP invoices it."""
    return cents(line["unit_price"] * (HUNDRED - line["discount_percent"]) / HUNDRED)


def _with_outstanding(line: _Line, still: Decimal) -> _Line:
    return dataclasses.replace(line, quantity_outstanding=still)
