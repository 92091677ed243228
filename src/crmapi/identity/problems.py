"""What signing in, sessions, members and link tokens answer when they refuse: declared once,
served at `/problems/{slug}` and in the contract."""

from __future__ import annotations

from crmapi.kit.errors import BadRequest, Conflict, Forbidden, Gone, NotFound, Unauthorized


class InvalidCredentials(Unauthorized):
    """The e-mail and password do not match an active member. Wrong passwords are counted: after
    ten in 15 minutes the e-mail waits (429)."""

    slug = "invalid-credentials"


class NoMembership(Unauthorized):
    """The user is not an active member of the organisation named at sign-in."""

    slug = "no-membership"


class TokenExpired(Unauthorized):
    """The access token has expired: exchange the refresh token (POST /v1/auth/refresh)."""

    slug = "token-expired"


class InvalidRefreshToken(Unauthorized):
    """The refresh token is unknown, expired, or its session was ended. Sign in again."""

    slug = "invalid-refresh-token"


class RefreshTokenReused(Unauthorized):
    """A refresh token already exchanged came back after the grace interval: two parties hold the
    session's tokens, so the session is ended. Sign in again."""

    slug = "refresh-token-reused"


class PasswordNotYours(Unauthorized):
    """The password was set by an administrator of another organisation: sign in there and
    choose your own password first."""

    slug = "password-not-yours"


class OrganisationRequired(BadRequest):
    """The user belongs to several organisations: send `organisation` with one of their ids."""

    slug = "organisation-required"


class NoSession(BadRequest):
    """Only a signed-in member has a session to end (an API key has none)."""

    slug = "no-session"


class MembersOnly(Forbidden):
    """Only a signed-in member (staff or customer) may do this: an API key has no password, no
    inbox, and no place in conversations and feeds (it reads conversations with
    `accounts.view_any`, but posts nothing)."""

    slug = "members-only"


class OwnPassword(Forbidden):
    """A member changes its own password with POST /v1/me/password, which asks for the current
    one, not with the administrator's reset."""

    slug = "own-password"


class PasswordUsedElsewhere(Conflict):
    """The person's password also opens another organisation: only they can change it."""

    slug = "password-used-elsewhere"


class MemberExists(Conflict):
    """The e-mail is already a member of the organisation."""

    slug = "member-exists"


class CannotSuspendSelf(Conflict):
    """A member cannot suspend itself."""

    slug = "cannot-suspend-self"


class UnknownLink(NotFound):
    """No link has this token (or it belongs to a record that is gone)."""

    slug = "unknown-link"


class LinkUsed(Conflict):
    """The link was already used; each link answers once. Ask for a new one."""

    slug = "link-used"


class LinkExpired(Gone):
    """The link has expired; ask the organisation to send a new one."""

    slug = "link-expired"
