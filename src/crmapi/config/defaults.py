"""The values a new organisation's lists start with, so every record can be filled at once."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.config import matrix
from crmapi.config.models import (
    CancellationReason,
    Category,
    ImportanceLevel,
    LeadSource,
    LookupList,
    LookupValue,
    LostReason,
    NotificationCategory,
    PriorityLevel,
)
from crmapi.config.service import STEP
from crmapi.kit.base import utcnow
from crmapi.kit.ids import new_id

LOST_REASONS = (
    ("PRICE", "Price"),
    ("COMPETITOR", "Went to a competitor"),
    ("NO_INTEREST", "No interest"),
    ("OTHER", "Other"),
)
CANCELLATION_REASONS = (("DUPLICATE", "Duplicate"), ("MISTAKE", "Created by mistake"), ("OTHER", "Other"))
IMPORTANCE_LEVELS = (("LOW", "Low"), ("MEDIUM", "Medium"), ("HIGH", "High"))
PRIORITY_LABELS = (
    "Critical",
    "Very high",
    "High",
    "Above normal",
    "Normal",
    "Below normal",
    "Low",
    "Very low",
    "Minimal",
    "Lowest",
)
# The seed's fixed lead sources; organisations relabel them, never add or remove.
LEAD_SOURCES = (
    ("ADVERTISEMENT", "Advertisement"),
    ("NOTIFICATION", "Notification"),
    ("COMMUNICATION", "Communication"),
    ("RECOMMENDED_BY_CONTACT", "Recommended by contact"),
    ("RECOMMENDED_BY_EMPLOYEE", "Recommended by employee"),
    ("RECOMMENDED_BY_PARTNER", "Recommended by partner"),
    ("WEBSITE", "Website"),
    ("OTHER", "Other"),
    *((f"CUSTOM_{n}", f"Custom {n}") for n in range(1, 6)),
)
# Service requests can be answered at once; the final "to confirm" one waits for the contact.
ANSWER_CATEGORIES = {
    "response": (("ACKNOWLEDGED", "Acknowledged", False),),
    "temporary_resolution": (("WORKAROUND", "Workaround", False),),
    "final_resolution": (
        ("RESOLVED", "Resolved", False),
        ("RESOLVED_TO_CONFIRM", "Resolved, to be confirmed by the customer", True),
    ),
}
# What inboxes are told about; events map to them by type (crmapi.notifications.fanout).
NOTIFICATION_CATEGORIES = (
    ("CONVERSATIONS", "Conversations"),
    ("ANNOUNCEMENTS", "Announcements"),
    ("SERVICE_REQUESTS", "Service requests"),
    ("SALES_ORDERS", "Sales orders"),
    ("ISSUES", "Issues"),
)
CALL_CODE, CALL_STATUS = "CALL_CODE", "CALL_STATUS"
LOOKUPS = {
    CALL_CODE: (
        "Call code",
        (
            ("NO_ANSWER", "No answer"),
            ("BUSY", "Busy"),
            ("CALL_BACK", "Call back"),
            ("INTERESTED", "Interested"),
            ("NOT_INTERESTED", "Not interested"),
        ),
    ),
    CALL_STATUS: (
        "Call status",
        (("NOT_STARTED", "Not started"), ("IN_PROGRESS", "In progress"), ("DONE", "Done")),
    ),
}


def _rows(org_id: UUID, values: Any, **extra: Any) -> list[dict[str, Any]]:
    now = utcnow()
    return [
        {
            "org_id": org_id,
            "id": new_id(),
            "code": code,
            "name": name,
            "position": STEP * n,
            "active": True,
            "created_at": now,
            "updated_at": now,
            "version": 1,
            **extra,
        }
        for n, (code, name) in enumerate(values, start=1)
    ]


async def seed(session: AsyncSession, org_id: UUID) -> None:
    """Give a new organisation the default values of every list."""
    for model, values in (
        (LostReason, LOST_REASONS),
        (CancellationReason, CANCELLATION_REASONS),
        (ImportanceLevel, IMPORTANCE_LEVELS),
        (LeadSource, LEAD_SOURCES),
        (NotificationCategory, NOTIFICATION_CATEGORIES),
    ):
        await session.execute(insert(model), _rows(org_id, values))
    priorities = _rows(org_id, ((str(n), label) for n, label in enumerate(PRIORITY_LABELS, start=1)))
    await session.execute(insert(PriorityLevel), [{**r, "level": int(r["code"])} for r in priorities])
    await matrix.seed(session, org_id)
    for kind, categories in ANSWER_CATEGORIES.items():
        rows = _rows(org_id, ((code, name) for code, name, _ in categories), kind=kind)
        for row, (_, _, accept) in zip(rows, categories, strict=True):
            row["requires_acceptance"] = accept
        await session.execute(insert(Category), rows)
    lists = _rows(org_id, ((code, name) for code, (name, _) in LOOKUPS.items()))
    await session.execute(insert(LookupList), lists)
    for row in lists:
        await session.execute(insert(LookupValue), _rows(org_id, LOOKUPS[row["code"]][1], list_id=row["id"]))
