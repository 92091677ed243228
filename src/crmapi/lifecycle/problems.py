"""What the life cycle answers when a move or a change of a work item is refused: declared once,
served at `/problems/{slug}` and in the contract."""

from __future__ import annotations

from crmapi.kit.errors import Conflict, Forbidden, ProblemError, Unprocessable


class ReadOnly(Conflict):
    """The record is in a state that takes no more changes (cancelled, completed, ...)."""

    slug = "read-only"


class NoSuchTransition(Conflict):
    """The life cycle, the type's optional states or its transition rules have no such move from
    the record's status (or the record already has that status)."""

    slug = "no-such-transition"


class StatusNotAllowed(Unprocessable):
    """The status is not one of the record's type."""

    slug = "status-not-allowed"


class ReasonRequired(Unprocessable):
    """The move needs a reason (a lost reason for `lost`)."""

    slug = "reason-required"


class TransitionRule(Forbidden):
    """A transition rule of the type limits this move to other members or units; the answer names
    the rules."""

    slug = "transition-rule"


class NotAssigned(Conflict):
    """The record must be assigned to a member (or accepted) before it starts."""

    slug = "not-assigned"


class AlreadyAssigned(Conflict):
    """The record is already assigned; only a pending, unassigned record is accepted."""

    slug = "already-assigned"


class NotPending(Conflict):
    """Only a record in its initial state can be accepted."""

    slug = "not-pending"


class NotUnitMember(Forbidden):
    """Only a member of the record's business unit can accept it."""

    slug = "not-unit-member"


class TypeNotAllowed(Forbidden):
    """The type names creating units, and the caller is in none of them."""

    slug = "type-not-allowed"


class NoReminder(Conflict):
    """The record has no reminder to close."""

    slug = "no-reminder"


class TypeFixed(Conflict):
    """A record's type is chosen at creation and never changes."""

    slug = "type-fixed"


class AccountFixed(Conflict):
    """The record's account is set and cannot change."""

    slug = "account-fixed"


class ContactFixed(Conflict):
    """The record's contact is set and cannot change."""

    slug = "contact-fixed"


class OpportunityFixed(Conflict):
    """The activity's opportunity is set and cannot change."""

    slug = "opportunity-fixed"


class LeadFixed(Conflict):
    """The activity's lead is set and cannot change."""

    slug = "lead-fixed"


class ServiceRequestFixed(Conflict):
    """The activity's service request is set and cannot change."""

    slug = "service_request-fixed"


# The problem of changing each reference that is set once.
FIXED: dict[str, type[ProblemError]] = {
    "type_id": TypeFixed,
    "account_id": AccountFixed,
    "contact_id": ContactFixed,
    "opportunity_id": OpportunityFixed,
    "lead_id": LeadFixed,
    "service_request_id": ServiceRequestFixed,
}
