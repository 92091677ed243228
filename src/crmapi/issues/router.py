"""HTTP for issues: filed on an account, read and listed in the caller's scope, changed and moved
by staff, commented on and followed by whoever sees them, with the work logged on them."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from crmapi.access.dependencies import CurrentActor, Idempotent
from crmapi.access.problems import StaffOnly
from crmapi.issues import comments, followers, queries, service
from crmapi.issues.models import IssueComment, WorkLog
from crmapi.issues.schemas import (
    CommentCreate,
    CommentRead,
    FollowerAdd,
    FollowerRead,
    IssueCancel,
    IssueCreate,
    IssueListQuery,
    IssueMove,
    IssueRead,
    IssueTransition,
    IssueUpdate,
    WorkLogCreate,
    WorkLogPage,
    WorkLogRead,
)
from crmapi.kit.concurrency import IfMatch, etag, expected_version
from crmapi.kit.db import DbSession
from crmapi.kit.errors import problem_responses
from crmapi.kit.pagination import (
    Page,
    PageParams,
    Sorting,
    paginate,
    render,
    render_page,
    select_fields,
    sorted_by,
)
from crmapi.kit.routes import CrmRoute
from crmapi.records import history, work_routes
from crmapi.records.targets import Target
from crmapi.records.work_routes import Move

router = APIRouter(prefix="/v1/issues", tags=["issues"], route_class=CrmRoute, dependencies=[Idempotent])
on_accounts = APIRouter(
    prefix="/v1/accounts", tags=["issues"], route_class=CrmRoute, dependencies=[Idempotent]
)
IssuePath = Annotated[UUID, Path(description="issue id")]
AccountPath = Annotated[UUID, Path(description="account id")]
Fields = Annotated[str | None, Query(max_length=2048, description="Comma-separated fields.")]
ONE = problem_responses(401, 403, 404, 422, 503)
CHANGE = problem_responses(401, 403, 404, 409, 412, 422, 503)
LIST = problem_responses(400, 401, 403, 404, 422, 503)
COMMENT_SORTING = Sorting(
    columns={"created_at": IssueComment.created_at}, id_column=IssueComment.id, default="created_at"
)
WORK_SORTING = Sorting(columns={"worked_at": WorkLog.worked_at}, id_column=WorkLog.id, default="worked_at")


async def _one(target: Target, issue: Any, response: Response, fields: set[str] | None = None) -> IssueRead:
    response.headers["ETag"] = etag(issue.version)
    [row] = await service.rows(
        target.session, [issue], customer=target.actor.kind == "customer", with_form=True
    )
    return render(IssueRead, row, fields)


async def _page(
    request: Request, session: DbSession, actor: CurrentActor, query: IssueListQuery
) -> dict[str, Any]:
    select_fields(IssueRead, query.fields)
    found, cursor, count = await paginate(
        session,
        await queries.filtered(session, actor, query),
        sorting=queries.SORTING,
        params=query,
        cursors=request.app.state.cursors,
    )
    return render_page(
        IssueRead,
        await service.rows(session, found, customer=actor.kind == "customer"),
        cursor,
        count,
        query.fields,
    )


@router.get(
    "",
    operation_id="list_issues",
    summary="List issues",
    response_model=Page[IssueRead],
    response_model_exclude_unset=True,
    responses=LIST,
)
@sorted_by(queries.SORTING)
async def list_issues(
    request: Request, session: DbSession, actor: CurrentActor, query: Annotated[IssueListQuery, Query()]
) -> dict[str, Any]:
    """Every issue with `issues.view_any`; else the caller's own work (filed, assigned, its
    units'), what it follows and the issues of the accounts it reaches itself (assigned, owner,
    sales-rep record); a customer, those of its accounts whose type customers file."""
    return await _page(request, session, actor, query)


@on_accounts.get(
    "/{account_id}/issues",
    operation_id="list_account_issues",
    summary="List an account's issues",
    response_model=Page[IssueRead],
    response_model_exclude_unset=True,
    responses=LIST,
)
@sorted_by(queries.SORTING)
async def list_account_issues(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    account_id: AccountPath,
    query: Annotated[IssueListQuery, Query()],
) -> dict[str, Any]:
    """The issues of one account in the caller's scope, filtered like `GET /v1/issues` (by type
    and status as the seed's account issue list)."""
    await service.check_account(session, actor, account_id)
    query.account_id = account_id
    return await _page(request, session, actor, query)


@on_accounts.post(
    "/{account_id}/issues",
    operation_id="create_issue",
    summary="File an issue on an account",
    status_code=status.HTTP_201_CREATED,
    response_model=IssueRead,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def create_issue(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    account_id: AccountPath,
    body: IssueCreate,
    response: Response,
) -> IssueRead:
    """Members with `issues.create` file on any account; others on the accounts they reach
    themselves (assigned, owner, sales-rep record); a customer on its own accounts, of a type
    customers may file. The answers are checked against the type's current form: each refusal
    names the field by label and key (`body.answers.<key>`). The type's default assignee and
    unit take it when none is named; the filer follows it when the type says so."""
    issue = await service.create(session, actor, account_id, body)
    response.headers["Location"] = f"/v1/issues/{issue.id}"
    return await _one(Target(request, session, actor, issue.id), issue, response)


def _target(request: Request, session: DbSession, actor: CurrentActor, issue_id: IssuePath) -> Target:
    return Target(request, session, actor, issue_id)


On = Annotated[Target, Depends(_target)]


@router.get(
    "/{issue_id}",
    operation_id="get_issue",
    summary="Get an issue",
    response_model=IssueRead,
    response_model_exclude_unset=True,
    responses=ONE,
)
async def get_issue(t: On, response: Response, fields: Fields = None) -> IssueRead:
    """With `form`: the fields of the form version it answers, labels as they were when filed."""
    chosen = select_fields(IssueRead, fields)
    return await _one(t, await service.get(t.session, t.actor, t.id), response, chosen)


@router.patch(
    "/{issue_id}",
    operation_id="update_issue",
    summary="Change an issue",
    response_model=IssueRead,
    responses=CHANGE,
)
async def update_issue(t: On, body: IssueUpdate, response: Response, if_match: IfMatch = None) -> IssueRead:
    """Staff who may work on it: its filer, assignee or unit, members reaching its account, and
    `issues.manage`. Closed and cancelled issues are read-only (409)."""
    issue = await service.update(t.session, t.actor, t.id, body, expected_version(if_match))
    return await _one(t, issue, response)


@router.delete(
    "/{issue_id}",
    operation_id="delete_issue",
    summary="Remove an issue (soft)",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=CHANGE,
)
async def delete_issue(t: On, if_match: IfMatch = None) -> Response:
    """Gone from every read until `issues.manage` restores it."""
    await service.remove(t.session, t.actor, t.id, expected_version(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{issue_id}/restore",
    operation_id="restore_issue",
    summary="Restore a removed issue",
    response_model=IssueRead,
    responses=CHANGE,
)
async def restore_issue(t: On, response: Response, if_match: IfMatch = None) -> IssueRead:
    """Needs `issues.manage`."""
    return await _one(
        t, await service.restore(t.session, t.actor, t.id, expected_version(if_match)), response
    )


@router.get(
    "/{issue_id}/history",
    operation_id="issue_history",
    summary="An issue's history",
    response_model=Page[history.HistoryRead],
    response_model_exclude_unset=True,
    responses=LIST,
)
@sorted_by(history.HISTORY_SORTING)
async def issue_history(t: On, page: Annotated[PageParams, Query()]) -> dict[str, Any]:
    """Staff only: who changed, moved, commented on or logged work on it, and when; newest first."""
    await service.get(t.session, t.actor, t.id)
    if t.actor.kind == "customer":
        raise StaffOnly("An issue's history (staff-only answers, internal comments) is for staff.")
    return await history.page_of(t.session, service.ENTITY, t.id, page, t.request.app.state.cursors)


async def _move(t: Target, response: Response, keywords: dict[str, Any]) -> IssueRead:
    return await _one(t, await service.move(t.session, t.actor, t.id, **keywords), response)


work_routes.declare_moves(
    router,
    (
        Move(
            "start",
            "start_issue",
            "Start work on an issue",
            IssueMove,
            "in_progress",
            "From open to the type's in-progress status (or the one named).",
        ),
        Move(
            "resolve",
            "resolve_issue",
            "Resolve an issue",
            IssueMove,
            "resolved",
            "From in progress to resolved.",
        ),
        Move(
            "reopen",
            "reopen_issue",
            "Reopen a resolved issue",
            IssueMove,
            "in_progress",
            "A resolution that did not hold: back in progress.",
        ),
        Move(
            "close",
            "close_issue",
            "Close a resolved issue",
            IssueMove,
            "closed",
            "Closed issues are read-only.",
        ),
        Move(
            "cancel",
            "cancel_issue",
            "Cancel an issue",
            IssueCancel,
            "cancelled",
            "Open or in progress, with an optional cancellation reason.",
        ),
        Move(
            "transitions",
            "transition_issue",
            "Move an issue to a status",
            IssueTransition,
            None,
            "Any move the issue's type and its rules allow, to the status named.",
        ),
    ),
    param="issue_id",
    noun="issue",
    reader=CurrentActor,
    move=_move,
    read_model=IssueRead,
)


@router.get(
    "/{issue_id}/comments",
    operation_id="list_issue_comments",
    summary="List an issue's comments",
    response_model=Page[CommentRead],
    response_model_exclude_unset=True,
    responses=LIST,
)
@sorted_by(COMMENT_SORTING)
async def list_issue_comments(t: On, page: Annotated[PageParams, Query()]) -> dict[str, Any]:
    """Oldest first; a customer never sees internal ones."""
    await service.get(t.session, t.actor, t.id)
    found, cursor, count = await paginate(
        t.session,
        comments.comments_of(t.actor, t.id),
        sorting=COMMENT_SORTING,
        params=page,
        cursors=t.request.app.state.cursors,
    )
    return render_page(CommentRead, found, cursor, count, page.fields)


@router.post(
    "/{issue_id}/comments",
    operation_id="comment_on_issue",
    summary="Comment on an issue",
    status_code=status.HTTP_201_CREATED,
    response_model=CommentRead,
    responses=ONE,
)
async def comment_on_issue(t: On, body: CommentCreate) -> Any:
    """Whoever sees the issue; staff may mark a comment internal (hidden from customers). Its
    followers are told; the commenter follows it when the type says so."""
    issue = await service.get(t.session, t.actor, t.id)
    return await comments.comment(t.session, t.actor, issue, body, await service.follow_on(t.session, issue))


@router.get(
    "/{issue_id}/work-log",
    operation_id="list_issue_work_log",
    summary="The work logged on an issue",
    response_model=WorkLogPage,
    responses=ONE,
)
async def list_issue_work_log(t: On) -> dict[str, Any]:
    """Every entry, newest first, with the total and the minutes by member."""
    issue = await service.get(t.session, t.actor, t.id)
    total, by_member = await comments.work_totals(t.session, issue.id)
    return {
        "items": await comments.entries(t.session, issue.id),
        "total_minutes": total,
        "by_member": by_member,
    }


@router.post(
    "/{issue_id}/work-log",
    operation_id="log_issue_work",
    summary="Log work on an issue",
    status_code=status.HTTP_201_CREATED,
    response_model=WorkLogRead,
    responses=ONE,
)
async def log_issue_work(t: On, body: WorkLogCreate) -> Any:
    """Staff who see the issue; its `logged_minutes` (and version) move with it, and its
    followers are told."""
    issue = await service.locked(t.session, t.actor, t.id)
    return await comments.log_work(t.session, t.actor, issue, body)


@router.get(
    "/{issue_id}/followers",
    operation_id="list_issue_followers",
    summary="List an issue's followers",
    response_model=list[FollowerRead],
    responses=ONE,
)
async def list_issue_followers(t: On) -> Any:
    return await followers.listed(t.session, await service.get(t.session, t.actor, t.id))


@router.post(
    "/{issue_id}/followers",
    operation_id="follow_issue",
    summary="Follow an issue",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=ONE,
)
async def follow_issue(t: On, body: FollowerAdd | None = None) -> Response:
    """The caller follows it; staff may add another member (active staff, or a customer assigned
    to the account). Following twice is the same as once."""
    issue = await service.get(t.session, t.actor, t.id)
    await followers.follow(t.session, t.actor, issue, (body or FollowerAdd()).member_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/{issue_id}/followers/{member_id}",
    operation_id="unfollow_issue",
    summary="Stop following an issue",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=ONE,
)
async def unfollow_issue(t: On, member_id: Annotated[UUID, Path(description="member id")]) -> Response:
    """A member takes itself off; staff may take anyone off."""
    issue = await service.get(t.session, t.actor, t.id)
    await followers.unfollow(t.session, t.actor, issue, member_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
