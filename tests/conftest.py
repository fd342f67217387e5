"""Test fixtures: every test runs on SQLite and, when TEST_POSTGRES_URL is set, on
PostgreSQL too. Each database is created fresh for the run, migrated with Alembic
(so the migrations are tested), seeded once, and every test runs inside a
transaction that is rolled back afterwards.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import Settings
from app.core.db import create_engine
from app.core.migrate import upgrade
from app.core.security import create_access_token
from app.main import create_app
from app.models.user import Role
from app.seed.loader import seed
from app.services.user import ensure_account
from tests.smtp import smtp_server  # noqa: F401  (fixture: a real local SMTP server)

PG_ENV = "TEST_POSTGRES_URL"
PG_SKIP = (
    f"PostgreSQL cases skipped: set {PG_ENV}=postgresql+asyncpg://postgres@127.0.0.1:5432/test "
    "to run them too (.ci/run does)"
)
TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256"
PASSWORD = "correct horse battery staple"

# The accounts every test can act as: (email, role, municipality slug).
ACCOUNTS: dict[str, tuple[Role, str | None]] = {
    "platform@example.org": (Role.platform_admin, None),
    "kemijarvi-admin@example.org": (Role.municipality_admin, "kemijarvi"),
    "kemijarvi-editor@example.org": (Role.editor, "kemijarvi"),
    "kemijarvi-comms@example.org": (Role.comms, "kemijarvi"),
    "kemijarvi-guide@example.org": (Role.guide, "kemijarvi"),
    "kemijarvi-juror@example.org": (Role.juror, "kemijarvi"),
    "posio-admin@example.org": (Role.municipality_admin, "posio"),
    "posio-editor@example.org": (Role.editor, "posio"),
}


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get(PG_ENV)
    if url:
        return (
            f"databases: sqlite, postgresql ({make_url(url).render_as_string(hide_password=True)})"
        )
    return f"databases: sqlite only. {PG_SKIP}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without PostgreSQL, its cases are left out with one line saying how to add them."""
    if os.environ.get(PG_ENV):
        return
    postgres = [
        item
        for item in items
        if getattr(item, "callspec", None) is not None
        and item.callspec.params.get("database") == "postgresql"
    ]
    if postgres:
        config.hook.pytest_deselected(items=postgres)
        items[:] = [item for item in items if item not in set(postgres)]
        config.stash[_PG_LEFT_OUT] = len(postgres)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    left_out = config.stash.get(_PG_LEFT_OUT, 0)
    if left_out:
        terminalreporter.write_line(f"{left_out} {PG_SKIP}", yellow=True)


_PG_LEFT_OUT = pytest.StashKey[int]()


@dataclass
class Database:
    dialect: str
    url: str
    settings: Settings
    engine: AsyncEngine
    users: dict[str, uuid.UUID] = field(default_factory=dict)


def make_settings(url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": url,
        "environment": "test",
        "secret_key": TEST_SECRET,
        "cors_origins": ["https://www.kemijarvi.fi", "https://partner.example.org"],
        "login_rate_limit_per_minute": 5,
    }
    values.update(overrides)
    return Settings(**values)


async def create_pg_database(admin_url: str) -> tuple[str, str]:
    """A new, empty PostgreSQL database; returns (its URL, its name)."""
    import asyncpg

    name = f"settle_test_{uuid.uuid4().hex[:10]}"
    base = make_url(admin_url).set(drivername="postgresql")
    connection = await asyncpg.connect(base.render_as_string(hide_password=False))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    url = make_url(admin_url).set(drivername="postgresql+asyncpg", database=name)
    return url.render_as_string(hide_password=False), name


async def drop_pg_database(admin_url: str, name: str) -> None:
    import asyncpg

    base = make_url(admin_url).set(drivername="postgresql")
    connection = await asyncpg.connect(base.render_as_string(hide_password=False))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def fresh_database_url(dialect: str, tmp_path: Path) -> tuple[str, Any]:
    """A URL to a new empty database and a coroutine function that removes it."""
    if dialect == "sqlite":
        path = tmp_path / f"settle-{uuid.uuid4().hex[:8]}.db"

        async def remove_file() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        return f"sqlite+aiosqlite:///{path}", remove_file
    admin_url = os.environ.get(PG_ENV)
    if not admin_url:
        pytest.skip(PG_SKIP)
    url, name = await create_pg_database(admin_url)

    async def remove_database() -> None:
        await drop_pg_database(admin_url, name)

    return url, remove_database


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    dialect: str = request.param
    url, remove = await fresh_database_url(dialect, tmp_path_factory.mktemp(dialect))
    settings = make_settings(url)
    # Alembic's env runs its own event loop, so it gets a thread of its own.
    await asyncio.to_thread(upgrade, settings)
    engine = create_engine(url)
    db = Database(dialect=dialect, url=url, settings=settings, engine=engine)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        await seed(session=session, settings=settings)
        for email, (role, slug) in ACCOUNTS.items():
            user, _ = await ensure_account(
                session=session,
                email=email,
                password=PASSWORD,
                display_name=email.split("@")[0],
                role=role,
                municipality_slug=slug,
            )
            db.users[email] = user.id
        await session.commit()
    yield db
    await engine.dispose()
    await remove()


@pytest.fixture
async def connection(database: Database) -> AsyncIterator[AsyncConnection]:
    """One connection whose outer transaction is rolled back after the test."""
    async with database.engine.connect() as conn:
        transaction = await conn.begin()
        try:
            yield conn
        finally:
            await transaction.rollback()


@pytest.fixture
async def session(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session inside the test's transaction, for arranging and checking data."""
    async with AsyncSession(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    ) as db_session:
        yield db_session


@pytest.fixture
def app(database: Database, connection: AsyncConnection) -> Any:
    def session_factory() -> AsyncSession:
        return AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )

    # The app's own writes reach its cache at once (it forgets what it bumped); a TTL far
    # longer than any test keeps "a warm read touches no database" true on a loaded machine,
    # where a test can take longer than the production TTL of one second.
    settings = database.settings.model_copy(update={"cache_version_ttl_seconds": 300.0})
    return create_app(settings, session_factory=session_factory)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def bearer(database: Database, email: str) -> dict[str, str]:
    token, _ = create_access_token(str(database.users[email]), database.settings)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth(database: Database) -> Any:
    """`auth("platform")` → the Authorization header of that seeded account."""

    def headers(who: str) -> dict[str, str]:
        return bearer(database, f"{who}@example.org")

    return headers


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(database: Database) -> Any:
    """`with count_queries() as counter:` counts the SQL statements sent meanwhile."""

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()

        def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
                counter.statements.append(statement)

        event.listen(database.engine.sync_engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(database.engine.sync_engine, "before_cursor_execute", before)

    return counting


def assert_problem(
    response: httpx.Response, status: int, code: str | None = None
) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status (and code)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("/problems/")
    assert body["title"]
    assert body["detail"]
    if code is not None:
        assert body["code"] == code, body
        assert body["type"] == f"/problems/{code}"
    assert "Traceback" not in response.text
    return body
