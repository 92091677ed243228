"""Organisations, users, members and signed-in sessions."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from crmapi.access import administrators, bootstrap, policy
from crmapi.access.actor import Actor
from crmapi.access.policy import UNIT_VISIBILITY
from crmapi.identity.models import AuthSession, Member, Organisation, User
from crmapi.identity.problems import (
    CannotSuspendSelf,
    InvalidCredentials,
    InvalidRefreshToken,
    MemberExists,
    NoMembership,
    NoSession,
    OrganisationRequired,
    OwnPassword,
    PasswordNotYours,
    PasswordUsedElsewhere,
    RefreshTokenReused,
)
from crmapi.identity.schemas import MemberCreate, MemberUpdate, OrganisationUpdate
from crmapi.identity.security import Keys, hash_password, new_secret, same, verify_password
from crmapi.kit import rendered
from crmapi.kit.concurrency import check_version
from crmapi.kit.db import bind_org
from crmapi.kit.errors import NotFound, Unprocessable
from crmapi.kit.ids import new_id
from crmapi.kit.ratelimit import PASSWORD_FAILURES, Limiter
from crmapi.lifecycle import defaults as lifecycle_defaults
from crmapi.records import changes, history


@dataclass(frozen=True)
class TokenPolicy:
    keys: Keys
    access_minutes: int
    refresh_days: int
    # How long a just-rotated refresh token answers the same new pair again.
    refresh_grace_seconds: int = 0


async def _user_for(session: AsyncSession, email: str, password: str | None, org_id: UUID) -> User:
    """The existing user with this email (password untouched), or a new one with the given
    password. The organisation that chose it is recorded: that password opens only it, until
    the user sets their own (`POST /v1/me/password`)."""
    user = (
        await session.execute(select(User).where(func.lower(User.email) == email.lower()))
    ).scalar_one_or_none()
    if user is not None:
        return user
    if not password:
        raise Unprocessable.on("body.password", "A new user needs a password (at least 8 characters).")
    # Argon2 takes ~100 ms of CPU: off the event loop, so other requests go on meanwhile.
    digest = await asyncio.to_thread(hash_password, password)
    user = User(email=email.lower(), password_hash=digest, password_org_id=org_id)
    session.add(user)
    await session.flush()
    return user


async def create_organisation(
    session: AsyncSession, *, name: str, admin_email: str, admin_password: str, currency: str = "EUR"
) -> tuple[Organisation, Member]:
    """A new organisation with its first member as administrator."""
    org = Organisation(name=name, default_currency=currency)
    session.add(org)
    await session.flush()
    await bind_org(session, org.id)
    user = await _user_for(session, admin_email, admin_password, org.id)
    member = Member(org_id=org.id, user_id=user.id, kind="staff", display_name=admin_email)
    session.add(member)
    await session.flush()
    await bootstrap.administrators(session, org.id, member.id)
    await lifecycle_defaults.seed(session, org.id)
    system = Actor(org_id=org.id, kind="system")
    changes.write(
        session,
        system,
        entity="organisation",
        entity_id=org.id,
        action="created",
        changes={"name": {"old": None, "new": name}},
    )
    return org, member


def member_row(member: Member, email: str) -> dict[str, Any]:
    row = rendered.row(member)
    row["email"] = email
    return row


def _members_query() -> Any:
    return select(Member, User.email).join(User, User.id == Member.user_id)


async def add_member(session: AsyncSession, actor: Actor, data: MemberCreate) -> dict[str, Any]:
    """Add a staff or customer member by email; an existing user keeps their password."""
    user = await _user_for(session, data.email, data.password, actor.org_id)
    exists = await session.execute(
        select(Member.id).where(Member.org_id == actor.org_id, Member.user_id == user.id)
    )
    if exists.first() is not None:
        raise MemberExists("This email is already a member of the organisation.")
    member = Member(
        org_id=actor.org_id,
        user_id=user.id,
        kind=data.kind,
        display_name=data.display_name or data.email,
        time_zone=data.time_zone,
    )
    session.add(member)
    await session.flush()
    row = member_row(member, user.email)
    changes.write(
        session,
        actor,
        entity="member",
        entity_id=member.id,
        action="created",
        changes=history.diff({}, {k: row[k] for k in ("email", "kind", "status", "time_zone")}),
    )
    return row


async def get_member(session: AsyncSession, actor: Actor, member_id: UUID) -> dict[str, Any]:
    found = (await session.execute(_members_query().where(Member.id == member_id))).one_or_none()
    if found is None:
        raise NotFound("No member with this id.")
    return member_row(found[0], found[1])


async def active_kinds(session: AsyncSession, member_ids: Iterable[UUID]) -> dict[UUID, str]:
    """The kind (staff | customer) of each active member of the bound organisation among
    `member_ids`; the others (unknown, suspended) are left out."""
    stmt = select(Member.id, Member.kind).where(Member.id.in_(set(member_ids)), Member.status == "active")
    return {member_id: kind for member_id, kind in (await session.execute(stmt)).all()}


def members_statement(kind: str | None, status: str | None) -> Any:
    stmt = _members_query()
    if kind:
        stmt = stmt.where(Member.kind == kind)
    if status:
        stmt = stmt.where(Member.status == status)
    return stmt


async def update_member(
    session: AsyncSession, actor: Actor, member_id: UUID, data: MemberUpdate, expected: int | None
) -> dict[str, Any]:
    """Change a member's status, time zone or display name."""
    found = await session.execute(_members_query().where(Member.id == member_id).with_for_update(of=Member))
    row = found.one_or_none()
    if row is None:
        raise NotFound("No member with this id.")
    member, email = row[0], row[1]
    check_version(member.version, expected)
    changed = data.model_dump(exclude_unset=True)
    if member.id == actor.member_id and changed.get("status") == "suspended":
        raise CannotSuspendSelf("You cannot suspend yourself.")
    before = {k: getattr(member, k) for k in changed}
    for key, value in changed.items():
        setattr(member, key, value)
    if changed := history.diff(before, changed):
        member.updated_at = datetime.now(UTC)
        await session.flush()
        if "status" in changed and member.status == "suspended":
            await _end_member_sessions(session, actor.org_id, member.id)
            await administrators.ensure_one_remains(session, actor.org_id)
        changes.write(session, actor, entity="member", entity_id=member.id, action="updated", changes=changed)
    return member_row(member, email)


async def _open_session(
    session: AsyncSession, policy: TokenPolicy, *, user_id: UUID, org_id: UUID, member_id: UUID
) -> dict[str, Any]:
    secret = new_secret()
    auth = AuthSession(
        org_id=org_id,
        id=new_id(),
        member_id=member_id,
        refresh_hash=policy.keys.secret_hash(secret),
        expires_at=datetime.now(UTC) + timedelta(days=policy.refresh_days),
    )
    session.add(auth)
    await session.flush()
    now = datetime.now(UTC)
    return _tokens(policy, auth, user_id, secret, issued_at=now, now=now)


def _tokens(
    policy: TokenPolicy,
    auth: AuthSession,
    user_id: UUID,
    secret: str,
    issued_at: datetime,
    now: datetime,
) -> dict[str, Any]:
    """The pair for a session; the same secret and `issued_at` give the same pair again, with
    what is left of the access token's life at `now`."""
    spent = int(now.timestamp()) - int(issued_at.timestamp())
    return {
        "access_token": policy.keys.access_token(
            user_id=user_id,
            org_id=auth.org_id,
            member_id=auth.member_id,
            session_id=auth.id,
            minutes=policy.access_minutes,
            issued_at=issued_at,
        ),
        "token_type": "bearer",
        "expires_in": max(policy.access_minutes * 60 - spent, 0),
        "refresh_token": f"{auth.org_id}.{auth.id}.{secret}",
    }


async def _check_password(limiter: Limiter, user: User | None, email: str, password: str) -> bool:
    """Whether `password` is the user's. Each try is counted for the e-mail before Argon2 runs
    (429 past 10 wrong ones in 15 minutes, however many arrive at once); a right one is
    forgiven with those before it."""
    await limiter.hit(PASSWORD_FAILURES, email)
    # Argon2 takes ~100 ms of CPU: off the event loop, so other requests go on meanwhile.
    verified = await asyncio.to_thread(verify_password, user.password_hash if user else None, password)
    if verified:
        await limiter.forget(PASSWORD_FAILURES, email)
    return verified


async def login(
    session: AsyncSession,
    policy: TokenPolicy,
    limiter: Limiter,
    *,
    email: str,
    password: str,
    organisation: UUID | None,
) -> dict[str, Any]:
    """Exchange an email and password for tokens bound to one organisation."""
    email = email.strip().lower()
    # Shared lock: a password change waits for this sign-in and then ends its session too, so
    # no session opened with the old password outlives the change.
    user = (
        await session.execute(select(User).where(func.lower(User.email) == email).with_for_update(read=True))
    ).scalar_one_or_none()
    if not await _check_password(limiter, user, email, password) or user is None:
        raise InvalidCredentials("Wrong email or password.")
    # Cross-organisation lookup: only this SECURITY DEFINER function may see every membership.
    memberships = (
        await session.execute(
            text("SELECT org_id, member_id FROM crmapi_memberships(:user) WHERE status = 'active'"),
            {"user": user.id},
        )
    ).all()
    if organisation is not None:
        memberships = [m for m in memberships if m.org_id == organisation]
    if not memberships:
        raise NoMembership("This user is not an active member of that organisation.")
    if len(memberships) > 1:
        raise OrganisationRequired(
            "This user belongs to several organisations: send `organisation` with one of their ids.",
        )
    org_id, member_id = memberships[0]
    if user.password_org_id is not None and user.password_org_id != org_id:
        # Another organisation's administrator chose this password: it must not open this one.
        raise PasswordNotYours(
            "This password was set by an administrator of another organisation. Sign in there "
            "and choose your own password (POST /v1/me/password) to use it here.",
        )
    await bind_org(session, org_id)
    return await _open_session(session, policy, user_id=user.id, org_id=org_id, member_id=member_id)


async def change_password(
    session: AsyncSession, actor: Actor, limiter: Limiter, current: str, new: str
) -> None:
    """The member's own password, replacing the current one: from now on it is the user's, and
    opens every organisation the user belongs to. Every other session of the user, in every
    organisation, ends (access tokens included); the one making the change goes on."""
    user = (
        await session.execute(
            select(User)
            .join(Member, Member.user_id == User.id)
            .where(Member.id == actor.member_id)
            .with_for_update(of=User)
        )
    ).scalar_one()
    if not await _check_password(limiter, user, user.email.lower(), current):
        raise Unprocessable.on("body.current_password", "This is not the current password.")
    user.password_hash = await asyncio.to_thread(hash_password, new)
    user.password_org_id = None
    user.updated_at = datetime.now(UTC)
    # Cross-organisation: only this SECURITY DEFINER function reaches the user's other members.
    await session.execute(
        text("SELECT crmapi_end_user_sessions(:user, :keep)"), {"user": user.id, "keep": actor.session_id}
    )


async def reset_password(session: AsyncSession, actor: Actor, member_id: UUID, new: str) -> None:
    """An administrator chooses a member's password: it opens only this organisation (until the
    member chooses their own), and the member's sessions here end. Refused when the member's
    password also opens another organisation, whose access it would take away."""
    if member_id == actor.member_id:
        raise OwnPassword(
            "Change your own password with POST /v1/me/password, which asks for the current one.",
        )
    found = (
        await session.execute(
            select(Member, User)
            .join(User, User.id == Member.user_id)
            .where(Member.id == member_id)
            .with_for_update(of=User)
        )
    ).one_or_none()
    if found is None:
        raise NotFound("No member with this id.")
    member, user = found
    if user.password_org_id != actor.org_id and await _belongs_elsewhere(session, user.id, actor.org_id):
        raise PasswordUsedElsewhere(
            "This person's password also opens another organisation: only they can change it "
            "(POST /v1/me/password).",
        )
    user.password_hash = await asyncio.to_thread(hash_password, new)
    user.password_org_id = actor.org_id
    user.updated_at = datetime.now(UTC)
    await _end_member_sessions(session, actor.org_id, member.id)
    changes.write(session, actor, entity="member", entity_id=member.id, action="password_reset")


async def _end_member_sessions(session: AsyncSession, org_id: UUID, member_id: UUID) -> None:
    """Every open session of the member ends: its access and refresh tokens stop working."""
    await session.execute(
        update(AuthSession)
        .where(
            AuthSession.org_id == org_id,
            AuthSession.member_id == member_id,
            AuthSession.revoked_at.is_(None),
        )
        .values(revoked_at=datetime.now(UTC))
    )


async def _belongs_elsewhere(session: AsyncSession, user_id: UUID, org_id: UUID) -> bool:
    """Whether the user is a member (of any status) of another organisation."""
    # Cross-organisation lookup: only this SECURITY DEFINER function may see every membership.
    found = await session.execute(
        text("SELECT 1 FROM crmapi_memberships(:user) WHERE org_id <> :org LIMIT 1"),
        {"user": user_id, "org": org_id},
    )
    return found.first() is not None


async def refresh(session: AsyncSession, policy: TokenPolicy, token: str) -> dict[str, Any]:
    """Rotate the refresh token and issue a new access token for the same session. The token
    just replaced answers the same new pair for `refresh_grace_seconds` (two tabs refreshing at
    once); presented later, it ends the session."""
    try:
        org_part, sid_part, secret = token.split(".", 2)
        org_id, sid = UUID(org_part), UUID(sid_part)
    except ValueError as exc:
        raise InvalidRefreshToken("The refresh token is not valid.") from exc
    await bind_org(session, org_id)
    # Locked: of two refreshes with one token the second waits, then finds it just rotated.
    row = (
        await session.execute(
            select(AuthSession, Member.user_id)
            .join(Member, (Member.org_id == AuthSession.org_id) & (Member.id == AuthSession.member_id))
            .where(AuthSession.id == sid, Member.status == "active")
            .with_for_update(of=AuthSession)
        )
    ).one_or_none()
    now = datetime.now(UTC)
    if row is None or row[0].revoked_at is not None or row[0].expires_at <= now:
        raise InvalidRefreshToken("The refresh token is not valid.")
    auth, user_id = row[0], row[1]
    presented = policy.keys.secret_hash(secret)
    following = policy.keys.next_refresh_secret(secret)
    if same(auth.refresh_hash, presented):
        auth.previous_refresh_hash = auth.refresh_hash
        auth.refresh_hash = policy.keys.secret_hash(following)
        auth.rotated_at = now
        auth.expires_at = now + timedelta(days=policy.refresh_days)
        await session.flush()
        return _tokens(policy, auth, user_id, following, issued_at=now, now=now)
    if auth.previous_refresh_hash is None or not same(auth.previous_refresh_hash, presented):
        raise InvalidRefreshToken("The refresh token is not valid.")
    rotated_at, grace = auth.rotated_at, timedelta(seconds=policy.refresh_grace_seconds)
    if (
        rotated_at is not None
        and now - rotated_at <= grace
        and same(auth.refresh_hash, policy.keys.secret_hash(following))
    ):
        # Its successor is a keyed hash of it, still current: the pair the first refresh
        # answered, once more (the access token too, issued at the rotation).
        return _tokens(policy, auth, user_id, following, issued_at=rotated_at, now=now)
    # A token already exchanged comes back after the grace: two parties hold this session's
    # tokens, and which is the thief is unknown, so neither keeps it (RFC 9700, 4.14.2). The
    # revocation is committed here: the 401 below rolls the request's transaction back.
    auth.revoked_at = now
    await session.commit()
    raise RefreshTokenReused(
        "This refresh token was already used: the session is ended; sign in again.",
    )


async def logout(session: AsyncSession, actor: Actor) -> None:
    """End the caller's session: its access and refresh tokens stop working at once."""
    if actor.session_id is None:
        raise NoSession("Only a signed-in member has a session to end.")
    await session.execute(
        update(AuthSession)
        .where(AuthSession.org_id == actor.org_id, AuthSession.id == actor.session_id)
        .values(revoked_at=datetime.now(UTC))
    )


async def get_organisation(session: AsyncSession, actor: Actor) -> Organisation:
    org = await session.get(Organisation, actor.org_id)
    if org is None:
        raise NotFound("No such organisation.")
    return org


# Organisation settings kept in `organisations.settings`, with the value an organisation has
# until it sets one.
LINK_TOKEN_SECONDS = "link_token_seconds"
PRIVATE_ADDRESSES = "webhooks_private_addresses"  # webhook endpoints may be private addresses
SETTINGS = {UNIT_VISIBILITY: False, LINK_TOKEN_SECONDS: 7 * 86_400, PRIVATE_ADDRESSES: False}


async def update_organisation(
    session: AsyncSession, actor: Actor, data: OrganisationUpdate, expected: int | None
) -> Organisation:
    """Change the organisation's name, default currency, time zone, unit visibility, link
    lifetime or whether webhooks may go to private addresses."""
    org = await session.get(Organisation, actor.org_id, with_for_update=True)
    if org is None:
        raise NotFound("No such organisation.")
    check_version(org.version, expected)
    changed = data.model_dump(exclude_unset=True)
    # Some live in `settings` (with their defaults); the other fields are columns.
    settings = dict(org.settings)
    before = {k: settings.get(k, SETTINGS[k]) if k in SETTINGS else getattr(org, k) for k in changed}
    if diff := history.diff(before, changed):
        for key, value in changed.items():
            if key in SETTINGS:
                settings[key] = value
                org.settings = dict(settings)  # a new dict, so the change is flushed
            else:
                setattr(org, key, value)
        org.updated_at = datetime.now(UTC)
        await session.flush()
        if UNIT_VISIBILITY in diff:
            await policy.changed(session, org.id)
        changes.write(session, actor, entity="organisation", entity_id=org.id, action="updated", changes=diff)
    return org
