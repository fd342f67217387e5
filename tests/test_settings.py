"""Settings: production refuses an unsafe secret; lists read from the environment."""

from typing import Any

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


def test_public_base_url_follows_host_and_port_when_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On port 8101 the fixed default (:8000) made the mover's manage link and the HSDS
    openapi_url dead."""
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("PORT", "8101")
    assert Settings(_env_file=None).public_base_url == "http://127.0.0.1:8101"  # type: ignore[call-arg]
    assert Settings(host="0.0.0.0", port=9000).public_base_url == "http://127.0.0.1:9000"
    assert Settings(host="::1", port=9000).public_base_url == "http://[::1]:9000"
    chosen = Settings(port=9000, public_base_url="https://settle.example.org")
    assert chosen.public_base_url == "https://settle.example.org"


async def test_links_in_responses_point_at_the_serving_port(database: Any) -> None:
    import httpx

    from app.main import create_app
    from tests.conftest import make_settings

    settings = make_settings(database.url, port=8101, public_base_url="")
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        root = (await client.get("/api/v1/municipalities/kemijarvi/hsds/en/")).json()
    assert root["openapi_url"] == "http://127.0.0.1:8101/openapi.json"


def test_settle_serve_port_flag_feeds_the_public_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """`settle serve --port 8101` used to leave links pointing at :8000."""
    from app.cli import build_parser, serving_settings
    from app.core.config import get_settings

    for name in ("PUBLIC_BASE_URL", "HOST", "PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOST", "127.0.0.1")  # restored (with PORT) when the test ends
    monkeypatch.setenv("PORT", "8000")
    try:
        settings = serving_settings(build_parser().parse_args(["serve", "--port", "8101"]))
        assert settings.port == 8101
        assert settings.public_base_url == "http://127.0.0.1:8101"
    finally:
        get_settings.cache_clear()
