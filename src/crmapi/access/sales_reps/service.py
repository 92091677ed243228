"""Sales-rep records: the ERP's sales representatives, and the staff members who work as them.

Accounts name their reps by code (`account_sales_reps`), as the ERP pushes them; a staff member
linked to an active record sees the accounts carrying its code. So a change of code, of
`active` or of the links marks the organisation's policy changed in the same transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from sqlalchemy import delete as sql_delete
from sqlalchemy import exists, select
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access import policy
from crmapi.access.actor import Actor
from crmapi.access.member_links import MemberLinks
from crmapi.access.models import SalesRep, SalesRepMember
from crmapi.access.problems import CodeTaken, MissingCapability
from crmapi.access.sales_reps import queries
from crmapi.access.sales_reps.schemas import SalesRepCreate, SalesRepUpdate
from crmapi.accounts.models import Account, AccountSalesRep
from crmapi.kit.concurrency import check_version
from crmapi.kit.errors import Conflict, NotFound
from crmapi.kit.ids import new_id
from crmapi.records import changes, history

Lock = Literal["update", "share"] | None
ENTITY = "sales_rep"
# Changing these changes which accounts the record's members see.
_ACCESS_FIELDS = {"code", "active"}

MEMBERS = MemberLinks(
    SalesRepMember,
    "sales_rep_id",
    customer_refused="Only staff members can work as a sales rep; this member is a customer.",
    not_linked="This member is not linked to the sales-rep record.",
)


def _snapshot(rep: SalesRep) -> dict[str, Any]:
    return {"code": rep.code, "name": rep.name, "email": rep.email, "active": rep.active}


def _taken(code: str) -> Conflict:
    return CodeTaken(f"Another sales-rep record has the code '{code}'.")


async def create(session: AsyncSession, actor: Actor, data: SalesRepCreate) -> SalesRep:
    """Add a record; 409 `code-taken` when another has the code. Accounts already carrying the
    code belong to it at once (nobody is linked yet, so nobody's access changes)."""
    now = datetime.now(UTC)
    stmt = (
        insert(SalesRep)
        .values(
            org_id=actor.org_id,
            id=new_id(),
            code=data.code,
            name=data.name,
            email=data.email,
            active=data.active,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=[SalesRep.org_id, SalesRep.code])
        .returning(SalesRep)
    )
    rep = (await session.execute(stmt)).scalar_one_or_none()
    if rep is None:
        raise _taken(data.code)
    changes.announce_step(
        session, actor, rep, entity=ENTITY, action="created", changes=history.diff({}, _snapshot(rep))
    )
    return rep


async def get(session: AsyncSession, actor: Actor, rep_id: UUID, *, lock: Lock = None) -> SalesRep:
    """A record of the actor's organisation, optionally locked (`update` or `share`); 404 otherwise."""
    stmt = queries.readable(actor).where(SalesRep.id == rep_id)
    if lock:
        stmt = stmt.with_for_update(read=lock == "share")
    rep = (await session.execute(stmt)).scalar_one_or_none()
    if rep is None:
        raise NotFound("No sales-rep record with this id.")
    return rep


async def _recode_accounts(session: AsyncSession, actor: Actor, old: str, new: str) -> int:
    """Write the new code on every account carrying the old one (deleted accounts too); answers
    how many accounts changed. Each gets a new version, so its ETag changes."""
    carrying = select(AccountSalesRep.account_id).where(
        AccountSalesRep.org_id == actor.org_id, AccountSalesRep.sales_rep_code == old
    )
    bumped = await session.execute(
        sql_update(Account)
        .where(Account.org_id == actor.org_id, Account.id.in_(carrying))
        .values(version=Account.version + 1, updated_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    # An account may carry the new code already (the ERP sent it before the record had it).
    carrying_new = select(AccountSalesRep.account_id).where(
        AccountSalesRep.org_id == actor.org_id, AccountSalesRep.sales_rep_code == new
    )
    await session.execute(
        sql_delete(AccountSalesRep)
        .where(
            AccountSalesRep.org_id == actor.org_id,
            AccountSalesRep.sales_rep_code == old,
            AccountSalesRep.account_id.in_(carrying_new),
        )
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        sql_update(AccountSalesRep)
        .where(AccountSalesRep.org_id == actor.org_id, AccountSalesRep.sales_rep_code == old)
        .values(sales_rep_code=new)
        .execution_options(synchronize_session=False)
    )
    return int(bumped.rowcount)  # type: ignore[attr-defined]


async def update(
    session: AsyncSession, actor: Actor, rep_id: UUID, data: SalesRepUpdate, expected: int | None
) -> SalesRep:
    """Change a record; a new code is written on every account that carried the old one."""
    rep = await get(session, actor, rep_id, lock="update")
    check_version(rep.version, expected)
    sent = data.model_dump(include=data.model_fields_set)
    before = _snapshot(rep)
    for key, value in sent.items():
        setattr(rep, key, value)
    changed = history.diff(before, _snapshot(rep))
    if not changed:
        return rep
    if "code" in changed and not actor.can("org.admin") and await _has_members(session, actor, rep.id):
        # A new code hands the linked members other accounts, as a new link would: that is an
        # administrator's decision, not an ERP feed's (which may still recode unlinked records).
        raise MissingCapability(
            "Changing the code of a sales-rep record members work as needs 'org.admin': it "
            "changes which accounts they see.",
        )
    rep.updated_at = datetime.now(UTC)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise _taken(str(sent.get("code"))) from exc
    extra: dict[str, Any] = {"fields": sorted(changed)}
    if "code" in changed:
        extra["accounts"] = await _recode_accounts(session, actor, before["code"], rep.code)
    if changed.keys() & _ACCESS_FIELDS:
        await policy.changed(session, actor.org_id)
    changes.announce_step(session, actor, rep, entity=ENTITY, action="updated", changes=changed, about=extra)
    return rep


async def _has_members(session: AsyncSession, actor: Actor, rep_id: UUID) -> bool:
    linked = exists().where(SalesRepMember.org_id == actor.org_id, SalesRepMember.sales_rep_id == rep_id)
    return bool(await session.scalar(select(linked)))


async def delete(session: AsyncSession, actor: Actor, rep_id: UUID, expected: int | None) -> None:
    """Delete a record and its links to members. Accounts keep the code: it is the ERP's data,
    and a record made again with the code serves them again."""
    rep = await get(session, actor, rep_id, lock="update")
    check_version(rep.version, expected)
    await session.delete(rep)  # the links go with it (ON DELETE CASCADE)
    await session.flush()
    await policy.changed(session, actor.org_id)
    changes.announce_step(
        session, actor, rep, entity=ENTITY, action="deleted", changes=history.diff(_snapshot(rep), {})
    )


# --- members working as a record -------------------------------------------------------------


async def add_member(session: AsyncSession, actor: Actor, rep_id: UUID, member_id: UUID) -> None:
    """Link a staff member to the record; a member already linked changes nothing."""
    # A shared lock: a concurrent delete of the record either waits for this or is seen as gone.
    rep = await get(session, actor, rep_id, lock="share")
    await MEMBERS.join(session, actor, rep, member_id, entity=ENTITY)


async def remove_member(session: AsyncSession, actor: Actor, rep_id: UUID, member_id: UUID) -> None:
    """Unlink a member from the record; 404 when it is not linked."""
    rep = await get(session, actor, rep_id)
    await MEMBERS.leave(session, actor, rep, member_id, entity=ENTITY)
