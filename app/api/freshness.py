"""Cross-worker freshness: every worker drops a stale content version the moment
another commits a write, instead of trusting its copy for `CACHE_VERSION_TTL_SECONDS`.

Two carriers, chosen by `CACHE_INVALIDATION` (default `auto`):
- Redis pub/sub when `REDIS_URL` is set: after its commit, the writing worker publishes
  the bumped `(scope, kind)` keys; every worker, on any machine, forgets them.
- PostgreSQL LISTEN/NOTIFY otherwise, on PostgreSQL: `content_version.bump` sends a
  NOTIFY inside the writer's own transaction, and PostgreSQL delivers it only when (and
  if) that transaction commits. Every writer notifies, the CLI and the outbox worker too,
  and a rolled-back write tells nobody.
On SQLite (one machine, usually one worker) nothing carries: the TTL is the rule.

The TTL stays as the safety net. A listener that loses its connection clears every
version it holds when it is back (it may have missed notices) and retries with backoff.
"""

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy.engine import make_url

from app.api.caching import PublicCache
from app.core.config import Settings
from app.services.content_version import NOTIFY_CHANNEL, VersionKey

log = logging.getLogger("settle.freshness")

REDIS_CHANNEL = "settle:content-versions"
_RETRY_SECONDS = (0.5, 1, 2, 5, 10)


def encode(keys: Iterable[VersionKey]) -> str:
    """`scope kind` per line: neither a scope (a UUID or "global") nor a kind holds a
    space or a newline."""
    return "\n".join(f"{scope} {kind}" for scope, kind in keys)


def decode(payload: str) -> list[VersionKey]:
    keys = []
    for line in payload.splitlines():
        scope, _, kind = line.partition(" ")
        if scope and kind:
            keys.append((scope, kind))
    return keys


class Carrier(Protocol):
    """What the app holds: started with the app, told of each request's commit."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def committed(self, keys: Iterable[VersionKey]) -> None: ...


class _Listener(ABC):
    """The part both carriers share: a task that listens, and what it does on a notice."""

    def __init__(self, cache: PublicCache) -> None:
        self.cache = cache
        self.received = 0  # notices taken, for the tests and the curious
        self._task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=type(self).__name__)
        # Serve at once even if the carrier is down; the TTL covers until it is back.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ready.wait(), timeout=5)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def deliver(self, payload: str) -> None:
        self.cache.versions.forget(decode(payload))
        self.received += 1

    async def _run(self) -> None:
        attempt = 0
        while True:
            try:
                await self._listen()
                attempt = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a lost connection: retry, never crash the app
                self.ready.clear()
                delay = _RETRY_SECONDS[min(attempt, len(_RETRY_SECONDS) - 1)]
                attempt += 1
                log.warning("version notices interrupted (%s); retrying in %ss", error, delay)
                await asyncio.sleep(delay)

    def connected(self) -> None:
        # Notices may have been missed while away: trust no version read before now.
        self.cache.versions.clear()
        self.ready.set()

    @abstractmethod
    async def _listen(self) -> None:
        """Take notices until the connection is lost, then raise (`_run` retries)."""


class PostgresListener(_Listener):
    """LISTEN on a connection of its own (not the pool's): asyncpg calls back on each
    notice; the loop below only watches that the connection stays alive."""

    def __init__(self, cache: PublicCache, database_url: str) -> None:
        super().__init__(cache)
        url = make_url(database_url).set(drivername="postgresql")
        self.dsn = url.render_as_string(hide_password=False)

    async def committed(self, keys: Iterable[VersionKey]) -> None:
        """Nothing to send: PostgreSQL delivered the notice with the commit itself."""
        return None

    async def _listen(self) -> None:
        import asyncpg

        connection = await asyncpg.connect(self.dsn)
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())

        def on_notice(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
            self.deliver(payload)

        try:
            await connection.add_listener(NOTIFY_CHANNEL, on_notice)
            self.connected()
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), timeout=30)
                if not lost.is_set():
                    await connection.execute("SELECT 1")  # finds a dead peer
            raise ConnectionError("the LISTEN connection closed")
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), timeout=2)


class RedisCarrier(_Listener):
    """Publish after commit, subscribe for everyone's."""

    def __init__(self, cache: PublicCache, redis_url: str) -> None:
        super().__init__(cache)
        from redis.asyncio import Redis  # imported only when Redis is configured

        self.redis: Any = Redis.from_url(redis_url, decode_responses=True)

    async def committed(self, keys: Iterable[VersionKey]) -> None:
        payload = encode(keys)
        if not payload:
            return
        try:
            await self.redis.publish(REDIS_CHANNEL, payload)
        except Exception as error:  # the write is committed; the TTL covers the others
            log.warning("could not publish version notice: %s", error)

    async def _listen(self) -> None:
        pubsub = self.redis.pubsub()
        try:
            await pubsub.subscribe(REDIS_CHANNEL)
            self.connected()
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    self.deliver(message["data"])
            raise ConnectionError("the Redis subscription ended")
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def stop(self) -> None:
        await super().stop()
        with contextlib.suppress(Exception):
            await self.redis.aclose()


class NoCarrier:
    """SQLite, or `CACHE_INVALIDATION=off`: the TTL alone."""

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def committed(self, keys: Iterable[VersionKey]) -> None:
        return None


def build_carrier(settings: Settings, cache: PublicCache) -> Carrier:
    mode = settings.cache_invalidation
    if mode == "off":
        return NoCarrier()
    if mode == "redis" or (mode == "auto" and settings.redis_url):
        if not settings.redis_url:
            raise ValueError("CACHE_INVALIDATION=redis needs REDIS_URL")
        return RedisCarrier(cache, settings.redis_url)
    if make_url(settings.database_url).get_backend_name() == "postgresql":
        return PostgresListener(cache, settings.database_url)
    if mode == "postgresql":
        raise ValueError("CACHE_INVALIDATION=postgresql needs a PostgreSQL DATABASE_URL")
    return NoCarrier()
