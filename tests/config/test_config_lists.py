"""The configurable lists under /v1/config beyond statuses: types and their rules, category trees,
reasons, levels, lead sources and lookup lists — their defaults and their checks."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient

from crmapi.kit.db import Database
from crmapi.records.history import HistoryEntry
from tests.support import Member, Tenant, Tenants, assert_problem, error_fields, rows_of

CONFIG = "/v1/config"


async def items(client: AsyncClient, who: Member, path: str, **params: Any) -> list[dict[str, Any]]:
    r = await client.get(f"{CONFIG}/{path}", params={"limit": 200, **params}, headers=who.headers)
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["items"]
    return found


async def post(client: AsyncClient, who: Member, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post(f"{CONFIG}/{path}", json=body, headers=who.headers)
    assert r.status_code == 201, r.text
    made: dict[str, Any] = r.json()
    return made


async def statuses(client: AsyncClient, who: Member, kind: str = "lead") -> dict[str, str]:
    return {s["code"]: s["id"] for s in await items(client, who, "statuses", kind=kind)}


async def test_a_new_organisation_has_every_list_filled(client: AsyncClient, acme: Tenant) -> None:
    admin = acme.admin
    types = await items(client, admin, "types")
    assert sorted((t["kind"], t["code"], t["is_default"]) for t in types) == [
        ("activity", "STANDARD", True),
        ("issue", "STANDARD", True),
        ("lead", "STANDARD", True),
        ("opportunity", "STANDARD", True),
        ("sales_order", "STANDARD", True),
        ("service_request", "STANDARD", True),
    ]
    lead_type = next(t for t in types if t["kind"] == "lead")
    assert lead_type["status_ids"] == list((await statuses(client, admin)).values())
    assert lead_type["default_status_ids"] == lead_type["status_ids"]
    levels = await items(client, admin, "priority-levels")
    assert [(p["level"], p["name"]) for p in levels][:2] == [(1, "Critical"), (2, "Very high")]
    assert len(levels) == 10
    sources = [s["code"] for s in await items(client, admin, "lead-sources")]
    assert (
        sources[:2] == ["ADVERTISEMENT", "NOTIFICATION"] and sources[-1] == "CUSTOM_5" and len(sources) == 13
    )
    assert [i["code"] for i in await items(client, admin, "importance-levels")] == ["LOW", "MEDIUM", "HIGH"]
    assert "PRICE" in {r["code"] for r in await items(client, admin, "lost-reasons")}
    assert "DUPLICATE" in {r["code"] for r in await items(client, admin, "cancellation-reasons")}
    lists = {x["code"]: x["id"] for x in await items(client, admin, "lookup-lists")}
    assert set(lists) == {"CALL_CODE", "CALL_STATUS"}
    values = await items(client, admin, f"lookup-lists/{lists['CALL_STATUS']}/values")
    assert [v["code"] for v in values] == ["NOT_STARTED", "IN_PROGRESS", "DONE"]


async def test_a_type_names_its_statuses_with_a_default_per_state(client: AsyncClient, acme: Tenant) -> None:
    admin = acme.admin
    extra = await post(
        client, admin, "statuses", {"kind": "lead", "state": "in_progress", "name": "Qualifying"}
    )
    codes = await statuses(client, admin)
    chosen = [codes[c] for c in ("PENDING", "IN_PROGRESS", "QUALIFYING", "WON", "LOST", "CANCELLED")]
    r = await client.post(
        f"{CONFIG}/types",
        json={"kind": "lead", "name": "Business", "status_ids": chosen},
        headers=admin.headers,
    )
    assert error_fields(r) == {"body.default_status_ids"}  # two in_progress statuses, no default named
    made = await post(
        client,
        admin,
        "types",
        {
            "kind": "lead",
            "name": "Business",
            "status_ids": chosen,
            "default_status_ids": [extra["id"]],
            "complete_within": {"amount": 14, "unit": "days"},
            "default_priority": 3,
        },
    )
    assert made["code"] == "BUSINESS" and made["is_default"] is False
    assert made["default_status_ids"] == [
        codes["PENDING"],
        extra["id"],
        codes["WON"],
        codes["LOST"],
        codes["CANCELLED"],
    ]
    assert made["complete_within"] == {"amount": 14, "unit": "days"}
    without_pending = [i for i in chosen if i != codes["PENDING"]]
    r = await client.patch(
        f"{CONFIG}/types/{made['id']}", json={"status_ids": without_pending}, headers=admin.headers
    )
    assert error_fields(r) == {"body.status_ids"}
    activity = (await statuses(client, admin, "activity"))["PENDING"]
    r = await client.patch(
        f"{CONFIG}/types/{made['id']}", json={"status_ids": [*chosen, activity]}, headers=admin.headers
    )
    assert error_fields(r) == {"body.status_ids"}
    r = await client.post(
        f"{CONFIG}/types", json={"kind": "activity", "name": "X", "auto_convert": True}, headers=admin.headers
    )
    assert error_fields(r) == {"body.auto_convert"}


async def test_one_default_type_per_kind(client: AsyncClient, db: Database, acme: Tenant) -> None:
    admin = acme.admin
    standard = next(t for t in await items(client, admin, "types", kind="lead"))
    made = await post(client, admin, "types", {"kind": "lead", "name": "Inbound", "is_default": True})
    assert made["status_ids"] == standard["status_ids"]  # left out: every active status of the kind
    defaults = [t["code"] for t in await items(client, admin, "types", kind="lead") if t["is_default"]]
    assert defaults == ["INBOUND"]
    changes = [
        e.changes
        for e in await rows_of(db, acme, HistoryEntry, entity="lifecycle_type", entity_id=standard["id"])
    ]
    assert {"is_default": {"old": True, "new": False}} in changes
    r = await client.patch(f"{CONFIG}/types/{made['id']}", json={"is_default": False}, headers=admin.headers)
    assert error_fields(r) == {"body.is_default"}


async def test_rules_move_between_the_types_statuses(
    client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    admin = acme.admin
    lead_type = (await items(client, admin, "types", kind="lead"))[0]
    codes = await statuses(client, admin)
    unit = (await client.post("/v1/business-units", json={"name": "B2B"}, headers=admin.headers)).json()
    rules = f"types/{lead_type['id']}/rules"
    rule = await post(
        client,
        admin,
        rules,
        {
            "name": "B2B starts",
            "from_status_id": codes["PENDING"],
            "to_status_id": codes["IN_PROGRESS"],
            "unit_ids": [unit["id"]],
        },
    )
    assert (
        rule["code"] == "B2B_STARTS"
        and rule["unit_ids"] == [unit["id"]]
        and rule["type_id"] == lead_type["id"]
    )
    opportunity = (await statuses(client, admin, "opportunity"))["OPEN"]
    bad = {"name": "X", "from_status_id": codes["PENDING"], "to_status_id": opportunity}
    assert error_fields(await client.post(f"{CONFIG}/{rules}", json=bad, headers=admin.headers)) == {
        "body.to_status_id"
    }
    same = {"name": "X", "from_status_id": codes["PENDING"], "to_status_id": codes["PENDING"]}
    assert error_fields(await client.post(f"{CONFIG}/{rules}", json=same, headers=admin.headers)) == {
        "body.to_status_id"
    }
    customer = await tenants.member(acme, kind="customer")
    nobody = {
        "name": "X",
        "from_status_id": codes["PENDING"],
        "to_status_id": codes["WON"],
        "member_ids": [str(customer.id)],
    }
    assert error_fields(await client.post(f"{CONFIG}/{rules}", json=nobody, headers=admin.headers)) == {
        "body.member_ids"
    }
    # A type cannot drop a status one of its rules moves from.
    kept = [i for i in lead_type["status_ids"] if i != codes["PENDING"]]
    r = await client.patch(
        f"{CONFIG}/types/{lead_type['id']}", json={"status_ids": kept}, headers=admin.headers
    )
    assert error_fields(r) == {"body.status_ids"}
    other = await post(client, admin, "types", {"kind": "lead", "name": "Other"})
    assert_problem(
        await client.get(f"{CONFIG}/types/{other['id']}/rules/{rule['id']}", headers=admin.headers),
        404,
        "not-found",
    )


async def test_categories_form_a_tree_per_kind(client: AsyncClient, acme: Tenant) -> None:
    admin = acme.admin
    top = await post(client, admin, "categories", {"kind": "lead", "name": "Business"})
    child = await post(
        client, admin, "categories", {"kind": "lead", "name": "Retail chains", "parent_id": top["id"]}
    )
    assert [c["code"] for c in await items(client, admin, "categories", parent_id=top["id"])] == [
        "RETAIL_CHAINS"
    ]
    r = await client.patch(
        f"{CONFIG}/categories/{top['id']}", json={"parent_id": child["id"]}, headers=admin.headers
    )
    assert error_fields(r) == {"body.parent_id"}
    other_kind = {"kind": "activity", "name": "Visit", "parent_id": top["id"]}
    assert error_fields(
        await client.post(f"{CONFIG}/categories", json=other_kind, headers=admin.headers)
    ) == {"body.parent_id"}
    r = await client.post(
        f"{CONFIG}/types",
        json={"kind": "lead", "name": "T", "category_ids": [top["id"]], "default_category_id": child["id"]},
        headers=admin.headers,
    )
    assert error_fields(r) == {"body.default_category_id"}


async def test_fixed_lists_are_relabelled_not_added_to(client: AsyncClient, acme: Tenant) -> None:
    admin = acme.admin
    level = (await items(client, admin, "priority-levels"))[0]
    r = await client.patch(
        f"{CONFIG}/priority-levels/{level['id']}", json={"name": "Urgent"}, headers=admin.headers
    )
    assert r.status_code == 200 and r.json()["name"] == "Urgent" and r.json()["level"] == 1
    r = await client.patch(
        f"{CONFIG}/priority-levels/{level['id']}", json={"code": "X"}, headers=admin.headers
    )
    assert error_fields(r) == {"body.code"}
    assert (
        await client.post(f"{CONFIG}/lead-sources", json={"name": "Fair"}, headers=admin.headers)
    ).status_code == 405


async def test_lookup_values_belong_to_their_list(
    client: AsyncClient, tenants: Tenants, acme: Tenant
) -> None:
    admin = acme.admin
    industry = await post(client, admin, "lookup-lists", {"code": "INDUSTRY", "name": "Industry"})
    path = f"lookup-lists/{industry['id']}/values"
    value = await post(client, admin, path, {"code": "RETAIL", "name": "Retail"})
    r = await client.post(f"{CONFIG}/{path}", json={"code": "RETAIL", "name": "Again"}, headers=admin.headers)
    assert_problem(r, 409, "code-taken")
    call_code = next(x for x in await items(client, admin, "lookup-lists") if x["code"] == "CALL_CODE")
    assert (
        await post(client, admin, f"lookup-lists/{call_code['id']}/values", {"code": "RETAIL", "name": "R"})
    )["code"] == "RETAIL"
    r = await client.get(
        f"{CONFIG}/lookup-lists/{call_code['id']}/values/{value['id']}", headers=admin.headers
    )
    assert_problem(r, 404, "not-found")
    globex = await tenants.create("Globex")
    assert_problem(await client.get(f"{CONFIG}/{path}", headers=globex.admin.headers), 404, "not-found")
    staff = await tenants.member(acme)
    r = await client.post(f"{CONFIG}/{path}", json={"name": "Media"}, headers=staff.headers)
    assert_problem(r, 403, "missing-capability")


async def test_the_prioritisation_matrix_maps_urgency_and_impact(
    client: AsyncClient, db: Database, acme: Tenant
) -> None:
    h = acme.admin.headers
    cells = (await client.get(f"{CONFIG}/prioritisation-matrix", headers=h)).json()["cells"]
    assert len(cells) == 25 and cells[0] == {"urgency": 1, "impact": 1, "priority": 1}
    assert cells[-1] == {"urgency": 5, "impact": 5, "priority": 9}
    changed = [{**c, "priority": 10} if (c["urgency"], c["impact"]) == (5, 5) else c for c in cells]
    r = await client.put(f"{CONFIG}/prioritisation-matrix", json={"cells": changed}, headers=h)
    assert r.status_code == 200 and r.json()["cells"][-1]["priority"] == 10
    entries = await rows_of(db, acme, HistoryEntry, entity="prioritisation_matrix")
    assert [e.changes for e in entries] == [{"5x5": {"old": 9, "new": 10}}]
    twice = [*changed[:24], changed[0]]
    assert error_fields(
        await client.put(f"{CONFIG}/prioritisation-matrix", json={"cells": twice}, headers=h)
    ) == {"body.cells"}
    short = {"cells": changed[:24]}
    assert error_fields(await client.put(f"{CONFIG}/prioritisation-matrix", json=short, headers=h)) == {
        "body.cells"
    }


async def test_service_request_configuration(client: AsyncClient, acme: Tenant) -> None:
    admin, h = acme.admin, acme.admin.headers
    service = await post(client, admin, "services", {"name": "Box replacement", "minimum_minutes": 30})
    assert (service["code"], service["minimum_minutes"]) == ("BOX_REPLACEMENT", 30)
    accepted = await post(
        client,
        admin,
        "categories",
        {"kind": "final_resolution", "name": "Replaced", "requires_acceptance": True},
    )
    assert accepted["requires_acceptance"] is True
    r = await client.post(
        f"{CONFIG}/categories", json={"kind": "lead", "name": "X", "requires_acceptance": True}, headers=h
    )
    assert error_fields(r) == {"body.requires_acceptance"}
    visit = await post(client, admin, "types", {"kind": "activity", "name": "Visit"})
    request_type = await post(
        client,
        admin,
        "types",
        {
            "kind": "service_request",
            "name": "Repair",
            "activity_type_ids": [visit["id"]],
            "recalculate_on_responding": True,
        },
    )
    assert (request_type["activity_type_ids"], request_type["recalculate_on_responding"]) == (
        [visit["id"]],
        True,
    )
    lead_type = (await items(client, admin, "types", kind="lead"))[0]
    r = await client.patch(
        f"{CONFIG}/types/{lead_type['id']}", json={"activity_type_ids": [lead_type["id"]]}, headers=h
    )
    assert error_fields(r) == {"body.activity_type_ids"}
    r = await client.patch(
        f"{CONFIG}/types/{visit['id']}", json={"recalculate_on_responding": True}, headers=h
    )
    assert error_fields(r) == {"body.recalculate_on_responding"}
    org = await client.patch("/v1/organisation", json={"link_token_seconds": 3600}, headers=h)
    assert org.status_code == 200 and org.json()["settings"]["link_token_seconds"] == 3600
    r = await client.patch("/v1/organisation", json={"link_token_seconds": 59}, headers=h)
    assert error_fields(r) == {"body.link_token_seconds"}
