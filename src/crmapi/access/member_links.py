"""Staff members linked to a record through a table of pairs: the members of a business unit or
a group, the members working as a sales-rep record. A link made twice is made once; undoing one
that is not there is 404; customers are never linked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import delete as sql_delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access import policy
from crmapi.access.actor import Actor
from crmapi.identity import service as identity
from crmapi.kit.errors import NotFound, Unprocessable
from crmapi.kit.ids import new_id
from crmapi.records import changes


@dataclass(frozen=True)
class MemberLinks:
    model: Any  # the pairs' table: org_id, id, member_id and the owner's column
    owner: str  # the owner's column: business_unit_id, group_id, sales_rep_id
    customer_refused: str  # the 422's message for a customer
    not_linked: str  # the 404's message for a member not linked

    async def add(self, session: AsyncSession, actor: Actor, owner_id: UUID, member_id: UUID) -> bool:
        """Link the staff member; True when the link is new. 404 for no such member, 422 naming
        `path.member_id` for a customer."""
        member = await identity.get_member(session, actor, member_id)
        if member["kind"] != "staff":
            raise Unprocessable.on("path.member_id", self.customer_refused)
        added = await session.execute(
            insert(self.model)
            .values(org_id=actor.org_id, id=new_id(), member_id=member_id, **{self.owner: owner_id})
            .on_conflict_do_nothing()
            .returning(self.model.id)
        )
        return added.first() is not None

    async def remove(self, session: AsyncSession, actor: Actor, owner_id: UUID, member_id: UUID) -> None:
        """Undo the link; 404 when the member is not linked."""
        removed = await session.execute(
            sql_delete(self.model)
            .where(
                self.model.org_id == actor.org_id,
                getattr(self.model, self.owner) == owner_id,
                self.model.member_id == member_id,
            )
            .returning(self.model.id)
        )
        if removed.first() is None:
            raise NotFound(self.not_linked)

    async def join(
        self, session: AsyncSession, actor: Actor, owner: Any, member_id: UUID, *, entity: str
    ) -> None:
        """Link the member to a record whose members see by it (a business unit, a sales-rep
        record): the policy is marked changed and the record's history and event name the step.
        A member already linked changes nothing."""
        if not await self.add(session, actor, owner.id, member_id):
            return
        await policy.changed(session, actor.org_id)
        step = {"member_id": {"old": None, "new": str(member_id)}}
        changes.announce_step(session, actor, owner, entity=entity, action="member_added", changes=step)

    async def leave(
        self, session: AsyncSession, actor: Actor, owner: Any, member_id: UUID, *, entity: str
    ) -> None:
        """Undo `join`; 404 when the member is not linked."""
        await self.remove(session, actor, owner.id, member_id)
        await policy.changed(session, actor.org_id)
        step = {"member_id": {"old": str(member_id), "new": None}}
        changes.announce_step(session, actor, owner, entity=entity, action="member_removed", changes=step)
