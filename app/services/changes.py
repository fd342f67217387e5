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

from sqlalchemy import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import execute
from app.models.change import ChangeAction, ChangeEvent

# A namespace for the advisory-lock keys, so they do not collide with other users' locks.
_LOCK_NAMESPACE = "settle.change_event:"


async def _serialise(*, session: AsyncSession, municipality_id: uuid.UUID) -> None:
    """Wait for the municipality's other change-log writers to commit (PostgreSQL).

    Transaction-level advisory locks stack, so a transaction recording several changes
    simply takes it again; all are released at its commit or rollback."""
    if session.get_bind().dialect.name != "postgresql":
        return
    key = func.hashtextextended(_LOCK_NAMESPACE + str(municipality_id), 0)
    await execute(session, select(func.pg_advisory_xact_lock(key)))


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
