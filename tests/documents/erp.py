"""Pushing a trading record as an ERP does, for the documents' and sales orders' tests."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from httpx import AsyncClient

ERP = "/v1/integrations/erp"


async def push(client: AsyncClient, kind: str, headers: dict[str, str], records: list[Any]) -> dict[str, Any]:
    r = await client.post(f"{ERP}/{kind}", json={"records": records}, headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def outcomes(answer: dict[str, Any]) -> list[str]:
    return [r["outcome"] for r in answer["results"]]


async def debtors(client: AsyncClient, headers: dict[str, str], *codes: str, **fields: Any) -> dict[str, str]:
    """The accounts, by code: their ids."""
    answer = await push(
        client, "debtors", headers, [{"code": c, "name": f"Debtor {c}", **fields} for c in codes]
    )
    return {r["code"]: r["id"] for r in answer["results"]}


def invoice(
    number: str,
    account: str,
    *,
    due: date | None = None,
    outstanding: str | None = None,
    lines: list[tuple[str, str, str]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """An invoice whose totals add up from its lines ((quantity, unit price, tax) each)."""
    lines = lines or [("2", "10.00", "4.60")]
    net = sum((Decimal(q) * Decimal(p)).quantize(Decimal("0.01"), ROUND_HALF_UP) for q, p, _ in lines)
    tax = sum(Decimal(t) for _, _, t in lines)
    due = due or date.today() + timedelta(days=30)
    return {
        "number": number,
        "account_code": account,
        "issued_on": (due - timedelta(days=30)).isoformat(),
        "due_on": due.isoformat(),
        "currency": "PLN",
        "net": str(net),
        "tax": str(tax),
        "gross": str(net + tax),
        "outstanding": outstanding if outstanding is not None else str(net + tax),
        "lines": [
            {
                "product_code": f"P-{n}",
                "description": f"Product {n}",
                "quantity": q,
                "unit_price": p,
                "tax": t,
            }
            for n, (q, p, t) in enumerate(lines)
        ],
        **fields,
    }


def payment(
    number: str, account: str, amount: str, allocations: dict[str, str], **fields: Any
) -> dict[str, Any]:
    return {
        "number": number,
        "account_code": account,
        "paid_on": date.today().isoformat(),
        "amount": amount,
        "currency": "PLN",
        "method": "transfer",
        "allocations": [{"invoice_number": n, "amount": a} for n, a in allocations.items()],
        **fields,
    }
