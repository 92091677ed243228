"""Key dates: when a record should be completed, from its type's "to be completed within"."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from typing import Any

_FIXED = {"minutes": 1, "hours": 60, "days": 60 * 24, "weeks": 60 * 24 * 7}


def expected_completion(start: datetime, within: dict[str, Any] | None) -> datetime | None:
    """`start` plus the duration; months and years are calendar ones (31 January + 1 month is
    the last day of February), the rest fixed lengths."""
    if not within:
        return None
    amount, unit = int(within["amount"]), within["unit"]
    if unit in _FIXED:
        return start + timedelta(minutes=amount * _FIXED[unit])
    months = amount * (12 if unit == "years" else 1)
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)
