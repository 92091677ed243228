"""Customer accounts: numbering, codes, the retail default, links to contacts and members."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Select, bindparam, select
from sqlalchemy import delete as sql_delete
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access.actor import Actor
from crmapi.access.problems import CodeTaken, MissingCapability, NotOwner
from crmapi.access.units import require_unit
from crmapi.accounts import queries
from crmapi.accounts.models import Account, AccountAssignment, AccountContact, AccountSalesRep, Counter
from crmapi.accounts.problems import PrimaryContact
from crmapi.accounts.schemas import AccountCreate, AccountUpdate
from crmapi.contacts import queries as contact_queries
from crmapi.contacts.models import Contact
from crmapi.custom_fields import service as custom_fields
from crmapi.identity.models import Member, Organisation
from crmapi.kit import search
from crmapi.kit.concurrency import check_version
from crmapi.kit.errors import NotFound, Unprocessable
from crmapi.kit.ids import new_id
from crmapi.records import answers, changes, history
from crmapi.records.changes import announce, bring_back, soft_delete
from crmapi.tags import service as tags

ENTITY = "account"
FOUR_PLACES = Decimal("0.0001")
SIMPLE = (
    "name",
    "code",
    "primary_contact_id",
    "classification",
    "credit_rating",
    "payment_terms",
    "payment_methods",
    "price_level",
    "status",
    "is_retail_default",
    "owner_member_id",
    "business_unit_id",
    "tags",
    "custom",
)


async def next_numbers(session: AsyncSession, org_id: UUID, series: str, count: int = 1) -> range:
    """Reserve `count` consecutive numbers of a per-organisation series."""
    last = (
        await session.execute(
            insert(Counter)
            .values(org_id=org_id, id=new_id(), name=series, value=count)
            .on_conflict_do_update(
                index_elements=[Counter.org_id, Counter.name], set_={"value": Counter.value + count}
            )
            .returning(Counter.value)
        )
    ).scalar_one()
    return range(last - count + 1, last + 1)


def snapshot(a: Account, sales_rep_codes: list[str] | None = None) -> dict[str, Any]:
    values = {k: getattr(a, k) for k in SIMPLE}
    values["credit_limit"] = money(a)
    if sales_rep_codes is not None:
        values["sales_rep_codes"] = sales_rep_codes
    return values


def money(a: Account) -> dict[str, Any] | None:
    if a.credit_limit_amount is None:
        return None
    # As stored (NUMERIC(19,4)), so the answer to a write equals the next read.
    return {
        "amount": Decimal(a.credit_limit_amount).quantize(FOUR_PLACES),
        "currency": a.credit_limit_currency,
    }


def derive(a: Account) -> None:
    """Fill search_text from the other fields (every write, and demo data)."""
    a.search_text = search.search_text(a.name, str(a.number), a.code, a.classification)


async def _apply(session: AsyncSession, actor: Actor, account: Account, values: dict[str, Any]) -> None:
    if "credit_limit" in values:
        limit = values.pop("credit_limit")
        if limit is None:
            account.credit_limit_amount = account.credit_limit_currency = None
        else:
            currency = limit.get("currency") or await org_currency(session, actor)
            account.credit_limit_amount, account.credit_limit_currency = limit["amount"], currency
    if "tags" in values:
        values["tags"] = await tags.ensure_catalogued(session, actor, values["tags"])
    for key, value in values.items():
        setattr(account, key, value)


async def org_currency(session: AsyncSession, actor: Actor) -> str:
    """The organisation's default currency (for an amount sent without one)."""
    currency: str = (
        await session.execute(select(Organisation.default_currency).where(Organisation.id == actor.org_id))
    ).scalar_one()
    return currency


async def _check_references(session: AsyncSession, actor: Actor, a: Account, changed: set[str]) -> None:
    if "business_unit_id" in changed:
        await require_unit(session, a.business_unit_id)
    if "owner_member_id" in changed and a.owner_member_id is not None:
        owner = await session.execute(
            select(Member.id).where(Member.id == a.owner_member_id, Member.kind == "staff")
        )
        if owner.first() is None:
            raise Unprocessable.on("body.owner_member_id", "No staff member with this id.")
    if "primary_contact_id" in changed and a.primary_contact_id is not None:
        await _visible_contacts(session, actor, [a.primary_contact_id], "body.primary_contact_id")
    if "code" in changed and a.code is not None:
        taken = await session.execute(select(Account.id).where(Account.code == a.code, Account.id != a.id))
        if taken.first() is not None:
            raise CodeTaken(f"Another account (possibly deleted) has the code '{a.code}'.")


async def _visible_contacts(session: AsyncSession, actor: Actor, ids: list[UUID], field: str) -> None:
    found = set(
        (
            await session.execute(
                contact_queries.readable(actor).with_only_columns(Contact.id).where(Contact.id.in_(ids))
            )
        ).scalars()
    )
    if missing := [str(i) for i in ids if i not in found]:
        raise Unprocessable.on(field, f"No contact with id {', '.join(missing)}.")


async def _link_contacts(session: AsyncSession, account: Account, contact_ids: list[UUID]) -> None:
    if not contact_ids:
        return
    await session.execute(
        insert(AccountContact)
        .values(
            [
                {"org_id": account.org_id, "id": new_id(), "account_id": account.id, "contact_id": c}
                for c in dict.fromkeys(contact_ids)
            ]
        )
        .on_conflict_do_nothing()
    )


async def _take_retail_default(session: AsyncSession, actor: Actor, account: Account) -> None:
    """Only one account is the retail default: the previous one gives it up, with history.
    That other account may be outside the actor's scope, so taking the flag needs the capability
    to change every account, not only this one."""
    if not actor.can("accounts.manage"):
        raise MissingCapability(
            "Making an account the retail default needs 'accounts.manage': it takes the flag from "
            "the account that has it.",
        )
    previous = (
        (
            await session.execute(
                sql_update(Account)
                .where(Account.is_retail_default, Account.id != account.id)
                .values(is_retail_default=False, version=Account.version + 1, updated_at=datetime.now(UTC))
                .returning(Account.id)
                .execution_options(synchronize_session=False)
            )
        )
        .scalars()
        .all()
    )
    for other in previous:
        changes.write(
            session,
            actor,
            entity=ENTITY,
            entity_id=other,
            action="updated",
            changes={"is_retail_default": {"old": True, "new": False}},
        )


async def sales_rep_codes(session: AsyncSession, account_ids: list[UUID]) -> dict[UUID, list[str]]:
    """Sales-rep codes per account, for a page of accounts in one query."""
    rows = await session.execute(
        select(AccountSalesRep.account_id, AccountSalesRep.sales_rep_code)
        .where(AccountSalesRep.account_id.in_(account_ids))
        .order_by(AccountSalesRep.sales_rep_code)
    )
    codes: dict[UUID, list[str]] = {i: [] for i in account_ids}
    for account_id, code in rows:
        codes[account_id].append(code)
    return codes


async def _replace_sales_reps(session: AsyncSession, account: Account, codes: list[str]) -> None:
    await session.execute(sql_delete(AccountSalesRep).where(AccountSalesRep.account_id == account.id))
    if codes:
        await session.execute(
            insert(AccountSalesRep).values(
                [
                    {"org_id": account.org_id, "id": new_id(), "account_id": account.id, "sales_rep_code": c}
                    for c in dict.fromkeys(codes)
                ]
            )
        )


async def create(session: AsyncSession, actor: Actor, data: AccountCreate) -> Account:
    """Create an account numbered from the organisation's series; the creator owns it by default."""
    values = data.model_dump(exclude_unset=True, exclude={"contact_ids", "sales_rep_codes"})
    values.setdefault("owner_member_id", actor.member_id)
    values["custom"] = await custom_fields.validate_values(
        session, actor, ENTITY, values.get("custom") or {}, creating=True, current=None
    )
    account = Account(
        org_id=actor.org_id,
        id=new_id(),
        status="active",
        is_retail_default=False,
        payment_methods=[],
        tags=[],
        custom={},
    )
    await _apply(session, actor, account, values)
    await _check_references(session, actor, account, set(values))
    if data.contact_ids:
        await _visible_contacts(session, actor, data.contact_ids, "body.contact_ids")
    if account.is_retail_default:
        await _take_retail_default(session, actor, account)
    account.number = (await next_numbers(session, actor.org_id, "account"))[0]
    derive(account)
    session.add(account)
    await session.flush()
    links = [*([account.primary_contact_id] if account.primary_contact_id else []), *data.contact_ids]
    await _link_contacts(session, account, links)
    codes = sorted(set(data.sales_rep_codes or []))
    await _replace_sales_reps(session, account, codes)
    changed = history.diff({}, {**snapshot(account, codes), "number": account.number})
    announce(session, actor, account, entity=ENTITY, action="created", changes=changed)
    return account


async def get(session: AsyncSession, actor: Actor, account_id: UUID) -> Account:
    """A live account in the actor's scope; 404 otherwise."""
    account = (
        await session.execute(queries.readable(actor).where(Account.id == account_id))
    ).scalar_one_or_none()
    if account is None:
        raise NotFound("No account with this id.")
    return account


def _answer(actor: Actor, fields: set[str] | None) -> Select[str, int]:
    by_id = queries.readable(actor).where(Account.id == bindparam("record_id"))
    return by_id.with_only_columns(queries.rendered_as(fields), Account.version)


async def get_rendered(
    session: AsyncSession, actor: Actor, account_id: UUID, fields: set[str] | None = None
) -> tuple[str, int]:
    """A live account in the actor's scope as its answer's JSON text, and its version; 404 otherwise."""
    return await answers.by_id(session, actor, _answer, account_id, fields, "No account with this id.")


async def get_for_change(
    session: AsyncSession, actor: Actor, account_id: UUID, *, deleted: bool = False
) -> Account:
    """The account, locked, if the actor may change it (owner or accounts.manage)."""
    stmt = queries.readable(actor, deleted=deleted).where(Account.id == account_id).with_for_update()
    account = (await session.execute(stmt)).scalar_one_or_none()
    if account is None:
        raise NotFound("No account with this id.")
    if not (actor.can("accounts.manage") or (actor.member_id and account.owner_member_id == actor.member_id)):
        raise NotOwner("Only the owner or 'accounts.manage' may change this account.")
    return account


async def update(
    session: AsyncSession, actor: Actor, account_id: UUID, data: AccountUpdate, expected: int | None
) -> Account:
    """Merge the sent fields into the account; nothing is written when nothing changes."""
    account = await get_for_change(session, actor, account_id)
    check_version(account.version, expected)
    values = data.model_dump(exclude_unset=True, exclude={"sales_rep_codes"})
    if values.get("custom") is not None:  # merged key by key; a null value removes its key
        values["custom"] = await custom_fields.validate_values(
            session, actor, ENTITY, values["custom"], creating=False, current=account.custom
        )
    codes_before = (await sales_rep_codes(session, [account.id]))[account.id]
    codes_after = sorted(set(data.sales_rep_codes)) if data.sales_rep_codes is not None else codes_before
    before = snapshot(account, codes_before)
    # The checks query the database; an autoflush of the half-changed account would trip a
    # constraint (taken code, unknown owner, a second retail default) as a 500 before they answer.
    with session.no_autoflush:
        await _apply(session, actor, account, values)
        changed = history.diff(before, snapshot(account, codes_after))
        if not changed:
            return account
        await _check_references(session, actor, account, set(changed))
        if changed.get("is_retail_default", {}).get("new") is True:
            await _take_retail_default(session, actor, account)
    derive(account)
    account.updated_at = datetime.now(UTC)
    await session.flush()
    if "primary_contact_id" in changed and account.primary_contact_id:
        await _link_contacts(session, account, [account.primary_contact_id])
    if "sales_rep_codes" in changed:
        await _replace_sales_reps(session, account, codes_after)
    announce(session, actor, account, entity=ENTITY, action="updated", changes=changed)
    return account


async def delete(session: AsyncSession, actor: Actor, account_id: UUID, expected: int | None) -> None:
    """Soft-delete: the account disappears from reads until restored; its code stays reserved."""
    account = await get_for_change(session, actor, account_id)
    check_version(account.version, expected)
    account.is_retail_default = False
    await soft_delete(session, actor, account, entity=ENTITY)


async def restore(
    session: AsyncSession, actor: Actor, account_id: UUID, expected: int | None = None
) -> Account:
    """Bring back a soft-deleted account (accounts.manage)."""
    if not actor.can("accounts.manage"):
        raise MissingCapability("Restoring an account needs 'accounts.manage'.")
    account = await get_for_change(session, actor, account_id, deleted=True)
    check_version(account.version, expected)
    await bring_back(session, actor, account, entity=ENTITY)
    return account


async def linked_contacts(session: AsyncSession, actor: Actor, account_id: UUID) -> list[dict[str, Any]]:
    """The contacts linked to an account, primary first."""
    account = await get(session, actor, account_id)
    rows = await session.execute(
        select(AccountContact.contact_id, AccountContact.role, Contact.display_name)
        .join(Contact, (Contact.org_id == AccountContact.org_id) & (Contact.id == AccountContact.contact_id))
        # In the contacts' own scope too: it adds nothing for members (an account's contacts
        # are theirs to see) and keeps an API key without contacts.view_any to its 403.
        .where(
            AccountContact.account_id == account.id,
            Contact.deleted_at.is_(None),
            contact_queries.scope(actor),
        )
        .order_by(Contact.display_name, Contact.id)
    )
    links = [
        {
            "contact_id": r.contact_id,
            "role": r.role,
            "display_name": r.display_name,
            "is_primary": r.contact_id == account.primary_contact_id,
        }
        for r in rows
    ]
    return sorted(links, key=lambda link: not link["is_primary"])


async def link_contact(
    session: AsyncSession, actor: Actor, account_id: UUID, contact_id: UUID, role: str | None
) -> None:
    """Link a contact the actor can see to an account the actor may change."""
    account = await get_for_change(session, actor, account_id)
    await _visible_contacts(session, actor, [contact_id], "body.contact_id")
    existing = await session.execute(
        select(AccountContact.role).where(
            AccountContact.account_id == account.id, AccountContact.contact_id == contact_id
        )
    )
    previous = existing.first()
    result = await session.execute(
        insert(AccountContact)
        .values(org_id=account.org_id, id=new_id(), account_id=account.id, contact_id=contact_id, role=role)
        .on_conflict_do_update(
            index_elements=[AccountContact.org_id, AccountContact.account_id, AccountContact.contact_id],
            set_={"role": role},
            where=AccountContact.role.is_distinct_from(role),
        )
        .returning(AccountContact.id)
    )
    if result.first() is not None:
        changes.write(
            session,
            actor,
            entity=ENTITY,
            entity_id=account.id,
            action="contact_linked" if previous is None else "contact_role_changed",
            changes={
                "contact_id": {"old": None if previous is None else str(contact_id), "new": str(contact_id)},
                "role": {"old": None if previous is None else previous.role, "new": role},
            },
            topic="account.updated",
        )


async def unlink_contact(session: AsyncSession, actor: Actor, account_id: UUID, contact_id: UUID) -> None:
    account = await get_for_change(session, actor, account_id)
    if account.primary_contact_id == contact_id:
        raise PrimaryContact("The primary contact stays linked; choose another primary contact first.")
    removed = await session.execute(
        sql_delete(AccountContact)
        .where(AccountContact.account_id == account.id, AccountContact.contact_id == contact_id)
        .returning(AccountContact.id)
    )
    if removed.first() is None:
        raise NotFound("This contact is not linked to the account.")
    changes.write(
        session,
        actor,
        entity=ENTITY,
        entity_id=account.id,
        action="contact_unlinked",
        changes={"contact_id": {"old": str(contact_id), "new": None}},
        topic="account.updated",
    )


async def assignments(session: AsyncSession, actor: Actor, account_id: UUID) -> list[dict[str, Any]]:
    account = await get(session, actor, account_id)
    rows = await session.execute(
        select(AccountAssignment.member_id, Member.kind, Member.display_name)
        .join(
            Member, (Member.org_id == AccountAssignment.org_id) & (Member.id == AccountAssignment.member_id)
        )
        .where(AccountAssignment.account_id == account.id)
        .order_by(Member.display_name, Member.id)
    )
    return [{"member_id": r.member_id, "kind": r.kind, "display_name": r.display_name} for r in rows]


def _require_assigner(actor: Actor) -> None:
    if not actor.can("accounts.manage"):
        raise MissingCapability("Assigning members to accounts needs 'accounts.manage'.")


async def assign(session: AsyncSession, actor: Actor, account_id: UUID, member_id: UUID) -> None:
    """Personally assign a member (staff or customer) to an account: they then see it."""
    _require_assigner(actor)
    account = await get_for_change(session, actor, account_id)
    member = await session.execute(select(Member.id).where(Member.id == member_id))
    if member.first() is None:
        raise Unprocessable.on("body.member_id", "No member with this id.")
    await add_assignment(session, actor, account, member_id)


async def add_assignment(session: AsyncSession, actor: Actor, account: Account, member_id: UUID) -> None:
    """Assign an existing member to an account (with history) unless already assigned; the
    caller has decided the actor may (assign, or a lead's conversion for the lead's assignee)."""
    added = await session.execute(
        insert(AccountAssignment)
        .values(org_id=account.org_id, id=new_id(), account_id=account.id, member_id=member_id)
        .on_conflict_do_nothing()
        .returning(AccountAssignment.id)
    )
    if added.first() is not None:
        changes.write(
            session,
            actor,
            entity=ENTITY,
            entity_id=account.id,
            action="member_assigned",
            changes={"member_id": {"old": None, "new": str(member_id)}},
            topic="account.updated",
        )


async def unassign(session: AsyncSession, actor: Actor, account_id: UUID, member_id: UUID) -> None:
    _require_assigner(actor)
    account = await get_for_change(session, actor, account_id)
    removed = await session.execute(
        sql_delete(AccountAssignment)
        .where(AccountAssignment.account_id == account.id, AccountAssignment.member_id == member_id)
        .returning(AccountAssignment.id)
    )
    if removed.first() is None:
        raise NotFound("This member is not assigned to the account.")
    changes.write(
        session,
        actor,
        entity=ENTITY,
        entity_id=account.id,
        action="member_unassigned",
        changes={"member_id": {"old": str(member_id), "new": None}},
        topic="account.updated",
    )
