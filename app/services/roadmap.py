"""The roadmap's dated phases with goals and pilots, and the yearly review of the
operating model. Every change records when, by whom and which fields changed."""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import execute
from app.core.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from app.core.pagination import Page, as_offset, decode_cursor, encode_cursor
from app.core.time import utcnow
from app.models.municipality import Municipality
from app.models.roadmap import (
    PhaseCreate,
    PhaseUpdate,
    ReviewCreate,
    ReviewUpdate,
    RoadmapPhase,
    RoadmapReview,
    RoadmapStatus,
)
from app.services import changes, content_version
from app.services.service_card import Actor

KIND = "roadmap"
Document = dict[str, Any]
PHASE_TEXTS = ("title", "description", "outcome")
REVIEW_TEXTS = (
    "reviewed_by",
    "how_it_worked",
    "results",
    "strengths",
    "to_develop",
    "changes_made",
)


def _tr(value: Any) -> dict[str, str] | None:
    return None if value is None else value.as_dict()  # type: ignore[no-any-return]


def timing(starts_on: date, ends_on: date, day: date) -> str:
    if day < starts_on:
        return "upcoming"
    if day > ends_on:
        return "past"
    return "current"


_BY_TIMING = {
    "upcoming": RoadmapStatus.planned,
    "current": RoadmapStatus.in_progress,
    "past": RoadmapStatus.done,
}


def phase_status(phase: RoadmapPhase, day: date) -> tuple[str, str]:
    """The phase's status and where it comes from: what the municipality set, else
    the dates (a phase that has ended is not still "planned")."""
    if phase.status is not None:
        return phase.status, "set"
    return _BY_TIMING[timing(phase.starts_on, phase.ends_on, day)], "dates"


def _last_update(row: RoadmapPhase | RoadmapReview) -> Document:
    return {"at": row.updated_at, "by": row.updated_by_name, "fields": list(row.changed_fields)}


def phase_doc(phase: RoadmapPhase, day: date) -> Document:
    status, source = phase_status(phase, day)
    return {
        "id": phase.id,
        "key": phase.key,
        "starts_on": phase.starts_on,
        "ends_on": phase.ends_on,
        "timing": timing(phase.starts_on, phase.ends_on, day),
        "title": _tr(phase.title),
        "description": _tr(phase.description),
        "goals": [_tr(goal) for goal in phase.goals],
        "pilots": [
            {
                "key": pilot.key,
                "title": _tr(pilot.title),
                "description": _tr(pilot.description),
                "status": pilot.status,
                "outcome": _tr(pilot.outcome),
            }
            for pilot in phase.pilots
        ],
        "status": status,
        "status_source": source,
        "outcome": _tr(phase.outcome),
        "draft": phase.draft,
        "last_update": _last_update(phase),
    }


def review_doc(review: RoadmapReview) -> Document:
    return {
        "id": review.id,
        "year": review.year,
        "reviewed_on": review.reviewed_on,
        **{name: _tr(getattr(review, name)) for name in REVIEW_TEXTS},
        "last_update": _last_update(review),
    }


async def _paged(
    session: AsyncSession,
    statement: Any,
    count: Any,
    collection: str,
    limit: int,
    cursor: str | None,
) -> Page[Any]:
    total = (await execute(session, count)).scalar_one()
    after = decode_cursor(collection, cursor, as_offset)
    offset = after[0] if after else 0
    rows = list(await session.exec(statement.offset(offset).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(collection, [offset + limit])
    return Page(items=rows, next_cursor=next_cursor, total=int(total))


async def list_phases(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    limit: int,
    cursor: str | None = None,
    modified_since: datetime | None = None,
    include_drafts: bool = False,
) -> Page[RoadmapPhase]:
    """In time order; draft phases only for the municipality's staff."""
    conditions = [col(RoadmapPhase.municipality_id) == municipality_id]
    if not include_drafts:
        conditions.append(col(RoadmapPhase.draft).is_(False))
    if modified_since is not None:
        conditions.append(col(RoadmapPhase.updated_at) >= modified_since)
    statement = (
        select(RoadmapPhase)
        .where(*conditions)
        .order_by(col(RoadmapPhase.starts_on), col(RoadmapPhase.ends_on), col(RoadmapPhase.key))
    )
    count = sa_select(func.count()).select_from(RoadmapPhase).where(*conditions)
    return await _paged(session, statement, count, "roadmap", limit, cursor)


async def get_phase(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    phase_id: uuid.UUID,
    include_drafts: bool = False,
) -> RoadmapPhase:
    """The phase; a draft one is not found unless `include_drafts` (staff)."""
    phase = await session.get(RoadmapPhase, phase_id)
    if (
        phase is None
        or phase.municipality_id != municipality_id
        or (phase.draft and not include_drafts)
    ):
        raise NotFound("No such roadmap phase.")
    return phase


async def _bump(session: AsyncSession, municipality_id: uuid.UUID) -> None:
    await content_version.bump_municipal(
        session=session, municipality_id=municipality_id, kind=KIND
    )


PHASE_CHANGE = "roadmap_phase"
REVIEW_CHANGE = "roadmap_review"


async def _log_phase(
    session: AsyncSession,
    phase: RoadmapPhase,
    *,
    created: bool = False,
    deleted: bool = False,
    was_draft: bool | None = None,
) -> None:
    """A published phase's writes are changes in the feed (and a deletion or a return to
    draft a tombstone in the roadmap's `modified_since` reads); drafts are the staff's."""
    before = phase.draft if was_draft is None else was_draft
    await changes.visibility(
        session=session,
        municipality_id=phase.municipality_id,
        kind=PHASE_CHANGE,
        resource_id=phase.id,
        was_public=None if created else not before,
        is_public=None if deleted else not phase.draft,
        revision=phase.version,
        collection="roadmap/phases",
    )


async def _log_review(session: AsyncSession, review: RoadmapReview, *, created: bool) -> None:
    municipality = await session.get(Municipality, review.municipality_id)
    assert municipality is not None
    await changes.visibility(
        session=session,
        municipality_id=review.municipality_id,
        kind=REVIEW_CHANGE,
        resource_id=review.id,
        was_public=None if created else True,
        is_public=True,
        revision=review.version,
        path=f"/api/v1/municipalities/{municipality.slug}/roadmap/reviews/{review.year}",
    )


def _fields(data: Any) -> dict[str, Any]:
    """The validated values as they are (texts stay models; model_dump would make dicts)."""
    return {
        name: list(value) if isinstance(value := getattr(data, name), list) else value
        for name in type(data).model_fields
    }


async def _insert(session: AsyncSession, row: Any, clash: str) -> None:
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError as error:
        raise Conflict(clash, code="duplicate") from error


async def create_phase(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    actor: Actor,
    data: PhaseCreate,
    phase_id: uuid.UUID | None = None,
) -> RoadmapPhase:
    exists = (
        await session.exec(
            select(RoadmapPhase.id).where(
                col(RoadmapPhase.municipality_id) == municipality_id,
                col(RoadmapPhase.key) == data.key,
            )
        )
    ).first()
    if exists is not None:
        raise Conflict(f"There is a phase '{data.key}' already.", code="duplicate")
    phase = RoadmapPhase(
        id=phase_id or uuid.uuid4(),
        municipality_id=municipality_id,
        updated_by_name=actor.name,
        **_fields(data),
    )
    await _insert(session, phase, f"There is a phase '{data.key}' already.")
    await _bump(session, municipality_id)
    await _log_phase(session, phase, created=True)
    return phase


def _apply(row: Any, data: Any, actor: Actor) -> list[str]:
    """Set the fields sent; returns the names of those that really changed."""
    changed = []
    for name in data.model_fields_set:
        value = getattr(data, name)
        if isinstance(value, list):
            value = list(value)
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed.append(name)
    if changed:
        row.changed_fields = sorted(changed)
        row.updated_by_name = actor.name
        row.updated_at = utcnow()
        row.version += 1
    return changed


async def update_phase(
    *, session: AsyncSession, phase: RoadmapPhase, actor: Actor, data: PhaseUpdate
) -> RoadmapPhase:
    """Change a phase; the phase records when, by whom and which fields."""
    starts = data.starts_on or phase.starts_on
    ends = data.ends_on or phase.ends_on
    if ends < starts:
        raise ValidationFailed(
            "A phase cannot end before it starts.",
            errors=[FieldProblem("body.ends_on", "before starts_on")],
        )
    was_draft = phase.draft
    if _apply(phase, data, actor):
        await session.flush()
        await _bump(session, phase.municipality_id)
        await _log_phase(session, phase, was_draft=was_draft)
    return phase


async def delete_phase(*, session: AsyncSession, phase: RoadmapPhase) -> None:
    municipality_id = phase.municipality_id
    await _log_phase(session, phase, deleted=True)
    await session.delete(phase)
    await session.flush()
    await _bump(session, municipality_id)


# ---- reviews ---------------------------------------------------------------------------------


async def list_reviews(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    limit: int,
    cursor: str | None = None,
    modified_since: datetime | None = None,
) -> Page[RoadmapReview]:
    """Newest year first."""
    conditions = [col(RoadmapReview.municipality_id) == municipality_id]
    if modified_since is not None:
        conditions.append(col(RoadmapReview.updated_at) >= modified_since)
    statement = select(RoadmapReview).where(*conditions).order_by(col(RoadmapReview.year).desc())
    count = sa_select(func.count()).select_from(RoadmapReview).where(*conditions)
    return await _paged(session, statement, count, "roadmap-reviews", limit, cursor)


async def get_review(
    *, session: AsyncSession, municipality_id: uuid.UUID, year: int
) -> RoadmapReview:
    review = (
        await session.exec(
            select(RoadmapReview).where(
                col(RoadmapReview.municipality_id) == municipality_id,
                col(RoadmapReview.year) == year,
            )
        )
    ).first()
    if review is None:
        raise NotFound(f"No review of the operating model for {year}.")
    return review


async def create_review(
    *, session: AsyncSession, municipality_id: uuid.UUID, actor: Actor, data: ReviewCreate
) -> RoadmapReview:
    """One review per year (409 `duplicate`)."""
    clash = f"There is a review for {data.year} already; change it instead."
    exists = (
        await session.exec(
            select(RoadmapReview.id).where(
                col(RoadmapReview.municipality_id) == municipality_id,
                col(RoadmapReview.year) == data.year,
            )
        )
    ).first()
    if exists is not None:
        raise Conflict(clash, code="duplicate")
    review = RoadmapReview(
        municipality_id=municipality_id, updated_by_name=actor.name, **_fields(data)
    )
    await _insert(session, review, clash)
    await _bump(session, municipality_id)
    await _log_review(session, review, created=True)
    return review


async def update_review(
    *, session: AsyncSession, review: RoadmapReview, actor: Actor, data: ReviewUpdate
) -> RoadmapReview:
    if _apply(review, data, actor):
        await session.flush()
        await _bump(session, review.municipality_id)
        await _log_review(session, review, created=False)
    return review
