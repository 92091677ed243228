"""The demo organisation's webhook endpoint: an ERP's, switched off until someone points it at
a receiver of theirs, with the log of the deliveries it had (its first try at each account
failed while the ERP was down, the second went through)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from crmapi.events.signing import new_secret
from crmapi.events.webhook_schemas import WebhookEvent
from crmapi.kit.ids import new_id

DELIVERED = 5


@dataclass
class Hooks:
    endpoints: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)


def build(rng: random.Random, org_id: UUID, n: int, now: datetime, accounts: list[dict[str, Any]]) -> Hooks:
    hooks = Hooks()
    created = now - timedelta(days=30)
    endpoint_id = new_id()
    hooks.endpoints.append(
        {
            "org_id": org_id,
            "id": endpoint_id,
            "url": f"https://erp.demo{n}.example.com/crm-events",
            "description": "The ERP's listener (demo): set your receiver's URL, then enable it.",
            "event_types": ["account.*"],
            "kinds": None,
            "account_id": None,
            "secret": new_secret(),
            "previous_secret": None,
            "previous_secret_until": None,
            "enabled": False,
            "disabled_reason": "A demo endpoint: nothing listens at its address.",
            "failures_in_a_row": 0,
            "created_at": created,
            "updated_at": created,
            "version": 1,
        }
    )
    for seq, account in enumerate(sorted(accounts, key=lambda a: a["created_at"])[:DELIVERED], start=1):
        at = max(account["created_at"], created) + timedelta(minutes=seq)
        delivery_id, event_id = new_id(), new_id()
        event = WebhookEvent(
            id=event_id,
            type="account.created",
            occurred_at=at,
            organisation_id=org_id,
            seq=seq,
            kind="account",
            record_id=account["id"],
            operation="created",
            version=1,
            data={"id": str(account["id"]), "name": account["name"]},
        )
        retried = at + timedelta(seconds=30 * rng.uniform(0.8, 1.2))
        hooks.deliveries.append(
            {
                "org_id": org_id,
                "id": delivery_id,
                "endpoint_id": endpoint_id,
                "event_id": event_id,
                "seq": seq,
                "type": event.type,
                "body": event.model_dump(mode="json"),
                "status": "delivered",
                "attempts": 2,
                "next_attempt_at": None,
                "last_status_code": 200,
                "last_error": None,
                "last_latency_ms": rng.randint(40, 180),
                "replay": False,
                "created_at": at,
                "delivered_at": retried,
            }
        )
        for number, when, code, error in ((1, at, 503, "Answered 503."), (2, retried, 200, None)):
            hooks.attempts.append(
                {
                    "org_id": org_id,
                    "id": new_id(),
                    "delivery_id": delivery_id,
                    "number": number,
                    "at": when,
                    "status_code": code,
                    "error": error,
                    "latency_ms": rng.randint(40, 180),
                }
            )
    return hooks
