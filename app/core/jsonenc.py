"""One fast JSON encoder for every response body."""

import uuid
from typing import Any

import orjson


def _default(value: Any) -> Any:
    # asyncpg returns its own UUID subclass, which orjson does not know natively.
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(data: Any) -> bytes:
    return orjson.dumps(data, default=_default)
