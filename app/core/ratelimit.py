"""Fixed-window rate limiting, in memory (one worker) or in Redis (shared by workers)."""

import math
import time
from typing import Protocol

from app.core import metrics
from app.core.errors import RateLimited


class RateLimiter(Protocol):
    async def hit(self, key: str, *, limit: int, window_seconds: int) -> float | None:
        """Count one attempt; the seconds to wait when over `limit`, else None."""


class MemoryRateLimiter:
    """Good for one process and for tests; counts reset when the process restarts."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> float | None:
        now = time.monotonic()
        start, count = self._windows.get(key, (now, 0))
        if now - start >= window_seconds:
            start, count = now, 0
        count += 1
        self._windows[key] = (start, count)
        if len(self._windows) > 100_000:  # forget finished windows now and then
            self._windows = {k: v for k, v in self._windows.items() if now - v[0] < window_seconds}
        if count > limit:
            return window_seconds - (now - start)
        return None


class RedisRateLimiter:
    """Counts shared by every worker: a fixed window per key in Redis (INCR + EXPIRE)."""

    def __init__(self, url: str, prefix: str = "settle:rl:") -> None:
        from redis.asyncio import Redis  # imported only when Redis is configured

        self.redis = Redis.from_url(url)
        self.prefix = prefix

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> float | None:
        name = f"{self.prefix}{key}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window_seconds, nx=True)
            pipe.pttl(name)
            count, _, ttl_ms = await pipe.execute()
        if int(count) > limit:
            return max(int(ttl_ms), 1000) / 1000
        return None

    async def close(self) -> None:
        await self.redis.aclose()


def build_limiter(redis_url: str | None) -> RateLimiter:
    """Redis when configured (several workers share the counts), memory otherwise."""
    return RedisRateLimiter(redis_url) if redis_url else MemoryRateLimiter()


async def enforce(limiter: RateLimiter, key: str, *, limit: int, window_seconds: int = 60) -> None:
    """Raise a 429 problem with Retry-After when `key` is over its limit."""
    wait = await limiter.hit(key, limit=limit, window_seconds=window_seconds)
    if wait is not None:
        metrics.RATE_LIMITED.labels(key.partition(":")[0]).inc()  # the limit's name
        retry_after = max(1, math.ceil(wait))
        raise RateLimited(
            f"Too many attempts; try again in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )
