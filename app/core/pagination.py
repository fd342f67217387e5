"""Opaque keyset cursors: `?cursor=` carries the sort key of the last item seen.

Keyset pagination never skips or repeats an item when rows are added between pages,
which offset pagination does.
"""

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson

from app.core.errors import FieldProblem, ValidationFailed

T = TypeVar("T")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
    total: int


def encode_cursor(collection: str, key: list[Any]) -> str:
    raw = orjson.dumps({"c": collection, "k": key}, default=str)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(collection: str, cursor: str | None) -> list[Any] | None:
    """The sort key in `cursor`, or a 422 when it is not one of ours for this collection."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(data, dict) or data.get("c") != collection:
            raise ValueError("cursor of another collection")
        key = data["k"]
        if not isinstance(key, list):
            raise ValueError("malformed key")
        return key
    except (ValueError, KeyError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise ValidationFailed(
            "The cursor is not valid for this collection; start again without it.",
            code="invalid-cursor",
            errors=[FieldProblem("query.cursor", "invalid cursor", "invalid-cursor")],
        ) from exc
