"""Issues: filed against an account by whoever may (the seed's "Create Issues", the account's
members and sales-rep records, customers on their own accounts when the type lets them), the
answers checked against the type's form version, worked through the `issue` life cycle."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.problems import MissingCapability, NotOwner, StaffOnly
from crmapi.accounts import queries as account_queries
from crmapi.accounts.models import Account
from crmapi.accounts.service import next_numbers
from crmapi.attachments import service as attachments
from crmapi.contacts import queries as contact_queries
from crmapi.contacts.models import Contact
from crmapi.documents import queries as document_queries
from crmapi.documents.models import Document
from crmapi.issues import followers, forms, queries
from crmapi.issues.models import Issue
from crmapi.issues.schemas import CODE_PREFIX, IssueCreate, IssueRead, IssueUpdate
from crmapi.issues.types import forms as form_versions
from crmapi.kit import search
from crmapi.kit.concurrency import check_version
from crmapi.kit.errors import FieldError, NotFound, Unprocessable
from crmapi.kit.ids import new_id
from crmapi.lifecycle import engine, work
from crmapi.lifecycle.dates import expected_completion
from crmapi.lifecycle.kinds import ISSUE
from crmapi.lifecycle.models import LifecycleType
from crmapi.lifecycle.problems import TypeFixed
from crmapi.lifecycle.work import WorkKind
from crmapi.records import history
from crmapi.records.changes import announce, soft_delete
from crmapi.records.work_routes import Answers

ENTITY = "issue"
WORK = WorkKind(
    entity=ENTITY, noun="issue", kind=ISSUE, model=Issue, manage="issues.manage", readable=queries.readable
)
_SKIP = {"org_id", "id", "created_at", "updated_at", "version", "search_text", "deleted_at"}
FIELDS = tuple(c.key for c in Issue.__table__.columns if c.key not in _SKIP)
STAFF_FIELDS = ("priority", "business_unit_id", "assigned_member_id")
DEFAULT_PRIORITY = 5
ANSWERS = Answers(IssueRead, Issue)


def snapshot(issue: Issue) -> dict[str, Any]:
    return {k: getattr(issue, k) for k in FIELDS}


def code(issue: Issue) -> str:
    return f"{CODE_PREFIX}{issue.number}"


def derive(issue: Issue) -> None:
    issue.search_text = search.search_text(issue.subject, str(issue.number), code(issue))


async def _account(session: AsyncSession, actor: Actor, account_id: UUID) -> None:
    """The account an issue is filed on: 404 unless the actor sees it; 403 when it sees it but
    may not file there (neither "Create Issues" nor reaching the account itself)."""
    reached = account_queries.reached_ids(actor).where(Account.id == account_id)
    if (await session.execute(reached)).first() is not None:
        return
    if actor.kind != "customer" and actor.can("issues.create"):
        live = select(Account.id).where(Account.id == account_id, Account.deleted_at.is_(None))
        if (await session.execute(live)).first() is not None:
            return
    seen = account_queries.readable(actor).with_only_columns(Account.id).where(Account.id == account_id)
    if actor.kind != "customer" and (await session.execute(seen)).first() is not None:
        raise MissingCapability("Filing issues on this account needs 'issues.create' or an assignment to it.")
    raise NotFound("No account with this id.")


async def _type(session: AsyncSession, actor: Actor, type_id: UUID | None) -> engine.Loaded:
    loaded = await work.creatable_type(session, actor, WORK, type_id)
    work.customer_may_file(actor, loaded.type, WORK.noun)
    return loaded


async def _fields_of(session: AsyncSession, issue: Issue) -> list[dict[str, Any]]:
    found = await form_versions(session, {(issue.type_id, issue.form_version)})
    return found.get((issue.type_id, issue.form_version), [])


async def _answer(
    session: AsyncSession, actor: Actor, issue: Issue, given: dict[str, Any]
) -> list[tuple[str, UUID]]:
    """Check `given` against the issue's form version and store it; the uploads it names, to
    attach once the issue is written."""
    fields = await _fields_of(session, issue)
    checked = forms.check(fields, given, customer=actor.kind == "customer")
    errors = checked.errors + await _missing_references(session, actor, issue, checked.references)
    if errors:
        raise Unprocessable("Some answers do not fit the form.", errors=errors)
    issue.answers = checked.answers
    return checked.references.get("file", [])


async def _missing_references(
    session: AsyncSession, actor: Actor, issue: Issue, references: dict[str, list[tuple[str, UUID]]]
) -> list[FieldError]:
    """Contacts the actor can see, and documents of the issue's account, each answer names."""
    found_in = {
        "contact": contact_queries.readable(actor).with_only_columns(Contact.id),
        "document": select(Document.id).where(
            document_queries.scope(actor), Document.account_id == issue.account_id
        ),
    }
    errors = []
    for kind, stmt in found_in.items():
        wanted = references.get(kind, [])
        if wanted:
            ids = [ref for _, ref in wanted]
            found = set((await session.execute(stmt.where(stmt.selected_columns[0].in_(ids)))).scalars())
            errors += [
                FieldError(field=f"body.answers.{key}", message=f"No {kind} with this id here.")
                for key, ref in wanted
                if ref not in found
            ]
    return errors


async def create(session: AsyncSession, actor: Actor, account_id: UUID, data: IssueCreate) -> Issue:
    """An issue of the given (or default) type in its initial status, answering the type's
    current form; the filer owns it and, when the type says so, follows it."""
    if actor.member_id is None:
        raise StaffOnly("Issues are filed by members, not API keys.")
    sent = data.model_fields_set
    work.staff_fields(actor, sent, STAFF_FIELDS, WORK.noun)
    await _account(session, actor, account_id)
    loaded = await _type(session, actor, data.type_id)
    kind_type = loaded.type
    initial = loaded.default_status(ISSUE.initial)
    now = datetime.now(UTC)
    issue = Issue(
        org_id=actor.org_id,
        id=new_id(),
        type_id=kind_type.id,
        form_version=kind_type.form_version or 0,  # 0: the type had no form yet
        status_id=initial.id,
        state=initial.state,
        account_id=account_id,
        contact_id=data.contact_id,
        subject=data.subject or kind_type.name,
        description=data.description,
        priority=data.priority or kind_type.default_priority or DEFAULT_PRIORITY,
        business_unit_id=data.business_unit_id,
        assigned_member_id=data.assigned_member_id,
        owner_member_id=actor.member_id,
        filed_by_customer=actor.kind == "customer",
        logged_minutes=0,
        start_at=now,
        expected_completion_at=expected_completion(now, kind_type.complete_within),
        created_at=now,
        updated_at=now,
    )
    await work.hand_on(session, issue, kind_type, sent)
    await work.check_references(session, WORK, issue, sent & {"business_unit_id", "assigned_member_id"}, [])
    await work.check_in_scope(
        session, actor, issue, sent, {"contact_id": contact_queries.CUSTOMER_REFERENCES["contact_id"]}
    )
    uploads = await _answer(session, actor, issue, data.answers)
    issue.number = (await next_numbers(session, actor.org_id, ENTITY))[0]
    derive(issue)
    session.add(issue)
    await session.flush()
    await _attach(session, actor, issue, uploads)
    announce(
        session, actor, issue, entity=ENTITY, action="created", changes=history.diff({}, snapshot(issue))
    )
    if "create" in kind_type.follow_on:
        await followers.add(session, actor.member_id, issue)
    return issue


async def _attach(session: AsyncSession, actor: Actor, issue: Issue, uploads: list[tuple[str, UUID]]) -> None:
    for key, upload in uploads:
        await attachments.attach(
            session, actor, [upload], ENTITY, issue.id, f"body.answers.{key}", listed=False
        )


async def get(session: AsyncSession, actor: Actor, issue_id: UUID) -> Issue:
    return await work.fetch(session, actor, WORK, issue_id)


async def for_change(
    session: AsyncSession, actor: Actor, issue_id: UUID, *, expected: int | None = None
) -> Issue:
    """The issue, locked, for staff who may work on it: its filer, assignee or unit, members
    reaching its account themselves, and `issues.manage` (customers comment and follow only)."""
    issue = await work.locked(session, actor, WORK, issue_id)
    if actor.kind == "customer":
        raise StaffOnly("Staff change and move issues; comment on it instead.")
    try:
        await work.check_changer(session, actor, WORK, issue)
    except NotOwner:
        reached = account_queries.reached_ids(actor).where(Account.id == issue.account_id)
        if (await session.execute(reached)).first() is None:
            raise
    check_version(issue.version, expected)
    return issue


async def update(
    session: AsyncSession, actor: Actor, issue_id: UUID, data: IssueUpdate, expected: int | None
) -> Issue:
    issue = await for_change(session, actor, issue_id, expected=expected)
    WORK.writable(issue)
    sent = data.model_dump(include=data.model_fields_set)
    if "type_id" in sent:
        raise TypeFixed("An issue keeps its type.")
    answers = sent.pop("answers", None)
    before = snapshot(issue)
    work.check_assigner(actor, WORK, issue, sent)
    uploads: list[tuple[str, UUID]] = []
    with session.no_autoflush:
        for key, value in sent.items():
            setattr(issue, key, value)
        if answers is not None:
            merged = {k: v for k, v in ({**issue.answers, **answers}).items() if v is not None}
            uploads = await _answer(session, actor, issue, merged)
        changes = history.diff(before, snapshot(issue))
        if not changes:
            return issue
        await work.check_references(session, WORK, issue, set(changes), [])
        await work.check_in_scope(
            session,
            actor,
            issue,
            set(changes),
            {"contact_id": contact_queries.CUSTOMER_REFERENCES["contact_id"]},
        )
    issue.updated_at = datetime.now(UTC)
    derive(issue)
    await session.flush()
    await _attach(
        session, actor, issue, [u for u in uploads if str(u[1]) != str(before["answers"].get(u[0]))]
    )
    announce(session, actor, issue, entity=ENTITY, action="updated", changes=changes)
    return issue


async def move(
    session: AsyncSession,
    actor: Actor,
    issue_id: UUID,
    *,
    state: str | None,
    status_id: UUID | None,
    cancellation_reason_id: UUID | None = None,
    expected: int | None = None,
) -> Issue:
    issue = await for_change(session, actor, issue_id, expected=expected)
    WORK.writable(issue)
    loaded = await engine.load_type(session, ENTITY, issue.type_id)
    await engine.move(
        session,
        actor,
        issue,
        loaded,
        entity=ENTITY,
        to_status_id=loaded.target(state, status_id),
        cancellation_reason_id=cancellation_reason_id,
        completed="completed_at",
    )
    await session.flush()
    return issue


async def rows(
    session: AsyncSession, found: Sequence[Issue], *, customer: bool, with_form: bool = False
) -> list[dict[str, Any]]:
    """Issues as IssueRead rows (`ANSWERS`: the columns and `overdue`) with their code, their
    answers as the reader may see them and, for one issue, the form version they answer."""
    held = await form_versions(session, {(i.type_id, i.form_version) for i in found})
    answered = ANSWERS.rows(found)
    for issue, row in zip(found, answered, strict=True):
        fields = held.get((issue.type_id, issue.form_version), [])
        row |= {"code": code(issue), "answers": forms.visible(fields, issue.answers, customer=customer)}
        if with_form:
            row["form"] = forms.asked(fields, customer=customer)
    return answered


async def locked(session: AsyncSession, actor: Actor, issue_id: UUID) -> Issue:
    """The issue, locked, if the actor sees it."""
    return await work.locked(session, actor, WORK, issue_id)


async def remove(session: AsyncSession, actor: Actor, issue_id: UUID, expected: int | None) -> None:
    issue = await for_change(session, actor, issue_id, expected=expected)
    await soft_delete(session, actor, issue, entity=ENTITY)


async def restore(session: AsyncSession, actor: Actor, issue_id: UUID, expected: int | None) -> Issue:
    return await work.restore(session, actor, WORK, issue_id, expected)


async def follow_on(session: AsyncSession, issue: Issue) -> list[str]:
    """What makes a member follow issues of this one's type."""
    found = await session.execute(select(LifecycleType.follow_on).where(LifecycleType.id == issue.type_id))
    return list(found.scalar_one())


async def check_account(session: AsyncSession, actor: Actor, account_id: UUID) -> None:
    """An account's issue list: 404 unless the actor sees the account, or every issue and the
    account is one of the organisation's."""
    if actor.can("issues.view_any"):
        seen = select(Account.id).where(Account.org_id == actor.org_id, Account.deleted_at.is_(None))
    else:
        seen = account_queries.readable(actor).with_only_columns(Account.id)
    if (await session.execute(seen.where(Account.id == account_id))).first() is None:
        raise NotFound("No account with this id.")
