"""The trading records the bench pushes: invoices whose totals add up from their lines, payments
allocated to them, and the same records as the SQL side's staging rows."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
VAT = Decimal("0.23")
ALLOCATED = 3  # invoices a payment settles, at most


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def account_code(prefix: str, n: int) -> str:
    return f"{prefix}-D{n:05d}"


def debtors(prefix: str, count: int) -> list[dict[str, Any]]:
    return [
        {"code": account_code(prefix, n), "name": f"Hurtownia {prefix} {n} Sp. z o.o."} for n in range(count)
    ]


def invoice_number(prefix: str, n: int) -> str:
    return f"{prefix}/FV/{n:06d}"


def invoices(prefix: str, count: int, accounts: int, lines: int, seed: int) -> list[dict[str, Any]]:
    """`count` invoices, invoice n on account n % `accounts`, issued over the last 120 days and due
    30 days later, three in four still owed in full. The same seed gives the same figures."""
    rng = random.Random(seed)
    today = date.today()
    records = []
    for n in range(count):
        items, net, tax = [], Decimal(0), Decimal(0)
        for _ in range(lines):
            quantity = rng.randrange(1, 20)
            price = Decimal(rng.randrange(100, 50_000)) / 100
            line_net = cents(quantity * price)
            line_tax = cents(line_net * VAT)
            net, tax = net + line_net, tax + line_tax
            product = rng.randrange(1000)
            items.append(
                {
                    "product_code": f"P-{product:04d}",
                    "description": f"Product {product}, box of {quantity * 10}",
                    "quantity": str(quantity),
                    "unit_price": str(price),
                    "tax": str(line_tax),
                }
            )
        issued = today - timedelta(days=n % 120)
        records.append(
            {
                "number": invoice_number(prefix, n),
                "account_code": account_code(prefix, n % accounts),
                "issued_on": issued.isoformat(),
                "due_on": (issued + timedelta(days=30)).isoformat(),
                "currency": "PLN",
                "net": str(net),
                "tax": str(tax),
                "gross": str(net + tax),
                "outstanding": str(net + tax) if n % 4 else "0.00",
                "lines": items,
            }
        )
    return records


def payments(prefix: str, count: int, accounts: int, invoiced: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`count` payments, payment k on account k % `accounts`, each settling up to three of that
    account's invoices in full (its amount their gross)."""
    today = date.today().isoformat()
    records = []
    for k in range(count):
        account = k % accounts
        own = range(account, len(invoiced), accounts)  # the account's invoices
        chosen = (
            sorted({own[(k // accounts * ALLOCATED + m) % len(own)] for m in range(ALLOCATED)}) if own else []
        )
        allocations = [
            {"invoice_number": invoiced[n]["number"], "amount": invoiced[n]["gross"]} for n in chosen
        ]
        amount = sum((Decimal(a["amount"]) for a in allocations), Decimal(0)) or Decimal("100.00")
        records.append(
            {
                "number": f"{prefix}/KP/{k:06d}",
                "account_code": account_code(prefix, account),
                "paid_on": today,
                "amount": str(amount),
                "currency": "PLN",
                "method": "transfer",
                "allocations": allocations,
            }
        )
    return records


Rows = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]


def as_rows(kind: str, records: list[dict[str, Any]]) -> Rows:
    """The same records as the SQL side's staging rows (`baseline.DOCUMENTS`, `LINES`,
    `ALLOCATIONS`), with the status the API stores for a record that sends none."""
    documents: list[tuple[Any, ...]] = []
    lines: list[tuple[Any, ...]] = []
    allocations: list[tuple[Any, ...]] = []
    for r in records:
        head: tuple[Any, ...]
        if kind == "payment":
            head = (
                date.fromisoformat(r["paid_on"]),
                None,
                r["currency"],
                None,
                None,
                Decimal(r["amount"]),
                None,  # outstanding: the amount less the allocations, in SQL
                r.get("method"),
            )
        else:
            head = (
                date.fromisoformat(r["issued_on"]),
                date.fromisoformat(r["due_on"]),
                r["currency"],
                Decimal(r["net"]),
                Decimal(r["tax"]),
                Decimal(r["gross"]),
                Decimal(r["outstanding"]),
                None,
            )
        status = r.get("status") or ("received" if kind == "payment" else "open")
        documents.append((r["number"], r["account_code"], status, *head, r.get("reference")))
        lines.extend(
            (
                r["number"],
                n,
                line.get("product_code"),
                line.get("description"),
                Decimal(line["quantity"]),
                Decimal(line["unit_price"]),
                Decimal(line["tax"]),
            )
            for n, line in enumerate(r.get("lines", ()), 1)
        )
        allocations.extend(
            (r["number"], a["invoice_number"], Decimal(a["amount"])) for a in r.get("allocations", ())
        )
    return documents, lines, allocations
