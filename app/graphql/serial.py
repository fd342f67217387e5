"""Root fields of one operation run one after another.

graphql-core resolves a query's top-level fields concurrently, but they share the
request's database session, which must not be used by two coroutines at once. Only
root fields are serialised: nested fields are plain attributes or batched DataLoaders.
"""

import asyncio
from collections.abc import Callable
from inspect import isawaitable
from typing import Any

from strawberry.extensions import SchemaExtension


class SerialRootFields(SchemaExtension):
    def __init__(self, *, execution_context: Any = None) -> None:
        self._lock = asyncio.Lock()

    def resolve(
        self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any
    ) -> Any:
        if info.path.prev is not None:
            return _next(root, info, *args, **kwargs)
        return self._one_at_a_time(_next, root, info, *args, **kwargs)

    async def _one_at_a_time(
        self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any
    ) -> Any:
        async with self._lock:
            result = _next(root, info, *args, **kwargs)
            if isawaitable(result):
                result = await result
            return result
