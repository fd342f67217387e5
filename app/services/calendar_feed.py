"""A host's bookings as an iCalendar feed (RFC 5545), behind a signed URL."""

from datetime import timedelta

from icalendar import Calendar, Event
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.time import utcnow
from app.models.booking import ACTIVE_STATUSES, Booking
from app.models.guide import Guide, Slot
from app.services.notify import booking_uid

MODES_FI = {"live": "tapaaminen", "remote": "etätapaaminen", "phone": "puhelu"}


async def host_feed(*, session: AsyncSession, guide: Guide) -> bytes:
    """The guide's active bookings from a month back onwards."""
    rows = await session.exec(
        select(Booking, Slot)
        .join(Slot, col(Slot.id) == col(Booking.slot_id))
        .where(
            col(Booking.guide_id) == guide.id,
            col(Booking.status).in_(ACTIVE_STATUSES),
            col(Slot.ends_at) > utcnow() - timedelta(days=30),
        )
        .order_by(col(Slot.starts_at))
    )
    calendar = Calendar()
    calendar.add("prodid", "-//Settle//settlement services//FI")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Tulomuuttajatapaamiset – {guide.display_name}")
    for booking, slot in rows:
        event = Event()
        event.add("uid", booking_uid(booking.id))
        event.add("sequence", booking.ics_sequence)
        event.add("dtstamp", utcnow())
        event.add("dtstart", slot.starts_at)
        event.add("dtend", slot.ends_at)
        status = "CONFIRMED" if booking.status == "confirmed" else "TENTATIVE"
        event.add("status", status)
        who = booking.name or "Tulomuuttaja"
        event.add("summary", f"{MODES_FI.get(booking.mode, booking.mode).capitalize()}: {who}")
        if booking.meeting_link:
            event.add("location", booking.meeting_link)
        elif slot.place is not None:
            event.add("location", slot.place.fi)
        if booking.topics:
            event.add("description", "Aiheet: " + ", ".join(booking.topics))
        calendar.add_component(event)
    return bytes(calendar.to_ical())
