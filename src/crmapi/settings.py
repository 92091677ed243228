"""Configuration from the environment; unset URLs mean embedded servers."""

from __future__ import annotations

import ipaddress
import os
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_ROLE = "crmapi_app"


# PostgreSQL's default max_connections is 100: four processes of DB_POOL_SIZE 20 leave room
# for the job worker, migrations and psql.
MOST_DEFAULT_WORKERS = 4


def default_workers() -> int:
    """One server process a core this process may run on (a container's share, not the host's),
    at most MOST_DEFAULT_WORKERS."""
    return max(1, min(len(os.sched_getaffinity(0)), MOST_DEFAULT_WORKERS))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    # The owner's URL: migrations run with it. The API and worker connect as APP_ROLE.
    database_url: str | None = None
    # Where APP_ROLE connects when it differs from DATABASE_URL with the user swapped.
    app_database_url: str | None = None
    app_db_password: str | None = Field(default=None, description="password given to crmapi_app")
    redis_url: str | None = None
    data_dir: Path = Path(".crmapi")
    secret_key: str | None = None
    access_token_minutes: int = 60
    refresh_token_days: int = 30
    # How long a just-rotated refresh token still answers the same new pair (tabs refreshing at once).
    refresh_grace_seconds: int = Field(default=30, ge=0, le=300)
    # Sign-ins a minute from one address, whatever their body: Argon2 costs ~0.1 s of CPU a call,
    # so at most ~3 s a minute per address, while an office behind one NAT still signs in at nine.
    sign_in_per_minute: int = Field(default=30, ge=1)
    # Reconnect wait suggested to clients when the database is unreachable.
    db_retry_after_seconds: int = 5
    # How long anything waits on PostgreSQL before giving up with 503: to connect, for a pooled
    # connection, for one statement (the server cancels it; the client gives up a moment later),
    # and the whole of `/healthz`.
    db_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    # Connections each server process keeps open to PostgreSQL, and never more: see make_engine.
    db_pool_size: int = Field(default=20, ge=1, le=500)
    db_statement_timeout_seconds: float = Field(default=15.0, gt=0)
    health_timeout_seconds: float = Field(default=2.0, gt=0)
    # How often the relay looks for committed events; with the worker's poll (worker/runner.py)
    # an event reaches a webhook receiver within about half a second of its commit.
    relay_interval_seconds: float = Field(default=0.2, gt=0)
    # Webhooks: plain http only where testing locally; a receiver's answer within the timeout,
    # read up to a limit; retries from the base delay, doubling (with jitter) up to six hours,
    # for the window; an endpoint disabled after that many deliveries in a row were given up.
    webhooks_allow_http: bool = False
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_answer_bytes: int = Field(default=65_536, ge=1024)
    webhook_retry_base_seconds: float = Field(default=30.0, gt=0)
    webhook_retry_window_seconds: float = Field(default=3 * 86_400, gt=0)
    webhook_disable_after: int = Field(default=5, ge=1)
    # A delivery whose job was enqueued is left to it this long before the relay's sweep
    # enqueues it again (the job was lost with Redis, or its worker died).
    webhook_sweep_grace_seconds: float = Field(default=30.0, gt=0)
    # Server processes; more than one shares the embedded servers the first process starts.
    workers: int = Field(default_factory=default_workers, ge=1, le=64)
    # Run the job worker inside the API process: by default when the queue is embedded.
    in_process_worker: bool | None = None
    log_level: str = "INFO"
    # The largest attachment taken (bytes); a request body is at most 20 MB whatever this says.
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1, le=20 * 1024 * 1024 - 65_536)
    # Attachments in an S3-compatible bucket (path-style URLs) when S3_BUCKET is set; else under
    # DATA_DIR/attachments.
    s3_bucket: str = ""
    s3_endpoint_url: str = "https://s3.amazonaws.com"
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    s3_prefix: str = ""

    # The proxy in front: whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or
    # networks, comma-separated; "*" for any). Nobody's by default: a header anyone can send must
    # not choose the address rate limits count.
    forwarded_allow_ips: str = ""

    @property
    def sweep_grace(self) -> timedelta:
        return timedelta(seconds=self.webhook_sweep_grace_seconds)

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _addresses_or_networks(cls, value: str) -> str:
        # uvicorn would take a mistyped address (or a network with host bits) for a host name and
        # trust nobody, silently.
        for item in filter(None, (part.strip() for part in value.split(","))):
            if item != "*":
                ipaddress.ip_network(item)
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
