"""The capability catalogue and what implies what.

Groups grant capabilities (`policy.py`); every staff member also holds `STAFF_DEFAULT`, and
customers hold nothing: they are never in groups and see only what is assigned to them.
"""

from __future__ import annotations

CATALOGUE: dict[str, str] = {
    "org.admin": "Administer the organisation: members, settings, keys; implies every capability.",
    "contacts.create": "Create contacts (the creator owns them).",
    "contacts.view_any": "See every contact of the organisation, not only those in the scope.",
    "contacts.manage": "Change, delete and restore any contact; implies contacts.view_any.",
    "accounts.create": "Create customer accounts (the creator owns them).",
    "accounts.view_any": "See every customer account (the seed's 'View Customer Accounts').",
    "accounts.manage": "Change, delete, restore and assign any account; implies accounts.view_any.",
    "activities.create": "Create and log activities (the creator owns them).",
    "activities.view_any": "See every activity, not only one's own work and that of the records one sees.",
    "activities.manage": "Change, move, remove and restore any activity; implies activities.view_any.",
    "leads.create": "Create leads (the creator owns them).",
    "leads.view_any": "See every lead, not only those owned, assigned or of the member's units.",
    "leads.manage": "Change, move, remove and restore any lead; implies leads.view_any.",
    "opportunities.create": "Create opportunities on the accounts one can see (the creator owns them).",
    "opportunities.manage": "Change, move, remove and restore any opportunity one can see.",
    "service_requests.create": "Open service requests on the accounts one can see (the creator owns them).",
    "service_requests.view_any": "See every service request, not only one's own work and one's accounts'.",
    "service_requests.manage": "Change, move, remove and restore any service request; implies view_any.",
    "sales_orders.create": "Place sales orders for the accounts one can see (the placer owns them).",
    "sales_orders.view_any": "See every sales order, not only those of the accounts one can see.",
    "sales_orders.manage": "Change, submit and cancel any sales order one can see; implies view_any.",
    "issues.create": "File issues on any account (the seed's 'Create Issues'), not only those one reaches.",
    "issues.view_any": "See every account's issues (the seed's 'View Any Issues').",
    "issues.manage": "Change, move, remove and restore any issue; implies issues.view_any.",
    "feeds.manage": "Create exclusive sales-team feeds (the creator manages them; only members see a feed).",
    "tags.manage": "Manage the tag catalogue: create, rename, recolour and delete tags on every record.",
    "config.manage": "Configure the organisation's CRM: custom fields, statuses, types, rules and lists.",
    "sales_reps.manage": "Create, change and delete sales-rep records (linking members needs org.admin).",
    "integrations.push": "Push data from an ERP or other system (the ERP feed).",
    "webhooks.manage": "Subscribe endpoints to events (hearing of every record change) and see deliveries.",
}

STAFF_DEFAULT = frozenset(
    {
        "contacts.create",
        "accounts.create",
        "leads.create",
        "opportunities.create",
        "activities.create",
        "service_requests.create",
        "sales_orders.create",
    }
)


def implies(held: frozenset[str], wanted: str) -> bool:
    """True when a held capability grants the wanted one."""
    if "org.admin" in held or wanted in held:
        return True
    area, _, action = wanted.partition(".")
    return action == "view_any" and f"{area}.manage" in held


def capabilities_of(*, kind: str, granted: frozenset[str]) -> frozenset[str]:
    if kind == "customer":
        return frozenset()
    return STAFF_DEFAULT | granted
