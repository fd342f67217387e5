"""Settings: the one place the environment is read."""

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SECRET_KEY = "change-me-in-production"  # noqa: S105 - the value production refuses


class Settings(BaseSettings):
    """Every variable is documented in `.env.example`."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///./settle.db"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    # Empty: derived from HOST and PORT (see _derive_public_base_url), so links in
    # emails and responses point at the server that made them.
    public_base_url: str = ""
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    secret_key: str = DEFAULT_SECRET_KEY
    jwt_issuer: str = "settle"
    jwt_audience: str = "settle-api"
    access_token_minutes: int = 60

    first_admin_email: str | None = None
    first_admin_password: str | None = None

    supported_languages: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["fi", "sv", "en"]
    )
    # How long a worker trusts its in-memory copy of the content versions; it bounds
    # how late another worker's write becomes visible on cached public reads.
    cache_version_ttl_seconds: float = 1.0
    # How a write reaches the other workers' caches at once (app.api.freshness): auto is
    # Redis pub/sub when REDIS_URL is set, else PostgreSQL LISTEN/NOTIFY on PostgreSQL,
    # else nothing (the TTL alone).
    cache_invalidation: Literal["auto", "redis", "postgresql", "off"] = "auto"
    cache_max_entries: int = 4096
    login_rate_limit_per_minute: int = 10
    # Sign-in attempts per client address over all emails: one password sprayed across
    # many accounts. Above the per-email limit, so one colleague mistyping behind an
    # office NAT does not lock the whole office out.
    login_rate_limit_per_address_per_minute: int = 30
    # The reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (IPs or
    # CIDR networks; "*" trusts anyone, so any client picks its own address). Empty:
    # no proxy is trusted and the client is the TCP peer.
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # A card not verified for this many days is "stale" and listed for its editors.
    stale_after_days: int = 180

    # Email: delivered over SMTP when SMTP_URL is set (smtp://user:pw@host:587,
    # smtps://... for implicit TLS), otherwise logged. Always written to the outbox first.
    smtp_url: str | None = None
    mail_from: str = "Settle <no-reply@settle.invalid>"
    # Where a mover's manage link points. {slug}, {booking_id} and {token} are filled in;
    # unset, it is this API's own booking URL.
    manage_url_template: str | None = None
    unsubscribe_url_template: str | None = None

    # Webhooks may target loopback, private and link-local addresses (for local testing).
    # Unset: allowed in development and test, refused in production, both when a
    # subscription is created and at every delivery (app/core/netguard.py).
    webhooks_allow_private_urls: bool | None = None

    # Shared rate limits for public POSTs across workers (memory when unset).
    redis_url: str | None = None
    public_post_limit_per_minute: int = 20
    manage_link_limit_per_minute: int = 30

    # Bookings, messages and info-package requests are anonymised this many days after
    # their last activity (`settle purge`).
    purge_after_days: int = 365
    # Tombstones and the change feed reach back this many days; an older `modified_since`
    # or feed cursor is a 410 `sync-expired` (the log is purged a day later, `settle purge`).
    change_retention_days: int = Field(default=90, ge=1)
    # How many weeks ahead a weekly availability rule is expanded into slots.
    slot_rule_weeks: int = 8
    # GraphQL limits, checked before graphql-core's validation (app/graphql/limits.py):
    # over one, a request is refused (400 query-too-complex) before anything runs.
    graphql_max_depth: int = 10
    graphql_max_query_length: int = 20_000  # characters of the query document
    graphql_max_tokens: int = 2_000  # lexical tokens of the query document
    graphql_max_fields: int = 1_000  # fields, every fragment spread expanded
    graphql_max_aliases: int = 30
    graphql_max_directives: int = 50
    graphql_max_cost: int = 10_000  # a field counts once per item of each page it is in
    # Request bodies are refused with 413 past these sizes, as they stream; the larger
    # one is for the import routes (stories, analytics), whose files are documented as
    # up to 5 MB.
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    max_import_body_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    migrations_dir: Path = PROJECT_ROOT / "migrations"
    log_sql: bool = False

    # Logs: `text` for a person at a terminal, `json` (one object a line) for a log
    # shipper. The app writes the access log itself, with secrets redacted.
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    access_log: bool = True
    # /metrics (Prometheus): with a token, only `Authorization: Bearer <token>` is let in.
    # Without one it is open in development and off in production, unless
    # METRICS_ENABLED says otherwise (false: off everywhere; true: open).
    metrics_token: str | None = None
    metrics_enabled: bool | None = None

    @field_validator("cors_origins", "supported_languages", "forwarded_allow_ips", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("supported_languages")
    @classmethod
    def _finnish_first(cls, value: list[str]) -> list[str]:
        if "fi" not in value:
            raise ValueError("supported_languages must include 'fi', the fallback language")
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _addresses_or_networks(cls, value: list[str]) -> list[str]:
        """uvicorn would keep a mistyped entry as a name that never matches, so the proxy
        would silently not be trusted; refuse it at start-up instead."""
        if "*" in value:
            if value != ["*"]:
                raise ValueError("forwarded_allow_ips: '*' trusts everyone; list nothing else")
            return value
        for entry in value:
            try:
                ipaddress.ip_network(entry)  # a bare address is a one-address network
            except ValueError as error:
                raise ValueError(f"forwarded_allow_ips: {error}") from None
        return value

    @model_validator(mode="after")
    def _derive_public_base_url(self) -> "Settings":
        """Unset, the links point at HOST:PORT (a wildcard host at the loopback): on
        port 8101 a fixed default of :8000 made every manage link dead."""
        if not self.public_base_url:
            host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)
            if ":" in host:
                host = f"[{host}]"
            self.public_base_url = f"http://{host}:{self.port}"
        return self

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> "Settings":
        if self.environment == "production" and (
            self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 32
        ):
            raise ValueError(
                "SECRET_KEY must be set to a random value of at least 32 characters "
                "when ENVIRONMENT=production"
            )
        return self

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def metrics_mode(self) -> Literal["off", "open", "token"]:
        """Whether /metrics exists and who may read it (see the settings above)."""
        if self.metrics_enabled is False:
            return "off"
        if self.metrics_token:
            return "token"
        if self.metrics_enabled or self.environment != "production":
            return "open"
        return "off"

    @property
    def allow_private_webhook_urls(self) -> bool:
        """Whether webhook URLs may resolve to non-public addresses (see the setting)."""
        if self.webhooks_allow_private_urls is None:
            return self.environment != "production"
        return self.webhooks_allow_private_urls

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
