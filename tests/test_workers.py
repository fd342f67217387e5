"""Two workers, one database: a write through one is seen by the other within the TTL.

Each worker (process) has its own public cache. It trusts the content versions it has
read for at most `CACHE_VERSION_TTL_SECONDS`; after that it reads them again and finds
the other worker's write. Two apps over the same database stand in for two processes.
"""

import asyncio
import os
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


# ---- immediate freshness: the other workers hear of a write at once ---------------------------

# Far longer than any test: a reader that sees the write did not wait for its TTL.
LONG_TTL = 3600.0


async def _served_apps(
    database: Database, tmp_path: Any, **overrides: Any
) -> tuple[list[Any], Any, str]:
    """Apps that own their engines over a fresh, committed database (the suite's shared
    database rolls every test back, and a rolled-back write notifies nobody)."""
    from app.core.migrate import upgrade
    from app.models.user import Role
    from app.seed.loader import seed
    from app.services.user import ensure_account
    from tests.conftest import PASSWORD, fresh_database_url, make_settings

    url, remove = await fresh_database_url(database.dialect, tmp_path)
    settings = make_settings(url, cache_version_ttl_seconds=LONG_TTL, **overrides)
    await asyncio.to_thread(upgrade, settings)
    from app.core.db import create_engine

    engine = create_engine(url)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        await seed(session=session, settings=settings)
        await ensure_account(
            session=session,
            email="writer@example.org",
            password=PASSWORD,
            display_name="Writer",
            role=Role.editor,
            municipality_slug="kemijarvi",
        )
        await session.commit()
    await engine.dispose()
    deaf = settings.model_copy(update={"cache_invalidation": "off"})
    return [create_app(settings), create_app(settings), create_app(deaf)], remove, PASSWORD


async def _write_while_another_worker_reads(
    database: Database, tmp_path: Any, **overrides: Any
) -> None:
    from contextlib import AsyncExitStack

    apps, remove, password = await _served_apps(database, tmp_path, **overrides)
    _, reader_app, _ = apps
    try:
        async with AsyncExitStack() as stack:
            clients = []
            for app in apps:
                await stack.enter_async_context(app.router.lifespan_context(app))
                transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
                clients.append(
                    await stack.enter_async_context(
                        httpx.AsyncClient(transport=transport, base_url="http://worker")
                    )
                )
            writer, reader, deaf = clients
            token = (
                await writer.post(
                    "/api/v1/auth/token",
                    data={"username": "writer@example.org", "password": password},
                )
            ).json()["access_token"]
            staff = {"Authorization": f"Bearer {token}"}
            before = {}
            for name, client in (("reader", reader), ("deaf", deaf)):
                first = await client.get(CARDS, params={"lang": "en"})
                etag = first.headers["etag"]
                again = await client.get(
                    CARDS, params={"lang": "en"}, headers={"If-None-Match": etag}
                )
                assert again.status_code == 304  # warm, and trusted for an hour
                before[name] = (etag, first.json()["items"][0])
            card = before["reader"][1]
            target = f"{CARDS}/{card['id']}"
            card_etag = (await writer.get(target, headers=staff)).headers["etag"]
            heard = reader_app.state.freshness.received
            written = await writer.patch(
                target,
                json={"summary": {"fi": "Muutettu", "en": "Changed on another worker"}},
                headers=staff | {"If-Match": card_etag},
            )
            assert written.status_code == 200, written.text
            # The notice travels over a socket: wait for it (bounded), not for a TTL.
            async with asyncio.timeout(5):
                while reader_app.state.freshness.received == heard:
                    await asyncio.sleep(0.005)
            etag = before["reader"][0]
            after = await reader.get(CARDS, params={"lang": "en"}, headers={"If-None-Match": etag})
            assert after.status_code == 200
            assert after.json()["items"][0]["summary"] == "Changed on another worker"
            # A worker that does not listen still trusts its stale copy: the notice did it.
            etag = before["deaf"][0]
            stale = await deaf.get(CARDS, params={"lang": "en"}, headers={"If-None-Match": etag})
            assert stale.status_code == 304
    finally:
        await remove()


async def test_postgresql_notifies_every_worker_of_a_commit(
    database: Database, tmp_path: Any
) -> None:
    if database.dialect != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; on SQLite the TTL is the rule")
    await _write_while_another_worker_reads(database, tmp_path)


async def test_redis_carries_the_notice_when_configured(database: Database, tmp_path: Any) -> None:
    if database.dialect != "sqlite":
        pytest.skip("the carrier is database-neutral; one run proves it")
    from redis.asyncio import Redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    probe = Redis.from_url(url)
    try:
        await asyncio.wait_for(probe.ping(), timeout=1)
    except Exception:
        pytest.skip(f"no Redis at {url}: set TEST_REDIS_URL to run it")
    finally:
        await probe.aclose()
    await _write_while_another_worker_reads(database, tmp_path, redis_url=url)
