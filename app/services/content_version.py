"""Bumping and reading the per-(scope, kind) content versions behind public caches."""

from collections.abc import Iterable

from sqlalchemy import func, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.content_version import GLOBAL_SCOPE, ContentVersion

VersionKey = tuple[str, str]
BUMPED_KEYS = "bumped_content_versions"
# PostgreSQL delivers a NOTIFY on this channel when the bumping transaction commits
# (app.api.freshness listens), so every worker forgets the version at once.
NOTIFY_CHANNEL = "settle_content_versions"


async def bump(*, session: AsyncSession, scope: str, kind: str) -> None:
    """Advance one version inside the caller's transaction (an upsert, so it is race-free).

    The keys are remembered on the session so the worker that committed can forget
    its cached copies at once instead of waiting for the cache's time-to-live.
    """
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(ContentVersion).values(scope=scope, kind=kind, version=1)
    statement = statement.on_conflict_do_update(
        index_elements=["scope", "kind"], set_={"version": ContentVersion.version + 1}
    )
    connection = await session.connection()
    if dialect == "postgresql":
        # In the same round trip; PostgreSQL folds repeats within one transaction.
        await connection.execute(
            statement.returning(func.pg_notify(NOTIFY_CHANNEL, f"{scope} {kind}"))
        )
    else:
        await connection.execute(statement)
    session.info.setdefault(BUMPED_KEYS, set()).add((scope, kind))


async def bump_municipal(*, session: AsyncSession, municipality_id: object, kind: str) -> None:
    """Bump one kind of one municipality's content."""
    await bump(session=session, scope=str(municipality_id), kind=kind)


async def bump_global(*, session: AsyncSession, kind: str) -> None:
    await bump(session=session, scope=GLOBAL_SCOPE, kind=kind)


async def read(*, session: AsyncSession, keys: Iterable[VersionKey]) -> dict[VersionKey, int]:
    """Current versions of `keys` in one query; a key never bumped is version 0."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return {}
    statement = select(ContentVersion.scope, ContentVersion.kind, ContentVersion.version).where(
        tuple_(col(ContentVersion.scope), col(ContentVersion.kind)).in_(wanted)
    )
    found = {(scope, kind): version for scope, kind, version in (await session.exec(statement))}
    return {key: found.get(key, 0) for key in wanted}
