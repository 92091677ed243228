"""The organisation's calendar day, in SQL: what due dates and days overdue count from."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Date, cast, func, select
from sqlalchemy.sql.elements import ColumnElement

from crmapi.identity.models import Organisation


def today(org_id: Any) -> ColumnElement[date]:
    """Today in the organisation's time zone."""
    zone = select(Organisation.time_zone).where(Organisation.id == org_id).scalar_subquery()
    return cast(func.timezone(zone, func.now()), Date)
