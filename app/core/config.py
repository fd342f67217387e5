"""Settings: the one place the environment is read."""

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
    cache_max_entries: int = 4096
    login_rate_limit_per_minute: int = 10
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

    # Shared rate limits for public POSTs across workers (memory when unset).
    redis_url: str | None = None
    public_post_limit_per_minute: int = 20
    manage_link_limit_per_minute: int = 30

    # Bookings, messages and info-package requests are anonymised this many days after
    # their last activity (`settle purge`).
    purge_after_days: int = 365
    # How many weeks ahead a weekly availability rule is expanded into slots.
    slot_rule_weeks: int = 8
    graphql_max_depth: int = 10
    migrations_dir: Path = PROJECT_ROOT / "migrations"
    log_sql: bool = False

    @field_validator("cors_origins", "supported_languages", mode="before")
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

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
