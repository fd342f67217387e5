"""The UTC column type refuses naive datetimes and always returns aware UTC."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import StatementError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.municipality import Municipality


async def _posio(session: AsyncSession) -> Municipality:
    return (await session.exec(select(Municipality).where(col(Municipality.slug) == "posio"))).one()


async def test_naive_datetime_is_refused(session: AsyncSession) -> None:
    posio = await _posio(session)
    posio.updated_at = datetime(2026, 3, 29, 3, 30)  # noqa: DTZ001 - the point of the test
    session.add(posio)
    with pytest.raises(StatementError, match="naive datetime"):
        await session.flush()


async def test_aware_datetime_round_trips_as_utc(session: AsyncSession) -> None:
    posio = await _posio(session)
    helsinki_summer = timezone(timedelta(hours=3))
    posio.updated_at = datetime(2026, 10, 25, 3, 30, tzinfo=helsinki_summer)
    session.add(posio)
    await session.flush()
    session.expunge_all()
    reloaded = await _posio(session)
    assert reloaded.updated_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert reloaded.updated_at.tzinfo == UTC
