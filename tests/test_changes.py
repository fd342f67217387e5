"""The change log: every public change is one row, in commit order per municipality."""

import asyncio
import random
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.i18n import I18nText
from app.models.change import ChangeEvent
from app.models.municipality import Municipality
from app.services import changes
from tests.conftest import Database


@pytest.fixture
async def town(database: Database) -> AsyncIterator[uuid.UUID]:
    """A municipality of its own, committed (the racing writers need their own
    transactions) and removed with its change log afterwards."""
    code = f"{random.randrange(1000):03d}"
    async with AsyncSession(database.engine, expire_on_commit=False) as session:
        row = Municipality(slug=f"race-{uuid.uuid4().hex[:8]}", code=code, name=I18nText(fi="Kisa"))
        session.add(row)
        await session.commit()
    yield row.id
    async with AsyncSession(database.engine) as session:
        await session.exec(delete(Municipality).where(col(Municipality.id) == row.id))  # type: ignore[call-overload]
        await session.commit()


async def _record(session: AsyncSession, town: uuid.UUID, action: str = "updated") -> ChangeEvent:
    card = uuid.uuid4()
    return await changes.record(
        session=session,
        municipality_id=town,
        kind="service_card",
        resource_id=card,
        action=action,
        event=f"service_card.{action}",
        revision=1,
        path=f"/api/v1/municipalities/race/service-cards/{card}",
    )


async def test_a_recorded_change_commits_with_its_transaction_or_not_at_all(
    database: Database, town: uuid.UUID
) -> None:
    async with AsyncSession(database.engine, expire_on_commit=False) as session:
        kept = await _record(session, town, "published")
        await session.commit()
    async with AsyncSession(database.engine, expire_on_commit=False) as session:
        await _record(session, town, "deleted")
        await session.rollback()
    async with AsyncSession(database.engine) as session:
        rows = (
            await session.exec(select(ChangeEvent).where(ChangeEvent.municipality_id == town))
        ).all()
    assert [(row.seq, row.action, row.event) for row in rows] == [
        (kept.seq, "published", "service_card.published")
    ]
    assert rows[0].occurred_at.tzinfo is not None


async def test_racing_writers_commit_in_seq_order_so_a_tailing_reader_misses_nothing(
    database: Database, town: uuid.UUID
) -> None:
    """Writers record a change, then dawdle before committing, while a reader keeps
    reading `seq > last seen` as the feed does. Had a later seq committed before an
    earlier one, the reader would have moved past the earlier one and never seen it."""
    done = asyncio.Event()
    seen: list[int] = []

    async def writer(count: int) -> None:
        for _ in range(count):
            async with AsyncSession(database.engine, expire_on_commit=False) as session:
                await _record(session, town)
                await asyncio.sleep(random.uniform(0, 0.01))
                await session.commit()

    async def reader() -> None:
        while True:
            finished = done.is_set()
            async with AsyncSession(database.engine) as session:
                statement = (
                    select(ChangeEvent.seq)
                    .where(ChangeEvent.municipality_id == town)
                    .where(col(ChangeEvent.seq) > (seen[-1] if seen else 0))
                    .order_by(col(ChangeEvent.seq))
                )
                seen.extend(seq for seq in (await session.exec(statement)).all() if seq)
            if finished:
                return
            await asyncio.sleep(0)

    tail = asyncio.create_task(reader())
    await asyncio.gather(*(writer(15) for _ in range(6)))
    done.set()
    await tail
    async with AsyncSession(database.engine) as session:
        everything = (
            await session.exec(
                select(ChangeEvent.seq)
                .where(ChangeEvent.municipality_id == town)
                .order_by(col(ChangeEvent.seq))
            )
        ).all()
    assert len(everything) == 90
    assert seen == everything
