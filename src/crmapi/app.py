"""The ASGI application. create_app() has no side effects: servers, pools and tasks start in the lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from crmapi.access.api_keys.router import router as api_keys_router
from crmapi.access.business_units.router import router as business_units_router
from crmapi.access.groups import router as groups
from crmapi.access.policy import PolicyCache
from crmapi.access.sales_reps.router import router as sales_reps_router
from crmapi.accounts import router as accounts
from crmapi.activities.reminders import router as reminders_router
from crmapi.activities.router import router as activities_router
from crmapi.activities.router import services_router as activity_services_router
from crmapi.attachments import storage
from crmapi.attachments.router import router as attachments_router
from crmapi.config.matrix import router as matrix_router
from crmapi.config.router import router as config_router
from crmapi.contacts import router as contacts
from crmapi.conversations.router import router as conversations_router
from crmapi.custom_fields.router import router as custom_fields_router
from crmapi.documents.router import router as documents_router
from crmapi.events.router import declare_webhooks
from crmapi.events.router import router as events_router
from crmapi.events.webhooks_router import router as webhooks_router
from crmapi.feedback import router as feedback
from crmapi.feeds.router import router as feeds_router
from crmapi.identity import router as identity
from crmapi.identity.security import Keys, load_or_create_secret
from crmapi.integrations.router import router as integrations_router
from crmapi.issues import router as issues
from crmapi.issues.type_router import router as issue_types_router
from crmapi.kit import apidocs, contract, embedded, errors, garbage, logs, problem_pages, stopping
from crmapi.kit import methods as routing
from crmapi.kit.db import Database, app_database_url, make_engine, make_sessions
from crmapi.kit.health import router as health_router
from crmapi.kit.limits import BodySizeLimit
from crmapi.kit.logs import RequestIdMiddleware
from crmapi.kit.pagination import Cursors
from crmapi.kit.ratelimit import Limiter
from crmapi.kit.routes import skip_unmatched_routers
from crmapi.leads import router as leads
from crmapi.notes.router import router as notes_router
from crmapi.notifications.router import router as notifications_router
from crmapi.opportunities import router as opportunities
from crmapi.sales_orders.router import router as sales_orders_router
from crmapi.service_requests import router as service_requests
from crmapi.settings import Settings, get_settings
from crmapi.tags.router import router as tags_router
from crmapi.worker.queue import Queue
from crmapi.worker.relay import Relay
from crmapi.worker.runner import run_supervised

log = logging.getLogger("crmapi")
DESCRIPTION = """An API-first CRM: contacts, accounts, leads, opportunities, activities and service requests.

Authenticate with `POST /v1/auth/token` and send `Authorization: Bearer <access_token>`.
Errors are RFC 9457 `application/problem+json`. Lists are cursor-paged.
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    tasks: list[asyncio.Task[None]] = []
    owned: Database | None = None
    if not settings.secret_key:
        # Embedded mode: a generated signing secret kept in the data folder.
        _use_keys(app, settings)
    if app.state.db is None:
        owner_url = settings.database_url
        if owner_url is None:
            owner_url = await asyncio.to_thread(embedded.start_postgres, settings.data_dir)
            from crmapi.kit.migrate import migrate

            await asyncio.to_thread(migrate, owner_url, settings)
            log.info("database: embedded PostgreSQL in %s", (settings.data_dir / "pg").resolve())
        else:
            log.info("database: %s", _redact(owner_url))
        url = app_database_url(settings, owner_url)
        engine = make_engine(url, settings)
        owned = Database(engine=engine, sessions=make_sessions(engine), url=url)
        app.state.db = owned
    if app.state.background:
        redis_url = settings.redis_url
        in_process_worker = (
            redis_url is None if settings.in_process_worker is None else settings.in_process_worker
        )
        if redis_url is None:
            redis_url = await asyncio.to_thread(embedded.start_redis, settings.data_dir)
            log.info("queue: embedded Valkey at %s with an in-process worker", redis_url)
            app.state.limiter = Limiter(redis_url)
        else:
            log.info("queue: %s", _redact(redis_url))
        queue = Queue(redis_url)
        tasks.append(
            asyncio.create_task(
                Relay(
                    app.state.db.sessions, queue, settings.relay_interval_seconds, settings.sweep_grace
                ).run()
            )
        )
        if in_process_worker:
            tasks.append(asyncio.create_task(run_supervised(app.state.db, redis_url, settings)))
        app.state.queue = queue
    if app.state.background:
        garbage.freeze_startup_objects()
    log.info(
        "serving on http://%s:%s (docs at http://%s:%s/docs)",
        settings.host,
        settings.port,
        settings.host,
        settings.port,
    )
    try:
        yield
    finally:
        await stopping.cancel_all(tasks)
        if app.state.background:
            await stopping.close_within("the queue's Redis client", app.state.queue.close())
        await stopping.close_within("the rate limiter's Redis client", app.state.limiter.close())
        await stopping.close_within("the attachment store's client", app.state.storage.close())
        if owned is not None:
            await stopping.close_within("the database pool", owned.engine.dispose())


def _use_keys(app: FastAPI, settings: Settings) -> None:
    keys = Keys(load_or_create_secret(settings.secret_key, settings.data_dir))
    app.state.keys = keys
    app.state.cursors = Cursors(keys.derive("cursor"))


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


def server_process_app() -> FastAPI:
    """The app of one of several server processes (`WORKERS` > 1): logging first, then the app."""
    settings = get_settings()
    logs.configure(settings.log_level)
    return create_app(settings)


def create_app(
    settings: Settings | None = None, *, db: Database | None = None, background: bool = True
) -> FastAPI:
    """Build the app; `db` and `background=False` let tests bring their own database and no tasks."""
    settings = settings or get_settings()
    app = FastAPI(
        title="crmapi",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # No OpenTelemetry here: off, FastAPI skips asking for providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.settings = settings
    app.state.storage = storage.configured(settings)
    app.state.db = db
    app.state.background = background
    app.state.limiter = Limiter(settings.redis_url)
    app.state.policies = PolicyCache()
    if settings.secret_key:
        _use_keys(app, settings)
    errors.install(app)
    routing.install(app)  # innermost: its 405s carry the request id and are logged like any answer
    app.add_middleware(BodySizeLimit)
    app.add_middleware(RequestIdMiddleware)
    apidocs.install(app)
    app.include_router(health_router)
    app.include_router(problem_pages.router)
    routers = (
        identity.auth,
        identity.me,
        identity.organisation,
        identity.members,
        contacts.router,
        accounts.router,
        contacts.accounts_router,
        contacts.notes_router,
        accounts.notes_router,
        leads.notes_router,
        notes_router,
        tags_router,
        contacts.tags_router,
        accounts.tags_router,
        leads.tags_router,
        opportunities.tags_router,
        custom_fields_router,
        business_units_router,
        sales_reps_router,
        api_keys_router,
        groups.capabilities,
        groups.router,
        integrations_router,
        documents_router,
        sales_orders_router,
        config_router,
        issue_types_router,
        matrix_router,
        leads.router,
        opportunities.router,
        activities_router,
        activity_services_router,
        leads.scheduling,
        service_requests.scheduling,
        service_requests.router,
        service_requests.acceptances,
        feedback.router,
        service_requests.rating,
        feedback.public,
        reminders_router,
        conversations_router,
        feeds_router,
        issues.router,
        issues.on_accounts,
        attachments_router,
        notifications_router,
        events_router,
        webhooks_router,
    )
    for router in routers:
        app.include_router(router)
    declare_webhooks(app.webhooks)
    skip_unmatched_routers(app)
    app.openapi = lambda: contract.document(app)  # type: ignore[method-assign]
    return app
