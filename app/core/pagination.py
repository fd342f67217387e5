"""Opaque keyset cursors: `?cursor=` carries the sort key of the last item seen.

Keyset pagination never skips or repeats an item when rows are added between pages,
which offset pagination does.
"""

import base64
import binascii
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import and_, func, or_
from sqlalchemy import select as sa_select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import execute
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


def as_offset(value: Any) -> int:
    """A cursor part that is a row offset: a whole number, never negative."""
    number = int(value)
    if number < 0 or isinstance(value, bool):
        raise ValueError("negative offset")
    return number


def as_moment(value: Any) -> datetime:
    """A cursor part that is a point in time, with its offset."""
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError("naive time")
    return parsed


def as_uuid(value: Any) -> uuid.UUID:
    return uuid.UUID(str(value))


def as_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("not a string")
    return value


def decode_cursor(
    collection: str, cursor: str | None, *shape: Callable[[Any], Any]
) -> list[Any] | None:
    """The sort key in `cursor` (each part passed through its converter in `shape`), or a
    422 when it is not one of ours for this collection: a hand-made cursor whose parts do
    not parse must not reach the query (a negative OFFSET, say, is a database error)."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(data, dict) or data.get("c") != collection:
            raise ValueError("cursor of another collection")
        key = data["k"]
        if not isinstance(key, list) or (shape and len(key) != len(shape)):
            raise ValueError("malformed key")
        return [convert(part) for convert, part in zip(shape, key, strict=True)] if shape else key
    except (ValueError, TypeError, KeyError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise ValidationFailed(
            "The cursor is not valid for this collection; start again without it.",
            code="invalid-cursor",
            errors=[FieldProblem("query.cursor", "invalid cursor", "invalid-cursor")],
        ) from exc


async def keyset_page(
    session: AsyncSession,
    statement: Any,
    *,
    collection: str,
    order: tuple[Any, Any],
    after: list[Any] | None,
    limit: int,
    count_from: Any,
    key: Callable[[Any], list[Any]],
) -> Page[Any]:
    """One page of rows of `statement`, ordered by `order` (two columns, unique together),
    after the decoded cursor `after`; `key` makes a row's cursor.

    The first page (nearly every read) counts the whole selection in the same query with
    `count(*) over ()`: one round trip fewer, which is most of what a cold list costs.
    Later pages count `count_from` (the selection without the cursor) apart."""
    first, second = order
    if after is None:
        statement = statement.add_columns(func.count().over().label("total_count"))
    else:
        statement = statement.where(
            or_(first > after[0], and_(first == after[0], second > after[1]))
        )
    rows = list((await execute(session, statement.order_by(first, second).limit(limit + 1))).all())
    if after is None:
        total = rows[0].total_count if rows else 0
    else:
        counted = sa_select(func.count()).select_from(count_from.subquery())
        total = (await execute(session, counted)).scalar_one()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(collection, key(rows[-1]))
    return Page(items=rows, next_cursor=next_cursor, total=int(total))
