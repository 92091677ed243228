"""RFC 9457 problem details: the one error shape every endpoint answers with."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crmapi.settings import get_settings

log = logging.getLogger("crmapi.kit.errors")

PROBLEM_JSON = "application/problem+json"
UNIQUE_VIOLATION = "23505"
UNSTORABLE_TEXT = {"22021", "22P05"}  # character_not_in_repertoire, untranslatable_character
# deadlock_detected, serialization_failure: the transaction was rolled back whole; a retry is safe.
TRANSIENT = {"40P01", "40001"}
TYPE_PREFIX = "/problems/"


class FieldError(BaseModel):
    model_config = ConfigDict(frozen=True)  # hashable: repeated errors collapse into one

    field: str = Field(examples=["body.last_name"])
    message: str = Field(examples=["Field required"])


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(examples=["/problems/not-found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str | None = Field(default=None, examples=["No contact with this id."])
    instance: str | None = None
    errors: list[FieldError] | None = None


# Every problem type, by slug: each class that declares a `slug` (its docstring says what the
# problem means and what to do), served at /problems/{slug} and in the contract.
PROBLEM_TYPES: dict[str, type[ProblemError]] = {}


class ProblemError(Exception):
    """Raised anywhere below the router; rendered as problem+json."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if "slug" in cls.__dict__:
            if cls.slug in PROBLEM_TYPES:
                raise TypeError(f"problem type {cls.slug!r} is declared twice")
            if not (cls.__doc__ or "").strip():
                raise TypeError(f"problem type {cls.slug!r} needs a docstring: what it means, what to do")
            PROBLEM_TYPES[cls.slug] = cls

    def __init__(
        self,
        detail: str | None = None,
        *,
        title: str | None = None,
        status: int | None = None,
        errors: Sequence[FieldError] | None = None,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.title = title or self.title
        self.status = status or self.status
        self.errors = list(errors) if errors else None
        self.headers = dict(headers or {})
        # RFC 9457 extension members: what the client needs to act on this problem.
        self.extensions = dict(extensions or {})

    def to_problem(self, instance: str | None = None) -> Problem:
        return Problem(
            type=TYPE_PREFIX + self.slug,
            title=self.title,
            status=self.status,
            detail=self.detail,
            instance=instance,
            errors=self.errors,
        )


class BadRequest(ProblemError):
    """The request is malformed in a way no field names."""

    slug = "bad-request"


class Unauthorized(ProblemError):
    """No valid credentials came with the request: send `Authorization: Bearer` with an access
    token from POST /v1/auth/token or an API key."""

    status, slug, title = 401, "unauthorized", "Not authenticated"

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class Forbidden(ProblemError):
    """The caller is known but may not do this."""

    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(ProblemError):
    """No such record, or none the caller may see: records outside the caller's scope answer
    the same."""

    status, slug, title = 404, "not-found", "Not found"


class Conflict(ProblemError):
    """The request conflicts with the record's current state, or another record already has a
    unique value; read it again and decide."""

    status, slug, title = 409, "conflict", "Conflict"


class Gone(ProblemError):
    """What the request names existed and is no longer available."""

    status, slug, title = 410, "gone", "Gone"


class PreconditionFailed(ProblemError):
    """A precondition the request set (`If-Match`) does not hold."""

    status, slug, title = 412, "precondition-failed", "Precondition failed"


class Unprocessable(ProblemError):
    """The request is well-formed but its content is not valid; `errors` names each field."""

    status, slug, title = 422, "validation-error", "Validation error"

    @classmethod
    def on(cls, field: str, message: str) -> Unprocessable:
        return cls(message, errors=[FieldError(field=field, message=message)])


class MethodNotAllowed(ProblemError):
    """The path does not serve this method; `Allow` lists those it serves."""

    status, slug, title = 405, "method-not-allowed", "Method not allowed"

    @classmethod
    def serving(cls, method: str, served: Iterable[str]) -> MethodNotAllowed:
        """The answer to `method` on a path that serves only `served`."""
        allow = ", ".join(sorted(served))
        return cls(f"{method} is not served here; this path serves {allow}.", headers={"Allow": allow})


class PayloadTooLarge(ProblemError):
    """The body is larger than the operation takes; send fewer records a call."""

    status, slug, title = 413, "payload-too-large", "Payload too large"


class ServiceUnavailable(ProblemError):
    """The service cannot answer now; try again after `Retry-After` seconds."""

    status, slug, title = 503, "service-unavailable", "Service unavailable"


class Internal(ProblemError):
    """Something failed that should not have; nothing was changed. The answer's `X-Request-Id`
    finds it in the server's log."""

    status, slug, title = 500, "internal", "Internal error"


class HttpError(ProblemError):
    """An HTTP error the framework answered before the API did; `status` says which."""

    slug = "http"

    def __init__(self, detail: str, *, status: int, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail, status=status, title=detail, headers=headers)


class DatabaseUnavailable(ServiceUnavailable):
    """The database is not reachable or did not answer in time; nothing was changed. Try again
    after `Retry-After` seconds."""

    slug = "database-unavailable"


class TransactionConflict(ServiceUnavailable):
    """The change collided with a concurrent one and was rolled back whole; send it again."""

    slug = "transaction-conflict"


def problem_response(error: ProblemError, request: Request | None = None) -> JSONResponse:
    body = error.to_problem(instance=request.url.path if request else None)
    return JSONResponse(
        body.model_dump(exclude_none=True) | jsonable_encoder(error.extensions),
        status_code=error.status,
        media_type=PROBLEM_JSON,
        headers=error.headers,
    )


def validation_problem(exc: RequestValidationError) -> ProblemError:
    # A parameter that a route dependency declares too (a link's token, counted by the rate
    # limit before anything else) is validated once per declaration: each error is said once.
    errors = list(
        dict.fromkeys(
            FieldError(
                field=".".join(str(p) for p in e.get("loc", ())),
                message=str(e.get("msg", "invalid")).removeprefix("Value error, "),
            )
            for e in exc.errors()
        )
    )
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
    return Unprocessable(detail or "The request is not valid.", errors=errors)


# The server ended the session or would not start one: admin_shutdown, crash_shutdown,
# cannot_connect_now, and the connection exceptions (class 08; asyncpg also gives a connection lost
# mid-statement 08003).
SESSION_ENDED = {"57P01", "57P02", "57P03"}
CONNECTION_EXCEPTION_CLASS = "08"
# Also unavailable, with the connection still good: too_many_connections, and query_canceled, which
# is the server's `statement_timeout` running out.
BUSY = {"53300", "57014"}


def causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it carries: its cause, its context, the driver's error inside
    SQLAlchemy's wrapper (`.orig`) and the members of an exception group, each once."""
    seen: set[int] = set()
    waiting = [exc]
    while waiting:
        current = waiting.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        carried = [current.__cause__, current.__context__, getattr(current, "orig", None)]
        if isinstance(current, BaseExceptionGroup):
            carried.extend(current.exceptions)
        waiting.extend(e for e in carried if isinstance(e, BaseException))


def sqlstates(exc: BaseException) -> set[str]:
    """Every SQLSTATE the exception carries (asyncpg's errors and SQLAlchemy's adapters hold one)."""
    return {state for e in causes(exc) if isinstance(state := getattr(e, "sqlstate", None), str)}


def _sqlstate_in(exc: BaseException, states: set[str]) -> bool:
    state = getattr(exc, "sqlstate", None)
    return isinstance(state, str) and (state in states or state.startswith(CONNECTION_EXCEPTION_CLASS))


def _broken(exc: BaseException) -> bool:
    # Refused, reset, no socket file; a protocol whose state asyncpg lost track of.
    return _sqlstate_in(exc, SESSION_ENDED) or isinstance(exc, (OSError, asyncpg.InternalClientError))


def connection_broken(exc: BaseException) -> bool:
    """True when the connection that raised `exc` must not serve another statement, whether or not
    asyncpg has noticed its socket close yet."""
    return any(_broken(e) for e in causes(exc))


def _unavailable(exc: BaseException) -> bool:
    if _broken(exc) or _sqlstate_in(exc, BUSY):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    # A bound that ran out (connecting, the pool, a statement); a connection in an unusable state.
    return isinstance(
        exc, (TimeoutError, sa_exc.TimeoutError, sa_exc.DisconnectionError, asyncpg.InterfaceError)
    )


def is_database_lost(exc: BaseException) -> bool:
    """True when the database is unreachable or did not answer in time, however the driver's error
    arrived: raw, wrapped by SQLAlchemy, or as the cause or context of another exception."""
    return any(_unavailable(e) for e in causes(exc))


def database_lost() -> ServiceUnavailable:
    return DatabaseUnavailable(
        "The database is not reachable; try again shortly.",
        headers={"Retry-After": str(get_settings().db_retry_after_seconds)},
    )


def to_problem_error(exc: BaseException) -> ProblemError:
    """Map any exception to the problem it answers with."""
    if isinstance(exc, ProblemError):
        return exc
    if isinstance(exc, RequestValidationError):
        return validation_problem(exc)
    if isinstance(exc, StarletteHTTPException) and exc.status_code == 400:
        # FastAPI's answer to a body that is not JSON: bad input, like any other.
        return Unprocessable.on("body", f"The body is not valid JSON: {exc.detail}")
    if isinstance(exc, StarletteHTTPException):
        known = {
            404: NotFound,
            405: MethodNotAllowed,
            401: Unauthorized,
            413: PayloadTooLarge,
        }.get(exc.status_code)
        if known is not None:
            return known(str(exc.detail), title=str(exc.detail), headers=exc.headers)
        return HttpError(str(exc.detail), status=exc.status_code, headers=exc.headers)
    if is_database_lost(exc):
        return database_lost()
    states = sqlstates(exc)
    if states & UNSTORABLE_TEXT:
        # A safety net: input models already refuse such text with the field named.
        return Unprocessable("The request holds text the database cannot store (e.g. a NUL character).")
    if states & TRANSIENT:
        return TransactionConflict(
            "The change collided with a concurrent one and was not made; send it again.",
            headers={"Retry-After": "1"},
        )
    if UNIQUE_VIOLATION in states:
        # A safety net for a race between a uniqueness check and the insert of a concurrent request.
        return Conflict("Another record already has this value; read it and try again.")
    return Internal("An unexpected error occurred.")


def _answer(request: Request, exc: Exception) -> JSONResponse:
    error = to_problem_error(exc)
    if error.status >= 500:
        log.error(
            "request failed: %s: %s",
            type(exc).__name__,
            exc,
            exc_info=exc if error.status == 500 else None,
        )
    return problem_response(error, request)


class UnexpectedErrors:
    """Answers an exception no handler took as a problem and keeps the connection.

    Starlette's server-error layer answers a handler registered for `Exception` too, but then
    re-raises, and the server closes the client's keep-alive connection after the 500. This
    layer sits inside the request-id one, so the answer carries `X-Request-Id` as well.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            if started:
                raise  # half an answer is out: only closing the connection tells the client
            await _answer(Request(scope), exc)(scope, receive, send)


def install(app: FastAPI) -> None:
    """Problem answers for every exception; call before adding the request-id middleware."""

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        return _answer(request, exc)

    # The expected ones, answered beside the route; anything else by `UnexpectedErrors`.
    handled = (
        ProblemError,
        RequestValidationError,
        StarletteHTTPException,
        OSError,
        TimeoutError,
        sa_exc.DBAPIError,
        sa_exc.TimeoutError,
        sa_exc.DisconnectionError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
    )
    for exc_type in handled:
        app.add_exception_handler(exc_type, handle)
    app.add_middleware(UnexpectedErrors)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers an operation documents."""
    titles = {
        400: "Bad request",
        401: "Not authenticated",
        403: "Forbidden",
        404: "Not found",
        409: "Conflict",
        410: "Gone",
        412: "Precondition failed",
        413: "Payload too large",
        415: "Unsupported media type",
        422: "Validation error",
        429: "Too many requests",
        500: "Internal error",
        503: "Database unavailable",
    }
    return {s: {"model": Problem, "description": titles[s], "content": {PROBLEM_JSON: {}}} for s in statuses}
