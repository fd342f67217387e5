"""Seeding is idempotent: a second run changes nothing."""

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.municipality import Municipality
from app.seed.loader import seed
from tests.conftest import Database


async def test_seeding_twice_changes_nothing(session: AsyncSession, database: Database) -> None:
    before = {m.slug: (m.updated_at, m.version) for m in await session.exec(select(Municipality))}
    report = await seed(session=session, settings=database.settings)
    assert not report.changed, report
    after = {m.slug: (m.updated_at, m.version) for m in await session.exec(select(Municipality))}
    assert after == before
    assert set(after) == {"kemijarvi", "posio", "keminmaa"}


async def test_seed_restores_edited_facts(session: AsyncSession, database: Database) -> None:
    posio = (
        await session.exec(select(Municipality).where(col(Municipality.slug) == "posio"))
    ).one()
    posio.code = "999"
    session.add(posio)
    await session.flush()
    report = await seed(session=session, settings=database.settings)
    assert report.updated == ["municipality posio (code)"]
    await session.refresh(posio)
    assert posio.code == "614"
