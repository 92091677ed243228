"""Problem types of sales orders."""

from __future__ import annotations

from crmapi.kit.errors import Conflict


class NotEditable(Conflict):
    """The order was submitted to the ERP: its lines and details no longer change (cancel it, or
    place another)."""

    slug = "order-not-editable"
