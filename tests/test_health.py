"""Health: /healthz is the process, /readyz the database and its migrations."""

from typing import Any

import httpx
from fastapi import FastAPI

from app.core.db import create_session_factory
from app.main import create_app
from tests.conftest import Database, assert_problem


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.json() == {"status": "ok"}


async def test_readyz_when_migrated(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


async def test_readyz_is_503_when_migrations_are_behind(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    app.state.migration_head = "9999_future"
    body = assert_problem(await client.get("/readyz"), 503, "unavailable")
    assert "settle migrate" in body["detail"]


async def test_readyz_is_503_when_the_database_is_unreachable(database: Database) -> None:
    from app.core.db import create_engine

    url = (
        "postgresql+asyncpg://nobody@127.0.0.1:1/none"
        if database.dialect == "postgresql"
        else "sqlite+aiosqlite:////nonexistent-dir/settle.db"
    )
    engine = create_engine(url)
    app: Any = create_app(database.settings, session_factory=create_session_factory(engine))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        body = assert_problem(await client.get("/readyz"), 503, "unavailable")
    assert "unreachable" in body["detail"]
    await engine.dispose()
