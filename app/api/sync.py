"""Tombstones in `modified_since` reads: what left a public collection since then.

A collection read with `modified_since` lists the items changed since then first (in the
collection's own order, under its own cursor) and then, once those are exhausted, the
tombstones (`{id, deleted: true, deleted_at}`) in change-log order under a cursor of
their own. `total` counts both. Without `modified_since` nothing changes.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from app.api.deps import PageParams
from app.core.errors import Gone, ValidationFailed
from app.core.pagination import Page, as_offset, decode_cursor, encode_cursor
from app.services import changes


class Tombstone(BaseModel):
    """An item that left the collection (deleted, unpublished, archived, withdrawn, or
    for slots booked) since `modified_since`."""

    id: str
    deleted: bool = Field(True, description="Always true: this is a tombstone.")
    deleted_at: AwareDatetime


@dataclass(frozen=True)
class SyncRead:
    """Where a `modified_since` read stands: still in the changed items (`gone_after` is
    None, `live_cursor` is theirs) or already in the tombstones after a log position."""

    since: datetime | None
    live_cursor: str | None
    gone_after: int | None
    # The changed items' total, carried in a tombstone cursor (they are not re-counted).
    live_total: int = 0

    @property
    def live_done(self) -> bool:
        return self.gone_after is not None


def _gone_collection(collection: str) -> str:
    return f"{collection}#tombstones"


def sync_read(paging: PageParams, collection: str, *, retention_days: int) -> SyncRead:
    """Split the request's cursor; a `modified_since` beyond the log's reach is a 410."""
    since = paging.modified_since
    if since is None:
        return SyncRead(since=None, live_cursor=paging.cursor, gone_after=None)
    if changes.expired(since, retention_days):
        raise Gone(
            f"Changes are kept for {retention_days} days; modified_since is older. "
            "Read the collection in full (without modified_since) and sync from there.",
            code="sync-expired",
        )
    if paging.cursor is not None and _is_gone_cursor(paging.cursor, collection):
        after = decode_cursor(_gone_collection(collection), paging.cursor, as_offset, as_offset)
        assert after is not None
        return SyncRead(since=since, live_cursor=None, gone_after=after[0], live_total=after[1])
    return SyncRead(since=since, live_cursor=paging.cursor, gone_after=None)


def _is_gone_cursor(cursor: str, collection: str) -> bool:
    try:
        decode_cursor(_gone_collection(collection), cursor, as_offset, as_offset)
    except ValidationFailed:
        return False
    return True


async def with_tombstones(
    *,
    session: AsyncSession,
    page: Page[Any],
    read: SyncRead,
    municipality_id: Any,
    kinds: tuple[str, ...],
    collection: str,
    limit: int,
    within: Any = None,
) -> Page[Any]:
    """`page` of changed items, followed by tombstones once the changed items ran out."""
    if read.since is None:
        return page
    room = limit - len(page.items) if page.next_cursor is None else 0
    stones, gone_total = await changes.tombstones(
        session=session,
        municipality_id=municipality_id,
        kinds=kinds,
        since=read.since,
        after_seq=read.gone_after or 0,
        limit=room + 1,
        within=within,
    )
    live_total = read.live_total if read.live_done else page.total
    items = list(page.items)
    next_cursor = page.next_cursor
    if page.next_cursor is None:
        items.extend(stone.as_item() for stone in stones[:room])
        if len(stones) > room:
            last = stones[room - 1].seq if room > 0 else (read.gone_after or 0)
            next_cursor = encode_cursor(_gone_collection(collection), [last, live_total])
    return replace(page, items=items, next_cursor=next_cursor, total=live_total + gone_total)


async def synced_page(
    *,
    session: AsyncSession,
    read: SyncRead,
    fetch: Callable[[str | None], Awaitable[Page[Any]]],
    municipality_id: Any,
    kinds: tuple[str, ...],
    collection: str,
    limit: int,
    within: Any = None,
) -> Page[Any]:
    """The page a collection read asks for: `fetch(cursor)` reads the changed items
    (skipped once the read has moved on to the tombstones), then tombstones follow."""
    page: Page[Any] = Page(items=[], next_cursor=None, total=0)
    if not read.live_done:
        page = await fetch(read.live_cursor)
    return await with_tombstones(
        session=session,
        page=page,
        read=read,
        municipality_id=municipality_id,
        kinds=kinds,
        collection=collection,
        limit=limit,
        within=within,
    )
