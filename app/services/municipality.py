"""Municipalities: listing, lookup and platform-admin maintenance."""

import uuid
from datetime import datetime

from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.errors import Conflict, NotFound
from app.core.pagination import Page, as_text, decode_cursor, encode_cursor
from app.core.time import utcnow
from app.models.change import ChangeAction
from app.models.municipality import Municipality, MunicipalityCreate, MunicipalityUpdate
from app.services import changes as changes_log
from app.services import content_version

KIND = "municipality"


async def list_page(
    *,
    session: AsyncSession,
    limit: int,
    cursor: str | None = None,
    modified_since: datetime | None = None,
) -> Page[Municipality]:
    """Municipalities ordered by slug, one keyset page at a time."""
    filtered = select(Municipality)
    if modified_since is not None:
        filtered = filtered.where(col(Municipality.updated_at) >= modified_since)
    total = (await session.exec(select(func.count()).select_from(filtered.subquery()))).one()
    after = decode_cursor("municipalities", cursor, as_text)
    statement = filtered.order_by(col(Municipality.slug)).limit(limit + 1)
    if after is not None:
        statement = statement.where(col(Municipality.slug) > after[0])
    rows = list(await session.exec(statement))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor("municipalities", [rows[-1].slug])
    return Page(items=rows, next_cursor=next_cursor, total=total)


async def get_by_slug(
    *, session: AsyncSession, slug: str, for_update: bool = False
) -> Municipality:
    """The municipality, locked for the rest of the transaction when about to change."""
    statement = select(Municipality).where(col(Municipality.slug) == slug)
    if for_update:
        statement = statement.with_for_update()
    result = await session.exec(statement)
    municipality = result.first()
    if municipality is None:
        raise NotFound(f"No municipality '{slug}'.")
    return municipality


async def get_by_id(*, session: AsyncSession, municipality_id: uuid.UUID) -> Municipality:
    municipality = await session.get(Municipality, municipality_id)
    if municipality is None:
        raise NotFound("No such municipality.")
    return municipality


async def _ensure_unique(
    *, session: AsyncSession, slug: str, code: str, exclude: uuid.UUID | None = None
) -> None:
    statement = select(Municipality).where(
        or_(col(Municipality.slug) == slug, col(Municipality.code) == code)
    )
    if exclude is not None:
        statement = statement.where(col(Municipality.id) != exclude)
    clash = (await session.exec(statement)).first()
    if clash is not None:
        field = "slug" if clash.slug == slug else "code"
        raise Conflict(f"A municipality with this {field} already exists.", code="duplicate")


# Bumped only when a municipality is added or its slug or languages change: the
# read path's slug directory need not reload for an edited phone number.
DIRECTORY_KIND = "municipality-directory"
DIRECTORY_FIELDS = frozenset({"slug", "default_language", "enabled_languages"})


async def _bump(session: AsyncSession, municipality: Municipality, *, directory: bool) -> None:
    """The list and this municipality changed; the slug directory only sometimes."""
    await content_version.bump_global(session=session, kind=KIND)
    await content_version.bump_municipal(
        session=session, municipality_id=municipality.id, kind=KIND
    )
    if directory:
        await content_version.bump_global(session=session, kind=DIRECTORY_KIND)


async def _log(session: AsyncSession, municipality: Municipality, action: str) -> None:
    """The municipality itself is public: its changes are in its own feed."""
    await changes_log.record(
        session=session,
        municipality_id=municipality.id,
        kind=KIND,
        resource_id=municipality.id,
        action=action,
        event=f"{KIND}.{action}",
        revision=municipality.version,
        path=f"/api/v1/municipalities/{municipality.slug}",
    )


async def create(*, session: AsyncSession, data: MunicipalityCreate) -> Municipality:
    """Add a tenant; slug and official code must be new."""
    await _ensure_unique(session=session, slug=data.slug, code=data.code)
    municipality = Municipality.model_validate(data)
    session.add(municipality)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent create won the race
        raise Conflict(
            "A municipality with this slug or code already exists.", code="duplicate"
        ) from exc
    await _bump(session, municipality, directory=True)
    await _log(session, municipality, ChangeAction.created)
    return municipality


async def update(
    *, session: AsyncSession, municipality: Municipality, data: MunicipalityUpdate
) -> Municipality:
    """Apply the fields sent; the row version advances so older ETags stop matching."""
    changes = data.model_dump(exclude_unset=True)
    if not changes:
        return municipality
    await _ensure_unique(
        session=session,
        slug=changes.get("slug", municipality.slug),
        code=changes.get("code", municipality.code),
        exclude=municipality.id,
    )
    for name in changes:
        setattr(municipality, name, getattr(data, name))
    municipality.updated_at = utcnow()
    municipality.version += 1
    session.add(municipality)
    await session.flush()
    await _bump(session, municipality, directory=bool(DIRECTORY_FIELDS & changes.keys()))
    await _log(session, municipality, ChangeAction.updated)
    return municipality
