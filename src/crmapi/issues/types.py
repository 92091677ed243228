"""Issue types: lifecycle types of the kind `issue` (statuses, rules, deadlines through the
engine) with a versioned form. Staff read every type; a customer, the active types it may file."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.problems import MissingCapability
from crmapi.config import service as options
from crmapi.config.models import LookupValue
from crmapi.config.spec import OptionCreate, OptionQuery, OptionRead, OptionUpdate
from crmapi.config.types import TYPES, Duration, FollowOn, Ids, Priority, TypeCreate, TypeUpdate
from crmapi.issues.forms import CHOICES, FormFieldRead, FormIn, asked
from crmapi.issues.models import IssueForm
from crmapi.kit.errors import NotFound, Unprocessable
from crmapi.kit.ids import new_id
from crmapi.kit.scalars import Input, Omittable
from crmapi.lifecycle.models import LifecycleType

KIND = "issue"
LOOKUP_EXAMPLE = "0192f0a8-0000-7000-8000-000000000031"
FORM_EXAMPLE: dict[str, Any] = {
    "fields": [
        {
            "key": "requested_limit",
            "label": "Requested limit",
            "type": "money",
            "currency": "PLN",
            "required": True,
            "min": "1000",
        },
        {"key": "has_references", "label": "Trade references available", "type": "boolean"},
        {
            "key": "trade_references",
            "label": "Trade references",
            "type": "long_text",
            "required": True,
            "shown_when": {"key": "has_references", "equals": True},
        },
        {"key": "terms", "label": "Terms", "type": "select", "lookup_list_id": LOOKUP_EXAMPLE},
    ]
}


class _IssueTypeFields(Input):
    description: str | None = Field(None, max_length=200)
    status_ids: Ids | None = Field(
        None, description="Statuses its issues may have; left out on create: every active issue status."
    )
    default_status_ids: Ids | None = Field(
        None, description="The status each state starts in, one per state."
    )
    creating_unit_ids: Ids | None = Field(
        None, description="Business units whose members may file it (staff); none: anyone allowed to file."
    )
    complete_within: Duration | None = Field(None, description="Expected completion = filing + this.")
    default_priority: Priority | None = Field(None, description="A new issue's priority; 5 when not set.")
    customer_submittable: Omittable[bool] = Field(
        None,
        strict=True,
        description="Customers may file it on their own accounts (and see its issues there).",
    )
    default_assignee_id: UUID | None = Field(None, description="The staff member a new issue goes to.")
    default_business_unit_id: UUID | None = Field(None, description="The business unit a new issue goes to.")
    follow_on: list[FollowOn] | None = Field(
        None, max_length=2, description="What makes a member follow an issue: filing it, commenting on it."
    )


class IssueTypeCreate(OptionCreate, _IssueTypeFields):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Credit Application",
                    "customer_submittable": True,
                    "follow_on": ["create", "comment"],
                    "complete_within": {"amount": 3, "unit": "days"},
                    "form": FORM_EXAMPLE,
                }
            ]
        },
    )
    is_default: Omittable[bool] = Field(None, strict=True, description="The type issues naming none get.")
    form: FormIn = Field(default_factory=lambda: FormIn(fields=[]), description="The form's first version.")


class IssueTypeUpdate(OptionUpdate, _IssueTypeFields):
    """Merge semantics. Sending `form` saves it as the form's next version: issues filed before
    keep the version they answered."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"form": FORM_EXAMPLE}, {"customer_submittable": False}]},
    )
    is_default: Omittable[bool] = Field(None, strict=True, description="Make it the default issue type.")
    form: Omittable[FormIn] = None


class IssueTypeRead(OptionRead):
    is_default: bool | None = None
    status_ids: list[UUID] | None = None
    default_status_ids: list[UUID] | None = None
    creating_unit_ids: list[UUID] | None = None
    complete_within: dict[str, Any] | None = None
    default_priority: int | None = None
    customer_submittable: bool | None = None
    default_assignee_id: UUID | None = None
    default_business_unit_id: UUID | None = None
    follow_on: list[FollowOn] | None = None
    form_version: int | None = Field(None, description="The version new issues are filed with.")
    form: list[FormFieldRead] | None = Field(None, description="The fields of that version, in order.")


class IssueTypeQuery(OptionQuery):
    customer_submittable: bool | None = None


class FormVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    type_id: UUID
    version: int
    fields: list[FormFieldRead]
    created_at: datetime
    created_by_member_id: UUID | None = None


def readable(actor: Actor) -> Select[LifecycleType]:
    """The issue types the actor reads: all for staff (and API keys with `config.manage`); a
    customer, those it may file."""
    if actor.member_id is None and not actor.can("config.manage"):
        raise MissingCapability("An API key needs the capability 'config.manage' here.")
    stmt = select(LifecycleType).where(LifecycleType.org_id == actor.org_id, LifecycleType.kind == KIND)
    if actor.kind == "customer":
        stmt = stmt.where(LifecycleType.customer_submittable, LifecycleType.active)
    return stmt


def filtered(actor: Actor, query: IssueTypeQuery) -> Select[LifecycleType]:
    stmt = readable(actor)
    if query.active is not None:
        stmt = stmt.where(LifecycleType.active == query.active)
    if query.customer_submittable is not None:
        stmt = stmt.where(LifecycleType.customer_submittable == query.customer_submittable)
    return stmt


async def get(session: AsyncSession, actor: Actor, type_id: UUID, *, lock: bool = False) -> LifecycleType:
    stmt = readable(actor).where(LifecycleType.id == type_id)
    found = (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()
    if found is None:
        raise NotFound("No issue type with this id.")
    return found


async def forms(
    session: AsyncSession, pairs: set[tuple[UUID, int]]
) -> dict[tuple[UUID, int], list[dict[str, Any]]]:
    """The fields of each (type, version) form, one query."""
    if not pairs:
        return {}
    rows = await session.execute(
        select(IssueForm.type_id, IssueForm.version, IssueForm.fields).where(
            tuple_(IssueForm.type_id, IssueForm.version).in_(pairs)
        )
    )
    return {(type_id, version): fields for type_id, version, fields in rows}


def asked_of(actor: Actor, fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return asked(fields, customer=actor.kind == "customer")


async def answers(
    session: AsyncSession, actor: Actor, found: Sequence[LifecycleType]
) -> list[dict[str, Any]]:
    """Types as IssueTypeRead rows: their columns and their current form."""
    held = await forms(session, {(t.id, t.form_version) for t in found if t.form_version})
    return [
        {
            **{k: getattr(t, k) for k in IssueTypeRead.model_fields if hasattr(t, k)},
            "form": asked_of(actor, held.get((t.id, t.form_version or 0), [])),
        }
        for t in found
    ]


def _version_read(actor: Actor, form: IssueForm) -> dict[str, Any]:
    return {
        "type_id": form.type_id,
        "version": form.version,
        "fields": asked_of(actor, form.fields),
        "created_at": form.created_at,
        "created_by_member_id": form.created_by_member_id,
    }


async def version(session: AsyncSession, actor: Actor, type_id: UUID, number: int) -> dict[str, Any]:
    await get(session, actor, type_id)
    found = (
        await session.execute(
            select(IssueForm).where(IssueForm.type_id == type_id, IssueForm.version == number)
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("The issue type has no form version with this number.")
    return _version_read(actor, found)


async def versions(session: AsyncSession, actor: Actor, type_id: UUID) -> list[dict[str, Any]]:
    """Every version of the type's form, newest first."""
    await get(session, actor, type_id)
    rows = await session.execute(
        select(IssueForm).where(IssueForm.type_id == type_id).order_by(IssueForm.version.desc())
    )
    return [_version_read(actor, form) for form in rows.scalars()]


async def _fields(session: AsyncSession, form: FormIn) -> list[dict[str, Any]]:
    """The form's fields as a version stores them: select options copied from their lookup
    lists (the active values, in order) with their labels of today."""
    wanted = {f.lookup_list_id for f in form.fields if f.type in CHOICES}
    options_of: dict[UUID, list[dict[str, str]]] = {}
    if wanted:
        rows = await session.execute(
            select(LookupValue.list_id, LookupValue.code, LookupValue.name)
            .where(LookupValue.list_id.in_(wanted), LookupValue.active)
            .order_by(LookupValue.list_id, LookupValue.position, LookupValue.code)
        )
        for list_id, code, name in rows:
            options_of.setdefault(list_id, []).append({"code": code, "name": name})
    stored = []
    for n, f in enumerate(form.fields):
        row = f.model_dump(mode="json", exclude_none=True)
        if f.type in CHOICES:
            assert f.lookup_list_id is not None
            if not options_of.get(f.lookup_list_id):
                raise Unprocessable.on(
                    f"body.form.fields[{n}].lookup_list_id", "No lookup list with active values has this id."
                )
            row["options"] = options_of[f.lookup_list_id]
        stored.append(row)
    return stored


async def _save_form(session: AsyncSession, actor: Actor, type_id: UUID, number: int, form: FormIn) -> None:
    session.add(
        IssueForm(
            org_id=actor.org_id,
            id=new_id(),
            type_id=type_id,
            version=number,
            fields=await _fields(session, form),
            created_by_member_id=actor.member_id,
        )
    )
    await session.flush()


async def create(session: AsyncSession, actor: Actor, body: IssueTypeCreate) -> LifecycleType:
    """The type, with its form as version 1."""
    sent = body.model_dump(exclude={"form"}, exclude_unset=True)
    made = cast(
        LifecycleType,
        await options.create(session, actor, TYPES, TypeCreate(kind=KIND, **sent), extra={"form_version": 1}),
    )
    await _save_form(session, actor, made.id, 1, body.form)
    return made


async def update(
    session: AsyncSession, actor: Actor, type_id: UUID, body: IssueTypeUpdate, expected: int | None
) -> LifecycleType:
    """The sent fields; a sent form becomes the next version."""
    # The type's row lock orders concurrent form versions.
    current = await get(session, actor, type_id, lock=body.form is not None)
    sent = body.model_dump(exclude={"form"}, include=body.model_fields_set)
    extra = None
    if body.form is not None:
        extra = {"form_version": (current.form_version or 0) + 1}
    changed: LifecycleType = await options.update(
        session, actor, TYPES, type_id, TypeUpdate(**sent), expected, extra=extra
    )
    if body.form is not None and extra is not None:
        await _save_form(session, actor, type_id, extra["form_version"], body.form)
    return changed
