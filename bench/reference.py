"""The lean reference: what the stack answers with nothing but the work a read needs.

A measuring instrument, not a second implementation: Starlette and asyncpg, the same HS256 access
token verified with the same key (`Keys.read_access_token`, which caches a verified token as
crmapi does), the same member/session row checked, read as `crmapi_app` under the same forced
row-level security, bound by the same `app.org_id` setting, and PostgreSQL rendering the JSON.
Each read is one statement, one round trip: the organisation is bound inside it (a CASE evaluates
the binding before the subquery that reads under it), and named in its predicates too, as crmapi's
queries name it, so the (org_id, ...) indexes serve it.

Routes: `GET /livez` (the bare endpoint), `GET /v1/contacts/{id}`, `GET /v1/accounts?limit=50`
(the first page, newest first, as the admin's `status=active` list). Anything else is 404.

`python -m bench.reference` with DATABASE_URL (crmapi_app's URL), SECRET_KEY, PORT.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import asyncpg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmapi.contacts.models import Contact
from crmapi.contacts.schemas import ContactRead
from crmapi.identity.security import Keys

# The contact columns crmapi's read model answers (it derives nothing for them).
_CONTACT_COLUMNS = [k for k in ContactRead.model_fields if k in Contact.__table__.columns]
_CONTACT_JSON = "json_build_object(" + ", ".join(f"'{c}', c.{c}" for c in _CONTACT_COLUMNS) + ")"

# The member and its session, as crmapi's MEMBER_ROW checks them.
_MEMBER_OK = """EXISTS (
    SELECT 1 FROM members m
    JOIN auth_sessions s ON s.org_id = m.org_id AND s.member_id = m.id
    WHERE m.org_id = $1::uuid AND m.id = $2 AND m.status = 'active'
      AND s.id = $3 AND s.revoked_at IS NULL AND s.expires_at > now())"""

GET_CONTACT = f"""
SELECT CASE WHEN set_config('app.org_id', $1, true) IS NULL THEN NULL ELSE (
    SELECT CASE WHEN {_MEMBER_OK} THEN coalesce(
        (SELECT {_CONTACT_JSON}::text FROM contacts c
         WHERE c.org_id = $1::uuid AND c.id = $4 AND c.deleted_at IS NULL), ''
    ) END
) END"""

ACCOUNTS_PAGE = f"""
SELECT CASE WHEN set_config('app.org_id', $1, true) IS NULL THEN NULL ELSE (
    SELECT CASE WHEN {_MEMBER_OK} THEN (
        SELECT json_build_object(
            'items', coalesce(json_agg(row_to_json(p)), '[]'::json), 'next_cursor', NULL
        )::text
        FROM (
            SELECT a.id, a.number, a.code, a.name, a.primary_contact_id, a.classification,
                   a.credit_rating,
                   CASE WHEN a.credit_limit_amount IS NULL THEN NULL ELSE json_build_object(
                       'amount', to_char(a.credit_limit_amount, 'FM999999999999990.0000'),
                       'currency', a.credit_limit_currency) END AS credit_limit,
                   a.payment_terms, a.payment_methods, a.price_level, a.status, a.is_retail_default,
                   a.owner_member_id, a.business_unit_id, a.tags, a.custom,
                   ARRAY(
                       SELECT r.sales_rep_code FROM account_sales_reps r
                       WHERE r.org_id = a.org_id AND r.account_id = a.id ORDER BY r.sales_rep_code
                   )
                       AS sales_rep_codes,
                   a.created_at, a.updated_at, a.deleted_at, a.version
            FROM accounts a
            WHERE a.org_id = $1::uuid AND a.deleted_at IS NULL AND a.status = 'active'
            ORDER BY a.created_at, a.id
            LIMIT 50
        ) p
    ) END
) END"""

_UNAUTHORIZED = JSONResponse({"title": "Unauthorized"}, status_code=401)


def _claims(request: Request) -> tuple[str, UUID, UUID] | None:
    keys: Keys = request.app.state.keys
    header = request.headers.get("authorization", "")
    if not header.startswith("Bearer "):
        return None
    try:
        claims = keys.read_access_token(header[7:])
        return str(UUID(claims["org"])), UUID(claims["member"]), UUID(claims["sid"])
    except Exception:  # a forged or expired token: 401, whatever the reason
        return None


async def _read(request: Request, sql: str, *args: Any) -> Response:
    who = _claims(request)
    if who is None:
        return _UNAUTHORIZED
    pool: asyncpg.Pool = request.app.state.pool
    body = await pool.fetchval(sql, *who, *args)
    if body is None:
        return _UNAUTHORIZED
    if body == "":
        return JSONResponse({"title": "Not found"}, status_code=404)
    return Response(body, media_type="application/json")


async def livez(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


async def get_contact(request: Request) -> Response:
    try:
        contact_id = UUID(request.path_params["contact_id"])
    except ValueError:
        return JSONResponse({"title": "Not found"}, status_code=404)
    return await _read(request, GET_CONTACT, contact_id)


async def list_accounts(request: Request) -> Response:
    return await _read(request, ACCOUNTS_PAGE)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    # As many connections as crmapi's pool holds (kit.db: pool_size 10).
    app.state.pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=10, max_size=10)
    app.state.keys = Keys(os.environ["SECRET_KEY"].encode())
    try:
        yield
    finally:
        await app.state.pool.close()


app = Starlette(
    routes=[
        Route("/livez", livez),
        Route("/v1/contacts/{contact_id}", get_contact),
        Route("/v1/accounts", list_accounts),
    ],
    lifespan=lifespan,
)


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["PORT"]), log_config=None, access_log=False)
