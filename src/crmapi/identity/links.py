"""Link tokens: single-purpose credentials sent to a contact (accept an answer, rate a request)
that need no sign-in. Only a keyed hash is stored; a token is used once and expires after the
organisation's `link_token_seconds`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.identity.models import LinkToken, Organisation
from crmapi.identity.problems import LinkExpired, LinkUsed, UnknownLink
from crmapi.identity.security import Keys, new_secret
from crmapi.identity.service import LINK_TOKEN_SECONDS, SETTINGS
from crmapi.kit.db import bind_org

PREFIX = "lt_"


async def issue(
    session: AsyncSession, keys: Keys, org_id: UUID, purpose: str, subject: UUID, path: str
) -> dict[str, Any]:
    """A new token for `purpose` about `subject`: the token, its link (`path` + token) and when it
    expires, as events carry it for notifications to send."""
    settings = await session.scalar(select(Organisation.settings).where(Organisation.id == org_id))
    seconds = (settings or {}).get(LINK_TOKEN_SECONDS, SETTINGS[LINK_TOKEN_SECONDS])
    token = PREFIX + new_secret()
    expires_at = datetime.now(UTC) + timedelta(seconds=seconds)
    session.add(
        LinkToken(
            organisation_id=org_id,
            purpose=purpose,
            subject=subject,
            token_hash=keys.secret_hash(token),
            expires_at=expires_at,
        )
    )
    return {"token": token, "path": path + token, "expires_at": expires_at}


async def replace(
    session: AsyncSession, keys: Keys, org_id: UUID, purpose: str, subject: UUID, path: str
) -> tuple[dict[str, Any], datetime | None]:
    """A new token in place of those issued before for `purpose` about `subject`: the unused ones
    stop working at once (410 `link-expired`). The new link, and when the latest before it
    expired or would have (None when there was none)."""
    about = (
        LinkToken.organisation_id == org_id,
        LinkToken.purpose == purpose,
        LinkToken.subject == subject,
    )
    before = await session.scalar(select(func.max(LinkToken.expires_at)).where(*about))
    now = datetime.now(UTC)
    await session.execute(
        update(LinkToken)
        .where(*about, LinkToken.used_at.is_(None), LinkToken.expires_at > now)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    return await issue(session, keys, org_id, purpose, subject, path), before


async def find(session: AsyncSession, keys: Keys, token: str, purpose_prefix: str) -> LinkToken:
    """The token's row while it can be used, with the session bound to its organisation:
    404 unknown (or for another purpose), 409 used, 410 expired."""
    found = (
        await session.execute(select(LinkToken).where(LinkToken.token_hash == keys.secret_hash(token)))
    ).scalar_one_or_none()
    if found is None or not found.purpose.startswith(purpose_prefix):
        raise UnknownLink("No such link.")
    if found.used_at is not None:
        raise LinkUsed("This link was already used.")
    if found.expires_at <= datetime.now(UTC):
        raise LinkExpired("This link has expired.")
    await bind_org(session, found.organisation_id)
    return found


async def use(session: AsyncSession, link: LinkToken) -> None:
    """Spend the token; of two requests racing with it, the second gets 409."""
    spent = await session.execute(
        update(LinkToken)
        .where(LinkToken.id == link.id, LinkToken.used_at.is_(None))
        .values(used_at=datetime.now(UTC))
        .returning(LinkToken.id)
        .execution_options(synchronize_session=False)
    )
    if spent.first() is None:
        raise LinkUsed("This link was already used.")
