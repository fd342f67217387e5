"""Two workers, one database: a write through one is seen by the other within the TTL.

Each worker (process) has its own public cache. It trusts the content versions it has
read for at most `CACHE_VERSION_TTL_SECONDS`; after that it reads them again and finds
the other worker's write. Two apps over the same database stand in for two processes.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from app.main import create_app
from tests.conftest import Database

CARDS = "/api/v1/municipalities/kemijarvi/service-cards"
TTL = 0.3


@pytest.fixture
async def workers(
    database: Database, connection: AsyncConnection
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    settings = database.settings.model_copy(update={"cache_version_ttl_seconds": TTL})

    def session_factory() -> AsyncSession:
        return AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )

    apps = [create_app(settings, session_factory=session_factory) for _ in range(2)]
    transports = [httpx.ASGITransport(app=app, raise_app_exceptions=False) for app in apps]
    async with (
        httpx.AsyncClient(transport=transports[0], base_url="http://one") as one,
        httpx.AsyncClient(transport=transports[1], base_url="http://two") as two,
    ):
        yield one, two


async def test_a_write_on_one_worker_reaches_the_others_cache_within_the_ttl(
    workers: tuple[httpx.AsyncClient, httpx.AsyncClient], auth: Any
) -> None:
    writer, reader = workers
    before = await reader.get(CARDS, params={"lang": "en"})
    etag = before.headers["etag"]
    cached = await reader.get(CARDS, params={"lang": "en"}, headers={"If-None-Match": etag})
    assert cached.status_code == 304  # the reader's cache is warm

    card = before.json()["items"][0]
    target = f"{CARDS}/{card['id']}"
    card_etag = (await writer.get(target, headers=auth("kemijarvi-editor"))).headers["etag"]
    patch = {"summary": {"fi": "Toisen työntekijän muutos", "en": "Changed on the other worker"}}
    written = await writer.patch(
        target, json=patch, headers={**auth("kemijarvi-editor"), "If-Match": card_etag}
    )
    assert written.status_code == 200, written.text

    await asyncio.sleep(TTL * 1.5)
    after = await reader.get(CARDS, params={"lang": "en"}, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["etag"] != etag
    assert after.json()["items"][0]["summary"] == "Changed on the other worker"
