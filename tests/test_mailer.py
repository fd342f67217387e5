"""Emails end to end: composed into the outbox (`app.services.notify`), delivered over a
real local SMTP server (`app.services.mailer`, `tests.smtp`), retried, leased and
reminded."""

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import Settings
from app.core.i18n import I18nText
from app.core.time import utcnow
from app.models.booking import Booking, BookingStatus, InfoPackageRequest, Message
from app.models.guide import ContactDetail, Guide, GuideStatus, Slot
from app.models.municipality import Municipality
from app.models.outbox import OutboxEmail
from app.services import mailer, notify
from tests.conftest import Database
from tests.smtp import SmtpServer, free_port

MONDAY_10_HELSINKI = datetime(2026, 5, 4, 7, 0, tzinfo=UTC)  # 10:00 EEST (UTC+3)
MANAGE_URL = "https://www.kemijarvi.fi/varaus/hallinnoi?token=secret-manage-token"
PLACE = I18nText(fi="Kaupungintalo, Vapaudenkatu 8", sv="Stadshuset", en="City Hall")


# ---- arranging -----------------------------------------------------------------------------


def factory(connection: AsyncConnection) -> Any:
    """Sessions for the worker: each commit only releases a SAVEPOINT of the test."""

    def new_session() -> AsyncSession:
        return AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )

    return new_session


def settings_for(database: Database, smtp_url: str | None) -> Settings:
    return database.settings.model_copy(update={"smtp_url": smtp_url})


async def kemijarvi(session: AsyncSession) -> Municipality:
    result = await session.exec(select(Municipality).where(col(Municipality.slug) == "kemijarvi"))
    return result.one()


async def make_guide(
    session: AsyncSession,
    municipality: Municipality,
    *,
    user_id: uuid.UUID | None = None,
    contacts: list[ContactDetail] | None = None,
) -> Guide:
    guide = Guide(
        municipality_id=municipality.id,
        user_id=user_id,
        display_name="Aino Opas",
        languages=["fi", "en", "sv"],
        modes=["live", "remote", "phone"],
        contacts=contacts or [ContactDetail(kind="email", value="aino@example.org")],
        status=GuideStatus.active,
    )
    session.add(guide)
    await session.flush()
    return guide


async def make_slot(
    session: AsyncSession, guide: Guide, starts_at: datetime, minutes: int = 60
) -> Slot:
    slot = Slot(
        municipality_id=guide.municipality_id,
        guide_id=guide.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        modes=["live", "remote", "phone"],
        place=PLACE,
    )
    session.add(slot)
    await session.flush()
    return slot


async def make_booking(
    session: AsyncSession,
    slot: Slot,
    *,
    language: str = "en",
    mode: str = "live",
    status: str = BookingStatus.confirmed,
    email: str | None = "mover@example.org",
    name: str | None = "Maria Muuttaja",
    meeting_link: str | None = None,
) -> Booking:
    booking = Booking(
        municipality_id=slot.municipality_id,
        slot_id=slot.id,
        guide_id=slot.guide_id,
        status=status,
        mode=mode,
        name=name,
        email=email,
        phone="+358401234567",
        language=language,
        topics=["jobs", "daycare"],
        message="We have two children.",
        meeting_link=meeting_link,
        consent_at=utcnow(),
        manage_token_hash="0" * 64,
    )
    session.add(booking)
    await session.flush()
    return booking


class Scene:
    """One municipality, guide, slot and booking, ready for booking_event."""

    def __init__(
        self,
        session: AsyncSession,
        municipality: Municipality,
        guide: Guide,
        slot: Slot,
        booking: Booking,
        settings: Settings,
    ) -> None:
        self.session = session
        self.municipality = municipality
        self.guide = guide
        self.slot = slot
        self.booking = booking
        self.settings = settings

    async def event(self, event: notify.BookingEvent, manage_url: str | None = MANAGE_URL) -> None:
        await notify.booking_event(
            session=self.session,
            booking=self.booking,
            slot=self.slot,
            guide=self.guide,
            municipality=self.municipality,
            event=event,
            manage_url=manage_url,
            settings=self.settings,
        )
        await self.session.flush()


async def scene(
    session: AsyncSession,
    settings: Settings,
    *,
    starts_at: datetime = MONDAY_10_HELSINKI,
    guide_user: uuid.UUID | None = None,
    **booking: Any,
) -> Scene:
    municipality = await kemijarvi(session)
    guide = await make_guide(session, municipality, user_id=guide_user)
    slot = await make_slot(session, guide, starts_at)
    row = await make_booking(session, slot, **booking)
    return Scene(session, municipality, guide, slot, row, settings)


async def outbox(session: AsyncSession, prefix: str = "") -> list[OutboxEmail]:
    result = await session.exec(
        select(OutboxEmail)
        .where(col(OutboxEmail.dedupe_key).startswith(prefix))
        .order_by(col(OutboxEmail.created_at))
        .execution_options(populate_existing=True)
    )
    return list(result)


def mover_rows(rows: list[OutboxEmail]) -> list[OutboxEmail]:
    return [row for row in rows if not row.dedupe_key.endswith(":host")]


def calendar_of(row: OutboxEmail) -> Calendar:
    (attachment,) = row.attachments
    assert attachment["filename"] == "booking.ics"
    return Calendar.from_ical(attachment["content"])


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    content: str = body.get_content()
    return content


def html_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("html",))
    assert body is not None
    content: str = body.get_content()
    return content


# ---- composing -----------------------------------------------------------------------------


async def test_confirmed_booking_email_arrives_with_local_time_and_calendar_invitation(
    session: AsyncSession,
    connection: AsyncConnection,
    database: Database,
    smtp_server: SmtpServer,
) -> None:
    settings = settings_for(database, smtp_server.url)
    s = await scene(session, settings, language="en")
    await s.event("confirmed")

    sent = await mailer.deliver_due(session_factory=factory(connection), settings=settings)

    assert sent == 1
    (message,) = smtp_server.to("mover@example.org")
    (row,) = mover_rows(await outbox(session, f"booking:{s.booking.id}:"))
    assert row.sent_at is not None
    assert row.attempts == 0
    assert message["Message-ID"] == f"<{row.id}@settle>"
    assert message["Subject"] == "Kemijärvi: Your meeting is confirmed"
    assert message["Reply-To"] == "kirjaamo@kemijarvi.fi"
    text = text_of(message)
    assert "Monday 4 May 2026 at 10:00–11:00 (Finnish time, UTC+3)" in text
    assert "Guide: Aino Opas" in text
    assert "Place: City Hall" in text
    assert MANAGE_URL in text
    assert f'href="{MANAGE_URL}"' in html_of(message)

    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "booking.ics"
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "REQUEST"
    assert "secret-manage-token" not in attachment.get_content()  # calendars are shared
    calendar = Calendar.from_ical(attachment.get_content())
    assert calendar["METHOD"] == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"booking-{s.booking.id}@settle"
    assert event.decoded("DTSTART") == s.slot.starts_at
    assert event.decoded("DTEND") == s.slot.ends_at
    assert event["SEQUENCE"] == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["LOCATION"]) == "City Hall"
    assert str(event["ATTENDEE"]) == "mailto:mover@example.org"


async def test_reschedule_keeps_the_uid_with_a_higher_sequence_and_cancel_cancels(
    session: AsyncSession, database: Database
) -> None:
    s = await scene(session, database.settings, language="en")
    await s.event("confirmed")
    new_slot = await make_slot(session, s.guide, MONDAY_10_HELSINKI + timedelta(days=2))
    s.booking.slot_id = new_slot.id
    s.booking.ics_sequence = 1
    s.slot = new_slot
    await s.event("rescheduled")
    s.booking.status = BookingStatus.cancelled
    s.booking.ics_sequence = 2
    await s.event("cancelled")

    confirmed, rescheduled, cancelled = (
        calendar_of(row) for row in mover_rows(await outbox(session, f"booking:{s.booking.id}:"))
    )
    uids = {str(cal.walk("VEVENT")[0]["UID"]) for cal in (confirmed, rescheduled, cancelled)}
    assert uids == {f"booking-{s.booking.id}@settle"}
    assert [cal.walk("VEVENT")[0]["SEQUENCE"] for cal in (confirmed, rescheduled, cancelled)] == [
        0,
        1,
        2,
    ]
    assert rescheduled["METHOD"] == "REQUEST"
    assert rescheduled.walk("VEVENT")[0].decoded("DTSTART") == new_slot.starts_at
    assert cancelled["METHOD"] == "CANCEL"
    assert str(cancelled.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"
    rows = mover_rows(await outbox(session, f"booking:{s.booking.id}:"))
    assert rows[2].attachments[0]["content_type"] == "text/calendar; method=CANCEL; charset=utf-8"
    assert "Wednesday 6 May 2026 at 10:00–11:00" in rows[1].body_text


async def test_declined_booking_sends_a_cancellation(
    session: AsyncSession, database: Database
) -> None:
    s = await scene(session, database.settings, status=BookingStatus.pending)
    await s.event("received")
    s.booking.status = BookingStatus.declined
    s.booking.ics_sequence = 1
    await s.event("declined")

    received, declined = mover_rows(await outbox(session, f"booking:{s.booking.id}:"))
    assert str(calendar_of(received).walk("VEVENT")[0]["STATUS"]) == "TENTATIVE"
    assert calendar_of(declined)["METHOD"] == "CANCEL"
    assert "book another time" in declined.body_text


@pytest.mark.parametrize(
    ("language", "subject", "when", "place"),
    [
        (
            "fi",
            "Kemijärvi: Tapaamisesi on vahvistettu",
            "maanantaina 4.5.2026 klo 10.00–11.00 (Suomen aikaa, UTC+3)",
            "Paikka: Kaupungintalo, Vapaudenkatu 8",
        ),
        (
            "sv",
            "Kemijärvi: Ditt möte är bekräftat",
            "måndagen den 4 maj 2026 kl. 10.00–11.00 (finsk tid, UTC+3)",
            "Plats: Stadshuset",
        ),
    ],
)
async def test_finnish_and_swedish_movers_get_their_own_language(
    session: AsyncSession,
    database: Database,
    language: str,
    subject: str,
    when: str,
    place: str,
) -> None:
    s = await scene(session, database.settings, language=language)
    await s.event("confirmed")

    (row,) = mover_rows(await outbox(session, f"booking:{s.booking.id}:"))
    assert row.subject == subject
    assert when in row.body_text
    assert place in row.body_text
    assert row.body_html is not None
    assert f'<html lang="{language}">' in row.body_html


async def test_winter_time_is_named_utc_plus_2(session: AsyncSession, database: Database) -> None:
    s = await scene(session, database.settings, starts_at=datetime(2026, 1, 12, 8, 0, tzinfo=UTC))
    await s.event("confirmed")

    (row,) = mover_rows(await outbox(session, f"booking:{s.booking.id}:"))
    assert "Monday 12 January 2026 at 10:00–11:00 (Finnish time, UTC+2)" in row.body_text


async def test_remote_meeting_shows_the_link_and_phone_meeting_says_who_calls(
    session: AsyncSession, database: Database
) -> None:
    remote = await scene(
        session,
        database.settings,
        mode="remote",
        meeting_link="https://teams.example.org/meet/123",
    )
    await remote.event("confirmed")
    (row,) = mover_rows(await outbox(session, f"booking:{remote.booking.id}:"))
    assert "Meeting link: https://teams.example.org/meet/123" in row.body_text
    assert str(calendar_of(row).walk("VEVENT")[0]["LOCATION"]) == (
        "https://teams.example.org/meet/123"
    )

    phone = await scene(
        session, database.settings, mode="phone", starts_at=MONDAY_10_HELSINKI + timedelta(days=1)
    )
    await phone.event("confirmed")
    (row,) = mover_rows(await outbox(session, f"booking:{phone.booking.id}:"))
    assert "Your guide will call you" in row.body_text


async def test_typed_in_text_is_escaped_in_html(session: AsyncSession, database: Database) -> None:
    s = await scene(session, database.settings, name='<script>alert("x")</script> & Bo')
    await s.event("confirmed")

    (row,) = mover_rows(await outbox(session, f"booking:{s.booking.id}:"))
    assert row.body_html is not None
    assert "<script>" not in row.body_html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Bo" in row.body_html
    assert '<script>alert("x")</script> & Bo' in row.body_text


async def test_enqueueing_the_same_event_twice_adds_one_row(
    session: AsyncSession, database: Database
) -> None:
    s = await scene(session, database.settings)
    await s.event("confirmed")
    await s.event("confirmed")

    rows = await outbox(session, f"booking:{s.booking.id}:confirmed:")
    assert [row.dedupe_key for row in rows] == [f"booking:{s.booking.id}:confirmed:0"]


async def test_a_concurrently_enqueued_duplicate_is_tolerated_without_breaking_the_transaction(
    session: AsyncSession, database: Database
) -> None:
    s = await scene(session, database.settings)
    key = f"booking:{s.booking.id}:confirmed:0"
    rival = OutboxEmail(
        dedupe_key=key, kind="rival", to_address="x@example.org", subject="s", body_text="b"
    )
    # The rival is not flushed when the check runs (as if another transaction inserted it
    # after the check): the INSERT then fails inside the SAVEPOINT, and only there.
    with session.no_autoflush:
        session.add(rival)
        await s.event("confirmed")

    rows = await outbox(session, key)
    assert [row.kind for row in rows] == ["rival"]
    assert await kemijarvi(session)  # the test's transaction is still usable


async def test_an_erased_email_sends_nothing_to_the_mover(
    session: AsyncSession, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="settle.mail")
    s = await scene(session, database.settings, email=None, status=BookingStatus.pending)
    await s.event("received")

    rows = await outbox(session, f"booking:{s.booking.id}:")
    assert [row.dedupe_key.endswith(":host") for row in rows] == [True]
    assert "erased" in caplog.text


async def test_host_notice_goes_to_the_guides_account_in_finnish_without_contact_details(
    session: AsyncSession,
    connection: AsyncConnection,
    database: Database,
    smtp_server: SmtpServer,
) -> None:
    settings = settings_for(database, smtp_server.url)
    s = await scene(
        session,
        settings,
        guide_user=database.users["kemijarvi-guide@example.org"],
        language="en",
        status=BookingStatus.pending,
    )
    await s.event("received")

    assert await mailer.deliver_due(session_factory=factory(connection), settings=settings) == 2
    (notice,) = smtp_server.to("kemijarvi-guide@example.org")
    assert notice["Subject"].startswith("Uusi varauspyyntö: maanantaina 4.5.2026 klo 10.00")
    text = text_of(notice)
    assert "Tulomuuttaja: Maria Muuttaja" in text
    assert "Aiheet: jobs, daycare" in text
    assert "Kieli: englanti" in text
    for private in ("mover@example.org", "+358401234567", "two children"):
        assert private not in text
        assert private not in html_of(notice)
    assert not smtp_server.to("aino@example.org")
    assert len(smtp_server.to("mover@example.org")) == 1


async def test_host_notice_without_an_account_goes_to_the_first_email_contact(
    session: AsyncSession, database: Database
) -> None:
    s = await scene(session, database.settings)
    await s.event("cancelled")
    await s.event("confirmed")  # the guide's own act: no notice to them

    rows = await outbox(session, f"booking:{s.booking.id}:")
    hosts = [(row.dedupe_key, row.to_address) for row in rows if row.dedupe_key.endswith(":host")]
    assert hosts == [(f"booking:{s.booking.id}:cancelled:0:host", "aino@example.org")]


# ---- other emails --------------------------------------------------------------------------


async def test_message_reply_quotes_the_question_in_the_movers_language(
    session: AsyncSession, database: Database
) -> None:
    municipality = await kemijarvi(session)
    message = Message(
        municipality_id=municipality.id,
        name="Sven",
        email="sven@example.org",
        topic="housing",
        text="Finns det hyresbostäder <nära> skolan?",
        language="sv",
        consent_at=utcnow(),
        reply="Ja, Kemijärven Vuokratalot har lediga lägenheter.",
    )
    session.add(message)
    await session.flush()

    for _ in range(2):
        await notify.message_reply(
            session=session, message=message, municipality=municipality, settings=database.settings
        )
    (row,) = await outbox(session, f"message:{message.id}:")
    assert row.to_address == "sven@example.org"
    assert row.subject == "Kemijärvi: Svar på din fråga"
    assert "Hej Sven," in row.body_text
    assert "> Finns det hyresbostäder <nära> skolan?" in row.body_text
    assert row.body_html is not None
    assert "<blockquote" in row.body_html
    assert "&lt;nära&gt;" in row.body_html


async def test_info_package_has_the_handbook_and_an_unsubscribe_link(
    session: AsyncSession,
    connection: AsyncConnection,
    database: Database,
    smtp_server: SmtpServer,
) -> None:
    settings = settings_for(database, smtp_server.url)
    municipality = await kemijarvi(session)
    request = InfoPackageRequest(
        municipality_id=municipality.id,
        email="curious@example.org",
        language="en",
        topics=["jobs"],
        consent_at=utcnow(),
        unsubscribe_token_hash="1" * 64,
    )
    session.add(request)
    await session.flush()
    url = notify.unsubscribe_url(settings, "kemijarvi", request.id, "unsub-token")

    await notify.info_package(
        session=session,
        request=request,
        municipality=municipality,
        handbook_html="<!DOCTYPE html><html><body><h1>Mover's guide</h1></body></html>",
        handbook_text="# Mover's guide",
        unsubscribe_url=url,
        settings=settings,
    )
    assert await mailer.deliver_due(session_factory=factory(connection), settings=settings) == 1

    (message,) = smtp_server.to("curious@example.org")
    assert message["List-Unsubscribe"] == f"<{url}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url.endswith(f"/info-package-requests/{request.id}/unsubscribe?token=unsub-token")
    html = html_of(message)
    assert (
        html.index("<h1>Mover's guide</h1>") < html.index(f'href="{url}"') < html.index("</body>")
    )
    assert text_of(message).startswith("# Mover's guide")
    assert url in text_of(message)


# ---- delivering ----------------------------------------------------------------------------


async def test_a_failing_smtp_server_is_retried_after_the_backoff(
    session: AsyncSession,
    connection: AsyncConnection,
    database: Database,
    smtp_server: SmtpServer,
) -> None:
    s = await scene(session, database.settings)
    await s.event("confirmed")
    down = settings_for(database, f"smtp://127.0.0.1:{free_port()}")
    up = settings_for(database, smtp_server.url)
    start = utcnow()

    assert (
        await mailer.deliver_due(session_factory=factory(connection), settings=down, now=start) == 0
    )
    (row,) = await outbox(session, f"booking:{s.booking.id}:")
    assert row.attempts == 1
    assert row.last_error
    assert row.sent_at is None
    assert row.locked_until == start + mailer.backoff(1)

    # The server is back, but the row waits out its backoff first.
    soon = start + timedelta(seconds=30)
    assert await mailer.deliver_due(session_factory=factory(connection), settings=up, now=soon) == 0
    later = start + mailer.backoff(1) + timedelta(seconds=1)
    assert (
        await mailer.deliver_due(session_factory=factory(connection), settings=up, now=later) == 1
    )

    (row,) = await outbox(session, f"booking:{s.booking.id}:")
    assert row.sent_at == later
    assert row.attempts == 1
    assert row.last_error is None
    assert len(smtp_server.to("mover@example.org")) == 1


async def test_rows_are_given_up_after_max_attempts(
    session: AsyncSession, connection: AsyncConnection, database: Database
) -> None:
    s = await scene(session, database.settings)
    await s.event("confirmed")
    (row,) = await outbox(session, f"booking:{s.booking.id}:")
    row.attempts = mailer.MAX_ATTEMPTS
    await session.flush()

    assert await mailer.deliver_due(session_factory=factory(connection), settings=s.settings) == 0
    (row,) = await outbox(session, f"booking:{s.booking.id}:")
    assert row.sent_at is None


async def test_a_killed_workers_row_is_sent_again_when_its_lease_expires(
    session: AsyncSession,
    connection: AsyncConnection,
    database: Database,
    smtp_server: SmtpServer,
) -> None:
    settings = settings_for(database, smtp_server.url)
    s = await scene(session, settings)
    await s.event("confirmed")
    (row,) = await outbox(session, f"booking:{s.booking.id}:")
    now = utcnow()
    # Claimed by a worker that then died (or is still sending): not touched while leased.
    row.locked_until = now + mailer.LEASE
    await session.flush()
    sessions = factory(connection)

    assert await mailer.deliver_due(session_factory=sessions, settings=settings, now=now) == 0
    expired = now + mailer.LEASE + timedelta(seconds=1)
    assert await mailer.deliver_due(session_factory=sessions, settings=settings, now=expired) == 1

    # Killed after the server accepted but before sent_at was written: sent again, and
    # recognisably the same message.
    (row,) = await outbox(session, f"booking:{s.booking.id}:")
    row.sent_at = None
    row.locked_until = expired
    await session.flush()
    again = expired + mailer.LEASE
    assert await mailer.deliver_due(session_factory=sessions, settings=settings, now=again) == 1
    first, second = smtp_server.to("mover@example.org")
    assert first["Message-ID"] == second["Message-ID"] == f"<{row.id}@settle>"


async def test_without_smtp_url_the_email_is_logged_but_not_its_body(
    session: AsyncSession,
    connection: AsyncConnection,
    database: Database,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="settle.mail")
    settings = settings_for(database, None)
    s = await scene(session, settings)
    await s.event("confirmed")

    assert await mailer.deliver_due(session_factory=factory(connection), settings=settings) == 1

    (row,) = await outbox(session, f"booking:{s.booking.id}:")
    assert row.sent_at is not None
    assert "Kemijärvi: Your meeting is confirmed" in caplog.text
    assert "mover@example.org" in caplog.text
    assert "secret-manage-token" not in caplog.text
    assert "City Hall" not in caplog.text


async def test_batches_are_limited_and_each_row_is_sent_once(
    session: AsyncSession, connection: AsyncConnection, database: Database
) -> None:
    settings = settings_for(database, None)
    s = await scene(session, settings)
    events: tuple[notify.BookingEvent, ...] = ("received", "confirmed", "reminder")
    for event in events:
        await s.event(event)
    sessions = factory(connection)

    assert await mailer.deliver_due(session_factory=sessions, settings=settings, batch=2) == 2
    assert await mailer.deliver_due(session_factory=sessions, settings=settings, batch=2) == 2
    assert await mailer.deliver_due(session_factory=sessions, settings=settings, batch=2) == 0


def test_smtp_urls_say_how_to_connect() -> None:
    plain = mailer.parse_smtp_url("smtp://user%40example.org:p%3Ass@mail.example.org:587")
    assert (plain.hostname, plain.port, plain.username, plain.password) == (
        "mail.example.org",
        587,
        "user@example.org",
        "p:ss",
    )
    assert (plain.use_tls, plain.start_tls) == (False, None)
    tls = mailer.parse_smtp_url("smtps://mail.example.org")
    assert (tls.port, tls.use_tls, tls.start_tls, tls.username) == (465, True, False, None)
    with pytest.raises(ValueError, match="SMTP_URL"):
        mailer.parse_smtp_url("http://mail.example.org")


# ---- reminders -----------------------------------------------------------------------------


async def test_reminders_are_enqueued_once_for_confirmed_bookings_starting_within_a_day(
    session: AsyncSession, connection: AsyncConnection, database: Database
) -> None:
    now = datetime(2026, 5, 3, 8, 0, tzinfo=UTC)
    municipality = await kemijarvi(session)
    guide = await make_guide(session, municipality)
    soon = await make_booking(session, await make_slot(session, guide, now + timedelta(hours=23)))
    later = await make_booking(session, await make_slot(session, guide, now + timedelta(hours=30)))
    cancelled = await make_booking(
        session,
        await make_slot(session, guide, now + timedelta(hours=22)),
        status=BookingStatus.cancelled,
    )
    pending = await make_booking(
        session,
        await make_slot(session, guide, now + timedelta(hours=21)),
        status=BookingStatus.pending,
    )
    sessions = factory(connection)

    first = await mailer.enqueue_reminders(
        session_factory=sessions, settings=database.settings, now=now
    )
    second = await mailer.enqueue_reminders(
        session_factory=sessions, settings=database.settings, now=now + timedelta(minutes=5)
    )

    assert (first, second) == (1, 0)
    reminders = [row for row in await outbox(session) if row.kind == "booking_reminder"]
    assert [row.dedupe_key for row in reminders] == [f"booking:{soon.id}:reminder:0"]
    assert "Reminder" in reminders[0].subject
    assert "token" not in reminders[0].body_text  # no manage link: the token is not stored
    for booking in (soon, later, cancelled, pending):
        await session.refresh(booking)
    assert soon.reminder_sent_at == now
    assert later.reminder_sent_at is None
    assert cancelled.reminder_sent_at is None
    assert pending.reminder_sent_at is None


async def test_the_worker_loop_delivers_and_stops(
    session: AsyncSession,
    connection: AsyncConnection,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = settings_for(database, None)
    s = await scene(session, settings)
    await s.event("confirmed")
    stop = asyncio.Event()
    real_deliver_due = mailer.deliver_due
    rounds: list[int] = []

    async def one_round(**kwargs: Any) -> int:
        sent = await real_deliver_due(**kwargs)
        rounds.append(sent)
        stop.set()
        return sent

    monkeypatch.setattr(mailer, "deliver_due", one_round)
    await asyncio.wait_for(
        mailer.run_worker(
            session_factory=factory(connection), settings=settings, interval=0.01, stop=stop
        ),
        timeout=10,
    )

    assert rounds == [1]
    (row,) = await outbox(session, f"booking:{s.booking.id}:")
    assert row.sent_at is not None
