"""A member's inbox as the API answers it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from crmapi.config.spec import OptionCode
from crmapi.kit.pagination import PageParams
from crmapi.kit.scalars import Input


class NotificationRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c21",
                    "category": "SALES_ORDERS",
                    "type": "sales_order.submitted",
                    "kind": "sales_order",
                    "record_id": "0195f3c2-7a4e-7d1b-9c3a-2b6f1e8d4c09",
                    "details": {"version": 2, "number": 118},
                    "created_at": "2026-12-07T10:00:01Z",
                    "read_at": None,
                }
            ]
        },
    )
    id: UUID
    category: str = Field(description="The notification category's code.")
    type: str = Field(description="The event type it tells of, `<kind>.<operation>` (`GET /v1/event-types`).")
    kind: str
    record_id: UUID
    details: dict[str, Any] = Field(description="The event's payload: version, fields changed, ...")
    created_at: datetime
    read_at: datetime | None = None


class NotificationQuery(PageParams):
    category: OptionCode | None = Field(None, description="Only this category's.")
    unread: bool | None = Field(None, description="true: only unread ones; false: only read ones.")


class Unread(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"total": 3, "by_category": {"SALES_ORDERS": 3}}]}
    )
    total: int
    by_category: dict[str, int] = Field(
        description="Unread notifications per category code (none: left out)."
    )


class MarkRead(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"category": "SALES_ORDERS"}]})
    category: OptionCode | None = Field(None, description="Only this category's; every one when left out.")


class Marked(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"marked": 3}]})
    marked: int = Field(description="How many were unread and are read now.")


class Mutes(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"categories": ["ANNOUNCEMENTS"]}]})
    categories: list[str] = Field(description="The codes of the categories the caller hears nothing of.")
