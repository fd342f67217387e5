"""Migrations: up, down and up again on a fresh database, and no drift from the models."""

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import app.models  # noqa: F401
from app.core.db import create_engine
from app.core.migrate import downgrade, include_object, upgrade
from tests.conftest import Database, fresh_database_url, make_settings


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    return names - {"alembic_version"}


async def _drift(url: str) -> list[Any]:
    engine = create_engine(url)

    def compare(sync_connection: Any) -> list[Any]:
        context = MigrationContext.configure(
            sync_connection, opts={"compare_type": True, "include_object": include_object}
        )
        return list(compare_metadata(context, SQLModel.metadata))

    async with engine.connect() as connection:
        diff = await connection.run_sync(compare)
    await engine.dispose()
    return diff


async def test_upgrade_downgrade_upgrade_and_no_drift(database: Database, tmp_path: Path) -> None:
    url, remove = await fresh_database_url(database.dialect, tmp_path)
    settings = make_settings(url)
    try:
        await asyncio.to_thread(upgrade, settings)
        assert set(SQLModel.metadata.tables) <= await _tables(url)
        await asyncio.to_thread(downgrade, settings)
        assert await _tables(url) == set()
        await asyncio.to_thread(upgrade, settings)
        assert await _drift(url) == []
    finally:
        await remove()


@pytest.mark.parametrize("table", sorted(SQLModel.metadata.tables))
def test_every_table_has_named_constraints(table: str) -> None:
    for constraint in SQLModel.metadata.tables[table].constraints:
        assert constraint.name, f"{table} has an unnamed {type(constraint).__name__}"
