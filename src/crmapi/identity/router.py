"""HTTP for tokens, members, the organisation and the caller."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Query, Request, Response, status
from pydantic import AfterValidator

from crmapi.access.actor import Actor
from crmapi.access.dependencies import CurrentActor, Idempotent, StaffActor, require
from crmapi.identity import service
from crmapi.identity.pages import MEMBER_SORTS, member_page
from crmapi.identity.problems import MembersOnly
from crmapi.identity.schemas import (
    MemberCreate,
    MemberListQuery,
    MemberRead,
    MemberUpdate,
    MeRead,
    OrganisationRead,
    OrganisationUpdate,
    PasswordChange,
    PasswordReset,
    RefreshRequest,
    TokenRead,
)
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import Page, render, sorted_by
from crmapi.kit.ratelimit import sign_in_limits
from crmapi.kit.routes import CrmRoute
from crmapi.kit.scalars import storable

auth = APIRouter(prefix="/v1/auth", tags=["auth"], route_class=CrmRoute)
members = APIRouter(prefix="/v1/members", tags=["members"], route_class=CrmRoute, dependencies=[Idempotent])
organisation = APIRouter(prefix="/v1/organisation", tags=["organisation"], route_class=CrmRoute)
me = APIRouter(prefix="/v1/me", tags=["me"], route_class=CrmRoute)

AUTHED = problem_responses(401, 403, 422, 503)
Admin = Annotated[Actor, require("org.admin")]


def _policy(request: Request) -> service.TokenPolicy:
    settings = request.app.state.settings
    return service.TokenPolicy(
        keys=request.app.state.keys,
        access_minutes=settings.access_token_minutes,
        refresh_days=settings.refresh_token_days,
        refresh_grace_seconds=settings.refresh_grace_seconds,
    )


@auth.post(
    "/token",
    operation_id="create_token",
    summary="Sign in with email and password",
    response_model=TokenRead,
    responses=problem_responses(400, 401, 422, 429, 503),
    dependencies=[Depends(sign_in_limits)],
)
async def create_token(
    request: Request,
    session: DbSession,
    username: Annotated[str, Form(max_length=320, description="The user's email."), AfterValidator(storable)],
    password: Annotated[str, Form(max_length=200), AfterValidator(storable)],
    organisation: Annotated[
        UUID | None, Form(description="Required when the user belongs to several organisations.")
    ] = None,
) -> dict[str, Any]:
    """OAuth2 password flow. The tokens are bound to one organisation. 429 `too-many-requests`
    with `Retry-After` past 30 sign-ins a minute from one address, or 10 wrong passwords for one
    e-mail in 15 minutes (here or at a password change; a right one clears them)."""
    return await service.login(
        session,
        _policy(request),
        request.app.state.limiter,
        email=username,
        password=password,
        organisation=organisation,
    )


@auth.post(
    "/refresh",
    operation_id="refresh_token",
    summary="Exchange a refresh token for new tokens",
    response_model=TokenRead,
    responses=problem_responses(401, 422, 503),
)
async def refresh_token(request: Request, session: DbSession, body: RefreshRequest) -> dict[str, Any]:
    """The refresh token is rotated. The one just replaced answers the same new pair for
    `REFRESH_GRACE_SECONDS` (30 by default: two tabs refreshing at once); presented after that,
    it ends the session (401 `refresh-token-reused`)."""
    return await service.refresh(session, _policy(request), body.refresh_token)


@auth.post(
    "/logout",
    operation_id="logout",
    summary="End the current session",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(400, 401, 503),
)
async def logout(session: DbSession, actor: CurrentActor) -> Response:
    await service.logout(session, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@me.get("", operation_id="get_me", summary="Who the caller is", response_model=MeRead, responses=AUTHED)
async def get_me(actor: CurrentActor) -> MeRead:
    return MeRead(
        organisation_id=actor.org_id,
        member_id=actor.member_id,
        api_key_id=actor.api_key_id,
        kind=actor.kind,
        time_zone=actor.time_zone,
        capabilities=sorted(actor.capabilities),
    )


@me.post(
    "/password",
    operation_id="change_my_password",
    summary="Choose your own password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 422, 429, 503),
)
async def change_my_password(
    request: Request, session: DbSession, actor: CurrentActor, body: PasswordChange
) -> Response:
    """For members: 422 on `body.current_password` when it is wrong (counted with wrong
    sign-ins: 429 past 10 in 15 minutes), 403 `members-only` for an API key. A password an
    administrator chose opens only that administrator's organisation; once you choose your own,
    it opens every organisation you belong to. Every other session you have, in every
    organisation, ends; this one goes on."""
    if actor.member_id is None:
        raise MembersOnly("Only members have passwords.")
    await service.change_password(
        session, actor, request.app.state.limiter, body.current_password, body.new_password
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@members.post(
    "",
    operation_id="create_member",
    summary="Add a staff or customer member by email",
    status_code=status.HTTP_201_CREATED,
    response_model=MemberRead,
    responses=problem_responses(401, 403, 409, 422, 503),
)
async def create_member(
    session: DbSession, actor: Admin, body: MemberCreate, response: Response
) -> MemberRead:
    """A new email becomes a user with the given password; an existing user keeps theirs."""
    row = await service.add_member(session, actor, body)
    response.headers["Location"] = f"/v1/members/{row['id']}"
    response.headers["ETag"] = etag(row["version"])
    return MemberRead.model_validate(row)


@members.get(
    "",
    operation_id="list_members",
    summary="List members",
    response_model=Page[MemberRead],
    response_model_exclude_unset=True,
    responses=problem_responses(400, 401, 403, 422, 503),
)
@sorted_by(MEMBER_SORTS)
async def list_members(
    request: Request,
    session: DbSession,
    actor: StaffActor,
    page: Annotated[MemberListQuery, Query()],
) -> dict[str, Any]:
    return await member_page(request, session, service.members_statement(page.kind, page.status), page)


@members.get(
    "/{member_id}",
    operation_id="get_member",
    summary="Get a member",
    response_model=MemberRead,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_member(
    session: DbSession, actor: StaffActor, member_id: UUID, response: Response
) -> MemberRead:
    row = await service.get_member(session, actor, member_id)
    response.headers["ETag"] = etag(row["version"])
    return MemberRead.model_validate(row)


@members.patch(
    "/{member_id}",
    operation_id="update_member",
    summary="Change a member's status, time zone or name",
    response_model=MemberRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 503),
)
async def update_member(
    session: DbSession,
    actor: Admin,
    member_id: UUID,
    body: MemberUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> MemberRead:
    """Suspending a member ends their sessions at once."""
    row = await service.update_member(session, actor, member_id, body, expected_version(if_match))
    response.headers["ETag"] = etag(row["version"])
    return MemberRead.model_validate(row)


@members.post(
    "/{member_id}/password",
    operation_id="reset_member_password",
    summary="Choose a member's password (administrators)",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def reset_member_password(
    session: DbSession, actor: Admin, member_id: UUID, body: PasswordReset
) -> Response:
    """The password opens only this organisation until the member chooses their own, and the
    member's sessions here end at once. 409 `password-used-elsewhere` when the member's password
    also opens another organisation (only they can change it); 403 `own-password` for your own
    (use `POST /v1/me/password`)."""
    await service.reset_password(session, actor, member_id, body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@organisation.get(
    "",
    operation_id="get_organisation",
    summary="The caller's organisation",
    response_model=OrganisationRead,
    responses=AUTHED,
)
async def get_organisation(session: DbSession, actor: CurrentActor, response: Response) -> OrganisationRead:
    org = await service.get_organisation(session, actor)
    response.headers["ETag"] = etag(org.version)
    return render(OrganisationRead, org)


@organisation.patch(
    "",
    operation_id="update_organisation",
    summary="Change the organisation's name, currency or time zone",
    response_model=OrganisationRead,
    responses=problem_responses(401, 403, 412, 422, 503),
)
async def update_organisation(
    session: DbSession, actor: Admin, body: OrganisationUpdate, response: Response, if_match: IfMatch = None
) -> OrganisationRead:
    org = await service.update_organisation(session, actor, body, expected_version(if_match))
    response.headers["ETag"] = etag(org.version)
    return render(OrganisationRead, org)
