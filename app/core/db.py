"""Database engine and sessions for SQLite (development, tests) and PostgreSQL (production).

One unit of work per request: services only flush; the request's session dependency
commits when the handler succeeded and rolls back otherwise.
"""

from collections.abc import Callable
from typing import Any

import orjson
import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

# Constraint names are part of the schema: without a convention, SQLite batch
# migrations cannot drop what they cannot name, and names differ between databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

# JSON everywhere, stored as JSONB on PostgreSQL (indexable, compact).
JSONType = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

SessionFactory = Callable[[], AsyncSession]


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def create_engine(url: str, *, echo: bool = False, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets foreign keys, WAL and real SAVEPOINT support.

    JSON columns are (de)serialised with orjson: a page of cards holds ~1 000 JSON
    values, and the standard library's decoder was a measurable share of a cold read.
    """
    kwargs.setdefault("json_serializer", _json_dumps)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, echo=echo, **kwargs)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin;
        # otherwise SAVEPOINT and rollback of DDL do not work.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A write transaction starts IMMEDIATE (see `begin_writing`): a deferred one that
        # tries to write after another writer has committed fails with "database is
        # locked" at once, busy_timeout or not, while IMMEDIATE simply waits its turn.
        immediate = connection.get_execution_options().get(SQLITE_BEGIN) == "IMMEDIATE"
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


SQLITE_BEGIN = "sqlite_begin"


async def begin_writing(session: AsyncSession) -> None:
    """Start a session that is going to write. On SQLite its transaction takes the write
    lock up front, so concurrent writers queue (up to busy_timeout) instead of the later
    ones failing; elsewhere, and on a session bound to a connection already in a
    transaction (the tests'), nothing happens."""
    bind = session.bind
    if isinstance(bind, AsyncEngine) and bind.dialect.name == "sqlite":
        await session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions that keep loaded objects usable after commit (responses are built then)."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


class PydanticJSON(sa.types.TypeDecorator[Any]):
    """A JSON column holding a pydantic type (a model, a list of models, ...).

    Rows carry validated objects, so services never juggle raw dicts, and what is
    written is exactly the model's JSON form.
    """

    impl = JSONType
    cache_ok = True

    def __init__(self, python_type: Any) -> None:
        super().__init__()
        self.pydantic_type = python_type
        self._adapter: TypeAdapter[Any] = TypeAdapter(python_type)

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        return self._adapter.dump_python(value, mode="json", exclude_none=True)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        return self._adapter.validate_python(value)


def json_array_contains(column: Any, value: str, dialect: str) -> Any:
    """A portable `value in column` for a JSON array column (JSONB containment on
    PostgreSQL, json_each on SQLite)."""
    if dialect == "postgresql":
        return sa.cast(column, JSONB).contains([value])
    each = sa.func.json_each(column).table_valued("value")
    return sa.exists(sa.select(sa.literal(1)).select_from(each).where(each.c.value == value))


async def execute(session: AsyncSession, statement: Any, params: Any = None) -> Any:
    """Run a Core statement (column selects, DML) through the session, with autoflush.

    SQLModel's `exec` is for entity selects; its `execute` warns, so the plain
    SQLAlchemy method is called directly.
    """
    from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession

    return await SAAsyncSession.execute(session, statement, params)
