"""Rate limits: in memory for one worker, in Redis when several workers must share them."""

import os
import uuid

import pytest

from app.core.errors import RateLimited
from app.core.ratelimit import MemoryRateLimiter, RedisRateLimiter, enforce

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


async def _redis_or_skip() -> RedisRateLimiter:
    limiter = RedisRateLimiter(REDIS_URL, prefix=f"settle-test:{uuid.uuid4().hex}:")
    try:
        await limiter.redis.ping()
    except Exception:  # no server here: the in-memory limiter is what runs then
        await limiter.close()
        pytest.skip(f"Redis not reachable at {REDIS_URL}; set TEST_REDIS_URL to test it")
    return limiter


async def test_redis_limiter_is_shared_between_workers() -> None:
    first, second = await _redis_or_skip(), await _redis_or_skip()
    second.prefix = first.prefix  # two workers, one Redis
    try:
        await enforce(first, "client", limit=2, window_seconds=60)
        await enforce(second, "client", limit=2, window_seconds=60)
        with pytest.raises(RateLimited) as refused:
            await enforce(first, "client", limit=2, window_seconds=60)
        assert 1 <= int(refused.value.headers["Retry-After"]) <= 60
        await enforce(second, "another-client", limit=2, window_seconds=60)
    finally:
        await first.close()
        await second.close()


async def test_memory_limiter_counts_per_key_and_window() -> None:
    limiter = MemoryRateLimiter()
    for _ in range(3):
        await enforce(limiter, "a", limit=3, window_seconds=60)
    with pytest.raises(RateLimited):
        await enforce(limiter, "a", limit=3, window_seconds=60)
    await enforce(limiter, "b", limit=3, window_seconds=60)
