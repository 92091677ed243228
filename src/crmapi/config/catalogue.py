"""The organisation's configurable lists: what each holds, where it is served, what it checks."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.models import Group
from crmapi.config.models import (
    CancellationReason,
    Category,
    Competitor,
    ImportanceLevel,
    LeadSource,
    LookupList,
    LookupValue,
    LostReason,
    NotificationCategory,
    PriorityLevel,
    Service,
)
from crmapi.config.spec import (
    FixedUpdate,
    OptionCreate,
    OptionList,
    OptionQuery,
    OptionRead,
    OptionUpdate,
)
from crmapi.identity.models import Member
from crmapi.kit.errors import Unprocessable
from crmapi.kit.scalars import Omittable, ShortText
from crmapi.kit.words import a
from crmapi.lifecycle.kinds import KINDS, KindName
from crmapi.lifecycle.models import LifecycleStatus

Website = ShortText


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


# Statuses ------------------------------------------------------------------------------------


class StatusCreate(OptionCreate):
    model_config = _examples({"kind": "lead", "state": "in_progress", "name": "Qualifying"})
    kind: KindName
    state: str = Field(description="One of the kind's fixed states.", examples=["in_progress"])


class StatusUpdate(OptionUpdate):
    """A status's kind and state never change: records rely on them (sending them is 422)."""

    model_config = _examples({"name": "Qualified", "position": 15})


class StatusRead(OptionRead):
    kind: KindName | None = None
    state: str | None = None


class StatusQuery(OptionQuery):
    kind: KindName | None = None
    state: str | None = Field(None, max_length=64)


async def _check_state(session: AsyncSession, actor: Actor, status: Any, changed: set[str]) -> None:
    kind = KINDS[status.kind]
    if status.state not in kind.states:
        noun = a(status.kind.replace("_", " "), start=True)
        raise Unprocessable.on("body.state", f"{noun} has the states {', '.join(kind.states)}.")


STATUSES = OptionList(
    entity="lifecycle_status",
    id_name="status_id",
    op="status",
    path="statuses",
    noun="status",
    plural="statuses",
    model=LifecycleStatus,
    read=StatusRead,
    create=StatusCreate,
    update=StatusUpdate,
    query=StatusQuery,
    within=("kind",),
    prepare=_check_state,
    about="Each status maps a kind's record to one of the kind's fixed states; `position` orders "
    "a board's columns. A new organisation starts with one status a state of every kind.",
)

# Categories ----------------------------------------------------------------------------------


# A kind's own categories, and the trees a service request's responses and resolutions use.
CategoryKind = Literal[
    "lead",
    "opportunity",
    "activity",
    "service_request",
    "response",
    "temporary_resolution",
    "final_resolution",
]
ACCEPTING = frozenset({"response", "temporary_resolution", "final_resolution"})
RequiresAcceptance = Annotated[
    bool,
    Field(
        strict=True,
        description="Responses and resolutions in this category wait until the contact accepts them "
        "(response and resolution trees only).",
    ),
]


class CategoryCreate(OptionCreate):
    model_config = _examples(
        {"kind": "lead", "name": "Business customer"},
        {"kind": "final_resolution", "name": "Replaced", "requires_acceptance": True},
    )
    kind: CategoryKind
    parent_id: UUID | None = Field(None, description="The category above; null at the top of the tree.")
    requires_acceptance: RequiresAcceptance = False


class CategoryUpdate(OptionUpdate):
    model_config = _examples({"parent_id": None})
    parent_id: UUID | None = Field(None, description="Moves the category; null makes it a top one.")
    requires_acceptance: Omittable[RequiresAcceptance] = None


class CategoryRead(OptionRead):
    kind: CategoryKind | None = None
    parent_id: UUID | None = None
    requires_acceptance: bool | None = None


class CategoryQuery(OptionQuery):
    kind: CategoryKind | None = None
    parent_id: UUID | None = None


async def _check_parent(session: AsyncSession, actor: Actor, category: Any, changed: set[str]) -> None:
    """The parent is a category of the same kind and not the category itself or one below it;
    only response and resolution categories can require acceptance."""
    if category.requires_acceptance and category.kind not in ACCEPTING:
        raise Unprocessable.on("body.requires_acceptance", "Only response and resolution categories take it.")
    if "parent_id" not in changed or category.parent_id is None:
        return
    tree = select(Category.id, Category.parent_id).where(Category.kind == category.kind)
    rows = await session.execute(tree)
    parents: dict[UUID, UUID | None] = {row_id: parent for row_id, parent in rows}
    seen: set[UUID] = set()
    node: UUID | None = category.parent_id
    if node not in parents:
        raise Unprocessable.on("body.parent_id", f"No {category.kind} category with this id.")
    while node is not None and node not in seen:
        if node == category.id:
            raise Unprocessable.on("body.parent_id", "A category cannot sit below itself.")
        seen.add(node)
        node = parents.get(node)


CATEGORIES = OptionList(
    entity="category",
    path="categories",
    noun="category",
    plural="categories",
    model=Category,
    read=CategoryRead,
    create=CategoryCreate,
    update=CategoryUpdate,
    query=CategoryQuery,
    within=("kind",),
    prepare=_check_parent,
    about="One tree per kind, and a service request's response, temporary and final resolution "
    "trees (filter by `kind`, and by `parent_id` for one level of it).",
)

# Reasons, competitors, levels, sources -------------------------------------------------------


class ReasonCreate(OptionCreate):
    model_config = _examples({"name": "Price"})


class ReasonUpdate(OptionUpdate):
    model_config = _examples({"name": "Too expensive"})


LOST_REASONS = OptionList(
    entity="lost_reason",
    path="lost-reasons",
    noun="lost reason",
    plural="lost reasons",
    model=LostReason,
    read=OptionRead,
    create=ReasonCreate,
    update=ReasonUpdate,
    query=OptionQuery,
    about="Why a lead or an opportunity was lost; a lost lead must name one.",
)

CANCELLATION_REASONS = OptionList(
    entity="cancellation_reason",
    path="cancellation-reasons",
    noun="cancellation reason",
    plural="cancellation reasons",
    model=CancellationReason,
    read=OptionRead,
    create=ReasonCreate,
    update=ReasonUpdate,
    query=OptionQuery,
    about="Why a record was cancelled.",
)


class CompetitorCreate(OptionCreate):
    model_config = _examples({"name": "Globex", "website": "https://globex.example"})
    website: Website | None = None


class CompetitorUpdate(OptionUpdate):
    model_config = _examples({"website": "https://globex.example"})
    website: Website | None = Field(None, description="null clears it.")


class CompetitorRead(OptionRead):
    website: str | None = None


COMPETITORS = OptionList(
    entity="competitor",
    path="competitors",
    noun="competitor",
    plural="competitors",
    model=Competitor,
    read=CompetitorRead,
    create=CompetitorCreate,
    update=CompetitorUpdate,
    query=OptionQuery,
    about="Who else could win a lead (name, website, description).",
)


class LevelUpdate(FixedUpdate):
    model_config = _examples({"name": "Urgent"})


class PriorityRead(OptionRead):
    level: int | None = Field(None, description="1 is the highest priority, 10 the lowest.")


PRIORITIES = OptionList(
    entity="priority_level",
    path="priority-levels",
    noun="priority level",
    plural="priority levels",
    model=PriorityLevel,
    read=PriorityRead,
    update=LevelUpdate,
    query=OptionQuery,
    about="The fixed levels 1 (highest) to 10, each with the organisation's label; records store the level.",
)


class ImportanceCreate(OptionCreate):
    model_config = _examples({"name": "Strategic"})


class ImportanceUpdate(OptionUpdate):
    model_config = _examples({"name": "Very high"})


IMPORTANCE_LEVELS = OptionList(
    entity="importance_level",
    path="importance-levels",
    noun="importance level",
    plural="importance levels",
    model=ImportanceLevel,
    read=OptionRead,
    create=ImportanceCreate,
    update=ImportanceUpdate,
    query=OptionQuery,
    about="How much winning a lead would bring; a new organisation has Low, Medium and High.",
)

LEAD_SOURCES = OptionList(
    entity="lead_source",
    path="lead-sources",
    noun="lead source",
    plural="lead sources",
    model=LeadSource,
    read=OptionRead,
    update=LevelUpdate,
    query=OptionQuery,
    about="The fixed sources a lead comes from (advertisement, website, custom 1-5, ...), each with "
    "the organisation's label; records store the code.",
)

# Services --------------------------------------------------------------------------------------

Minutes = Annotated[
    int, Field(ge=0, le=100_000, strict=True, description="The least time it takes, in minutes.")
]


class ServiceCreate(OptionCreate):
    model_config = _examples({"name": "Box replacement", "minimum_minutes": 30})
    minimum_minutes: Minutes = 0


class ServiceUpdate(OptionUpdate):
    model_config = _examples({"minimum_minutes": 45})
    minimum_minutes: Omittable[Minutes] = None


class ServiceRead(OptionRead):
    minimum_minutes: int | None = None


SERVICES = OptionList(
    entity="service",
    path="services",
    noun="service",
    plural="services",
    model=Service,
    read=ServiceRead,
    create=ServiceCreate,
    update=ServiceUpdate,
    query=OptionQuery,
    about="The services activities provide (no pricing here), with the least time each takes.",
)

# Lookup lists --------------------------------------------------------------------------------


class LookupListCreate(OptionCreate):
    model_config = _examples({"code": "INDUSTRY", "name": "Industry"})


class LookupListUpdate(OptionUpdate):
    model_config = _examples({"name": "Industries"})


LOOKUP_LISTS = OptionList(
    entity="lookup_list",
    path="lookup-lists",
    noun="lookup list",
    plural="lookup lists",
    model=LookupList,
    read=OptionRead,
    create=LookupListCreate,
    update=LookupListUpdate,
    query=OptionQuery,
    about="Named lists of values for fields (the seed's CustomLookup). A lead's `call_code` and "
    "`call_status` must be active values of the lists coded CALL_CODE and CALL_STATUS.",
)


class LookupValueCreate(OptionCreate):
    model_config = _examples({"code": "CB", "name": "Call back", "position": 30})


class LookupValueUpdate(OptionUpdate):
    model_config = _examples({"name": "Call back later"})


class LookupValueRead(OptionRead):
    list_id: UUID | None = None


LOOKUP_VALUES = OptionList(
    entity="lookup_value",
    path="values",
    noun="lookup value",
    plural="lookup values",
    model=LookupValue,
    read=LookupValueRead,
    create=LookupValueCreate,
    update=LookupValueUpdate,
    query=OptionQuery,
    within=("list_id",),
    parent=LOOKUP_LISTS,
    parent_column="list_id",
    about="`code` is what records store, `name` what a picker shows; sorted by `position`.",
)

# Notification categories ---------------------------------------------------------------------

Subscribers = Annotated[list[UUID], Field(max_length=500, json_schema_extra={"uniqueItems": True})]


class NotificationCategoryUpdate(FixedUpdate):
    model_config = _examples({"name": "Service desk", "member_ids": [], "group_ids": []})
    member_ids: Omittable[Subscribers] = Field(None, description="Staff members told of every event of it.")
    group_ids: Omittable[Subscribers] = Field(None, description="Groups whose members are told of it.")


class NotificationCategoryRead(OptionRead):
    member_ids: list[UUID] | None = None
    group_ids: list[UUID] | None = None


async def _check_subscribers(session: AsyncSession, actor: Actor, category: Any, changed: set[str]) -> None:
    """Subscribers are the organisation's staff members and groups, each once."""
    for column, model in (("member_ids", Member), ("group_ids", Group)):
        if column not in changed:
            continue
        wanted = list(dict.fromkeys(getattr(category, column)))
        setattr(category, column, wanted)
        stmt = select(model.id).where(model.id.in_(wanted))
        if model is Member:
            stmt = stmt.where(Member.kind == "staff")
        found = set((await session.execute(stmt)).scalars())
        if missing := [str(i) for i in wanted if i not in found]:
            noun = "staff member" if model is Member else "group"
            raise Unprocessable.on(
                f"body.{column}", f"No {noun} of the organisation has the id {', '.join(missing)}."
            )


NOTIFICATION_CATEGORIES = OptionList(
    entity="notification_category",
    path="notification-categories",
    noun="notification category",
    plural="notification categories",
    model=NotificationCategory,
    read=NotificationCategoryRead,
    update=NotificationCategoryUpdate,
    query=OptionQuery,
    prepare=_check_subscribers,
    about="What inboxes are told about, by subject (the fixed codes CONVERSATIONS, ANNOUNCEMENTS, "
    "SERVICE_REQUESTS, SALES_ORDERS, ISSUES), each with the staff members and groups subscribed to all "
    "of it. A service request's or sales order's creation and moves (and a request's acceptance, rating "
    "and new assignee) tell the subscribers and the record's person (the assignee, the placer); muted "
    "categories tell a member nothing. A retired category tells nobody.",
)

LISTS = (
    STATUSES,
    CATEGORIES,
    LOST_REASONS,
    CANCELLATION_REASONS,
    COMPETITORS,
    PRIORITIES,
    IMPORTANCE_LEVELS,
    LEAD_SOURCES,
    LOOKUP_LISTS,
    LOOKUP_VALUES,
    SERVICES,
    NOTIFICATION_CATEGORIES,
)
