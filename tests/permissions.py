"""The people the permission matrix asks about, and the records they ask for.

One organisation ("Acme") holds the records; around them:
- `admin`: in the Administrators group (org.admin);
- `granted`: a staff member in a group granted exactly the capability a route names;
- `rep`: staff working as sales-rep record R1, which the target account carries; the work items
  are assigned to it (the target opportunity is on the other account, so the rep sees it only
  as its assignee);
- `other_rep`: staff working as R2, on another account;
- `customer`: a customer member personally assigned to the target account;
- `other_customer`: a customer assigned to another account;
- `other_org`: the administrator of another organisation;
- `key`: an Acme API key holding only a capability no route here needs;
- `anonymous`: no credentials.
Every request gets records made for it alone, so a delete in one answer does not change the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from httpx import AsyncClient

from crmapi.access import policy
from crmapi.access.models import Group, GroupGrant, GroupMember, SalesRep, SalesRepMember
from crmapi.config.catalogue import CATEGORIES, LISTS, STATUSES
from crmapi.config.spec import OptionList
from crmapi.config.types import RULES, TYPES
from crmapi.events.models import WebhookDelivery
from crmapi.identity.models import ApiKey
from crmapi.identity.security import new_secret
from crmapi.kit.db import Database, bind_org
from crmapi.kit.ids import new_id
from crmapi.notifications.models import Notification
from tests.support import Member, Tenant, Tenants

PERSONAS = (
    "anonymous",
    "admin",
    "granted",
    "rep",
    "other_rep",
    "customer",
    "other_customer",
    "other_org",
    "key",
)
KEY_CAPABILITY = "integrations.push"
# Every configurable list under /v1/config, by the path parameter naming one of its values.
CONFIG_LISTS = {spec.param: spec for spec in (*LISTS, TYPES, RULES)}


async def write(db: Database, org_id: UUID, *rows: Any) -> None:
    """Insert rows in order and mark the organisation's policy changed."""
    async with db.sessions() as session:
        await bind_org(session, org_id)
        for row in rows:
            session.add(row)
            await session.flush()
        await policy.changed(session, org_id)
        await session.commit()


async def work_as_rep(db: Database, tenant: Tenant, member: Member, code: str) -> None:
    record = SalesRep(org_id=tenant.org_id, id=new_id(), code=code, name=f"Rep {code}", active=True)
    link = SalesRepMember(org_id=tenant.org_id, id=new_id(), sales_rep_id=record.id, member_id=member.id)
    await write(db, tenant.org_id, record, link)


async def grant(db: Database, tenant: Tenant, member: Member, capabilities: tuple[str, ...]) -> None:
    group = Group(org_id=tenant.org_id, id=new_id(), name=f"Granted {new_id().hex[-6:]}")
    rows: list[Any] = [
        group,
        GroupMember(org_id=tenant.org_id, id=new_id(), group_id=group.id, member_id=member.id),
    ]
    rows += [
        GroupGrant(org_id=tenant.org_id, id=new_id(), group_id=group.id, capability=c) for c in capabilities
    ]
    await write(db, tenant.org_id, *rows)


async def api_key(db: Database, tenants: Tenants, tenant: Tenant, capabilities: list[str]) -> dict[str, str]:
    key_id, secret = new_id(), new_secret()
    async with db.sessions() as session:
        session.add(
            ApiKey(
                id=key_id,
                organisation_id=tenant.org_id,
                name="matrix",
                secret_hash=tenants.keys.secret_hash(secret),
                capabilities=capabilities,
            )
        )
        await session.commit()
    return {"Authorization": f"Bearer crm_{key_id.hex}_{secret}"}


@dataclass
class People:
    acme: Tenant
    headers: dict[str, dict[str, str]]
    ids: dict[str, UUID]


async def people(db: Database, tenants: Tenants, granted: tuple[str, ...]) -> People:
    acme, globex = await tenants.create("Acme"), await tenants.create("Globex")
    staff = {name: await tenants.member(acme) for name in ("granted", "rep", "other_rep")}
    customers = {name: await tenants.member(acme, kind="customer") for name in ("customer", "other_customer")}
    if granted:
        await grant(db, acme, staff["granted"], granted)
    await work_as_rep(db, acme, staff["rep"], "R1")
    await work_as_rep(db, acme, staff["other_rep"], "R2")
    headers = {
        "anonymous": {},
        "admin": acme.admin.headers,
        **{name: m.headers for name, m in (staff | customers).items()},
        "other_org": globex.admin.headers,
        "key": await api_key(db, tenants, acme, [KEY_CAPABILITY]),
    }
    ids = {name: m.id for name, m in (staff | customers).items()} | {"admin": acme.admin.id}
    return People(acme=acme, headers=headers, ids=ids)


ANSWER_KINDS = ("response", "temporary_resolution", "final_resolution")
# A request further on: the request it starts from, the action, and the answer's category (kind,
# requires acceptance) when the action gives one.
REQUEST_MAKERS: dict[str, tuple[str, str, tuple[str, bool] | None]] = {
    "started_service_request_id": ("service_request_id", "start", None),
    "responded_service_request_id": ("started_service_request_id", "respond", ("response", False)),
    "awaiting_service_request_id": ("started_service_request_id", "respond", ("response", True)),
    "resolved_service_request_id": ("responded_service_request_id", "resolve", ("final_resolution", False)),
    "completed_service_request_id": ("resolved_service_request_id", "complete", None),
}


@dataclass
class Records:
    """The records one request is about, made on first use by Acme's administrator."""

    client: AsyncClient
    people: People
    db: Database
    made: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)  # acceptance links by request id

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = await self.client.post(path, json=body, headers=self.people.acme.admin.headers)
        assert answer.status_code in (200, 201, 204), answer.text
        return answer.json() if answer.content else {}

    async def delete(self, name: str) -> None:
        """Soft-delete the named record as the administrator (for restore routes)."""
        kind = {
            "account_id": "accounts",
            "lead_id": "leads",
            "opportunity_id": "opportunities",
            "activity_id": "activities",
            "service_request_id": "service-requests",
            "issue_id": "issues",
        }.get(name, "contacts")
        answer = await self.client.delete(
            f"/v1/{kind}/{await self.get(name)}", headers=self.people.acme.admin.headers
        )
        assert answer.status_code == 204, answer.text

    async def issue_status(self, state: str) -> str:
        """The status of the state that the target issue's type starts it in."""
        answer = await self.client.get(
            f"/v1/config/types/{await self.get('issue_type_id')}", headers=self.people.acme.admin.headers
        )
        listed = await self.client.get(
            "/v1/config/statuses",
            params={"kind": "issue", "state": state},
            headers=self.people.acme.admin.headers,
        )
        allowed = set(answer.json()["status_ids"])
        return next(str(s["id"]) for s in listed.json()["items"] if s["id"] in allowed)

    def suffix(self) -> str:
        return new_id().hex[-8:]

    async def get(self, name: str) -> str:
        if name not in self.made:
            self.made[name] = await self._make(name)
        return self.made[name]

    async def _request_body(self, suffix: str, **extra: Any) -> dict[str, Any]:
        return {
            "subject": f"Request {suffix}",
            "account_id": await self.get("account_id"),
            "urgency": 3,
            "impact": 3,
            **extra,
        }

    async def _service_request(self, name: str, suffix: str) -> str:
        """The target request (on the target account, assigned to the rep), one waiting in a
        unit of the rep's, or the target moved on to the state the name says."""
        if name == "unit_service_request_id":
            unit = await self.get("unit_id")
            answer = await self.client.put(
                f"/v1/business-units/{unit}/members/{self.people.ids['rep']}",
                headers=self.people.acme.admin.headers,
            )
            assert answer.status_code == 204, answer.text
            body = await self._request_body(suffix, business_unit_id=unit)
            return str((await self._post("/v1/service-requests", body))["id"])
        if name == "service_request_id":  # with the account's contact: links go to it
            body = await self._request_body(
                suffix,
                assigned_member_id=str(self.people.ids["rep"]),
                contact_id=await self.get("contact_id"),
            )
            return str((await self._post("/v1/service-requests", body))["id"])
        before, action, body = REQUEST_MAKERS[name]
        r = await self.get(before)
        if body:
            kind, accept = body
            category = {"kind": kind, "name": f"Answer {suffix}", "requires_acceptance": accept}
            made = await self._post("/v1/config/categories", category)
            moved = await self._post(f"/v1/service-requests/{r}/{action}", {"category_id": made["id"]})
        else:
            moved = await self._post(f"/v1/service-requests/{r}/{action}", {})
        if link := moved.get("acceptance_link") or moved.get("feedback_link"):
            self.links[r] = link
        self.made.pop(before)  # the earlier name no longer describes it
        return r

    async def _target_account(self, suffix: str) -> None:
        """An account carrying R1, assigned to the customer, with a linked contact; and another
        account carrying R2, assigned to the other customer."""
        body = {"kind": "person", "first_name": "Jan", "last_name": f"Kowalski {suffix}"}
        contact = str((await self._post("/v1/contacts", body))["id"])
        body = {
            "name": f"Target {suffix}",
            "code": f"T{suffix}",
            "sales_rep_codes": ["R1"],
            "contact_ids": [contact],
        }
        account = str((await self._post("/v1/accounts", body))["id"])
        await self._post(
            f"/v1/accounts/{account}/assignments", {"member_id": str(self.people.ids["customer"])}
        )
        other = await self._post("/v1/accounts", {"name": f"Other {suffix}", "sales_rep_codes": ["R2"]})
        other_customer = {"member_id": str(self.people.ids["other_customer"])}
        await self._post(f"/v1/accounts/{other['id']}/assignments", other_customer)
        self.made |= {
            "contact_id": contact,
            "account_id": account,
            "account_code": f"T{suffix}",
            "other_account_id": str(other["id"]),
        }

    async def _conversation(self, suffix: str) -> None:
        """On the target account, opened by the administrator with the customer taking part."""
        body = {
            "subject": f"Delivery {suffix}",
            "participant_ids": [str(self.people.ids["customer"])],
            "message": {"body": "Hello"},
        }
        made = await self._post(f"/v1/accounts/{await self.get('account_id')}/conversations", body)
        answer = await self.client.get(
            f"/v1/conversations/{made['id']}/messages", headers=self.people.acme.admin.headers
        )
        self.made |= {
            "conversation_id": str(made["id"]),
            "message_id": str(answer.json()["items"][0]["id"]),
            "participant_id": str(self.people.ids["customer"]),
        }

    async def option_body(self, spec: OptionList, suffix: str) -> dict[str, Any]:
        """A body that creates a value of the list."""
        body: dict[str, Any] = {"name": f"{spec.noun.capitalize()} {suffix}"}
        if spec is STATUSES:
            body |= {"kind": "lead", "state": "in_progress"}
        if spec in (TYPES, CATEGORIES):
            body["kind"] = "lead"
        if spec is RULES:
            answer = await self.client.get(
                f"/v1/config/types/{await self.get('type_id')}", headers=self.people.acme.admin.headers
            )
            first, second = answer.json()["status_ids"][:2]
            body |= {"from_status_id": first, "to_status_id": second}
        return body

    async def _option(self, spec: OptionList, suffix: str) -> str:
        """A value of a configurable list: made when the list takes new ones, else its first."""
        path = spec.prefix()
        if spec.parent is not None:
            path = path.replace(f"{{{spec.parent.param}}}", await self.get(spec.parent.param))
        if spec.create is not None:
            return str((await self._post(path, await self.option_body(spec, suffix)))["id"])
        answer = await self.client.get(path, headers=self.people.acme.admin.headers)
        return str(answer.json()["items"][0]["id"])

    async def _delivery(self, endpoint_id: str) -> str:
        org = self.people.acme.org_id
        delivery = WebhookDelivery(
            org_id=org,
            id=new_id(),
            endpoint_id=UUID(endpoint_id),
            event_id=new_id(),
            seq=1,
            type="contact.created",
            body={"id": "event"},
            status="delivered",
            attempts=1,
            created_at=datetime.now(UTC),
        )
        await write(self.db, org, delivery)
        return str(delivery.id)

    async def _make(self, name: str) -> str:
        suffix = new_id().hex[-8:]
        if name in ("contact_id", "account_id", "other_account_id"):
            await self._target_account(suffix)
            return self.made[name]
        if name == "document_id":  # an invoice of the target account, as the ERP pushes one
            await self.get("account_id")
            line = {"quantity": "1", "unit_price": "10.00"}
            record = {
                "number": f"FV/{suffix}",
                "account_code": self.made["account_code"],
                "currency": "PLN",
                "issued_on": "2026-11-01",
                "due_on": "2026-12-01",
                "net": "10.00",
                "tax": "0",
                "gross": "10.00",
                "outstanding": "10.00",
                "lines": [line],
            }
            pushed = await self._post("/v1/integrations/erp/invoices", {"records": [record]})
            return str(pushed["results"][0]["id"])
        if name == "sales_order_id":  # a draft on the target account, placed by the administrator
            line = {"product_code": "P-1", "quantity": "1", "unit_price": "10.00"}
            body = {"account_id": await self.get("account_id"), "lines": [line]}
            return str((await self._post("/v1/sales-orders", body))["id"])
        if name == "notification_id":  # one in the administrator's inbox, as the worker writes them
            org, made_id = self.people.acme.org_id, new_id()
            told = Notification(
                org_id=org,
                id=made_id,
                member_id=self.people.acme.admin.id,
                category="SALES_ORDERS",
                event_id=new_id(),
                type="sales_order.created",
                kind="sales_order",
                record_id=new_id(),
                details={},
                created_at=datetime.now(UTC),
            )
            await write(self.db, org, told)
            return str(made_id)
        if name == "category":
            return "SALES_ORDERS"
        if name in ("issue_type_id", "form_version"):  # a type customers file, with a one-field form
            form = {"fields": [{"key": "order", "label": "Order number", "type": "text"}]}
            body = {"name": f"Refunds {suffix}", "customer_submittable": True, "form": form}
            self.made |= {"issue_type_id": str((await self._post("/v1/config/issue-types", body))["id"])}
            self.made |= {"form_version": "1"}
            return self.made[name]
        if name in ("issue_id", "follower_id"):  # on the target account; the rep follows it
            body = {"type_id": await self.get("issue_type_id"), "subject": f"Refund {suffix}"}
            made = await self._post(f"/v1/accounts/{await self.get('account_id')}/issues", body)
            await self._post(f"/v1/issues/{made['id']}/followers", {"member_id": str(self.people.ids["rep"])})
            self.made |= {"issue_id": str(made["id"]), "follower_id": str(self.people.ids["rep"])}
            return self.made[name]
        if name in ("started_issue_id", "resolved_issue_id"):
            issue = await self.get("issue_id")
            await self._post(f"/v1/issues/{issue}/start", {})
            if name == "resolved_issue_id":
                await self._post(f"/v1/issues/{issue}/resolve", {})
            return issue
        if name in ("conversation_id", "message_id", "participant_id"):
            await self._conversation(suffix)
            return self.made[name]
        if name == "attachment_id":  # attached to the target conversation's message
            upload = await self.client.post(
                "/v1/attachments",
                files={"file": ("note.txt", b"Delivery note", "text/plain")},
                headers=self.people.acme.admin.headers,
            )
            assert upload.status_code == 201, upload.text
            body = {"body": "The note.", "attachment_ids": [upload.json()["id"]]}
            await self._post(f"/v1/conversations/{await self.get('conversation_id')}/messages", body)
            return str(upload.json()["id"])
        if name in ("feed_id", "feed_member_id"):  # the administrator manages it, the rep is in
            body = {"name": f"Feed {suffix}", "member_ids": [str(self.people.ids["rep"])]}
            self.made |= {"feed_id": str((await self._post("/v1/feeds", body))["id"])}
            self.made |= {"feed_member_id": str(self.people.ids["rep"])}
            return self.made[name]
        if name == "post_id":
            path = f"/v1/feeds/{await self.get('feed_id')}/posts"
            return str((await self._post(path, {"body": "Targets", "announcement": True}))["id"])
        if name == "comment_id":
            path = f"/v1/feeds/{await self.get('feed_id')}/posts/{await self.get('post_id')}/comments"
            return str((await self._post(path, {"body": "Noted."}))["id"])
        if name == "note_id":
            note = await self._post(f"/v1/accounts/{await self.get('account_id')}/notes", {"body": "Called."})
            return str(note["id"])
        if name == "tag_id":
            return str((await self._post("/v1/tags", {"name": f"tag-{suffix}"}))["id"])
        if name == "endpoint_id":
            body = {"url": f"https://hooks.example.com/{suffix}", "event_types": ["*"]}
            return str((await self._post("/v1/webhook-endpoints", body))["id"])
        if name == "delivery_id":  # as the worker makes one: an event for the endpoint
            return await self._delivery(await self.get("endpoint_id"))
        if name == "name":
            await self._post(f"/v1/accounts/{await self.get('account_id')}/tags", {"name": "vip"})
            await self._post(f"/v1/contacts/{await self.get('contact_id')}/tags", {"name": "vip"})
            for plural, kind in (("leads", "lead"), ("opportunities", "opportunity")):
                if f"{kind}_id" in self.made:
                    await self._post(f"/v1/{plural}/{self.made[f'{kind}_id']}/tags", {"name": "vip"})
            return "vip"
        if name == "spare_contact_id":
            body = {"kind": "person", "first_name": "Ewa", "last_name": f"Spare {suffix}"}
            return str((await self._post("/v1/contacts", body))["id"])
        if name == "field_id":
            body = {"kind": "account", "key": f"f_{suffix}", "label": "Field", "type": "text"}
            return str((await self._post("/v1/custom-fields", body))["id"])
        if name == "lead_id":  # owned by the administrator, assigned to the rep
            body = {
                "description": f"Lead {suffix}",
                "last_name": "Nowak",
                "assigned_member_id": str(self.people.ids["rep"]),
                "reminder_at": "2026-01-01T09:00:00Z",
            }
            return str((await self._post("/v1/leads", body))["id"])
        if name == "opportunity_id":  # on the other account (R2's), assigned to the rep
            body = {
                "account_id": await self.get("other_account_id"),
                "name": f"Deal {suffix}",
                "assigned_member_id": str(self.people.ids["rep"]),
            }
            return str((await self._post("/v1/opportunities", body))["id"])
        if name == "activity_id":  # on the target account, assigned to the rep, with a reminder
            body = {
                "subject": f"Call {suffix}",
                "account_id": await self.get("account_id"),
                "assigned_member_id": str(self.people.ids["rep"]),
                "reminder_at": "2026-01-01T09:00:00Z",
            }
            return str((await self._post("/v1/activities", body))["id"])
        if name == "activity_service_line_id":  # on the target activity, recorded by the administrator
            line = {"service_id": await self.get("service_id"), "minutes": 10}
            return str(
                (await self._post(f"/v1/activities/{await self.get('activity_id')}/services", line))["id"]
            )
        if name in REQUEST_MAKERS or name in ("service_request_id", "unit_service_request_id"):
            return await self._service_request(name, suffix)
        if name.endswith("_category_id") and name.removesuffix("_category_id") in ANSWER_KINDS:
            body = {"kind": name.removesuffix("_category_id"), "name": f"Answer {suffix}"}
            return str((await self._post("/v1/config/categories", body))["id"])
        if name == "related_id":  # another request on the target account, related to the target
            other = await self._post("/v1/service-requests", await self._request_body(suffix))
            target = await self.get("service_request_id")
            answer = await self.client.put(
                f"/v1/service-requests/{target}/related/{other['id']}", headers=self.people.acme.admin.headers
            )
            assert answer.status_code == 204, answer.text
            return str(other["id"])
        if name in ("token", "feedback_token"):  # a fresh acceptance or feedback link's token
            waiting = "awaiting" if name == "token" else "completed"
            r = await self.get(f"{waiting}_service_request_id")
            return self.links[r].rsplit("/", 1)[1]
        if name == "started_activity_id":
            activity = await self.get("activity_id")
            await self._post(f"/v1/activities/{activity}/start", {})
            return activity
        if name == "unit_activity_id":  # waiting in a unit the rep belongs to, nobody assigned
            unit = await self.get("unit_id")
            answer = await self.client.put(
                f"/v1/business-units/{unit}/members/{self.people.ids['rep']}",
                headers=self.people.acme.admin.headers,
            )
            assert answer.status_code == 204, answer.text
            return str(
                (await self._post("/v1/activities", {"subject": "Unit task", "business_unit_id": unit}))["id"]
            )
        if name == "started_lead_id":
            lead = await self.get("lead_id")
            await self._post(f"/v1/leads/{lead}/start", {})
            return lead
        if name == "unit_lead_id":  # waiting in a unit the rep belongs to, nobody assigned
            unit = await self.get("unit_id")
            answer = await self.client.put(
                f"/v1/business-units/{unit}/members/{self.people.ids['rep']}",
                headers=self.people.acme.admin.headers,
            )
            assert answer.status_code == 204, answer.text
            return str(
                (await self._post("/v1/leads", {"description": "Unit lead", "business_unit_id": unit}))["id"]
            )
        if name in CONFIG_LISTS:
            return await self._option(CONFIG_LISTS[name], suffix)
        if name == "unit_id":
            return str((await self._post("/v1/business-units", {"name": f"Unit {suffix}"}))["id"])
        if name == "sales_rep_id":
            return str((await self._post("/v1/sales-reps", {"code": f"C{suffix}", "name": "Rep"}))["id"])
        if name == "api_key_id":
            body = {"name": f"Key {suffix}", "capabilities": ["integrations.push"]}
            return str((await self._post("/v1/api-keys", body))["id"])
        if name == "member_id":
            return str(self.people.ids["customer"])
        if name == "staff_member_id":
            return str(self.people.ids["other_rep"])
        if name == "group_id":
            return str((await self._post("/v1/groups", {"name": f"Group {suffix}"}))["id"])
        if name == "granted_group_id":
            body = {"name": f"Group {suffix}", "capabilities": [await self.get("capability")]}
            return str((await self._post("/v1/groups", body))["id"])
        if name == "capability":
            return "tags.manage"
        if name in ("linked_unit_id", "linked_sales_rep_id", "linked_group_id"):
            kind = {"linked_unit_id": "business-units", "linked_sales_rep_id": "sales-reps"}.get(
                name, "groups"
            )
            record = await self.get(name.removeprefix("linked_"))
            answer = await self.client.put(
                f"/v1/{kind}/{record}/members/{await self.get('staff_member_id')}",
                headers=self.people.acme.admin.headers,
            )
            assert answer.status_code == 204, answer.text
            return record
        raise KeyError(name)
