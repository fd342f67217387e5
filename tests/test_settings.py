"""Settings: production refuses an unsafe secret; lists read from the environment."""

import pytest
from pydantic import ValidationError

from app.core.config import DEFAULT_SECRET_KEY, Settings


def test_production_refuses_the_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment="production", secret_key="short")


def test_production_starts_with_a_real_secret() -> None:
    settings = Settings(environment="production", secret_key="x" * 40)
    assert settings.secret_key != DEFAULT_SECRET_KEY


def test_development_allows_the_default_secret() -> None:
    assert Settings(environment="development").secret_key == DEFAULT_SECRET_KEY


def test_cors_origins_are_read_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://www.kemijarvi.fi, https://www.posio.fi")
    monkeypatch.setenv("PORT", "9000")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.cors_origins == ["https://www.kemijarvi.fi", "https://www.posio.fi"]
    assert settings.port == 9000


def test_default_database_is_a_sqlite_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert Settings(_env_file=None).database_url.startswith("sqlite+aiosqlite:///")  # type: ignore[call-arg]
