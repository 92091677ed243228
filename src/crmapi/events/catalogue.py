"""The event types an endpoint subscribes to: `<kind>.<operation>`, `<kind>.*` or `*`."""

from __future__ import annotations

from crmapi.events.kinds import KINDS

_STANDARD = ("created", "updated", "deleted", "restored")
_WORK = ("transition", "accepted")
_OWN: dict[str, tuple[str, ...]] = {
    "lead": (*_WORK, "converted", "reminder_due"),
    "opportunity": ("transition",),
    "activity": (*_WORK, "reminder_due"),
    "service_request": (*_WORK, "contact_accepted", "completed", "rated"),
    "account": (
        "contact_linked",
        "contact_role_changed",
        "contact_unlinked",
        "member_assigned",
        "member_unassigned",
    ),
    "sales_order": ("transition", "submitted"),
    "issue": ("transition", "commented", "work_logged"),
    "api_key": ("revoked",),
    "member": ("password_reset",),
}
# Kinds that are never restored (or deleted): their whole list of operations.
_ONLY: dict[str, tuple[str, ...]] = {
    "webhook_endpoint": ("disabled",),
    "conversation": ("created", "updated", "closed", "reopened"),
    "message": ("created", "updated", "deleted"),
    "feed": ("created", "updated"),
    "feed_post": ("created", "updated", "deleted"),
    "feed_comment": ("created", "deleted"),
}
DESCRIPTIONS = {
    "created": "A record was created.",
    "updated": "A record's fields changed; `fields` names them.",
    "deleted": "A record was removed from reads (it can be restored).",
    "restored": "A removed record was brought back.",
    "transition": "A record moved to another status; `fields` names what the move wrote.",
    "accepted": "A member of the record's business unit took it.",
    "converted": "A lead became an account, a contact and an opportunity.",
    "reminder_due": "The record's reminder fell due.",
    "contact_accepted": "The contact accepted the service request's answer.",
    "completed": "The service request was completed.",
    "rated": "The customer rated the completed service request.",
    "contact_linked": "A contact was linked to the account.",
    "contact_role_changed": "A linked contact's role on the account changed.",
    "contact_unlinked": "A contact was unlinked from the account.",
    "member_assigned": "A member was assigned to the account.",
    "member_unassigned": "A member's assignment to the account ended.",
    "submitted": "The sales order was submitted to the ERP and no longer changes.",
    "revoked": "The API key was revoked.",
    "password_reset": "The member's password was reset.",
    "disabled": "The webhook endpoint was disabled after deliveries failed in a row.",
    "closed": "The conversation was closed: nothing is posted in it until it is reopened.",
    "reopened": "The closed conversation was reopened.",
    "commented": "Someone commented on the issue; `comment_id` names the comment, `internal` whether "
    "customers see it.",
    "work_logged": "Someone logged work on the issue; `minutes` says how much.",
}
TYPES: dict[str, str] = {
    f"{kind}.{operation}": DESCRIPTIONS[operation]
    for kind in sorted(KINDS)
    for operation in _ONLY.get(kind, (*_STANDARD, *_OWN.get(kind, ())))
}
KIND_NAMES = sorted(KINDS)


def unknown(patterns: list[str]) -> list[str]:
    """The patterns that name no event type: not `*`, `<kind>.*` or a type of the catalogue."""
    return [
        p for p in patterns if p != "*" and p not in TYPES and not (p.endswith(".*") and p[:-2] in KIND_NAMES)
    ]


def matches(patterns: list[str], event_type: str) -> bool:
    kind = event_type.partition(".")[0]
    return any(p == "*" or p == event_type or p == f"{kind}.*" for p in patterns)
