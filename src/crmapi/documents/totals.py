"""A pushed document's figures, derived from its lines and allocations and checked against what
the ERP says they are: a document whose totals do not add up is refused, not stored wrong."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from crmapi.documents.schemas import BackOrderRecord, CreditRecord, InvoiceRecord, PaymentRecord
from crmapi.integrations.feed import at
from crmapi.kit.errors import FieldError

CENT = Decimal("0.01")
ZERO = Decimal(0)


def cents(value: Decimal) -> Decimal:
    """Rounded to the cent, halves away from zero (as PostgreSQL's `round(numeric, 2)`)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Figures:
    """What a document stores besides what it was sent as: its totals and its lines' nets."""

    net: Decimal | None
    tax: Decimal | None
    gross: Decimal
    outstanding: Decimal
    line_nets: tuple[Decimal, ...]


LIMIT = Decimal(10) ** 15  # NUMERIC(19,4) holds 15 digits before the point


def figures(index: int, record: Any) -> Figures | list[FieldError]:
    """The document's figures, or what does not add up (each error naming its field and the value
    the lines or allocations give)."""
    # Quantities and prices of 15 digits each multiply to 30: more than the default 28 digits.
    with localcontext(prec=64):
        found = _figures(index, record)
    if isinstance(found, Figures) and max(found.gross, *found.line_nets, found.net or 0) >= LIMIT:
        return [
            FieldError(field=at(index, "lines"), message="The amounts exceed 15 digits before the point.")
        ]
    return found


def _figures(index: int, record: Any) -> Figures | list[FieldError]:
    errors: list[FieldError] = []
    nets = _line_nets(index, record, errors)
    if isinstance(record, PaymentRecord):
        allocated = _allocated(index, record, record.amount, "amount", errors)
        return errors or Figures(None, None, record.amount, record.amount - allocated, nets)
    net, tax = sum(nets, ZERO), sum((line.tax for line in record.lines), ZERO)
    if isinstance(record, BackOrderRecord):
        for n, line in enumerate(record.lines):
            if line.quantity_outstanding > line.quantity:
                errors.append(
                    FieldError(
                        field=at(index, "lines", n, "quantity_outstanding"),
                        message="More than the line's quantity.",
                    )
                )
        still = sum((cents(line.quantity_outstanding * line.unit_price) for line in record.lines), ZERO)
        return errors or Figures(net, tax, net + tax, still, nets)
    assert isinstance(record, InvoiceRecord | CreditRecord)
    _same(index, "net", record.net, net, "The lines' net adds up to", errors)
    _same(index, "tax", record.tax, tax, "The lines' tax adds up to", errors)
    _same(index, "gross", record.gross, record.net + record.tax, "net + tax is", errors)
    if isinstance(record, InvoiceRecord):
        if record.outstanding > record.gross:
            errors.append(
                FieldError(field=at(index, "outstanding"), message="More than the invoice's gross.")
            )
        return errors or Figures(net, tax, record.gross, record.outstanding, nets)
    allocated = _allocated(index, record, record.gross, "gross", errors)
    return errors or Figures(net, tax, record.gross, record.gross - allocated, nets)


def _line_nets(index: int, record: Any, errors: list[FieldError]) -> tuple[Decimal, ...]:
    nets = []
    for n, line in enumerate(getattr(record, "lines", ())):
        expected = cents(line.quantity * line.unit_price)
        if line.net is not None and line.net != expected:
            errors.append(
                FieldError(
                    field=at(index, "lines", n, "net"), message=f"quantity times unit price is {expected}."
                )
            )
        nets.append(expected if line.net is None else line.net)
    return tuple(nets)


def _same(index: int, name: str, sent: Decimal, wanted: Decimal, says: str, errors: list[FieldError]) -> None:
    if sent != wanted:
        errors.append(FieldError(field=at(index, name), message=f"{says} {wanted}."))


def _allocated(index: int, record: Any, total: Decimal, name: str, errors: list[FieldError]) -> Decimal:
    """The allocations summed; each invoice once, and no more than the document's `total`."""
    seen: set[str] = set()
    for n, allocation in enumerate(record.allocations):
        if allocation.invoice_number in seen:
            errors.append(
                FieldError(
                    field=at(index, "allocations", n, "invoice_number"),
                    message="This invoice has an allocation earlier in the list.",
                )
            )
        seen.add(allocation.invoice_number)
    allocated = sum((a.amount for a in record.allocations), ZERO)
    if allocated > total:
        errors.append(
            FieldError(
                field=at(index, "allocations"),
                message=f"The allocations add up to {allocated}, more than the {name} {total}.",
            )
        )
    return allocated
