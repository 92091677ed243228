"""What access answers when the caller may not do something: declared once, served at
`/problems/{slug}` and in the contract."""

from __future__ import annotations

from crmapi.kit.errors import Conflict, Forbidden, Unauthorized


class InvalidToken(Unauthorized):
    """The bearer token is not one this API issued, or it was altered. Sign in again."""

    slug = "invalid-token"


class InvalidApiKey(Unauthorized):
    """The API key is unknown, or not of this organisation. Use a key from POST /v1/api-keys."""

    slug = "invalid-api-key"


class SessionEnded(Unauthorized):
    """The session behind the token was ended (sign-out, a password change, a suspended member)
    or has expired. Sign in again."""

    slug = "session-ended"


class MissingCapability(Forbidden):
    """The caller's groups do not grant the capability the operation needs; the detail names it.
    An administrator grants it with PUT /v1/groups/{group_id}/grants/{capability}."""

    slug = "missing-capability"


class StaffOnly(Forbidden):
    """Only a signed-in staff member may do this: not a customer, not an API key."""

    slug = "staff-only"


class CustomersOnly(Forbidden):
    """Only the customer the record belongs to may do this."""

    slug = "customers-only"


class NotOwner(Forbidden):
    """Only the record's owner (or assignee, or a member of its unit), or a member with the
    kind's `manage` capability, may change it."""

    slug = "not-owner"


class ApiKeyRevoked(Conflict):
    """The API key is revoked and cannot change any more; make a new one."""

    slug = "api-key-revoked"


class LastAdministrator(Conflict):
    """The change would leave the organisation without an active administrator; keep at least
    one active staff member in a group granting `admin`."""

    slug = "last-administrator"


class NameTaken(Conflict):
    """Another record of this kind already has the name (names ignore case)."""

    slug = "name-taken"


class CodeTaken(Conflict):
    """Another record of this kind already has the code."""

    slug = "code-taken"


class UnitHasChildren(Conflict):
    """Other business units are below this one: move or delete them first."""

    slug = "unit-has-children"


class UnitHasMembers(Conflict):
    """Members are in this business unit: take them out first."""

    slug = "unit-has-members"


class UnitHasRecords(Conflict):
    """Records (deleted ones included) are in this business unit: move them to another first."""

    slug = "unit-has-records"
