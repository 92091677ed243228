"""One factory per record kind: each makes a record through the API, as a client would, by `who`,
with the fields a test names over defaults that pass validation, and answers it as created (201
asserted). Tests that want an id, or name a record positionally, wrap these, never POST again."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient

from tests.support import Member, ok


async def made(client: AsyncClient, who: Member, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = ok(await client.post(path, json=body, headers=who.headers), 201)
    return answer


async def contact(client: AsyncClient, who: Member, **fields: Any) -> dict[str, Any]:
    return await made(
        client, who, "/v1/contacts", {"kind": "person", "first_name": "Anna", "last_name": "Nowak", **fields}
    )


async def account(client: AsyncClient, who: Member, **fields: Any) -> dict[str, Any]:
    return await made(client, who, "/v1/accounts", {"name": "Hurtownia Nowak", **fields})


async def lead(client: AsyncClient, who: Member, **fields: Any) -> dict[str, Any]:
    return await made(client, who, "/v1/leads", {"description": "Wants 40 seats", **fields})


async def opportunity(client: AsyncClient, who: Member, account_id: str, **fields: Any) -> dict[str, Any]:
    return await made(
        client, who, "/v1/opportunities", {"account_id": account_id, "name": "Web shop", **fields}
    )


async def service_request(client: AsyncClient, who: Member, account_id: str, **fields: Any) -> dict[str, Any]:
    body = {"subject": "Router drops", "account_id": account_id, "urgency": 3, "impact": 3, **fields}
    return await made(client, who, "/v1/service-requests", body)


async def activity(client: AsyncClient, who: Member, **fields: Any) -> dict[str, Any]:
    return await made(client, who, "/v1/activities", {"subject": "Call about the offer", **fields})
