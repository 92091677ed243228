"""The `crmapi` command: serve, migrate, worker, openapi, create-org, demo-data."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from types import FrameType
from typing import Any

from crmapi.kit import embedded, logs
from crmapi.settings import Settings, get_settings

log = logging.getLogger("crmapi.cli")
GRACEFUL_SHUTDOWN_SECONDS = 30  # for requests in flight at a SIGTERM; the lifespan then bounds its own steps


def owner_url(settings: Settings) -> str:
    """DATABASE_URL, or the embedded server's URL with the schema brought up to date."""
    if settings.database_url:
        return settings.database_url
    from crmapi.kit.migrate import migrate

    url = embedded.start_postgres(settings.data_dir)
    migrate(url, settings)
    return url


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    base = f"http://{settings.host}:{settings.port}"
    database = (
        "from DATABASE_URL" if settings.database_url else f"embedded PostgreSQL in {settings.data_dir / 'pg'}"
    )
    queue = "from REDIS_URL" if settings.redis_url else "embedded Valkey with an in-process worker"
    print(
        f"crmapi: starting on {base} (API docs at {base}/docs); database {database}; queue {queue}; "
        f"{settings.workers} server process(es)",
        flush=True,
    )
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": False,
        # Explicit in every mode: uvicorn's default believes the forwarded headers of any local
        # process, so one client could spread its rate limits over addresses it makes up.
        "proxy_headers": bool(settings.forwarded_allow_ips),
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        # A client that keeps a request open must not hold a SIGTERM for good.
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
    }
    # uvicorn ends a graceful shutdown by raising the signal again under the handler it found:
    # with the default one, SIGTERM kills the process before exit handlers stop the embedded
    # PostgreSQL and Valkey, which then outlive it. This one turns it into a normal exit.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    if settings.workers == 1:
        from crmapi.app import create_app

        uvicorn.run(create_app(settings), **options)
        return
    _share_embedded_servers(settings)
    uvicorn.run("crmapi.app:server_process_app", factory=True, workers=settings.workers, **options)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _share_embedded_servers(settings: Settings) -> None:
    """Start what is embedded here, once, and point the server processes at it through the environment."""
    from crmapi.identity.security import load_or_create_secret
    from crmapi.kit.migrate import migrate

    if settings.database_url is None:
        url = embedded.start_postgres(settings.data_dir)
        migrate(url, settings)
        os.environ["DATABASE_URL"] = url
    if settings.redis_url is None:
        os.environ["REDIS_URL"] = embedded.start_redis(settings.data_dir)
        if settings.in_process_worker is None:
            os.environ["IN_PROCESS_WORKER"] = "true"
    if settings.secret_key is None:
        # Created before the processes start, so they do not race to write different ones.
        load_or_create_secret(None, settings.data_dir)


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> None:
    from crmapi.kit.migrate import migrate

    url = settings.database_url or embedded.start_postgres(settings.data_dir)
    migrate(url, settings)
    print("crmapi: schema is up to date; role crmapi_app is ready", flush=True)


def cmd_worker(settings: Settings, args: argparse.Namespace) -> None:
    from crmapi.kit.db import Database, app_database_url, make_engine, make_sessions
    from crmapi.worker.queue import Queue
    from crmapi.worker.relay import Relay
    from crmapi.worker.runner import run_supervised

    url = app_database_url(settings, owner_url(settings))
    redis_url = settings.redis_url or embedded.start_redis(settings.data_dir)

    async def run() -> None:
        engine = make_engine(url, settings, pool_size=5)
        db = Database(engine=engine, sessions=make_sessions(engine), url=url)
        queue = Queue(redis_url)
        log.info("worker started: relay and jobs on %s", redis_url)
        try:
            await asyncio.gather(
                Relay(db.sessions, queue, settings.relay_interval_seconds, settings.sweep_grace).run(),
                run_supervised(db, redis_url, settings),
            )
        finally:
            await queue.close()
            await engine.dispose()

    with suppress(KeyboardInterrupt):
        asyncio.run(run())


def cmd_openapi(settings: Settings, args: argparse.Namespace) -> None:
    from crmapi.app import create_app

    json.dump(create_app(settings).openapi(), sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")


def cmd_create_org(settings: Settings, args: argparse.Namespace) -> None:
    from crmapi.identity.service import create_organisation
    from crmapi.kit.db import app_database_url, make_engine, make_sessions

    url = app_database_url(settings, owner_url(settings))

    async def run() -> dict[str, str]:
        engine = make_engine(url, settings, pool_size=1)
        try:
            async with make_sessions(engine)() as session, session.begin():
                org, member = await create_organisation(
                    session,
                    name=args.name,
                    admin_email=args.admin_email,
                    admin_password=args.admin_password,
                    currency=args.currency,
                )
                return {
                    "organisation_id": str(org.id),
                    "member_id": str(member.id),
                    "admin_email": args.admin_email,
                }
        finally:
            await engine.dispose()

    print(json.dumps(asyncio.run(run())), flush=True)


def _loading(settings: Settings) -> Settings:
    """A bulk load's statements may run far longer than a request's."""
    return settings.model_copy(update={"db_statement_timeout_seconds": 3600.0})


async def _analyze(url: str, settings: Settings) -> None:
    """Fresh statistics, so the first queries on a bulk load get index plans, not guesses."""
    from sqlalchemy import text

    from crmapi.kit.db import make_engine

    engine = make_engine(url, _loading(settings), pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()


def cmd_demo_data(settings: Settings, args: argparse.Namespace) -> None:
    from crmapi.attachments import storage
    from crmapi.demo.data import PASSWORD, load
    from crmapi.kit.db import app_database_url, make_engine, make_sessions

    started = time.perf_counter()
    owner = owner_url(settings)
    url = app_database_url(settings, owner)

    async def run() -> dict[str, object]:
        engine = make_engine(url, _loading(settings), pool_size=1)
        try:
            loading = time.perf_counter()
            async with make_sessions(engine)() as session, session.begin():
                demo = await load(
                    session,
                    seed=args.seed,
                    contacts=args.contacts,
                    accounts=args.accounts,
                    store=storage.configured(settings),
                )
            loaded = time.perf_counter() - loading
        finally:
            await engine.dispose()
        await _analyze(owner, settings)
        customer = demo.customers[0]
        return {
            "organisation_id": str(demo.organisation_id),
            "organisation": demo.name,
            "admin": {"email": demo.admin.email, "password": PASSWORD},
            "staff": {"email": demo.staff[0].email, "password": PASSWORD},
            "customer": {
                "email": customer.email,
                "password": PASSWORD,
                "assigned_accounts": len(demo.assigned[customer.member_id]),
            },
            "counts": demo.counts,
            # The whole command (with an embedded server's start and migration) and the load alone.
            "seconds": round(time.perf_counter() - started, 2),
            "load_seconds": round(loaded, 2),
        }

    print(json.dumps(asyncio.run(run()), ensure_ascii=False, indent=2), flush=True)


def _at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        return value

    return parse


def _valid(kind: str) -> Callable[[str], str]:
    """An argument checked as the API checks its `kind` (`email`, `currency`), so an organisation
    created here holds nothing the API would refuse."""

    def parse(text: str) -> str:
        from crmapi.kit import scalars

        check = {"email": scalars.email_address, "currency": scalars.currency_code}[kind]
        try:
            return check(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc

    return parse


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="crmapi", description="An API-first CRM backend.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the API (embedded PostgreSQL and Valkey unless URLs are set)")
    sub.add_parser("migrate", help="bring the schema up to date and create the crmapi_app role")
    sub.add_parser("worker", help="run the outbox relay and the job worker")
    sub.add_parser("openapi", help="print the OpenAPI document")
    org = sub.add_parser("create-org", help="create an organisation and its administrator")
    org.add_argument("--name", required=True)
    org.add_argument("--admin-email", required=True, type=_valid("email"))
    org.add_argument("--admin-password", required=True)
    org.add_argument("--currency", default="EUR", type=_valid("currency"))
    demo = sub.add_parser(
        "demo-data",
        help="create a new organisation 'Demo <n>' full of realistic demo data and print its sign-ins",
        description="Creates 'Demo <n>' (a new one each run): 12 staff (one administrator), 4 customer "
        "members, contacts, accounts, notes, tags and custom fields, each record with a 'created' "
        "history row. No outbox rows are written, so webhooks and other event consumers never hear of "
        "demo data. Every member's password is 'demo-password-1'.",
    )
    demo.add_argument("--seed", type=int, default=1, help="the same seed gives the same data (default 1)")
    demo.add_argument("--contacts", type=_at_least(10), default=2000, help="default 2000")
    demo.add_argument("--accounts", type=_at_least(5), default=500, help="default 500")
    args = parser.parse_args(argv)
    settings = get_settings()
    logs.configure(settings.log_level)
    commands = {
        "serve": cmd_serve,
        "migrate": cmd_migrate,
        "worker": cmd_worker,
        "openapi": cmd_openapi,
        "create-org": cmd_create_org,
        "demo-data": cmd_demo_data,
    }
    try:
        commands[args.command](settings, args)
    except Exception as exc:
        if args.command == "serve":
            raise
        log.error("%s failed: %s", args.command, exc)
        raise SystemExit(1) from exc


if __name__ == "__main__":
    main()
