"""Composing the emails the service sends, and putting them in the outbox.

Nothing here sends anything: every function adds an `OutboxEmail` row to the caller's
session and flushes, so the email exists exactly when the change that caused it commits
(a booking rolled back leaves no confirmation behind). `app.services.mailer` delivers
the rows. Every row has a `dedupe_key`; enqueueing the same key again adds nothing, so a
retried request or a second worker cannot send the same message twice.

Texts are written here in Finnish, Swedish and English. Times are always shown in the
municipality's local time (Europe/Helsinki) with the zone and its offset named, because
a mover may still live abroad when they book.
"""

import hashlib
import html
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.utils import parseaddr
from typing import Any, Literal
from urllib.parse import quote

import phonenumbers
from icalendar import Calendar, Event, vCalAddress, vText
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import Settings
from app.core.time import HELSINKI, utcnow
from app.models.booking import Booking, BookingStatus, InfoPackageRequest, Message
from app.models.fund import FundIdea, FundRound
from app.models.guide import Guide, MeetingMode, Slot
from app.models.municipality import Municipality
from app.models.outbox import OutboxEmail
from app.models.user import User
from app.models.webhook import WebhookSubscription

log = logging.getLogger("settle.mail")

Lang = Literal["fi", "sv", "en"]
BookingEvent = Literal["received", "confirmed", "declined", "cancelled", "rescheduled", "reminder"]
BOOKING_EVENTS: tuple[BookingEvent, ...] = (
    "received",
    "confirmed",
    "declined",
    "cancelled",
    "rescheduled",
    "reminder",
)
# The events the guide hears about; confirming and declining are the guide's own acts,
# and the reminder is for the mover.
HOST_EVENTS: frozenset[BookingEvent] = frozenset({"received", "cancelled", "rescheduled"})
CANCELLING_EVENTS: frozenset[BookingEvent] = frozenset({"cancelled", "declined"})


def booking_uid(booking_id: uuid.UUID) -> str:
    """The calendar UID of a booking: the same for every update, so a reschedule or a
    cancellation replaces the event in the mover's calendar instead of adding one."""
    return f"booking-{booking_id}@settle"


def manage_url(settings: Settings, slug: str, booking_id: uuid.UUID, token: str) -> str:
    """The mover's link for viewing, cancelling, rescheduling or erasing a booking."""
    token = quote(token, safe="")
    if settings.manage_url_template:
        return settings.manage_url_template.format(slug=slug, booking_id=booking_id, token=token)
    base = settings.public_base_url.rstrip("/")
    return f"{base}/api/v1/municipalities/{slug}/bookings/{booking_id}?token={token}"


def unsubscribe_url(settings: Settings, slug: str, request_id: uuid.UUID, token: str) -> str:
    """The info-package recipient's way out, also sent as List-Unsubscribe; the URL must
    accept the RFC 8058 one-click POST (the API's own unsubscribe route does)."""
    token = quote(token, safe="")
    if settings.unsubscribe_url_template:
        return settings.unsubscribe_url_template.format(
            slug=slug, request_id=request_id, token=token
        )
    base = settings.public_base_url.rstrip("/")
    path = f"/api/v1/municipalities/{slug}/info-package-requests/{request_id}/unsubscribe"
    return f"{base}{path}?token={token}"


# ---- local time, in words ----------------------------------------------------------------

_WEEKDAYS: dict[Lang, tuple[str, ...]] = {
    # Finnish uses the essive: "maanantaina" = "on Monday".
    "fi": (
        "maanantaina",
        "tiistaina",
        "keskiviikkona",
        "torstaina",
        "perjantaina",
        "lauantaina",
        "sunnuntaina",
    ),
    "sv": ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTH_WORDS: dict[Lang, str] = {
    "sv": "januari februari mars april maj juni juli augusti september oktober november december",
    "en": "January February March April May June July August September October November December",
}
_MONTHS: dict[Lang, tuple[str, ...]] = {
    lang: tuple(words.split()) for lang, words in _MONTH_WORDS.items()
}
_ZONE_NAME: dict[Lang, str] = {"fi": "Suomen aikaa", "sv": "finsk tid", "en": "Finnish time"}


def _utc_offset(moment: datetime) -> str:
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def local_time_text(starts_at: datetime, ends_at: datetime | None, lang: Lang) -> str:
    """A meeting time as a local reader says it, with the zone named: "maanantaina
    4.5.2026 klo 10.00–11.00 (Suomen aikaa, UTC+3)"."""
    start = starts_at.astimezone(HELSINKI)
    end = ends_at.astimezone(HELSINKI) if ends_at else None
    weekday = _WEEKDAYS[lang][start.weekday()]
    zone = f"({_ZONE_NAME[lang]}, {_utc_offset(start)})"
    if lang == "en":
        clock = f"{start:%H:%M}" + (f"–{end:%H:%M}" if end else "")
        month = _MONTHS["en"][start.month - 1]
        return f"{weekday} {start.day} {month} {start.year} at {clock} {zone}"
    clock = f"{start:%H.%M}" + (f"–{end:%H.%M}" if end else "")
    if lang == "sv":
        month = _MONTHS["sv"][start.month - 1]
        return f"{weekday}en den {start.day} {month} {start.year} kl. {clock} {zone}"
    return f"{weekday} {start.day}.{start.month}.{start.year} klo {clock} {zone}"


# ---- wording -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _EventWords:
    subject: str
    lead: str


_BOOKING_WORDS: dict[Lang, dict[BookingEvent, _EventWords]] = {
    "fi": {
        "received": _EventWords(
            "Varauspyyntösi on vastaanotettu",
            "Kiitos varauksestasi! Opas vahvistaa tapaamisen pian, ja saat siitä viestin.",
        ),
        "confirmed": _EventWords(
            "Tapaamisesi on vahvistettu",
            "Tapaamisesi on vahvistettu. Tervetuloa juttelemaan!",
        ),
        "declined": _EventWords(
            "Tapaaminen ei valitettavasti onnistu",
            "Opas ei valitettavasti pääse tähän tapaamiseen. "
            "Voit varata toisen ajan tai valita toisen oppaan.",
        ),
        "cancelled": _EventWords(
            "Tapaamisesi on peruttu",
            "Tapaamisesi on peruttu. Voit varata uuden ajan milloin tahansa.",
        ),
        "rescheduled": _EventWords(
            "Tapaamisesi aika on muuttunut",
            "Tapaamisesi on siirretty uuteen aikaan.",
        ),
        "reminder": _EventWords(
            "Muistutus tulevasta tapaamisestasi",
            "Muistutamme tulevasta tapaamisestasi.",
        ),
    },
    "sv": {
        "received": _EventWords(
            "Vi har tagit emot din bokningsförfrågan",
            "Tack för din bokning! Guiden bekräftar mötet snart och du får ett meddelande.",
        ),
        "confirmed": _EventWords(
            "Ditt möte är bekräftat",
            "Ditt möte är bekräftat. Välkommen!",
        ),
        "declined": _EventWords(
            "Mötet kan tyvärr inte ordnas",
            "Guiden har tyvärr inte möjlighet till detta möte. "
            "Du kan boka en annan tid eller välja en annan guide.",
        ),
        "cancelled": _EventWords(
            "Ditt möte har avbokats",
            "Ditt möte har avbokats. Du kan boka en ny tid när du vill.",
        ),
        "rescheduled": _EventWords(
            "Ditt möte har fått en ny tid",
            "Ditt möte har flyttats till en ny tid.",
        ),
        "reminder": _EventWords(
            "Påminnelse om ditt kommande möte",
            "Vi vill påminna dig om ditt kommande möte.",
        ),
    },
    "en": {
        "received": _EventWords(
            "We have received your booking request",
            "Thank you for booking! Your guide will confirm the meeting soon, "
            "and you will get an email when they do.",
        ),
        "confirmed": _EventWords(
            "Your meeting is confirmed",
            "Your meeting is confirmed. We look forward to talking with you!",
        ),
        "declined": _EventWords(
            "Unfortunately your meeting cannot take place",
            "Unfortunately the guide cannot make this meeting. "
            "You are welcome to book another time or choose another guide.",
        ),
        "cancelled": _EventWords(
            "Your meeting has been cancelled",
            "Your meeting has been cancelled. You can book a new time whenever you like.",
        ),
        "rescheduled": _EventWords(
            "Your meeting has a new time",
            "Your meeting has been moved to a new time.",
        ),
        "reminder": _EventWords(
            "Reminder of your upcoming meeting",
            "This is a reminder of your upcoming meeting.",
        ),
    },
}

_LABELS: dict[Lang, dict[str, str]] = {
    "fi": {
        "hello": "Hei {name},",
        "hello_anon": "Hei,",
        "when": "Aika",
        "guide": "Opas",
        "how": "Tapaamistapa",
        "where": "Paikka",
        "link": "Tapaamislinkki",
        "live": "Tapaaminen paikan päällä",
        "remote": "Etätapaaminen (videopuhelu)",
        "remote_later": "Saat tapaamislinkin ennen tapaamista.",
        "phone": "Puhelu",
        "phone_note": "Opas soittaa sinulle antamaasi numeroon.",
        "manage": "Peru tai siirrä tapaaminen, tai poista tietosi",
        "calendar": "Liitteenä on kalenterimerkintä (booking.ics).",
        "summary": "Tervetuloa-keskustelu: {municipality}",
        "questions": "Kysyttävää? Ota yhteyttä",
        "signature": "Ystävällisin terveisin\n{municipality}",
        "reply_subject": "Vastaus kysymykseesi",
        "your_question": "Kysymyksesi",
        "reply_intro": "Kiitos kysymyksestäsi. Tässä vastauksemme:",
        "unsubscribe": "Et halua enää viestejä? Peru tilaus",
        "info_subject": "Tietopaketti tulomuuttajalle",
    },
    "sv": {
        "hello": "Hej {name},",
        "hello_anon": "Hej,",
        "when": "Tid",
        "guide": "Guide",
        "how": "Mötesform",
        "where": "Plats",
        "link": "Möteslänk",
        "live": "Möte på plats",
        "remote": "Distansmöte (videosamtal)",
        "remote_later": "Du får möteslänken före mötet.",
        "phone": "Telefonsamtal",
        "phone_note": "Guiden ringer dig på numret du angav.",
        "manage": "Avboka eller boka om mötet, eller radera dina uppgifter",
        "calendar": "En kalenderpost (booking.ics) finns som bilaga.",
        "summary": "Välkomstsamtal: {municipality}",
        "questions": "Frågor? Kontakta oss",
        "signature": "Med vänliga hälsningar\n{municipality}",
        "reply_subject": "Svar på din fråga",
        "your_question": "Din fråga",
        "reply_intro": "Tack för din fråga. Här är vårt svar:",
        "unsubscribe": "Vill du inte längre få meddelanden? Avsluta prenumerationen",
        "info_subject": "Informationspaket för inflyttare",
    },
    "en": {
        "hello": "Hello {name},",
        "hello_anon": "Hello,",
        "when": "Time",
        "guide": "Guide",
        "how": "Meeting",
        "where": "Place",
        "link": "Meeting link",
        "live": "In person",
        "remote": "Remote meeting (video call)",
        "remote_later": "You will receive the meeting link before the meeting.",
        "phone": "Phone call",
        "phone_note": "Your guide will call you at the number you gave.",
        "manage": "Cancel or reschedule the meeting, or erase your details",
        "calendar": "A calendar entry (booking.ics) is attached.",
        "summary": "Welcome conversation: {municipality}",
        "questions": "Questions? Contact us",
        "signature": "Kind regards\n{municipality}",
        "reply_subject": "A reply to your question",
        "your_question": "Your question",
        "reply_intro": "Thank you for your question. Here is our reply:",
        "unsubscribe": "No longer want these emails? Unsubscribe",
        "info_subject": "Information package for people moving here",
    },
}


def _lang(code: str) -> Lang:
    if code == "sv":
        return "sv"
    if code == "en":
        return "en"
    return "fi"


# ---- bodies --------------------------------------------------------------------------------
# A body is a list of blocks, rendered once as plain text and once as escaped HTML, so
# the two always say the same thing and no typed-in text reaches HTML unescaped.


@dataclass(frozen=True)
class _Para:
    text: str


@dataclass(frozen=True)
class _Facts:
    rows: Sequence[tuple[str, str, str | None]]  # (label, value, link or None)


@dataclass(frozen=True)
class _Link:
    label: str
    url: str


@dataclass(frozen=True)
class _Quote:
    label: str
    text: str


_Block = _Para | _Facts | _Link | _Quote


def _render_text(blocks: Sequence[_Block]) -> str:
    parts: list[str] = []
    for block in blocks:
        if isinstance(block, _Para):
            parts.append(block.text)
        elif isinstance(block, _Facts):
            parts.append("\n".join(f"{label}: {value}" for label, value, _ in block.rows))
        elif isinstance(block, _Link):
            parts.append(block.url if block.label == block.url else f"{block.label}:\n{block.url}")
        else:
            quoted = "\n".join(f"> {line}" for line in block.text.splitlines() or [""])
            parts.append(f"{block.label}:\n{quoted}")
    return "\n\n".join(parts) + "\n"


def _lines_html(text: str) -> str:
    return "<br>\n".join(html.escape(line) for line in text.splitlines())


def _render_html(blocks: Sequence[_Block], lang: Lang, title: str) -> str:
    parts: list[str] = []
    for block in blocks:
        if isinstance(block, _Para):
            parts.append(f"<p>{_lines_html(block.text)}</p>")
        elif isinstance(block, _Facts):
            rows = []
            for label, value, link in block.rows:
                shown = html.escape(value)
                if link:
                    shown = f'<a href="{html.escape(link, quote=True)}">{shown}</a>'
                rows.append(
                    f'<tr><th scope="row" style="text-align:left;padding-right:1em">'
                    f"{html.escape(label)}</th><td>{shown}</td></tr>"
                )
            parts.append("<table>\n" + "\n".join(rows) + "\n</table>")
        elif isinstance(block, _Link):
            parts.append(
                f'<p><a href="{html.escape(block.url, quote=True)}">'
                f"{html.escape(block.label)}</a></p>"
            )
        else:
            parts.append(
                f"<p>{html.escape(block.label)}:</p>\n"
                f'<blockquote style="border-left:3px solid #ccc;margin:0;padding-left:1em">'
                f"{_lines_html(block.text)}</blockquote>"
            )
    body = "\n".join(parts)
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _display_phone(number: str) -> str:
    try:
        parsed = phonenumbers.parse(number, "FI")
    except phonenumbers.NumberParseException:
        return number
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL))


def _contact_block(municipality: Municipality, lang: Lang) -> _Facts | None:
    contact = municipality.contact
    rows: list[tuple[str, str, str | None]] = []
    if contact.email:
        label = {"fi": "Sähköposti", "sv": "E-post", "en": "Email"}[lang]
        rows.append((label, contact.email, f"mailto:{contact.email}"))
    if contact.phone:
        phone = contact.phone
        label = {"fi": "Puhelin", "sv": "Telefon", "en": "Phone"}[lang]
        value = f"{_display_phone(phone.number)}, {phone.hours.get(lang)}. {phone.price.get(lang)}"
        rows.append((label, value, None))
    if contact.web_site:
        rows.append(("Web", contact.web_site, contact.web_site))
    if not rows:
        return None
    return _Facts(rows)


def _with_contact(blocks: list[_Block], municipality: Municipality, lang: Lang) -> list[_Block]:
    contact = _contact_block(municipality, lang)
    if contact is not None:
        blocks.append(_Para(_LABELS[lang]["questions"] + ":"))
        blocks.append(contact)
    name = municipality.name.get(lang)
    blocks.append(_Para(_LABELS[lang]["signature"].format(municipality=name)))
    return blocks


def _reply_headers(municipality: Municipality) -> dict[str, str]:
    """Replies reach the municipality, never the no-reply sender."""
    return {"Reply-To": municipality.contact.email} if municipality.contact.email else {}


# ---- the outbox --------------------------------------------------------------------------


async def _enqueue(*, session: AsyncSession, row: OutboxEmail) -> bool:
    """Add the row unless its dedupe key is already there; True if it was added.

    The check avoids a failed INSERT in the common case; the SAVEPOINT covers the race
    where another transaction adds the same key in between, without spoiling the
    caller's transaction.
    """
    existing = await session.exec(
        select(OutboxEmail.id).where(col(OutboxEmail.dedupe_key) == row.dedupe_key)
    )
    if existing.first() is not None:
        log.debug("email %s already in the outbox", row.dedupe_key)
        return False
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        log.info("email %s was enqueued concurrently; keeping the other one", row.dedupe_key)
        return False
    return True


def _ics_attachment(text: str, method: str) -> dict[str, Any]:
    return {
        "filename": "booking.ics",
        "content_type": f"text/calendar; method={method}; charset=utf-8",
        "content": text,
    }


def _mode_rows(
    *, booking: Booking, slot: Slot, lang: Lang
) -> tuple[list[tuple[str, str, str | None]], str]:
    """The fact rows describing how the meeting happens, and the calendar LOCATION."""
    words = _LABELS[lang]
    if booking.mode == MeetingMode.live:
        place = slot.place.get(lang) if slot.place else ""
        rows: list[tuple[str, str, str | None]] = [(words["how"], words["live"], None)]
        if place:
            rows.append((words["where"], place, None))
        return rows, place
    if booking.mode == MeetingMode.remote:
        rows = [(words["how"], words["remote"], None)]
        if booking.meeting_link:
            rows.append((words["link"], booking.meeting_link, booking.meeting_link))
            return rows, booking.meeting_link
        rows.append((words["link"], words["remote_later"], None))
        return rows, words["remote"]
    return [(words["how"], f"{words['phone']}. {words['phone_note']}", None)], words["phone"]


def build_ics(
    *,
    booking: Booking,
    slot: Slot,
    guide: Guide,
    municipality: Municipality,
    event: BookingEvent,
    location: str,
    description: str,
    settings: Settings,
    now: datetime | None = None,
) -> tuple[str, str]:
    """The iCalendar invitation (or cancellation) for a booking, and its METHOD."""
    lang = _lang(booking.language)
    cancelling = event in CANCELLING_EVENTS
    method = "CANCEL" if cancelling else "REQUEST"
    calendar = Calendar()
    calendar.add("prodid", "-//Settle//Settlement services//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    vevent = Event()
    vevent.add("uid", booking_uid(booking.id))
    vevent.add("sequence", booking.ics_sequence)
    vevent.add("dtstamp", now or utcnow())
    # UTC times: unambiguous, and every client shows them in the reader's own zone.
    vevent.add("dtstart", slot.starts_at)
    vevent.add("dtend", slot.ends_at)
    municipality_name = municipality.name.get(lang)
    vevent.add("summary", _LABELS[lang]["summary"].format(municipality=municipality_name))
    if location:
        vevent.add("location", location)
    vevent.add("description", description)
    if cancelling:
        status = "CANCELLED"
    elif booking.status == BookingStatus.pending:
        status = "TENTATIVE"
    else:
        status = "CONFIRMED"
    vevent.add("status", status)
    # RFC 5546 wants an organizer and the attendee in a REQUEST/CANCEL.
    organizer = vCalAddress(f"mailto:{parseaddr(settings.mail_from)[1]}")
    organizer.params["cn"] = vText(guide.display_name)
    vevent.add("organizer", organizer)
    if booking.email:
        attendee = vCalAddress(f"mailto:{booking.email}")
        if booking.name:
            attendee.params["cn"] = vText(booking.name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["rsvp"] = vText("FALSE")
        vevent.add("attendee", attendee)
    calendar.add_component(vevent)
    return calendar.to_ical().decode("utf-8"), method


async def _host_address(*, session: AsyncSession, guide: Guide) -> str | None:
    if guide.user_id is not None:
        user = await session.get(User, guide.user_id)
        if user is not None and user.is_active:
            return user.email
    for contact in guide.contacts:
        if contact.kind == "email":
            return contact.value
    return None


_HOST_WORDS: dict[BookingEvent, _EventWords] = {
    "received": _EventWords(
        "Uusi varauspyyntö", "Sinulle on tullut uusi varauspyyntö. Vahvista tai peru se."
    ),
    "cancelled": _EventWords("Varaus on peruttu", "Tämä tapaaminen on peruttu."),
    "rescheduled": _EventWords(
        "Varauksen aika on muuttunut", "Tämä tapaaminen on siirretty uuteen aikaan."
    ),
}
# The host a rescheduled meeting leaves (the mover chose another guide's time).
_HANDED_OVER = _EventWords(
    "Varaus on siirtynyt toiselle oppaalle",
    "Tulomuuttaja siirsi tämän tapaamisen toisen oppaan aikaan; aikasi on taas vapaana.",
)


async def _host_notice(
    *,
    session: AsyncSession,
    booking: Booking,
    slot: Slot,
    guide: Guide,
    municipality: Municipality,
    event: BookingEvent | Literal["handed-over"],
    settings: Settings,
) -> None:
    """The guide's notice, in Finnish: who, when, how and what about; contact details stay
    behind the staff login."""
    address = await _host_address(session=session, guide=guide)
    if address is None:
        log.warning("guide %s has no email address; no %s notice sent", guide.id, event)
        return
    words = _HANDED_OVER if event == "handed-over" else _HOST_WORDS[event]
    when = local_time_text(slot.starts_at, slot.ends_at, "fi")
    mode_rows, _ = _mode_rows(booking=booking, slot=slot, lang="fi")
    if booking.mode == MeetingMode.phone:
        mode_rows = [("Tapaamistapa", "Puhelu (soita tulomuuttajalle)", None)]
    rows: list[tuple[str, str, str | None]] = [
        ("Tulomuuttaja", booking.name or "(nimi poistettu)", None),
        ("Aika", when, None),
        *mode_rows,
        ("Kieli", {"fi": "suomi", "sv": "ruotsi", "en": "englanti"}[_lang(booking.language)], None),
    ]
    if booking.topics:
        rows.append(("Aiheet", ", ".join(booking.topics), None))
    base = settings.public_base_url.rstrip("/")
    blocks: list[_Block] = [
        _Para(f"Hei {guide.display_name},"),
        _Para(words.lead),
        _Facts(rows),
        _Para("Tulomuuttajan yhteystiedot ja viesti näkyvät, kun kirjaudut palveluun:"),
        _Link(base, base),
        _Para(f"Ystävällisin terveisin\n{municipality.name.get('fi')}"),
    ]
    subject = f"{words.subject}: {when}"
    await _enqueue(
        session=session,
        row=OutboxEmail(
            municipality_id=municipality.id,
            dedupe_key=f"booking:{booking.id}:{event}:{booking.ics_sequence}:host",
            kind=f"booking_{event.replace('-', '_')}_host",
            to_address=address,
            subject=subject[:300],
            body_text=_render_text(blocks),
            body_html=_render_html(blocks, "fi", subject),
            headers={"Auto-Submitted": "auto-generated"},
        ),
    )


async def booking_event(
    *,
    session: AsyncSession,
    booking: Booking,
    slot: Slot,
    guide: Guide,
    municipality: Municipality,
    event: BookingEvent,
    manage_url: str | None,
    settings: Settings,
    moved_from: tuple[Slot, Guide] | None = None,
) -> None:
    """Tell the mover (and for some events the guide) what happened to a booking, with a
    calendar entry that keeps their calendar in step.

    `moved_from` is the slot and host a rescheduled booking left: when the host changed,
    the old host learns that their time is free again and the new one gets the request
    as new (it is pending again), rather than a "your meeting moved" about a meeting
    they never had."""
    if event not in BOOKING_EVENTS:
        raise ValueError(f"unknown booking event {event!r}")
    host_events: list[tuple[BookingEvent | Literal["handed-over"], Slot, Guide]] = []
    if event == "rescheduled" and moved_from is not None and moved_from[1].id != guide.id:
        host_events += [("handed-over", *moved_from), ("received", slot, guide)]
    elif event in HOST_EVENTS:
        host_events.append((event, slot, guide))
    for host_event, host_slot, host in host_events:
        await _host_notice(
            session=session,
            booking=booking,
            slot=host_slot,
            guide=host,
            municipality=municipality,
            event=host_event,
            settings=settings,
        )
    if booking.email is None:
        log.info("booking %s: mover's email erased; no %s email", booking.id, event)
        return
    lang = _lang(booking.language)
    words = _LABELS[lang]
    event_words = _BOOKING_WORDS[lang][event]
    municipality_name = municipality.name.get(lang)
    when = local_time_text(slot.starts_at, slot.ends_at, lang)
    mode_rows, location = _mode_rows(booking=booking, slot=slot, lang=lang)
    facts = _Facts(
        [(words["when"], when, None), (words["guide"], guide.display_name, None), *mode_rows]
    )
    blocks: list[_Block] = [
        _Para(words["hello"].format(name=booking.name) if booking.name else words["hello_anon"]),
        _Para(event_words.lead),
        facts,
    ]
    if manage_url:
        blocks.append(_Link(words["manage"], manage_url))
    blocks.append(_Para(words["calendar"]))
    blocks = _with_contact(blocks, municipality, lang)

    # No manage link in the calendar entry: calendars are synced and shared more widely
    # than a mailbox, and the link carries the secret token.
    description = _render_text([_Para(event_words.lead), facts]).strip()
    ics, method = build_ics(
        booking=booking,
        slot=slot,
        guide=guide,
        municipality=municipality,
        event=event,
        location=location,
        description=description,
        settings=settings,
    )
    subject = f"{municipality_name}: {event_words.subject}"
    await _enqueue(
        session=session,
        row=OutboxEmail(
            municipality_id=municipality.id,
            dedupe_key=f"booking:{booking.id}:{event}:{booking.ics_sequence}",
            kind=f"booking_{event}",
            to_address=booking.email,
            subject=subject[:300],
            body_text=_render_text(blocks),
            body_html=_render_html(blocks, lang, subject),
            attachments=[_ics_attachment(ics, method)],
            headers={"Auto-Submitted": "auto-generated", **_reply_headers(municipality)},
        ),
    )


async def message_reply(
    *, session: AsyncSession, message: Message, municipality: Municipality, settings: Settings
) -> None:
    """Send staff's answer to a mover's question, quoting the question for context."""
    if message.email is None or message.reply is None:
        log.info("message %s: no email address or no reply; nothing to send", message.id)
        return
    lang = _lang(message.language)
    words = _LABELS[lang]
    blocks: list[_Block] = [
        _Para(words["hello"].format(name=message.name) if message.name else words["hello_anon"]),
        _Para(words["reply_intro"]),
        _Para(message.reply),
    ]
    if message.text:
        blocks.append(_Quote(words["your_question"], message.text))
    blocks = _with_contact(blocks, municipality, lang)
    subject = f"{municipality.name.get(lang)}: {words['reply_subject']}"
    # Keyed by the reply's text: a retried request adds nothing, a new answer is sent.
    digest = hashlib.sha256(message.reply.encode("utf-8")).hexdigest()[:16]
    await _enqueue(
        session=session,
        row=OutboxEmail(
            municipality_id=municipality.id,
            dedupe_key=f"message:{message.id}:reply:{digest}",
            kind="message_reply",
            to_address=message.email,
            subject=subject[:300],
            body_text=_render_text(blocks),
            body_html=_render_html(blocks, lang, subject),
            headers=_reply_headers(municipality),
        ),
    )


async def info_package(
    *,
    session: AsyncSession,
    request: InfoPackageRequest,
    municipality: Municipality,
    handbook_html: str,
    handbook_text: str,
    unsubscribe_url: str,
    settings: Settings,
    package_name: dict[str, str] | None = None,
) -> None:
    """Send the ordered info package (the compiled handbook) with a one-click way out;
    the subject names the package as the municipality does ("Minustako
    kemijärveläinen?")."""
    if request.email is None or request.unsubscribed_at is not None:
        log.info("info package %s: erased or unsubscribed; not sent", request.id)
        return
    lang = _lang(request.language)
    words = _LABELS[lang]
    footer_html = (
        '<hr>\n<p style="font-size:smaller"><a href="'
        f'{html.escape(unsubscribe_url, quote=True)}">{html.escape(words["unsubscribe"])}</a></p>\n'
    )
    # The handbook is a whole document: the footer goes inside its body when it has one.
    closing = handbook_html.lower().rfind("</body>")
    if closing >= 0:
        body_html = handbook_html[:closing] + footer_html + handbook_html[closing:]
    else:
        body_html = handbook_html + footer_html
    body_text = f"{handbook_text.rstrip()}\n\n-- \n{words['unsubscribe']}:\n{unsubscribe_url}\n"
    name = (package_name or {}).get(lang) or words["info_subject"]
    subject = f"{municipality.name.get(lang)}: {name}"
    await _enqueue(
        session=session,
        row=OutboxEmail(
            municipality_id=municipality.id,
            dedupe_key=f"info-package:{request.id}",
            kind="info_package",
            to_address=request.email,
            subject=subject[:300],
            body_text=body_text,
            body_html=body_html,
            headers={
                "List-Unsubscribe": f"<{unsubscribe_url}>",
                # RFC 8058: the mail client unsubscribes with one POST, no page to visit.
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                **_reply_headers(municipality),
            },
        ),
    )


# ---- guide terms ----------------------------------------------------------------------------


async def guide_term_ending(
    *,
    session: AsyncSession,
    guide: Guide,
    municipality: Municipality,
    admin_addresses: Sequence[str],
    settings: Settings,
) -> int:
    """A month before a guide's one-year term ends, ask the guide to nominate a successor
    and the admins to confirm one (seed p. 28: the handover happens before the term
    ends). In Finnish: it goes to the municipality's staff and its volunteers. Returns
    how many emails were added (each address once per term)."""
    assert guide.term_end is not None
    end = _day(guide.term_end)
    base = settings.public_base_url.rstrip("/")
    link = f"{base}/api/v1/municipalities/{municipality.slug}/guides/{guide.id}"
    subject = f"Oppaan {guide.display_name} kausi päättyy {end}"
    facts = _Facts([("Opas", guide.display_name, None), ("Kausi päättyy", end, None)])
    guide_address = await _host_address(session=session, guide=guide)
    recipients: list[tuple[str, str, list[_Block]]] = []
    if guide_address is not None:
        recipients.append(
            (
                guide_address,
                "guide",
                [
                    _Para(f"Hei {guide.display_name},"),
                    _Para(
                        "oppaan kautesi päättyy kuukauden kuluttua. Kiitos työstäsi! "
                        "Ehdota seuraajaasi, niin kunta voi vahvistaa hänet ennen kautesi "
                        "päättymistä."
                    ),
                    facts,
                    _Link("Oppaan tiedot", link),
                    _Para(f"Ystävällisin terveisin\n{municipality.name.get('fi')}"),
                ],
            )
        )
    for address in admin_addresses:
        recipients.append(
            (
                address,
                "admin",
                [
                    _Para("Hei,"),
                    _Para(
                        f"oppaan {guide.display_name} yksivuotinen kausi päättyy kuukauden "
                        "kuluttua, eikä seuraajaa ole vahvistettu. Pyydä opasta ehdottamaan "
                        "seuraaja ja vahvista se, jotta tulomuuttajat saavat oppaan myös "
                        "jatkossa."
                    ),
                    facts,
                    _Link("Oppaan tiedot", link),
                ],
            )
        )
    added = 0
    for address, role, blocks in recipients:
        added += await _enqueue(
            session=session,
            row=OutboxEmail(
                municipality_id=municipality.id,
                dedupe_key=f"guide-term:{guide.id}:{guide.term_end}:{role}:{address}"[:200],
                kind=f"guide_term_ending_{role}",
                to_address=address,
                subject=subject[:300],
                body_text=_render_text(blocks),
                body_html=_render_html(blocks, "fi", subject),
                headers={"Auto-Submitted": "auto-generated"},
            ),
        )
    return added


# ---- the experiment fund ---------------------------------------------------------------------

_FUND_WORDS: dict[Lang, dict[str, str]] = {
    "fi": {
        "received_subject": "Kokeiluideasi on vastaanotettu",
        "received": "Kiitos ideastasi! Raati arvioi ideat haun päätyttyä, ja saat päätöksestä "
        "viestin.",
        "idea": "Idea",
        "amount": "Haettu summa",
        "granted": "Myönnetty summa",
        "hashtag": "Tunniste",
        "deadline": "Ideat arvioidaan",
        "link": "Oma linkkisi: katso ideaasi, kerro kokeilun etenemisestä tai poista tietosi",
        "keep": "Säilytä tämä viesti: linkki on vain sinun.",
        "funded_subject": "Kokeiluideasi sai kokeilurahaa",
        "funded": "Onnittelut! Raati myönsi kokeilullesi kokeilurahaa. Kerro kokeilun "
        "etenemisestä ensimmäisessä viestissä saamasi linkin kautta ja tee kokeilu näkyväksi "
        "tunnisteellasi.",
        "rejected_subject": "Päätös kokeiluideastasi",
        "rejected": "Kiitos ideastasi. Raati ei tällä kertaa myöntänyt sille kokeilurahaa.",
        "reason": "Perustelu",
        "report_by": "Raportoi viimeistään",
    },
    "sv": {
        "received_subject": "Vi har tagit emot din försöksidé",
        "received": "Tack för din idé! Juryn bedömer idéerna när ansökningstiden har gått ut, "
        "och du får ett meddelande om beslutet.",
        "idea": "Idé",
        "amount": "Sökt belopp",
        "granted": "Beviljat belopp",
        "hashtag": "Hashtagg",
        "deadline": "Idéerna bedöms",
        "link": "Din egen länk: se din idé, berätta hur försöket går eller radera dina uppgifter",
        "keep": "Spara detta meddelande: länken är bara din.",
        "funded_subject": "Din försöksidé fick försökspeng",
        "funded": "Grattis! Juryn beviljade försökspeng för ditt försök. Berätta hur det går "
        "via länken i det första meddelandet och gör försöket synligt med din hashtagg.",
        "rejected_subject": "Beslut om din försöksidé",
        "rejected": "Tack för din idé. Juryn beviljade den inte försökspeng den här gången.",
        "reason": "Motivering",
        "report_by": "Rapportera senast",
    },
    "en": {
        "received_subject": "We have received your experiment idea",
        "received": "Thank you for your idea! The jury reviews the ideas once the call closes, "
        "and you will hear about the decision by email.",
        "idea": "Idea",
        "amount": "Amount requested",
        "granted": "Amount granted",
        "hashtag": "Hashtag",
        "deadline": "Ideas are reviewed",
        "link": "Your own link: see your idea, report on the experiment or erase your details",
        "keep": "Keep this email: the link is yours alone.",
        "funded_subject": "Your experiment idea was funded",
        "funded": "Congratulations! The jury granted your experiment money from the fund. "
        "Report on its progress through the link in the first email, and make it visible "
        "with your hashtag.",
        "rejected_subject": "The decision on your experiment idea",
        "rejected": "Thank you for your idea. The jury did not fund it this time.",
        "reason": "Reason",
        "report_by": "Report by",
    },
}


def fund_idea_url(settings: Settings, slug: str, year: int, idea_id: uuid.UUID, token: str) -> str:
    """The submitter's own link: view the idea, report on the experiment, erase."""
    base = settings.public_base_url.rstrip("/")
    path = f"/api/v1/municipalities/{slug}/fund/rounds/{year}/ideas/{idea_id}"
    return f"{base}{path}?token={quote(token, safe='')}"


def _day(value: date) -> str:
    return f"{value.day}.{value.month}.{value.year}"


async def fund_idea_received(
    *,
    session: AsyncSession,
    idea: FundIdea,
    fund_round: FundRound,
    municipality: Municipality,
    link: str,
) -> None:
    """Confirm an experiment-fund idea, with the submitter's own link."""
    if idea.contact_email is None:
        return
    lang = _lang(idea.language)
    words, labels = _FUND_WORDS[lang], _LABELS[lang]
    blocks: list[_Block] = [
        _Para(labels["hello"].format(name=idea.contact_name)),
        _Para(words["received"]),
        _Facts(
            [
                (words["idea"], idea.title, None),
                (words["amount"], f"{idea.amount_requested} €", None),
                (words["hashtag"], idea.hashtag, None),
                (
                    words["deadline"],
                    f"{_day(fund_round.jury_from)}–{_day(fund_round.jury_until)}",
                    None,
                ),
            ]
        ),
        _Link(words["link"], link),
        _Para(words["keep"]),
    ]
    blocks = _with_contact(blocks, municipality, lang)
    subject = f"{municipality.name.get(lang)}: {words['received_subject']}"
    await _enqueue(
        session=session,
        row=OutboxEmail(
            municipality_id=municipality.id,
            dedupe_key=f"fund-idea:{idea.id}:received",
            kind="fund_idea_received",
            to_address=idea.contact_email,
            subject=subject[:300],
            body_text=_render_text(blocks),
            body_html=_render_html(blocks, lang, subject),
            headers=_reply_headers(municipality),
        ),
    )


async def fund_idea_decided(
    *, session: AsyncSession, idea: FundIdea, fund_round: FundRound, municipality: Municipality
) -> None:
    """Tell a submitter the jury's decision: the grant, or the reason it was not funded."""
    if idea.contact_email is None:
        return
    lang = _lang(idea.language)
    words, labels = _FUND_WORDS[lang], _LABELS[lang]
    funded = idea.granted_amount is not None
    blocks: list[_Block] = [
        _Para(labels["hello"].format(name=idea.contact_name)),
        _Para(words["funded"] if funded else words["rejected"]),
    ]
    facts: list[tuple[str, str, str | None]] = [(words["idea"], idea.title, None)]
    if funded:
        facts.append((words["granted"], f"{idea.granted_amount} €", None))
        facts.append((words["report_by"], _day(fund_round.reporting_until), None))
    blocks.append(_Facts(facts))
    if funded and idea.decision_note:
        blocks.append(_Quote(words["reason"], idea.decision_note))
    if not funded and idea.rejection_explanation:
        blocks.append(_Quote(words["reason"], idea.rejection_explanation))
    blocks = _with_contact(blocks, municipality, lang)
    subject = f"{municipality.name.get(lang)}: "
    subject += words["funded_subject"] if funded else words["rejected_subject"]
    await _enqueue(
        session=session,
        row=OutboxEmail(
            municipality_id=municipality.id,
            dedupe_key=f"fund-idea:{idea.id}:decision",
            kind="fund_idea_decided",
            to_address=idea.contact_email,
            subject=subject[:300],
            body_text=_render_text(blocks),
            body_html=_render_html(blocks, lang, subject),
            headers=_reply_headers(municipality),
        ),
    )


async def webhook_disabled(
    *,
    session: AsyncSession,
    subscription: WebhookSubscription,
    municipality: Municipality,
    admin_addresses: Sequence[str],
    reason: str,
    settings: Settings,
) -> int:
    """Tell the municipality's admins that a webhook subscription was disabled after its
    deliveries kept failing, and how to enable it again. In Finnish, like the other staff
    notices; once per address and disabling. Returns how many emails were added."""
    base = settings.public_base_url.rstrip("/")
    link = f"{base}/api/v1/municipalities/{municipality.slug}/webhooks/{subscription.id}"
    subject = f"Webhook poistettu käytöstä: {subscription.url}"
    blocks: list[_Block] = [
        _Para("Hei,"),
        _Para(
            "kunnan webhook-tilaus on poistettu käytöstä, koska sen osoite ei ole vastannut "
            "onnistuneesti noin kolmeen vuorokauteen. Tapahtumia ei lähetetä sinne ennen "
            "kuin tilaus otetaan taas käyttöön (PATCH enabled: true); väliin jääneet "
            "muutokset löytyvät muutossyötteestä, ja epäonnistuneen toimituksen voi lähettää "
            "uudelleen toimitusten lokista."
        ),
        _Facts(
            [
                ("Osoite", subscription.url, None),
                ("Kuvaus", subscription.description or "–", None),
                ("Syy", reason, None),
            ]
        ),
        _Link("Tilauksen tiedot ja toimitusloki", f"{link}/deliveries"),
    ]
    stamp = subscription.disabled_at.isoformat() if subscription.disabled_at else "now"
    added = 0
    for address in admin_addresses:
        added += await _enqueue(
            session=session,
            row=OutboxEmail(
                municipality_id=municipality.id,
                dedupe_key=f"webhook-disabled:{subscription.id}:{stamp}:{address}"[:200],
                kind="webhook_disabled",
                to_address=address,
                subject=subject[:300],
                body_text=_render_text(blocks),
                body_html=_render_html(blocks, "fi", subject),
                headers={"Auto-Submitted": "auto-generated"},
            ),
        )
    return added
