"""Bookings without accounts: race-proof creation, the secret manage link, the host's
side, and erasure. The database guarantees one active booking per slot (a partial
unique index); the code only turns its refusal into a clear 409."""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core import metrics
from app.core.config import Settings
from app.core.db import execute
from app.core.errors import (
    Conflict,
    DomainError,
    FieldProblem,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from app.core.pagination import Page, as_offset, decode_cursor, encode_cursor
from app.core.security import hash_secret_token, new_secret_token, secret_token_matches
from app.core.time import utcnow
from app.models.booking import ACTIVE_STATUSES, Booking, BookingCreate, BookingStatus
from app.models.guide import Guide, GuideStatus, Slot
from app.models.municipality import Municipality
from app.models.outbox import OutboxEmail
from app.models.user import Role
from app.services import content_version, notify
from app.services.auth import Principal
from app.services.guide import SLOT_KIND, effective_status, is_public, log_slot

# A manage link works until this long after the meeting (then the booking is history).
LINK_VALID_AFTER_MEETING = timedelta(days=30)


def slot_taken() -> Conflict:
    return Conflict("Someone booked this time just before you; pick another.", code="slot-taken")


def fingerprint(data: BookingCreate) -> str:
    """What an Idempotency-Key promises: the same key always means the same request."""
    return hashlib.sha256(
        orjson.dumps(data.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    ).hexdigest()


@dataclass
class Created:
    booking: Booking
    slot: Slot
    guide: Guide
    token: str | None  # None when an Idempotency-Key replayed an earlier booking
    replayed: bool


async def _by_idempotency_key(
    session: AsyncSession, municipality_id: uuid.UUID, key: str
) -> Booking | None:
    return (
        await session.exec(
            select(Booking).where(
                col(Booking.municipality_id) == municipality_id,
                col(Booking.idempotency_key) == key,
            )
        )
    ).first()


async def _replay(session: AsyncSession, existing: Booking, data: BookingCreate) -> Created:
    if existing.request_fingerprint != fingerprint(data):
        raise ValidationFailed(
            "This Idempotency-Key was used for a different request.",
            code="idempotency-key-reused",
        )
    slot = await session.get(Slot, existing.slot_id)
    guide = await session.get(Guide, existing.guide_id)
    assert slot is not None
    assert guide is not None
    return Created(existing, slot, guide, token=None, replayed=True)


async def _bookable_slot(
    session: AsyncSession, municipality_id: uuid.UUID, slot_id: uuid.UUID, mode: str
) -> tuple[Slot, Guide]:
    slot = await session.get(Slot, slot_id)
    if slot is None or slot.municipality_id != municipality_id:
        raise ValidationFailed(
            "No such slot.", errors=[FieldProblem("body.slot_id", "no such slot", "unknown")]
        )
    guide = await session.get(Guide, slot.guide_id)
    assert guide is not None
    if slot.starts_at <= utcnow() or effective_status(guide) != GuideStatus.active:
        raise Conflict("This time can no longer be booked.", code="slot-unavailable")
    if mode not in slot.modes:
        raise ValidationFailed(
            f"This time is offered as {', '.join(slot.modes)}.",
            errors=[FieldProblem("body.mode", f"one of {', '.join(slot.modes)}", "unavailable")],
        )
    return slot, guide


async def create(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    data: BookingCreate,
    idempotency_key: str | None,
) -> Created:
    """Book a slot. Twenty people at once on one slot: one booking, nineteen 409s."""
    if idempotency_key:
        existing = await _by_idempotency_key(session, municipality_id, idempotency_key)
        if existing is not None:
            return await _replay(session, existing, data)
    slot, guide = await _bookable_slot(session, municipality_id, data.slot_id, data.mode)
    token = new_secret_token()
    now = utcnow()
    booking = Booking(
        municipality_id=municipality_id,
        slot_id=slot.id,
        guide_id=guide.id,
        mode=data.mode,
        name=data.name,
        email=data.email,
        phone=data.phone,
        language=data.language,
        persona=data.persona,
        topics=list(data.topics),
        message=data.message,
        consent_at=now,
        manage_token_hash=hash_secret_token(token),
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint(data),
    )
    try:
        async with session.begin_nested():
            session.add(booking)
            await session.flush()
    except IntegrityError as error:
        if idempotency_key and "idempotency" in str(error.orig).lower():
            session.expunge(booking)
            existing = await _by_idempotency_key(session, municipality_id, idempotency_key)
            if existing is not None:
                return await _replay(session, existing, data)
        raise slot_taken() from error
    await content_version.bump_municipal(
        session=session, municipality_id=municipality_id, kind=SLOT_KIND
    )
    await log_slot(session, slot, was_public=True, is_public=False, verb="booked")
    return Created(booking, slot, guide, token=token, replayed=False)


# ---- the mover's manage link ------------------------------------------------------------------


async def by_token(
    *, session: AsyncSession, municipality_id: uuid.UUID, booking_id: uuid.UUID, token: str
) -> tuple[Booking, Slot, Guide]:
    """The booking behind a manage link. A wrong, expired or erased link is a plain 404:
    nothing tells a guesser which part was wrong."""
    booking = await session.get(Booking, booking_id)
    valid = (
        booking is not None
        and booking.municipality_id == municipality_id
        and booking.erased_at is None
        and secret_token_matches(token, booking.manage_token_hash)
    )
    if not valid or booking is None:
        raise NotFound("No such booking, or the link has expired.")
    slot = await session.get(Slot, booking.slot_id)
    guide = await session.get(Guide, booking.guide_id)
    assert slot is not None
    assert guide is not None
    if slot.ends_at + LINK_VALID_AFTER_MEETING < utcnow():
        raise NotFound("No such booking, or the link has expired.")
    return booking, slot, guide


def _touch(booking: Booking) -> None:
    booking.updated_at = booking.last_activity_at = utcnow()


async def _released(session: AsyncSession, slot_id: uuid.UUID) -> None:
    """A booking no longer holds its slot: the slot is public again if it still can be."""
    slot = await session.get(Slot, slot_id)
    guide = await session.get(Guide, slot.guide_id) if slot is not None else None
    if slot is not None and guide is not None and is_public(guide):
        await log_slot(session, slot, was_public=False, is_public=True, verb="released")


async def cancel(*, session: AsyncSession, booking: Booking) -> Booking:
    if booking.status not in ACTIVE_STATUSES:
        raise Conflict(f"The booking is already {booking.status}.", code="invalid-transition")
    booking.status = BookingStatus.cancelled
    booking.ics_sequence += 1
    _touch(booking)
    await session.flush()
    await content_version.bump_municipal(
        session=session, municipality_id=booking.municipality_id, kind=SLOT_KIND
    )
    await _released(session, booking.slot_id)
    return booking


async def reschedule(
    *, session: AsyncSession, booking: Booking, slot_id: uuid.UUID, mode: str | None
) -> tuple[Booking, Slot, Guide, str]:
    """Move to another slot in one UPDATE: the new slot is taken (the unique index checks
    it) in the same statement that frees the old one, so there is no moment with both or
    neither. The manage token rotates: the old link stops working."""
    if booking.status not in ACTIVE_STATUSES:
        raise Conflict(f"A {booking.status} booking cannot be moved.", code="invalid-transition")
    if slot_id == booking.slot_id:
        raise ValidationFailed(
            "That is the current time.", errors=[FieldProblem("body.slot_id", "the same slot")]
        )
    slot, guide = await _bookable_slot(
        session, booking.municipality_id, slot_id, mode or booking.mode
    )
    token = new_secret_token()
    old_slot_id = booking.slot_id
    try:
        async with session.begin_nested():
            booking.slot_id = slot.id
            booking.guide_id = guide.id
            booking.mode = mode or booking.mode
            booking.status = BookingStatus.pending
            booking.meeting_link = None
            booking.manage_token_hash = hash_secret_token(token)
            booking.ics_sequence += 1
            booking.reminder_sent_at = None  # the new time gets its own reminder
            _touch(booking)
            await session.flush()
    except IntegrityError as error:
        await session.refresh(booking)
        raise slot_taken() from error
    await content_version.bump_municipal(
        session=session, municipality_id=booking.municipality_id, kind=SLOT_KIND
    )
    await log_slot(session, slot, was_public=True, is_public=False, verb="booked")
    await _released(session, old_slot_id)
    return booking, slot, guide, token


def erase_personal_data(booking: Booking) -> None:
    """Keep the fact that a meeting was booked (for statistics), not who booked it."""
    booking.name = booking.email = booking.phone = booking.message = None
    booking.meeting_link = None
    booking.idempotency_key = booking.request_fingerprint = None
    booking.manage_token_hash = hash_secret_token(new_secret_token())
    booking.erased_at = utcnow()
    if booking.status in ACTIVE_STATUSES:
        booking.status = BookingStatus.cancelled
        booking.ics_sequence += 1
    _touch(booking)


async def erase(*, session: AsyncSession, booking: Booking) -> Booking:
    """Forget the mover, including emails about them not yet sent (they carry the
    name and the manage link)."""
    was_active = booking.status in ACTIVE_STATUSES
    erase_personal_data(booking)
    await execute(
        session,
        delete(OutboxEmail).where(
            col(OutboxEmail.dedupe_key).startswith(f"booking:{booking.id}:"),
            col(OutboxEmail.sent_at).is_(None),
        ),
    )
    await session.flush()
    if was_active:
        await content_version.bump_municipal(
            session=session, municipality_id=booking.municipality_id, kind=SLOT_KIND
        )
        await _released(session, booking.slot_id)
    return booking


# ---- the host's side ----------------------------------------------------------------------------


def can_host(principal: Principal, guide: Guide) -> bool:
    """The guide themself, or the municipality's admins."""
    return (guide.user_id is not None and guide.user_id == principal.user.id) or principal.has_role(
        guide.municipality_id, Role.municipality_admin
    )


async def list_for_staff(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    principal: Principal,
    limit: int,
    cursor: str | None,
    status: str | None = None,
    modified_since: datetime | None = None,
) -> Page[tuple[Booking, Slot, Guide]]:
    """Admins see every booking of the municipality, a guide only their own."""
    statement = (
        select(Booking, Slot, Guide)
        .join(Slot, col(Slot.id) == col(Booking.slot_id))
        .join(Guide, col(Guide.id) == col(Booking.guide_id))
        .where(col(Booking.municipality_id) == municipality_id)
    )
    if not principal.has_role(municipality_id, Role.municipality_admin):
        if not principal.has_role(municipality_id, Role.guide):
            raise Forbidden("Only the municipality's admins and guides see bookings.")
        statement = statement.where(col(Guide.user_id) == principal.user.id)
    if status:
        statement = statement.where(col(Booking.status) == status)
    if modified_since is not None:
        statement = statement.where(col(Booking.updated_at) >= modified_since)
    rows = list(await session.exec(statement.order_by(col(Slot.starts_at), col(Booking.id))))
    after = decode_cursor("bookings", cursor, as_offset)
    offset = after[0] if after else 0
    window = rows[offset : offset + limit]
    next_cursor = (
        encode_cursor("bookings", [offset + limit]) if offset + limit < len(rows) else None
    )
    return Page(items=[(b, s, g) for b, s, g in window], next_cursor=next_cursor, total=len(rows))


async def for_host(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    booking_id: uuid.UUID,
    principal: Principal,
) -> tuple[Booking, Slot, Guide]:
    booking = await session.get(Booking, booking_id)
    if booking is None or booking.municipality_id != municipality_id:
        raise NotFound("No such booking.")
    slot = await session.get(Slot, booking.slot_id)
    guide = await session.get(Guide, booking.guide_id)
    assert slot is not None
    assert guide is not None
    if not can_host(principal, guide):
        raise NotFound("No such booking.")
    return booking, slot, guide


async def decide(
    *, session: AsyncSession, booking: Booking, confirm: bool, meeting_link: str | None
) -> Booking:
    """Confirm (optionally with the remote-meeting link) or decline a pending booking."""
    if booking.status != BookingStatus.pending and not (
        confirm and booking.status == BookingStatus.confirmed
    ):
        raise Conflict(f"The booking is {booking.status}.", code="invalid-transition")
    if confirm:
        booking.status = BookingStatus.confirmed
        if meeting_link:
            booking.meeting_link = meeting_link
    else:
        booking.status = BookingStatus.declined
        await content_version.bump_municipal(
            session=session, municipality_id=booking.municipality_id, kind=SLOT_KIND
        )
        await session.flush()
        await _released(session, booking.slot_id)
    booking.ics_sequence += 1
    _touch(booking)
    await session.flush()
    return booking


def public_view(booking: Booking, slot_doc: dict[str, Any], guide: Guide) -> dict[str, Any]:
    """The booking as its mover sees it through the manage link."""
    return {
        "id": booking.id,
        "status": booking.status,
        "mode": booking.mode,
        "slot": slot_doc,
        "guide": {"id": guide.id, "display_name": guide.display_name},
        "name": booking.name,
        "email": booking.email,
        "phone": booking.phone,
        "language": booking.language,
        "persona": booking.persona,
        "topics": list(booking.topics),
        "message": booking.message,
        "meeting_link": booking.meeting_link,
        "created_at": booking.created_at,
        "updated_at": booking.updated_at,
    }


def staff_view(booking: Booking, slot_doc: dict[str, Any], guide: Guide) -> dict[str, Any]:
    return public_view(booking, slot_doc, guide) | {"erased": booking.erased_at is not None}


def expiry_of(slot: Slot) -> datetime:
    return slot.ends_at + LINK_VALID_AFTER_MEETING


# ---- the flows both front doors use: change, then tell the people concerned ---------------------


async def _municipality(session: AsyncSession, municipality_id: uuid.UUID) -> Municipality:
    municipality = await session.get(Municipality, municipality_id)
    if municipality is None:
        raise NotFound("No such municipality.")
    return municipality


@dataclass
class Outcome:
    booking: Booking
    slot: Slot
    guide: Guide
    manage_url: str | None = None
    replayed: bool = False


async def book(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    slug: str,
    data: BookingCreate,
    idempotency_key: str | None,
    settings: Settings,
) -> Outcome:
    """Book, then enqueue the mover's confirmation and the host's notice (same transaction)."""
    try:
        created = await create(
            session=session,
            municipality_id=municipality_id,
            data=data,
            idempotency_key=idempotency_key,
        )
    except DomainError as error:
        metrics.BOOKINGS_REFUSED.labels(error.code).inc()
        raise
    if not created.replayed:
        metrics.BOOKINGS_MADE.inc()
    outcome = Outcome(created.booking, created.slot, created.guide, replayed=created.replayed)
    if created.token is not None:
        outcome.manage_url = notify.manage_url(settings, slug, created.booking.id, created.token)
        await notify.booking_event(
            session=session,
            booking=created.booking,
            slot=created.slot,
            guide=created.guide,
            municipality=await _municipality(session, municipality_id),
            event="received",
            manage_url=outcome.manage_url,
            settings=settings,
        )
    return outcome


async def cancel_and_notify(
    *, session: AsyncSession, booking: Booking, slot: Slot, guide: Guide, settings: Settings
) -> Booking:
    booking = await cancel(session=session, booking=booking)
    await notify.booking_event(
        session=session,
        booking=booking,
        slot=slot,
        guide=guide,
        municipality=await _municipality(session, booking.municipality_id),
        event="cancelled",
        manage_url=None,
        settings=settings,
    )
    return booking


async def reschedule_and_notify(
    *,
    session: AsyncSession,
    booking: Booking,
    slug: str,
    slot_id: uuid.UUID,
    mode: str | None,
    settings: Settings,
) -> Outcome:
    old_slot = await session.get(Slot, booking.slot_id)
    old_guide = await session.get(Guide, booking.guide_id)
    booking, slot, guide, token = await reschedule(
        session=session, booking=booking, slot_id=slot_id, mode=mode
    )
    url = notify.manage_url(settings, slug, booking.id, token)
    await notify.booking_event(
        session=session,
        booking=booking,
        slot=slot,
        guide=guide,
        municipality=await _municipality(session, booking.municipality_id),
        event="rescheduled",
        manage_url=url,
        settings=settings,
        moved_from=(old_slot, old_guide) if old_slot and old_guide else None,
    )
    return Outcome(booking, slot, guide, manage_url=url)


async def erase_and_notify(
    *, session: AsyncSession, booking: Booking, slot: Slot, guide: Guide, settings: Settings
) -> Booking:
    """Erase; an active booking is thereby cancelled and its host is told."""
    was_active = booking.status in ACTIVE_STATUSES
    booking = await erase(session=session, booking=booking)
    if was_active:
        await notify.booking_event(
            session=session,
            booking=booking,
            slot=slot,
            guide=guide,
            municipality=await _municipality(session, booking.municipality_id),
            event="cancelled",
            manage_url=None,
            settings=settings,
        )
    return booking


async def decide_and_notify(
    *,
    session: AsyncSession,
    booking: Booking,
    slot: Slot,
    guide: Guide,
    confirm: bool,
    meeting_link: str | None,
    settings: Settings,
) -> Booking:
    booking = await decide(
        session=session, booking=booking, confirm=confirm, meeting_link=meeting_link
    )
    await notify.booking_event(
        session=session,
        booking=booking,
        slot=slot,
        guide=guide,
        municipality=await _municipality(session, booking.municipality_id),
        event="confirmed" if confirm else "declined",
        manage_url=None,
        settings=settings,
    )
    return booking
