"""Types and their transition rules as configurable lists: /v1/config/types and
/v1/config/types/{type_id}/rules. Their checks keep every type usable by the engine."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import ConfigDict, Field, model_validator
from sqlalchemy import func, select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.models import BusinessUnit
from crmapi.config.models import Category, ImportanceLevel, Service
from crmapi.config.spec import OptionCreate, OptionList, OptionQuery, OptionRead, OptionUpdate
from crmapi.identity.models import Member
from crmapi.kit.errors import Unprocessable
from crmapi.kit.scalars import Input, Omittable, ShortText
from crmapi.lifecycle.kinds import KINDS, KindName
from crmapi.lifecycle.models import LifecycleStatus, LifecycleType, TransitionRule
from crmapi.records import changes

TYPE = "lifecycle_type"
Ids = Annotated[list[UUID], Field(max_length=200)]
Priority = Annotated[int, Field(ge=1, le=10, strict=True, description="1 is the highest.")]
SERVICE_EXAMPLE = "0192f0a8-0000-7000-8000-000000000021"
FollowOn = Literal["create", "comment"]
# The kinds customers file records of, and that a new record of is handed to someone by its type.
FILED = ("issue", "service_request")


# At most 100 years in any unit, so a deadline computed from a stored time stays storable.
LONGEST = {
    "minutes": 52_560_000,
    "hours": 876_000,
    "days": 36_500,
    "weeks": 5_200,
    "months": 1_200,
    "years": 100,
}


class Duration(Input):
    amount: int = Field(ge=1, le=52_560_000, strict=True, description="At most 100 years' worth.")
    unit: Literal["minutes", "hours", "days", "weeks", "months", "years"]

    @model_validator(mode="after")
    def _at_most_a_century(self) -> Duration:
        if self.amount > LONGEST[self.unit]:
            raise ValueError(f"at most {LONGEST[self.unit]} {self.unit}")
        return self


class _TypeFields(Input):
    is_default: Omittable[bool] = Field(
        None,
        strict=True,
        description="The kind's default type (records naming no type get it); one per kind.",
    )
    status_ids: Ids | None = Field(
        None,
        description="The statuses records of this type may have, at least one in the initial state; "
        "records never enter a state without one. Left out on create: every active status of the kind.",
    )
    default_status_ids: Ids | None = Field(
        None,
        description="The status each state starts in, one per state; a state with one status needs "
        "none here.",
    )
    category_ids: Ids | None = Field(
        None, description="Categories records may have; none listed: any of the kind."
    )
    default_category_id: UUID | None = None
    creating_unit_ids: Ids | None = Field(
        None, description="Business units whose members may create records of this type; none: anyone."
    )
    complete_within: Duration | None = Field(None, description="Expected completion = start + this.")
    default_priority: Priority | None = None
    default_importance_id: UUID | None = None
    auto_convert: Omittable[bool] = Field(
        None, strict=True, description="Leads: winning one makes the contact financial with an account."
    )
    conversion_classification: ShortText | None = None
    conversion_credit_rating: ShortText | None = None
    activity_type_ids: Ids | None = Field(
        None, description="Lead and service request types: the activity types one may schedule; none: any."
    )
    recalculate_on_responding: Omittable[bool] = Field(
        None, strict=True, description="Service request types: key dates are computed again on responding."
    )
    service_ids: Ids | None = Field(
        None,
        description="Activity types: the services one may provide through them; none: any.",
        examples=[[SERVICE_EXAMPLE]],
    )
    automatic_service_ids: Ids | None = Field(
        None,
        description="Activity types: active services every new activity of the type starts with, at "
        "their minimum time; among `service_ids` when the type lists any.",
        examples=[[SERVICE_EXAMPLE]],
    )
    customer_submittable: Omittable[bool] = Field(
        None,
        strict=True,
        description="Issue and service request types: customers may file them on their own accounts.",
    )
    default_assignee_id: UUID | None = Field(
        None,
        description="Issue and service request types: the staff member a new one goes to.",
    )
    default_business_unit_id: UUID | None = Field(
        None,
        description="Issue and service request types: the business unit a new one goes to.",
    )
    follow_on: list[FollowOn] | None = Field(
        None,
        max_length=2,
        description="Issue types: what makes a member follow an issue: filing it, commenting on it.",
    )


class TypeCreate(OptionCreate, _TypeFields):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "lead",
                    "name": "Business lead",
                    "status_ids": ["0192f0a8-0000-7000-8000-000000000001"],
                    "complete_within": {"amount": 14, "unit": "days"},
                    "default_priority": 5,
                },
                {
                    "kind": "activity",
                    "name": "Box replacement visit",
                    "service_ids": [SERVICE_EXAMPLE],
                    "automatic_service_ids": [SERVICE_EXAMPLE],
                },
            ]
        },
    )
    kind: KindName


class TypeUpdate(OptionUpdate, _TypeFields):
    """Merge semantics; a type's kind never changes."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"default_priority": 3}, {"automatic_service_ids": []}]},
    )


class TypeRead(OptionRead):
    kind: KindName | None = None
    is_default: bool | None = None
    status_ids: list[UUID] | None = None
    default_status_ids: list[UUID] | None = None
    category_ids: list[UUID] | None = None
    default_category_id: UUID | None = None
    creating_unit_ids: list[UUID] | None = None
    complete_within: dict[str, Any] | None = None
    default_priority: int | None = None
    default_importance_id: UUID | None = None
    auto_convert: bool | None = None
    conversion_classification: str | None = None
    conversion_credit_rating: str | None = None
    activity_type_ids: list[UUID] | None = None
    recalculate_on_responding: bool | None = None
    service_ids: list[UUID] | None = Field(
        None,
        description="Activity types: the services one may provide; none: any.",
        examples=[[SERVICE_EXAMPLE]],
    )
    automatic_service_ids: list[UUID] | None = Field(
        None,
        description="Activity types: the services new activities start with.",
        examples=[[SERVICE_EXAMPLE]],
    )
    customer_submittable: bool | None = None
    default_assignee_id: UUID | None = None
    default_business_unit_id: UUID | None = None
    follow_on: list[FollowOn] | None = None


class TypeQuery(OptionQuery):
    kind: KindName | None = None


def _refuse(field: str, message: str) -> Unprocessable:
    return Unprocessable.on(f"body.{field}", message)


async def _existing(session: AsyncSession, column: Any, ids: Iterable[UUID], *where: Any) -> set[UUID]:
    wanted = set(ids)
    if not wanted:
        return set()
    rows = await session.execute(select(column).where(column.in_(wanted), *where))
    return set(rows.scalars())


async def _require(session: AsyncSession, field: str, column: Any, ids: Iterable[UUID], *where: Any) -> None:
    wanted = list(dict.fromkeys(ids))
    found = await _existing(session, column, wanted, *where)
    if missing := [str(i) for i in wanted if i not in found]:
        raise _refuse(field, f"No such record: {', '.join(missing)}.")


async def _check_statuses(session: AsyncSession, t: LifecycleType) -> None:
    """Records start somewhere (a status in the initial state); each state used has exactly one
    default. A state without statuses is one records of the type never enter."""
    kind = KINDS[t.kind]
    of_kind = select(LifecycleStatus.id, LifecycleStatus.state).where(LifecycleStatus.kind == t.kind)
    if not t.status_ids:  # none named: every active status of the kind, the first of a state its default
        rows = (
            await session.execute(of_kind.where(LifecycleStatus.active).order_by(LifecycleStatus.position))
        ).all()
        t.status_ids = [status_id for status_id, _ in rows]
        firsts = {state: status_id for status_id, state in reversed(rows)}
        t.default_status_ids = t.default_status_ids or list(firsts.values())
    t.status_ids = list(dict.fromkeys(t.status_ids))
    found = await session.execute(of_kind.where(LifecycleStatus.id.in_(t.status_ids), LifecycleStatus.active))
    state_of = {status_id: state for status_id, state in found}
    if missing := [str(i) for i in t.status_ids if i not in state_of]:
        raise _refuse("status_ids", f"No active {t.kind} status with id {', '.join(missing)}.")
    by_state: dict[str, list[UUID]] = defaultdict(list)
    for status_id in t.status_ids:
        by_state[state_of[status_id]].append(status_id)
    if not by_state[kind.initial]:
        raise _refuse("status_ids", f"Needs a status in the state records start in, '{kind.initial}'.")
    defaults: dict[str, UUID] = {}
    for status_id in dict.fromkeys(t.default_status_ids or []):
        if status_id not in state_of:
            raise _refuse("default_status_ids", f"Status {status_id} is not one of the type's statuses.")
        if state_of[status_id] in defaults:
            raise _refuse("default_status_ids", f"Two defaults for the state '{state_of[status_id]}'.")
        defaults[state_of[status_id]] = status_id
    for state, ids in by_state.items():
        if state not in defaults:
            if len(ids) > 1:
                raise _refuse(
                    "default_status_ids", f"The state '{state}' has several statuses: name its default."
                )
            defaults[state] = ids[0]
    t.default_status_ids = [defaults[s] for s in kind.states if s in defaults]


async def _check_rules_still_fit(session: AsyncSession, t: LifecycleType) -> None:
    rows = await session.execute(
        select(TransitionRule.name, TransitionRule.from_status_id, TransitionRule.to_status_id).where(
            TransitionRule.type_id == t.id
        )
    )
    allowed = set(t.status_ids)
    if stranded := [name for name, a, b in rows if a not in allowed or b not in allowed]:
        raise _refuse(
            "status_ids", f"The rules {', '.join(stranded)} move between statuses the type would drop."
        )


async def _check_services(session: AsyncSession, t: LifecycleType, changed: set[str]) -> None:
    """Activity types only: the services they allow exist; those they start with are among the
    allowed ones (when the type limits them) and, when named, active. A service retired since
    stays listed: new activities skip it."""
    for column in ("service_ids", "automatic_service_ids"):
        if getattr(t, column) and t.kind != "activity":
            raise _refuse(column, "Only activity types provide services.")
        setattr(t, column, list(dict.fromkeys(getattr(t, column))))
    if "service_ids" in changed:
        await _require(session, "service_ids", Service.id, t.service_ids)
    if t.service_ids and (outside := [str(i) for i in t.automatic_service_ids if i not in t.service_ids]):
        # Name what was sent: dropping an allowed service the type starts with is refused too.
        field = "automatic_service_ids" if "automatic_service_ids" in changed else "service_ids"
        raise _refuse(field, f"Not among the type's services: {', '.join(outside)}.")
    if "automatic_service_ids" in changed:
        await _require(session, "automatic_service_ids", Service.id, t.automatic_service_ids, Service.active)


async def _check_filing(session: AsyncSession, t: LifecycleType, changed: set[str]) -> None:
    """Who files and who is handed records of the kinds customers file."""
    handed = ("customer_submittable", "default_assignee_id", "default_business_unit_id")
    if t.kind not in FILED and (used := [c for c in handed if getattr(t, c)]):
        raise _refuse(used[0], "Only issue and service request types are filed by customers and handed on.")
    if t.follow_on and t.kind != "issue":
        raise _refuse("follow_on", "Only issue types have followers.")
    t.follow_on = list(dict.fromkeys(t.follow_on))
    if "default_assignee_id" in changed and t.default_assignee_id is not None:
        await _require(
            session,
            "default_assignee_id",
            Member.id,
            [t.default_assignee_id],
            Member.kind == "staff",
            Member.status == "active",
        )
    if "default_business_unit_id" in changed and t.default_business_unit_id is not None:
        await _require(session, "default_business_unit_id", BusinessUnit.id, [t.default_business_unit_id])


async def _take_default(session: AsyncSession, actor: Actor, t: LifecycleType) -> None:
    """The previous default type of the kind gives the flag up, with history and an event."""
    # Two requests making different types the default take turns here: the second then sees
    # the first one's new default and takes the flag from it (the partial unique index holds).
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtext(f"default-type:{actor.org_id}:{t.kind}")))
    )
    previous = await session.execute(
        sql_update(LifecycleType)
        .where(LifecycleType.kind == t.kind, LifecycleType.is_default, LifecycleType.id != t.id)
        .values(is_default=False, version=LifecycleType.version + 1)
        .returning(LifecycleType.id)
        .execution_options(synchronize_session=False)
    )
    for other in previous.scalars():
        changes.write(
            session,
            actor,
            entity=TYPE,
            entity_id=other,
            action="updated",
            changes={"is_default": {"old": True, "new": False}},
            event={"fields": ["is_default"]},
            topic=f"{TYPE}.updated",
        )


async def _prepare_type(session: AsyncSession, actor: Actor, t: LifecycleType, changed: set[str]) -> None:
    creating = "kind" in changed
    for column, empty in (
        ("status_ids", []),
        ("default_status_ids", []),
        ("category_ids", []),
        ("creating_unit_ids", []),
        ("is_default", False),
        ("auto_convert", False),
        ("activity_type_ids", []),
        ("recalculate_on_responding", False),
        ("service_ids", []),
        ("automatic_service_ids", []),
        ("customer_submittable", False),
        ("follow_on", []),
    ):
        if getattr(t, column) is None:
            setattr(t, column, empty)
    if creating or changed & {"status_ids", "default_status_ids"}:
        await _check_statuses(session, t)
        if not creating:
            await _check_rules_still_fit(session, t)
    if changed & {"category_ids", "default_category_id"}:
        t.category_ids = list(dict.fromkeys(t.category_ids))
        await _require(session, "category_ids", Category.id, t.category_ids, Category.kind == t.kind)
        if t.default_category_id is not None:
            if t.category_ids and t.default_category_id not in t.category_ids:
                raise _refuse("default_category_id", "Not one of the type's categories.")
            await _require(
                session, "default_category_id", Category.id, [t.default_category_id], Category.kind == t.kind
            )
    if "creating_unit_ids" in changed:
        t.creating_unit_ids = list(dict.fromkeys(t.creating_unit_ids))
        await _require(session, "creating_unit_ids", BusinessUnit.id, t.creating_unit_ids)
    if "default_importance_id" in changed and t.default_importance_id is not None:
        await _require(session, "default_importance_id", ImportanceLevel.id, [t.default_importance_id])
    if t.auto_convert and t.kind != "lead":
        raise _refuse("auto_convert", "Only lead types convert.")
    if t.recalculate_on_responding and t.kind != "service_request":
        raise _refuse("recalculate_on_responding", "Only service request types are responded to.")
    if "activity_type_ids" in changed and t.activity_type_ids:
        if t.kind not in ("lead", "service_request"):
            raise _refuse("activity_type_ids", "Only lead and service request types schedule activities.")
        t.activity_type_ids = list(dict.fromkeys(t.activity_type_ids))
        await _require(
            session,
            "activity_type_ids",
            LifecycleType.id,
            t.activity_type_ids,
            LifecycleType.kind == "activity",
        )
    if changed & {"service_ids", "automatic_service_ids"}:
        await _check_services(session, t, changed)
    await _check_filing(session, t, changed)
    if t.is_default and not t.active:
        raise _refuse("active", "The kind's default type stays active; make another type the default first.")
    if "is_default" in changed:
        if t.is_default:
            await _take_default(session, actor, t)
        elif not creating:
            raise _refuse("is_default", "Make another type the default instead: a kind always has one.")


TYPES = OptionList(
    entity=TYPE,
    id_name="type_id",
    op="type",
    path="types",
    noun="type",
    plural="types",
    model=LifecycleType,
    read=TypeRead,
    create=TypeCreate,
    update=TypeUpdate,
    query=TypeQuery,
    within=("kind",),
    prepare=_prepare_type,
    about="What decides a record's statuses, rules, categories, deadlines and defaults. A new "
    "organisation has one default type per kind using every status of the kind.",
)

# Rules ---------------------------------------------------------------------------------------


class RuleCreate(OptionCreate):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Sales closes",
                    "from_status_id": "0192f0a8-0000-7000-8000-000000000002",
                    "to_status_id": "0192f0a8-0000-7000-8000-000000000003",
                    "unit_ids": ["0192f0a8-0000-7000-8000-000000000009"],
                }
            ]
        },
    )
    from_status_id: UUID
    to_status_id: UUID
    member_ids: Ids = Field(default_factory=list, description="Staff members the rule admits.")
    unit_ids: Ids = Field(default_factory=list, description="Business units whose members it admits.")


class RuleUpdate(OptionUpdate):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"member_ids": []}]})
    from_status_id: Omittable[UUID] = None
    to_status_id: Omittable[UUID] = None
    member_ids: Omittable[Ids] = None
    unit_ids: Omittable[Ids] = None


class RuleRead(OptionRead):
    type_id: UUID | None = None
    from_status_id: UUID | None = None
    to_status_id: UUID | None = None
    member_ids: list[UUID] | None = None
    unit_ids: list[UUID] | None = None


async def _prepare_rule(session: AsyncSession, actor: Actor, rule: TransitionRule, changed: set[str]) -> None:
    owner = (
        await session.execute(select(LifecycleType).where(LifecycleType.id == rule.type_id))
    ).scalar_one()
    for column in ("from_status_id", "to_status_id"):
        if getattr(rule, column) not in owner.status_ids:
            raise _refuse(column, "Not one of the type's statuses.")
    if rule.from_status_id == rule.to_status_id:
        raise _refuse("to_status_id", "A rule moves to another status.")
    rule.member_ids = list(dict.fromkeys(rule.member_ids))
    rule.unit_ids = list(dict.fromkeys(rule.unit_ids))
    # Only what changed: a rule naming a unit deleted since can still be retired or edited.
    if "member_ids" in changed:
        await _require(session, "member_ids", Member.id, rule.member_ids, Member.kind == "staff")
    if "unit_ids" in changed:
        await _require(session, "unit_ids", BusinessUnit.id, rule.unit_ids)


RULES = OptionList(
    entity="transition_rule",
    id_name="rule_id",
    path="rules",
    noun="transition rule",
    plural="transition rules",
    model=TransitionRule,
    read=RuleRead,
    create=RuleCreate,
    update=RuleUpdate,
    query=OptionQuery,
    within=("type_id",),
    parent=TYPES,
    parent_column="type_id",
    prepare=_prepare_rule,
    about="A type without active rules allows every move of the kind's life cycle; with rules, "
    "only the pairs they list, and a rule naming members or units admits only them (403 "
    "`transition-rule` names the rules that refused). Retire a rule with `active: false`.",
)
