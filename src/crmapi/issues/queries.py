"""What an actor may read of issues (the seed's "View Any Issues"): every issue with
`issues.view_any`; else its own work (filed, assigned, its units'), what it follows and the
issues of the accounts it reaches itself (assigned, owner, sales-rep record); a customer, the
issues of its accounts whose type customers file."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Numeric, Select, case, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.problems import MissingCapability
from crmapi.accounts import queries as accounts
from crmapi.issues.forms import FILTERABLE
from crmapi.issues.models import Issue, IssueFollower
from crmapi.issues.schemas import ANSWER_PREFIX, IssueListQuery
from crmapi.issues.types import forms
from crmapi.kit import search
from crmapi.kit.errors import Unprocessable
from crmapi.kit.pagination import Sorting
from crmapi.lifecycle import work
from crmapi.lifecycle.models import LifecycleType

CLOSED = ("closed", "cancelled")
SORTING = Sorting(
    columns={
        "created_at": Issue.created_at,
        "updated_at": Issue.updated_at,
        "number": Issue.number,
        "priority": Issue.priority,
    },
    id_column=Issue.id,
    default="created_at",
)
_EQUAL = (
    "type_id",
    "status_id",
    "state",
    "account_id",
    "contact_id",
    "assigned_member_id",
    "owner_member_id",
    "business_unit_id",
    "priority",
)


def scope(actor: Actor) -> Any:
    return actor.remember("issues.scope", _scope)


def _scope(actor: Actor) -> Any:
    org = Issue.org_id == actor.org_id
    if actor.can("issues.view_any"):
        return org
    if actor.member_id is None:
        raise MissingCapability("An API key needs the capability 'issues.view_any' here.")
    on_account = Issue.account_id.in_(accounts.reached_ids(actor))
    if actor.kind == "customer":
        filed = select(LifecycleType.id).where(
            LifecycleType.kind == "issue", LifecycleType.customer_submittable
        )
        return org & on_account & Issue.type_id.in_(filed)
    # Staff added as followers see what they are told of.
    followed = Issue.id.in_(select(IssueFollower.issue_id).where(IssueFollower.member_id == actor.member_id))
    return org & or_(*work.paths(actor, Issue), on_account, followed)


def readable(actor: Actor, *, deleted: bool = False) -> Select[Issue]:
    state = Issue.deleted_at.is_not(None) if deleted else Issue.deleted_at.is_(None)
    return select(Issue).where(scope(actor), state)


async def filtered(session: AsyncSession, actor: Actor, f: IssueListQuery) -> Select[Issue]:
    if f.deleted == "only" and not actor.can("issues.manage"):
        raise MissingCapability("Listing removed issues needs 'issues.manage'.")
    stmt = readable(actor, deleted=f.deleted == "only")
    for key in _EQUAL:
        value = getattr(f, key)
        if value is not None:
            stmt = stmt.where(getattr(Issue, key) == value)
    if f.follower_member_id is not None:
        stmt = stmt.where(
            Issue.id.in_(
                select(IssueFollower.issue_id).where(IssueFollower.member_id == f.follower_member_id)
            )
        )
    if f.open is not None:
        closed = Issue.state.in_(CLOSED)
        stmt = stmt.where(~closed if f.open else closed)
    if f.created_from:
        stmt = stmt.where(Issue.created_at >= f.created_from)
    if f.created_to:
        stmt = stmt.where(Issue.created_at < f.created_to)
    if f.q:
        stmt = stmt.where(search.matches(Issue.search_text, f.q))
    if f.answer_filters:
        stmt = stmt.where(*await _answered(session, actor, f))
    return stmt


async def _answered(session: AsyncSession, actor: Actor, f: IssueListQuery) -> list[Any]:
    """The `answer.` filters, typed by the fields of the type's current form."""
    if f.type_id is None:
        raise Unprocessable.on("query.type_id", "Filtering by answers needs the issue type.")
    version = (
        await session.execute(
            select(LifecycleType.form_version).where(
                LifecycleType.id == f.type_id,
                LifecycleType.kind == "issue",
                LifecycleType.org_id == actor.org_id,
            )
        )
    ).scalar_one_or_none()
    fields = (await forms(session, {(f.type_id, version)})).get((f.type_id, version), []) if version else []
    return answer_conditions({field["key"]: field["type"] for field in fields}, f.answer_filters)


def answer_conditions(typed: dict[str, str], filters: dict[str, str]) -> list[Any]:
    """`filters` (`<key>` or `<key>.from|.to`: the URL's text) as conditions on the answers of
    fields typed `typed` (key: field type): a value by containment (`answers @> {key: value}`,
    which the answers' GIN index finds), a bound by comparing the answer."""
    conditions = []
    for name, raw in filters.items():
        key, _, bound = name.partition(".")
        where = f"query.{ANSWER_PREFIX}{name}"
        kind = typed.get(key)
        if kind not in FILTERABLE:
            raise Unprocessable.on(
                where, f"The type's form has no select, number, date or boolean field '{key}'."
            )
        value = _parsed(kind, raw, where)
        if bound == "":
            wanted = [value] if kind == "multi_select" else value
            conditions.append(Issue.answers.contains(cast(literal({key: wanted}, JSONB), JSONB)))
        elif bound in ("from", "to") and kind in ("number", "date"):
            conditions.append(_bounded(key, kind, bound, value))
        else:
            raise Unprocessable.on(where, "Only number and date answers take .from and .to.")
    return conditions


def _bounded(key: str, kind: str, bound: str, value: Any) -> Any:
    """An answer at or after (`from`) or at or before (`to`) the value; an answer of another
    JSON type under the key (an older form version's) never matches."""
    json_type = "number" if kind == "number" else "string"
    answer = case((func.jsonb_typeof(Issue.answers[key]) == json_type, Issue.answers[key].astext), else_=None)
    column = cast(answer, Numeric) if kind == "number" else answer
    return column >= value if bound == "from" else column <= value


def _parsed(kind: str, raw: str, where: str) -> Any:
    """The URL's text as the answer it is compared with."""
    try:
        if kind == "number":
            return int(raw) if raw.lstrip("-").isdigit() else Decimal(raw)
        if kind == "date":
            return date.fromisoformat(raw).isoformat()
        if kind == "boolean":
            return {"true": True, "false": False}[raw]
    except (ValueError, KeyError, InvalidOperation):
        raise Unprocessable.on(where, f"Not a {kind} answer: '{raw}'.") from None
    return raw
