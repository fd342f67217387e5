"""Guides and their availability: profiles, terms and successors, slots and weekly rules."""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, type_coerce
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import JSONType, execute, json_array_contains
from app.core.errors import Conflict, FieldProblem, Forbidden, NotFound, ValidationFailed
from app.core.pagination import (
    Page,
    as_moment,
    as_text,
    as_uuid,
    decode_cursor,
    encode_cursor,
    keyset_page,
)
from app.core.time import HELSINKI, as_utc, utcnow
from app.models.booking import ACTIVE_STATUSES, Booking
from app.models.guide import (
    SELF_EDITABLE,
    ExpertiseTerm,
    ExpertiseVocabularyIn,
    Guide,
    GuideCreate,
    GuideStatus,
    GuideUpdate,
    Slot,
    SlotCreate,
    SlotRule,
    SlotRuleCreate,
)
from app.models.user import Role, User
from app.services import changes, content_version
from app.services.auth import Principal

KIND = "guide"
SLOT_KIND = "slot"
TERM = timedelta(days=365)
Document = dict[str, Any]


# ---- guides ------------------------------------------------------------------------------


def today() -> date:
    """The date in Kemijärvi: terms start and end on Finnish calendar days."""
    return utcnow().astimezone(HELSINKI).date()


def effective_status(guide: Guide, day: date | None = None) -> GuideStatus:
    """What the guide is on `day`: a term is one year (seed p. 28), so an active guide
    whose term has ended is `ended` and a confirmed successor whose term has not begun is
    `upcoming`, whatever the stored status says. The term runs from term_start up to
    (not including) term_end, the day the successor's term starts."""
    day = day or today()
    status = GuideStatus(guide.status)
    if status != GuideStatus.active:
        return status
    if guide.term_end is not None and guide.term_end <= day:
        return GuideStatus.ended
    if guide.term_start is not None and guide.term_start > day:
        return GuideStatus.upcoming
    return GuideStatus.active


def active_clause(day: date | None = None) -> Any:
    """SQL for "an active guide on `day`" (the dates decide, as in `effective_status`)."""
    return status_clause((GuideStatus.active,), day)


def status_clause(statuses: tuple[str, ...], day: date | None = None) -> Any:
    """SQL for guides whose effective status on `day` is one of `statuses`."""
    day = day or today()
    stored = col(Guide.status)
    started = or_(col(Guide.term_start).is_(None), col(Guide.term_start) <= day)
    running = or_(col(Guide.term_end).is_(None), col(Guide.term_end) > day)
    parts = []
    if GuideStatus.active in statuses:
        parts.append(and_(stored == GuideStatus.active, started, running))
    if GuideStatus.upcoming in statuses:
        parts.append(and_(stored == GuideStatus.active, col(Guide.term_start) > day, running))
    if GuideStatus.ended in statuses:
        parts.append(
            or_(
                stored == GuideStatus.ended,
                and_(stored == GuideStatus.active, col(Guide.term_end) <= day),
            )
        )
    if GuideStatus.proposed in statuses:
        parts.append(stored == GuideStatus.proposed)
    return or_(*parts) if parts else stored.is_(None)


# ---- the expertise vocabulary ------------------------------------------------------------

Labels = dict[str, dict[str, str]]


async def expertise_terms(
    *, session: AsyncSession, municipality_id: uuid.UUID
) -> list[ExpertiseTerm]:
    """The municipality's expertise vocabulary in its order."""
    rows = await session.exec(
        select(ExpertiseTerm)
        .where(col(ExpertiseTerm.municipality_id) == municipality_id)
        .order_by(col(ExpertiseTerm.position), col(ExpertiseTerm.key))
    )
    return list(rows)


async def expertise_labels(*, session: AsyncSession, municipality_id: uuid.UUID) -> Labels:
    """key → its label in each language, for the guide documents."""
    terms = await expertise_terms(session=session, municipality_id=municipality_id)
    return {term.key: term.label.as_dict() for term in terms}


async def _check_expertise(
    session: AsyncSession, municipality_id: uuid.UUID, tags: list[str] | None
) -> None:
    """Expertise is the municipality's vocabulary, never free text: English visitors
    would see Finnish tags (or Finnish visitors English keys)."""
    if not tags:
        return
    known = await expertise_labels(session=session, municipality_id=municipality_id)
    unknown = [tag for tag in tags if tag not in known]
    if unknown:
        raise ValidationFailed(
            f"Unknown expertise {', '.join(unknown)}.",
            errors=[
                FieldProblem(
                    "body.expertise",
                    f"not in this municipality's vocabulary: {', '.join(unknown)} "
                    f"(known: {', '.join(known) or 'none'})",
                    "unknown",
                )
            ],
        )


async def replace_expertise(
    *, session: AsyncSession, municipality_id: uuid.UUID, data: ExpertiseVocabularyIn
) -> list[ExpertiseTerm]:
    """The whole vocabulary at once; a term still carried by a guide cannot go."""
    wanted = {term.key for term in data.terms}
    guides = await session.exec(select(Guide).where(col(Guide.municipality_id) == municipality_id))
    in_use = sorted({tag for guide in guides for tag in guide.expertise} - wanted)
    if in_use:
        raise Conflict(
            f"Guides still have {', '.join(in_use)}: change their profiles first.",
            code="expertise-in-use",
            extra={"in_use": in_use},
        )
    existing = {
        term.key: term
        for term in await expertise_terms(session=session, municipality_id=municipality_id)
    }
    for key, term in existing.items():
        if key not in wanted:
            await session.delete(term)
    for position, item in enumerate(data.terms, start=1):
        term = existing.get(item.key) or ExpertiseTerm(
            municipality_id=municipality_id, key=item.key, label=item.label
        )
        term.label = item.label
        term.position = position
        session.add(term)
    await session.flush()
    await _bump(session, municipality_id)
    return await expertise_terms(session=session, municipality_id=municipality_id)


def public_document(guide: Guide, labels: Labels | None = None) -> Document:
    """What anyone may see of a guide: public contact details only. `expertise` holds
    the vocabulary's keys, `expertise_labels` the same with their labels."""
    return {
        "id": guide.id,
        "kind": guide.kind,
        "display_name": guide.display_name,
        "photo_url": guide.photo_url,
        "bio": guide.bio.as_dict() if guide.bio else None,
        "languages": list(guide.languages),
        "expertise": list(guide.expertise),
        "expertise_labels": [
            {"key": tag, "label": (labels or {}).get(tag, {"fi": tag})} for tag in guide.expertise
        ],
        "modes": list(guide.modes),
        "contacts": [{"kind": c.kind, "value": c.value} for c in guide.contacts if c.public],
        "status": effective_status(guide),
        "term_end": guide.term_end,
        "demo": guide.demo,
        "revision": guide.version,
    }


def staff_document(guide: Guide, labels: Labels | None = None) -> Document:
    """The whole profile, for the municipality's staff and the guide themself."""
    document = public_document(guide, labels)
    document["contacts"] = [c.model_dump() for c in guide.contacts]
    document["term_start"] = guide.term_start
    document["successor_id"] = guide.successor_id
    document["user_id"] = guide.user_id
    return document


@dataclass
class GuideFilters:
    language: str | None = None
    expertise: str | None = None
    mode: str | None = None
    has_free_slots: bool = False
    statuses: tuple[str, ...] = (GuideStatus.active,)
    modified_since: datetime | None = None


async def list_page(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    filters: GuideFilters,
    limit: int,
    cursor: str | None,
) -> Page[Guide]:
    """Guides by name; the directory shows active ones, filtered as a mover chooses."""
    dialect = session.get_bind().dialect.name
    statement = select(Guide).where(
        col(Guide.municipality_id) == municipality_id, status_clause(filters.statuses)
    )
    if filters.language:
        statement = statement.where(json_array_contains(Guide.languages, filters.language, dialect))
    if filters.expertise:
        statement = statement.where(
            json_array_contains(Guide.expertise, filters.expertise, dialect)
        )
    if filters.mode:
        statement = statement.where(json_array_contains(Guide.modes, filters.mode, dialect))
    if filters.modified_since:
        statement = statement.where(col(Guide.updated_at) >= filters.modified_since)
    if filters.has_free_slots:
        statement = statement.where(
            exists(_free_slots(municipality_id).where(col(Slot.guide_id) == Guide.id))
        )
    total = (
        await execute(session, sa_select(func.count()).select_from(statement.subquery()))
    ).scalar_one()
    after = decode_cursor("guides", cursor, as_text, as_uuid)
    statement = statement.order_by(col(Guide.display_name), col(Guide.id)).limit(limit + 1)
    if after is not None:
        name, last = after
        statement = statement.where(
            or_(
                col(Guide.display_name) > name,
                and_(col(Guide.display_name) == name, col(Guide.id) > last),
            )
        )
    rows = list(await session.exec(statement))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor("guides", [rows[-1].display_name, str(rows[-1].id)])
    return Page(items=rows, next_cursor=next_cursor, total=total)


async def get(*, session: AsyncSession, municipality_id: uuid.UUID, guide_id: uuid.UUID) -> Guide:
    guide = await session.get(Guide, guide_id)
    if guide is None or guide.municipality_id != municipality_id:
        raise NotFound("No such guide.")
    return guide


async def _bump(session: AsyncSession, municipality_id: uuid.UUID) -> None:
    await content_version.bump_municipal(
        session=session, municipality_id=municipality_id, kind=KIND
    )


def is_public(guide: Guide) -> bool:
    """Whether the public directory lists the guide (and their free slots)."""
    return effective_status(guide) == GuideStatus.active


async def _log(
    session: AsyncSession, guide: Guide, was_public: bool | None, verb: str | None = None
) -> None:
    """The public change a write made to a guide, and to their free slots when the guide
    entered or left the directory (the slots come and go with them)."""
    now_public = is_public(guide)
    await changes.visibility(
        session=session,
        municipality_id=guide.municipality_id,
        kind=KIND,
        resource_id=guide.id,
        was_public=was_public,
        is_public=now_public,
        revision=guide.version,
        collection="guides",
        verb=verb,
    )
    if bool(was_public) == now_public:
        return
    taken = sa_select(col(Booking.slot_id)).where(col(Booking.status).in_(ACTIVE_STATUSES))
    free = await session.exec(
        select(Slot).where(
            col(Slot.guide_id) == guide.id,
            col(Slot.starts_at) > utcnow(),
            col(Slot.id).not_in(taken),
        )
    )
    for slot in free:
        await log_slot(session, slot, was_public=not now_public, is_public=now_public)


async def log_slot(
    session: AsyncSession,
    slot: Slot,
    *,
    was_public: bool | None,
    is_public: bool | None,
    verb: str | None = None,
) -> None:
    """The public change to one slot: added, withdrawn, booked or released."""
    if slot.starts_at <= utcnow():
        return  # a slot that has begun left the public list by itself
    await changes.visibility(
        session=session,
        municipality_id=slot.municipality_id,
        kind=SLOT_KIND,
        resource_id=slot.id,
        was_public=was_public,
        is_public=is_public,
        revision=None,
        collection="slots",
        verb=verb,
    )


async def _guide_user(session: AsyncSession, municipality_id: uuid.UUID, email: str) -> uuid.UUID:
    """The account that may edit the profile: it must hold the guide role here."""
    from app.models.user import RoleGrant  # local: only this lookup needs it

    user = (await session.exec(select(User).where(col(User.email) == email.lower()))).first()
    grant = None
    if user is not None:
        grant = (
            await session.exec(
                select(RoleGrant).where(
                    col(RoleGrant.user_id) == user.id,
                    col(RoleGrant.role) == Role.guide,
                    col(RoleGrant.municipality_id) == municipality_id,
                )
            )
        ).first()
    if user is None or grant is None:
        raise ValidationFailed(
            "user_email must be an account with the guide role in this municipality.",
            errors=[FieldProblem("body.user_email", "no guide account with this email here")],
        )
    return user.id


async def create(*, session: AsyncSession, municipality_id: uuid.UUID, data: GuideCreate) -> Guide:
    """A new guide; the term defaults to one year from its start."""
    await _check_expertise(session, municipality_id, data.expertise)
    values = {name: getattr(data, name) for name in type(data).model_fields if name != "user_email"}
    if data.term_start and not data.term_end:
        values["term_end"] = data.term_start + TERM
    guide = Guide(municipality_id=municipality_id, **values)
    if data.user_email:
        guide.user_id = await _guide_user(session, municipality_id, data.user_email)
    session.add(guide)
    await session.flush()
    await _bump(session, municipality_id)
    await _log(session, guide, None)
    return guide


def may_edit_profile(principal: Principal, guide: Guide) -> bool:
    return guide.user_id is not None and guide.user_id == principal.user.id


async def update(
    *, session: AsyncSession, guide: Guide, principal: Principal, data: GuideUpdate, staff: bool
) -> Guide:
    """Staff change anything; a guide only their own profile's descriptive fields."""
    changes = data.model_fields_set
    if not staff:
        if not may_edit_profile(principal, guide):
            raise Forbidden("You may edit only your own guide profile.")
        refused = sorted(changes - SELF_EDITABLE)
        if refused:
            raise Forbidden(f"A guide cannot change {', '.join(refused)}; ask the municipality.")
    if "expertise" in changes:
        await _check_expertise(session, guide.municipality_id, data.expertise)
    was_public = is_public(guide)
    for name in changes:
        setattr(guide, name, getattr(data, name))
    if guide.term_start and guide.term_end and guide.term_end <= guide.term_start:
        raise ValidationFailed(
            "term_end must be after term_start.",
            errors=[FieldProblem("body.term_end", "before term_start")],
        )
    guide.updated_at = utcnow()
    guide.version += 1
    session.add(guide)
    await session.flush()
    await _bump(session, guide.municipality_id)
    await _log(session, guide, was_public)
    return guide


_TRANSITIONS = {
    GuideStatus.proposed: {GuideStatus.active, GuideStatus.ended},
    GuideStatus.active: {GuideStatus.ended},
    GuideStatus.ended: set(),
    GuideStatus.upcoming: {GuideStatus.ended},
}


async def set_status(*, session: AsyncSession, guide: Guide, status: GuideStatus) -> Guide:
    """proposed → active → ended; activating starts a one-year term unless one is set."""
    current = effective_status(guide)
    if status not in _TRANSITIONS[current]:
        raise Conflict(f"A {current} guide cannot become {status}.", code="invalid-transition")
    was_public = is_public(guide)
    guide.status = status
    day = today()
    if status == GuideStatus.active and guide.term_start is None:
        guide.term_start = day
        guide.term_end = day + TERM
    if status == GuideStatus.ended:
        guide.term_end = min(guide.term_end or day, day)
        if guide.term_start is not None and guide.term_start >= guide.term_end:
            guide.term_start = None  # withdrawn before the term began
    guide.updated_at = utcnow()
    guide.version += 1
    await session.flush()
    await _bump(session, guide.municipality_id)
    await _log(session, guide, was_public, verb="activated" if status == "active" else "ended")
    return guide


async def nominate_successor(
    *, session: AsyncSession, guide: Guide, principal: Principal, successor_id: uuid.UUID
) -> Guide:
    """Near the end of their term a guide names who should carry on (seed p. 28)."""
    if not may_edit_profile(principal, guide) and not principal.has_role(
        guide.municipality_id, Role.municipality_admin
    ):
        raise Forbidden("Only the guide themself or an admin nominates a successor.")
    if effective_status(guide) != GuideStatus.active:
        raise Conflict("Only an active guide nominates a successor.", code="invalid-transition")
    successor = await get(
        session=session, municipality_id=guide.municipality_id, guide_id=successor_id
    )
    if successor.id == guide.id or effective_status(successor) == GuideStatus.ended:
        raise ValidationFailed(
            "The successor must be another guide who has not ended.",
            errors=[FieldProblem("body.successor_id", "not a possible successor")],
        )
    guide.successor_id = successor.id
    guide.updated_at = utcnow()
    guide.version += 1
    await session.flush()
    return guide


async def confirm_successor(*, session: AsyncSession, guide: Guide) -> tuple[Guide, Guide]:
    """The admin confirms: the successor's term starts when this one's ends."""
    if guide.successor_id is None:
        raise Conflict("No successor has been nominated.", code="invalid-transition")
    successor = await get(
        session=session, municipality_id=guide.municipality_id, guide_id=guide.successor_id
    )
    start = guide.term_end or utcnow().astimezone(HELSINKI).date()
    was_public = is_public(successor)
    successor.term_start = start
    successor.term_end = start + TERM
    if successor.status == GuideStatus.proposed:
        successor.status = GuideStatus.active
    successor.updated_at = guide.updated_at = utcnow()
    successor.version += 1
    guide.version += 1
    await session.flush()
    await _bump(session, guide.municipality_id)
    await _log(session, guide, is_public(guide))
    await _log(session, successor, was_public)
    return guide, successor


# ---- slots ---------------------------------------------------------------------------------


def _free_slots(municipality_id: uuid.UUID) -> Any:
    """Future slots with no active booking."""
    taken = sa_select(col(Booking.slot_id)).where(col(Booking.status).in_(ACTIVE_STATUSES))
    return sa_select(col(Slot.id)).where(
        col(Slot.municipality_id) == municipality_id,
        col(Slot.starts_at) > utcnow(),
        col(Slot.id).not_in(taken),
    )


def local(moment: datetime) -> datetime:
    return moment.astimezone(HELSINKI)


def slot_document(slot: Slot, guide: Guide | None = None) -> Document:
    """A slot with its local time and offset (clients show what the mover's clock says)."""
    return _slot_doc(
        slot.id,
        slot.guide_id,
        guide.display_name if guide else None,
        slot.starts_at,
        slot.ends_at,
        list(slot.modes),
        slot.place.as_dict() if slot.place else None,
    )


def _slot_doc(
    slot_id: uuid.UUID,
    guide_id: uuid.UUID,
    guide_name: str | None,
    starts_at: datetime,
    ends_at: datetime,
    modes: list[str],
    place: dict[str, str] | None,
) -> Document:
    starts, ends = local(starts_at), local(ends_at)
    offset = starts.strftime("%z")
    return {
        "id": slot_id,
        "guide_id": guide_id,
        "guide_name": guide_name,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "local_start": starts.replace(tzinfo=None).isoformat(timespec="minutes"),
        "local_end": ends.replace(tzinfo=None).isoformat(timespec="minutes"),
        "utc_offset": f"{offset[:3]}:{offset[3:]}",
        "time_zone": "Europe/Helsinki",
        "modes": modes,
        "place": place,
    }


def _free_slot_rows(
    *,
    municipality_id: uuid.UUID,
    start: datetime,
    end: datetime,
    guide_id: uuid.UUID | None,
    mode: str | None,
    created_since: datetime | None,
    dialect: str,
) -> Any:
    """The public slot list, lean: only the columns it shows, filtered by municipality
    in the outer query too (so the planner starts there), no entities loaded.

    The entity version loaded every guide's whole profile per slot; a month of 460
    slots took 20–35 ms cold on PostgreSQL and far more on SQLite.
    """
    taken = sa_select(col(Booking.slot_id)).where(col(Booking.status).in_(ACTIVE_STATUSES))
    statement = (
        sa_select(
            col(Slot.id),
            col(Slot.guide_id),
            col(Guide.display_name),
            col(Slot.starts_at),
            col(Slot.ends_at),
            type_coerce(Slot.modes, JSONType).label("modes"),
            type_coerce(Slot.place, JSONType).label("place"),
        )
        .join(Guide, col(Guide.id) == col(Slot.guide_id))
        .where(
            col(Slot.municipality_id) == municipality_id,
            col(Slot.starts_at) >= max(start, utcnow()),
            col(Slot.starts_at) < end,
            active_clause(),
            col(Slot.id).not_in(taken),
        )
    )
    if guide_id is not None:
        statement = statement.where(col(Slot.guide_id) == guide_id)
    if mode is not None:
        statement = statement.where(json_array_contains(Slot.modes, mode, dialect))
    if created_since is not None:
        # Added since then, or public again since then (a booking released it, its guide
        # came back): slots have no updated_at, the change log knows.
        again = changes.reappeared_ids(municipality_id, (SLOT_KIND,), created_since)
        statement = statement.where(
            or_(col(Slot.created_at) >= created_since, col(Slot.id).in_(again))
        )
    return statement


def _slot_docs(rows: Any) -> list[Document]:
    return [
        _slot_doc(
            row.id,
            row.guide_id,
            row.display_name,
            row.starts_at,
            row.ends_at,
            list(row.modes or []),
            row.place,
        )
        for row in rows
    ]


async def free_slot_page(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    start: datetime,
    end: datetime,
    limit: int,
    cursor: str | None = None,
    guide_id: uuid.UUID | None = None,
    mode: str | None = None,
    created_since: datetime | None = None,
) -> Page[Document]:
    """A page of the free slots in the window, soonest first."""
    after = decode_cursor("slots", cursor, as_moment, as_uuid)
    selection = _free_slot_rows(
        municipality_id=municipality_id,
        start=start,
        end=end,
        guide_id=guide_id,
        mode=mode,
        created_since=created_since,
        dialect=session.get_bind().dialect.name,
    )
    page = await keyset_page(
        session,
        selection,
        collection="slots",
        order=(col(Slot.starts_at), col(Slot.id)),
        after=after,
        limit=limit,
        count_from=selection,
        key=lambda row: [row.starts_at.isoformat(), str(row.id)],
    )
    return Page(items=_slot_docs(page.items), next_cursor=page.next_cursor, total=page.total)


async def free_slot(
    *, session: AsyncSession, municipality_id: uuid.UUID, slot_id: uuid.UUID
) -> Document:
    """One slot as the public list shows it, while it is bookable (free, not started, its
    guide listed); otherwise 404, as the change feed's tombstone for it says."""
    now = utcnow()
    selection = _free_slot_rows(
        municipality_id=municipality_id,
        start=now,
        end=now + timedelta(days=3660),
        guide_id=None,
        mode=None,
        created_since=None,
        dialect=session.get_bind().dialect.name,
    ).where(col(Slot.id) == slot_id)
    rows = (await execute(session, selection)).all()
    if not rows:
        raise NotFound("No such free slot.")
    return _slot_docs(rows)[0]


def _overlap_error(error: IntegrityError) -> Conflict | None:
    text = str(error.orig).lower()
    if "ex_slot_no_overlap" in text or "exclusion" in text or "conflicting key" in text:
        return Conflict("The slot overlaps another slot of this host.", code="slot-overlap")
    return None


async def add_slot(*, session: AsyncSession, guide: Guide, data: SlotCreate) -> Slot:
    """One slot; the database refuses an overlap with the host's other slots."""
    slot = Slot(
        municipality_id=guide.municipality_id,
        guide_id=guide.id,
        starts_at=data.starts_at.astimezone(UTC),
        ends_at=data.ends_at.astimezone(UTC),
        modes=list(data.modes),
        place=data.place,
    )
    try:
        async with session.begin_nested():
            session.add(slot)
            await session.flush()
    except IntegrityError as error:
        conflict = _overlap_error(error)
        if conflict is None:
            raise
        raise conflict from error
    await content_version.bump_municipal(
        session=session, municipality_id=guide.municipality_id, kind=SLOT_KIND
    )
    await log_slot(session, slot, was_public=None, is_public=is_public(guide))
    return slot


@dataclass
class Expansion:
    """What a weekly rule became: the slots made and the dates it could not use."""

    rule: SlotRule
    created: list[Slot] = field(default_factory=list)
    skipped: list[Document] = field(default_factory=list)
    shifted: list[Document] = field(default_factory=list)


def wall_clock(day: date, rule: SlotRuleCreate | SlotRule) -> tuple[datetime | None, str | None]:
    """The aware start of a rule's slot on `day` and what was special about it.

    - Nonexistent (spring forward, e.g. 2026-03-29 03:30): None, or shifted an hour on
      when the rule asks to shift.
    - Ambiguous (fall back, e.g. 2026-10-25 03:30 twice): the first occurrence (summer
      time), deliberately, so the slot is never moved by the clock change.
    """
    naive = datetime.combine(day, rule.local_start)
    first = naive.replace(tzinfo=HELSINKI, fold=0)
    if first.astimezone(UTC).astimezone(HELSINKI).replace(tzinfo=None) != naive:
        if getattr(rule, "on_nonexistent_time", "skip") == "shift":
            return (naive + timedelta(hours=1)).replace(tzinfo=HELSINKI), "shifted"
        return None, "nonexistent-local-time"
    if first.utcoffset() != naive.replace(tzinfo=HELSINKI, fold=1).utcoffset():
        return first, "ambiguous-local-time"
    return first, None


async def add_rule(
    *, session: AsyncSession, guide: Guide, data: SlotRuleCreate, weeks: int
) -> Expansion:
    """A weekly rule expanded into slots for the coming `weeks` (within its validity)."""
    rule = SlotRule(
        municipality_id=guide.municipality_id,
        guide_id=guide.id,
        weekday=data.weekday,
        local_start=data.local_start,
        duration_minutes=data.duration_minutes,
        modes=list(data.modes),
        place=data.place,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
    )
    session.add(rule)
    await session.flush()
    expansion = Expansion(rule=rule)
    horizon = min(data.valid_until, max(today(), data.valid_from) + timedelta(weeks=weeks))
    day = data.valid_from + timedelta(days=(data.weekday - data.valid_from.weekday()) % 7)
    while day <= horizon:
        starts, note = wall_clock(day, data)
        if starts is None:
            expansion.skipped.append({"date": day, "reason": note})
        else:
            if note == "shifted":
                expansion.shifted.append({"date": day, "reason": "nonexistent-local-time"})
            ends = starts.astimezone(UTC) + timedelta(minutes=data.duration_minutes)
            slot = Slot(
                municipality_id=guide.municipality_id,
                guide_id=guide.id,
                starts_at=starts.astimezone(UTC),
                ends_at=ends,
                modes=list(data.modes),
                place=data.place,
                rule_id=rule.id,
            )
            try:
                async with session.begin_nested():
                    session.add(slot)
                    await session.flush()
                expansion.created.append(slot)
            except IntegrityError as error:
                if _overlap_error(error) is None:
                    raise
                expansion.skipped.append({"date": day, "reason": "overlaps-another-slot"})
        day += timedelta(days=7)
    await content_version.bump_municipal(
        session=session, municipality_id=guide.municipality_id, kind=SLOT_KIND
    )
    for slot in expansion.created:
        await log_slot(session, slot, was_public=None, is_public=is_public(guide))
    return expansion


async def remove_slot(*, session: AsyncSession, slot: Slot) -> None:
    """A slot with an active booking stays: cancel or decline the booking first. One with
    only cancelled or declined bookings stays too, as their record (the bookings point at
    it; deleting it was a foreign-key failure, a 500)."""
    statuses = (
        await session.exec(select(Booking.status).where(col(Booking.slot_id) == slot.id))
    ).all()
    if any(status in ACTIVE_STATUSES for status in statuses):
        raise Conflict(
            "The slot is booked; decline or cancel the booking first.", code="slot-booked"
        )
    if statuses:
        raise Conflict(
            "The slot has cancelled or declined bookings on record; it stays.",
            code="slot-booked",
        )
    guide = await session.get(Guide, slot.guide_id)
    listed = guide is not None and is_public(guide)
    await log_slot(session, slot, was_public=listed, is_public=None, verb="withdrawn")
    await session.delete(slot)
    await session.flush()
    await content_version.bump_municipal(
        session=session, municipality_id=slot.municipality_id, kind=SLOT_KIND
    )


async def get_slot(
    *, session: AsyncSession, municipality_id: uuid.UUID, slot_id: uuid.UUID
) -> Slot:
    slot = await session.get(Slot, slot_id)
    if slot is None or slot.municipality_id != municipality_id:
        raise NotFound("No such slot.")
    return slot


MAX_WINDOW = timedelta(days=92)
DEFAULT_WINDOW = timedelta(days=31)
LAST_DEFAULT_START = datetime.max.replace(tzinfo=UTC) - DEFAULT_WINDOW


def slot_window(
    from_: datetime | None, to: datetime | None, *, prefix: str = ""
) -> tuple[datetime, datetime]:
    """The window of free slots asked for, or a 422 naming what is wrong with it; REST
    names its parameters `query.from`, GraphQL its arguments `from`."""
    naive = [
        FieldProblem(name, "needs an offset, e.g. +03:00 or Z")
        for name, value in ((f"{prefix}from", from_), (f"{prefix}to", to))
        if value is not None and value.tzinfo is None
    ]
    if naive:
        raise ValidationFailed("Invalid time window.", errors=naive)
    for name, value in ((f"{prefix}from", from_), (f"{prefix}to", to)):
        if value is not None:
            try:  # REST's parameter types check this already; GraphQL's scalars do not
                as_utc(value)
            except ValueError as error:
                raise ValidationFailed(
                    "Invalid time window.", errors=[FieldProblem(name, str(error))]
                ) from error
    # In UTC the default window can only overflow past year 9999; refused before it does.
    start = from_.astimezone(UTC) if from_ else utcnow()
    problem = None
    if to is None and start > LAST_DEFAULT_START:
        problem = FieldProblem(f"{prefix}from", "too late for the default window; send `to`")
    else:
        end = to or start + DEFAULT_WINDOW
        if end - start > MAX_WINDOW:
            problem = FieldProblem(f"{prefix}to", "the window is at most 92 days")
        elif end <= start:
            problem = FieldProblem(f"{prefix}to", "must be after from")
    if problem:
        raise ValidationFailed("Invalid time window.", errors=[problem])
    return start, end
