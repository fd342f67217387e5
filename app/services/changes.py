"""The change log behind tombstones, the change feed and webhooks.

`record` is called by every write that changes what the public sees, inside the
write's own transaction: the change and its log row commit together or not at all.

Ordering. A reader resumes the feed after the last `seq` it saw, so `seq` order must be
commit order: otherwise a reader could see seq 11 committed, move past it, and never see
seq 10 committing a moment later. PostgreSQL hands out sequence numbers at insert time,
not at commit, so `record` first takes a transaction-scoped advisory lock per
municipality (`pg_advisory_xact_lock`): the change-log writers of one municipality then
take turns from their first `record` to their commit, and the numbers they draw commit in
order. SQLite has a single writer at a time, which gives the same guarantee for free.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete as sa_delete
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import execute
from app.core.errors import Gone
from app.core.pagination import as_moment, as_offset, decode_cursor, encode_cursor
from app.core.time import utcnow
from app.models.change import ChangeAction, ChangeEvent
from app.models.municipality import Municipality

# A namespace for the advisory-lock keys, so they do not collide with other users' locks.
_LOCK_NAMESPACE = "settle.change_event:"


async def _serialise(*, session: AsyncSession, municipality_id: uuid.UUID) -> None:
    """Wait for the municipality's other change-log writers to commit (PostgreSQL).

    Transaction-level advisory locks stack, so a transaction recording several changes
    simply takes it again; all are released at its commit or rollback."""
    if session.get_bind().dialect.name != "postgresql":
        return
    key = func.hashtextextended(_LOCK_NAMESPACE + str(municipality_id), 0)
    await execute(session, sa_select(func.pg_advisory_xact_lock(key)))


async def record(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    kind: str,
    resource_id: uuid.UUID,
    action: str,
    event: str,
    revision: int | None,
    path: str,
) -> ChangeEvent:
    """Log one public change in the caller's transaction (flushed, so it has its `seq`)."""
    if action not in ChangeAction.ALL:
        raise ValueError(f"unknown change action {action!r}")
    await _serialise(session=session, municipality_id=municipality_id)
    change = ChangeEvent(
        municipality_id=municipality_id,
        kind=kind,
        resource_id=resource_id,
        action=action,
        event=event,
        revision=revision,
        path=path,
    )
    session.add(change)
    await session.flush()
    # Webhooks: a delivery row per matching subscription, in this same transaction.
    from app.services import webhooks  # local: webhooks reads the change model

    await webhooks.fan_out(session, change)
    return change


async def _slug(session: AsyncSession, municipality_id: uuid.UUID) -> str:
    municipality = await session.get(Municipality, municipality_id)
    if municipality is None:
        raise ValueError(f"no municipality {municipality_id}")
    return municipality.slug


def resource_path(slug: str, collection: str, resource_id: object) -> str:
    """The public URL path of one resource (`collection` is its kebab-case segment)."""
    return f"/api/v1/municipalities/{slug}/{collection}/{resource_id}"


async def visibility(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    kind: str,
    resource_id: uuid.UUID,
    was_public: bool | None,
    is_public: bool | None,
    revision: int | None,
    collection: str | None = None,
    path: str | None = None,
    path_id: object | None = None,
    verb: str | None = None,
) -> ChangeEvent | None:
    """Record a write by what it did to the public view, or nothing if the public never
    saw the resource. `was_public` is None for a resource just created, `is_public` None
    for one just deleted. `verb` names the domain verb of the event (`slot.booked`);
    by default it is the feed's action. The path is `collection`/`path_id` (the resource
    id unless given) under the municipality, or `path` as given."""
    if not was_public and not is_public:
        return None
    if was_public and is_public:
        action = ChangeAction.updated
    elif is_public:
        action = ChangeAction.created if was_public is None else ChangeAction.published
    else:
        action = ChangeAction.deleted if is_public is None else ChangeAction.unpublished
    if path is None:
        path = resource_path(await _slug(session, municipality_id), collection or kind, resource_id)
    return await record(
        session=session,
        municipality_id=municipality_id,
        kind=kind,
        resource_id=resource_id,
        action=action,
        event=f"{kind}.{verb or action}",
        revision=revision,
        path=path,
    )


async def singleton(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    kind: str,
    resource_id: uuid.UUID,
    created: bool,
    revision: int | None,
    segment: str,
) -> ChangeEvent:
    """A change to one of a municipality's one-of-a-kind documents (the landing page,
    the journey, the service promise), public at `/municipalities/{slug}/{segment}`."""
    slug = await _slug(session, municipality_id)
    action = ChangeAction.created if created else ChangeAction.updated
    return await record(
        session=session,
        municipality_id=municipality_id,
        kind=kind,
        resource_id=resource_id,
        action=action,
        event=f"{kind}.{action}",
        revision=revision,
        path=f"/api/v1/municipalities/{slug}/{segment}",
    )


# ---- reading: tombstones and the feed ------------------------------------------------------


def expired(since: datetime, retention_days: int) -> bool:
    """Whether the log may no longer hold every change after `since`."""
    return since < utcnow() - timedelta(days=retention_days)


def _latest_since(municipality_id: uuid.UUID, kinds: tuple[str, ...], since: datetime) -> Any:
    """Each resource's last change at or after `since` (its highest seq)."""
    return (
        sa_select(
            col(ChangeEvent.resource_id).label("resource_id"),
            func.max(col(ChangeEvent.seq)).label("seq"),
        )
        .where(
            col(ChangeEvent.municipality_id) == municipality_id,
            col(ChangeEvent.kind).in_(kinds),
            col(ChangeEvent.occurred_at) >= since,
        )
        .group_by(col(ChangeEvent.resource_id))
        .subquery()
    )


def _last_changes(municipality_id: uuid.UUID, kinds: tuple[str, ...], since: datetime) -> Any:
    latest = _latest_since(municipality_id, kinds, since)
    return sa_select(ChangeEvent).join(latest, col(ChangeEvent.seq) == latest.c.seq)


def reappeared_ids(municipality_id: uuid.UUID, kinds: tuple[str, ...], since: datetime) -> Any:
    """Ids whose last change since `since` left them public (published again, say): for a
    collection whose `modified_since` goes by creation time (slots)."""
    latest = _latest_since(municipality_id, kinds, since)
    return (
        sa_select(col(ChangeEvent.resource_id))
        .join(latest, col(ChangeEvent.seq) == latest.c.seq)
        .where(col(ChangeEvent.action).not_in(ChangeAction.GONE))
    )


@dataclass
class Tombstone:
    id: uuid.UUID
    deleted_at: datetime
    seq: int

    def as_item(self) -> dict[str, Any]:
        return {"id": self.id, "deleted": True, "deleted_at": self.deleted_at}


async def tombstones(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    kinds: tuple[str, ...],
    since: datetime,
    after_seq: int,
    limit: int,
    within: Any = None,
) -> tuple[list[Tombstone], int]:
    """What left the public view since `since` and has not come back: a page of them in
    log order after `after_seq`, and how many there are in all. `within`, a select of
    ids, narrows them to one part of a kind (the ideas of one fund round)."""
    statement = _last_changes(municipality_id, kinds, since).where(
        col(ChangeEvent.action).in_(ChangeAction.GONE)
    )
    if within is not None:
        statement = statement.where(col(ChangeEvent.resource_id).in_(within))
    gone = statement.subquery()
    total = (await execute(session, sa_select(func.count()).select_from(gone))).scalar_one()
    rows = (
        await execute(
            session,
            sa_select(gone.c.resource_id, gone.c.occurred_at, gone.c.seq)
            .where(gone.c.seq > after_seq)
            .order_by(gone.c.seq)
            .limit(limit),
        )
    ).all()
    return [Tombstone(id=r.resource_id, deleted_at=r.occurred_at, seq=r.seq) for r in rows], int(
        total
    )


async def feed_page(
    *, session: AsyncSession, municipality_id: uuid.UUID, after_seq: int, limit: int
) -> list[ChangeEvent]:
    """The log after `after_seq`, oldest first (`limit` + 1 rows say whether more follow)."""
    statement = (
        select(ChangeEvent)
        .where(col(ChangeEvent.municipality_id) == municipality_id)
        .where(col(ChangeEvent.seq) > after_seq)
        .order_by(col(ChangeEvent.seq))
        .limit(limit + 1)
    )
    return list((await session.exec(statement)).all())


async def purge(*, session: AsyncSession, retention_days: int) -> int:
    """Delete the log older than the retention and a day's grace (the grace covers a
    transaction that recorded a change just before the cut and committed just after)."""
    cut = utcnow() - timedelta(days=retention_days + 1)
    result = await execute(
        session, sa_delete(ChangeEvent).where(col(ChangeEvent.occurred_at) < cut)
    )
    return int(result.rowcount or 0)


FEED = "changes"


@dataclass
class FeedPage:
    """A page of the feed. `next_cursor` is null at the end (for now); `resume_cursor` is
    where to poll from later, also at the end."""

    items: list[ChangeEvent]
    next_cursor: str | None
    resume_cursor: str
    total: int


def _feed(municipality_id: uuid.UUID) -> str:
    # The municipality is part of the cursor: one of another municipality's feed is a 422.
    return f"{FEED}:{municipality_id}"


def _feed_cursor(municipality_id: uuid.UUID, seq: int, current_at: datetime) -> str:
    # The hour, not the instant, the reader was current at: an unchanged feed then reads
    # the same (so its ETag matches) for up to an hour, and expiry only comes earlier.
    hour = current_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return encode_cursor(_feed(municipality_id), [seq, hour.isoformat()])


async def read_feed(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    after: str | None,
    limit: int,
    retention_days: int,
) -> FeedPage:
    """The public changes after the cursor `after` (from the oldest kept without one).

    A cursor says which change its reader has seen last and when it was known to be
    current; once that is longer ago than the retention, changes after it may have been
    purged, and the read is a 410 `sync-expired` (the reader resyncs in full)."""
    decoded = decode_cursor(_feed(municipality_id), after, as_offset, as_moment)
    after_seq = 0
    if decoded is not None:
        after_seq, current_at = decoded
        if expired(current_at, retention_days):
            raise Gone(
                f"Changes are kept for {retention_days} days; this cursor is older. "
                "Read the collections in full and follow the feed from a new cursor.",
                code="sync-expired",
            )
    rows = await feed_page(
        session=session, municipality_id=municipality_id, after_seq=after_seq, limit=limit
    )
    total = (
        await execute(
            session,
            sa_select(func.count())
            .select_from(ChangeEvent)
            .where(
                col(ChangeEvent.municipality_id) == municipality_id,
                col(ChangeEvent.seq) > after_seq,
            ),
        )
    ).scalar_one()
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        cursor = _feed_cursor(municipality_id, int(last.seq or 0), last.occurred_at)
        return FeedPage(items=rows, next_cursor=cursor, resume_cursor=cursor, total=int(total))
    # The end: the reader is current through the last change now (a writer still in
    # its transaction holds the lock, so its change will get a higher seq).
    last_seq = int(rows[-1].seq or 0) if rows else after_seq
    resume = _feed_cursor(municipality_id, last_seq, utcnow())
    return FeedPage(items=rows, next_cursor=None, resume_cursor=resume, total=int(total))


def feed_item(change: ChangeEvent, base_url: str) -> dict[str, Any]:
    """One change as the feed shows it (REST and GraphQL)."""
    return {
        "kind": change.kind,
        "id": change.resource_id,
        "action": change.action,
        "event": change.event,
        "revision": change.revision,
        "occurred_at": change.occurred_at,
        "url": base_url.rstrip("/") + change.path,
    }
