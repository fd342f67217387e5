"""Delivering the outbox: at least once, and recognisably the same message when twice.

A worker claims due rows in a short transaction by leasing them (`locked_until`), sends
them with no transaction open, and records the outcome in another short transaction. A
worker killed mid-send loses nothing: its lease runs out and the next run sends the row
again. Every message carries `Message-ID: <{row.id}@settle>`, so a rare duplicate is
recognisable as one. After a failure `locked_until` doubles as "not before": the row
waits 2, 4, 8, … minutes (at most six hours) and is given up after `MAX_ATTEMPTS`.

Without `SMTP_URL` nothing leaves the machine: each email's recipient and subject are
logged (never the body) and the row is marked sent, so development needs no mail server.

`enqueue_reminders` is the other periodic job: confirmed bookings starting within a day
get their reminder email exactly once. `enqueue_term_endings` runs with it: 30 days
before a guide's term ends, the guide and the municipality's admins are asked for a
successor, once per term.
"""

import asyncio
import base64
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import unquote, urlsplit

import aiosmtplib
import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import Settings
from app.core.db import SessionFactory, execute
from app.core.time import HELSINKI, utcnow
from app.models.booking import Booking, BookingStatus
from app.models.guide import Guide, GuideStatus, Slot
from app.models.municipality import Municipality
from app.models.outbox import OutboxEmail
from app.models.user import Role, RoleGrant, User
from app.services import notify

log = logging.getLogger("settle.mail")

MAX_ATTEMPTS = 12
LEASE = timedelta(seconds=120)
# One SMTP conversation may take this long; a claimed row is not started unless its
# send can finish well within the lease, so no other worker takes it over mid-send.
SEND_TIMEOUT = 30.0
MAX_BACKOFF = timedelta(hours=6)
REMINDER_AHEAD = timedelta(hours=24)
TERM_ENDING_AHEAD = timedelta(days=30)
# Headers the mailer writes itself; a row's own headers cannot replace them.
_RESERVED_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version", "content-type"}
)


def backoff(attempts: int) -> timedelta:
    """How long a row waits after its `attempts`-th failure: 2, 4, 8 … minutes, capped."""
    return min(timedelta(minutes=2 ** min(attempts, 16)), MAX_BACKOFF)


def message_id(row_id: uuid.UUID) -> str:
    """The Message-ID of an outbox row: the same on every delivery attempt."""
    return f"<{row_id}@settle>"


# ---- composing the MIME message ------------------------------------------------------------


def _split_content_type(content_type: str) -> tuple[str, str, dict[str, str]]:
    kind, *raw_params = (part.strip() for part in content_type.split(";"))
    maintype, _, subtype = kind.partition("/")
    params: dict[str, str] = {}
    for raw in raw_params:
        name, _, value = raw.partition("=")
        if name:
            params[name.strip().lower()] = value.strip().strip('"')
    return maintype.lower() or "application", subtype.lower() or "octet-stream", params


def build_message(row: OutboxEmail, settings: Settings) -> EmailMessage:
    """The MIME message for an outbox row: text (+ HTML alternative) and attachments."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = message_id(row.id)
    for name, value in row.headers.items():
        if name.lower() not in _RESERVED_HEADERS:
            message[name] = value
    message.set_content(row.body_text)
    if row.body_html:
        message.add_alternative(row.body_html, subtype="html")
    for attachment in row.attachments:
        filename = str(attachment.get("filename") or "attachment")
        maintype, subtype, params = _split_content_type(
            str(attachment.get("content_type") or "application/octet-stream")
        )
        if "content_base64" in attachment:
            data = base64.b64decode(str(attachment["content_base64"]))
        else:
            text = str(attachment.get("content", ""))
            if maintype == "text":
                charset = params.pop("charset", "utf-8")
                message.add_attachment(
                    text, subtype=subtype, charset=charset, filename=filename, params=params
                )
                continue
            data = text.encode("utf-8")
        message.add_attachment(
            data, maintype=maintype, subtype=subtype, filename=filename, params=params
        )
    return message


# ---- SMTP --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpTarget:
    hostname: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    # None = STARTTLS when the server offers it (aiosmtplib's opportunistic default).
    start_tls: bool | None


def parse_smtp_url(url: str) -> SmtpTarget:
    """`smtp://user:pw@host:port` (plain, STARTTLS when offered) or `smtps://…` (TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("SMTP_URL must look like smtp://user:password@host:587 or smtps://…")
    implicit_tls = parts.scheme == "smtps"
    return SmtpTarget(
        hostname=parts.hostname,
        port=parts.port or (465 if implicit_tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        use_tls=implicit_tls,
        start_tls=False if implicit_tls else None,
    )


class PermanentFailure(Exception):
    """The server refused the message for good (e.g. no such recipient): no retries."""


async def send_message(message: EmailMessage, settings: Settings) -> None:
    """Hand one message to the SMTP server, or log it when no server is configured."""
    if not settings.smtp_url:
        log.info(
            "email not sent (no SMTP_URL): %r to %s %s",
            message["Subject"],
            message["To"],
            message["Message-ID"],
        )
        return
    target = parse_smtp_url(settings.smtp_url)
    try:
        await aiosmtplib.send(
            message,
            hostname=target.hostname,
            port=target.port,
            username=target.username,
            password=target.password,
            use_tls=target.use_tls,
            start_tls=target.start_tls,
            timeout=SEND_TIMEOUT,
        )
    except aiosmtplib.SMTPRecipientsRefused as error:
        if all(500 <= refusal.code < 600 for refusal in error.recipients):
            raise PermanentFailure(str(error)) from error
        raise


# ---- the outbox worker -------------------------------------------------------------------


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


@dataclass
class _Claimed:
    id: uuid.UUID
    attempts: int
    to_address: str
    subject: str
    message: EmailMessage | None
    error: str | None


async def _claim(
    *, session_factory: SessionFactory, settings: Settings, batch: int, now: datetime
) -> list[_Claimed]:
    """Lease up to `batch` due rows in one short transaction and build their messages."""
    async with session_factory() as session:
        due = (
            sa.select(col(OutboxEmail.id))
            .where(
                col(OutboxEmail.sent_at).is_(None),
                col(OutboxEmail.attempts) < MAX_ATTEMPTS,
                sa.or_(
                    col(OutboxEmail.locked_until).is_(None),
                    col(OutboxEmail.locked_until) <= now,
                ),
            )
            .order_by(col(OutboxEmail.created_at))
            .limit(batch)
        )
        if _dialect(session) == "postgresql":
            # Concurrent workers take disjoint batches instead of queueing on each other.
            due = due.with_for_update(skip_locked=True)
        # One UPDATE … RETURNING: on SQLite the write lock is taken by the first
        # statement, so two workers cannot both read the same rows and then collide.
        claim = (
            sa.update(OutboxEmail)
            .where(col(OutboxEmail.id).in_(due))
            .values(locked_until=now + LEASE)
            .returning(col(OutboxEmail.id))
            .execution_options(synchronize_session=False)
        )
        ids = list((await execute(session, claim)).scalars())
        if not ids:
            await session.commit()
            return []
        rows = await session.exec(
            select(OutboxEmail)
            .where(col(OutboxEmail.id).in_(ids))
            .order_by(col(OutboxEmail.created_at))
            .execution_options(populate_existing=True)
        )
        claimed: list[_Claimed] = []
        for row in rows:
            message: EmailMessage | None = None
            error: str | None = None
            try:
                message = build_message(row, settings)
            except Exception as exc:  # a malformed row must not stop the others
                error = f"cannot build message: {exc!r}"
            claimed.append(
                _Claimed(row.id, row.attempts, row.to_address, row.subject, message, error)
            )
        await session.commit()
        return claimed


async def _record(
    *,
    session_factory: SessionFactory,
    item: _Claimed,
    at: datetime,
    error: str | None,
    permanent: bool = False,
) -> None:
    """Write one row's outcome in its own short transaction."""
    statement = sa.update(OutboxEmail).where(col(OutboxEmail.id) == item.id)
    if error is None:
        statement = statement.values(sent_at=at, locked_until=None, last_error=None)
    else:
        attempts = MAX_ATTEMPTS if permanent else item.attempts + 1
        statement = statement.values(
            attempts=attempts, last_error=error[:2000], locked_until=at + backoff(attempts)
        )
    async with session_factory() as session:
        await execute(session, statement.execution_options(synchronize_session=False))
        await session.commit()


async def _release(*, session_factory: SessionFactory, ids: list[uuid.UUID]) -> None:
    """Give back leased rows this run has no time left to send."""
    async with session_factory() as session:
        await execute(
            session,
            sa.update(OutboxEmail)
            .where(col(OutboxEmail.id).in_(ids), col(OutboxEmail.sent_at).is_(None))
            .values(locked_until=None)
            .execution_options(synchronize_session=False),
        )
        await session.commit()


async def deliver_due(
    *,
    session_factory: SessionFactory,
    settings: Settings,
    batch: int = 20,
    now: datetime | None = None,
) -> int:
    """Send the outbox rows that are due; returns how many were sent."""
    claimed_at = now or utcnow()

    def clock() -> datetime:
        return now or utcnow()

    claimed = await _claim(
        session_factory=session_factory, settings=settings, batch=batch, now=claimed_at
    )
    started = time.monotonic()
    sent = 0
    for index, item in enumerate(claimed):
        if time.monotonic() - started + SEND_TIMEOUT > LEASE.total_seconds() - 10:
            await _release(
                session_factory=session_factory, ids=[rest.id for rest in claimed[index:]]
            )
            break
        if item.message is None:
            log.error("outbox %s: %s", item.id, item.error)
            await _record(
                session_factory=session_factory,
                item=item,
                at=clock(),
                error=item.error,
                permanent=True,
            )
            continue
        try:
            await send_message(item.message, settings)
        except PermanentFailure as error:
            log.error("outbox %s refused for good: %s", item.id, error)
            await _record(
                session_factory=session_factory,
                item=item,
                at=clock(),
                error=str(error),
                permanent=True,
            )
        except Exception as error:  # any failure is retried later, with backoff
            attempts = item.attempts + 1
            level = logging.ERROR if attempts >= MAX_ATTEMPTS else logging.WARNING
            log.log(
                level,
                "outbox %s: attempt %d/%d failed: %r",
                item.id,
                attempts,
                MAX_ATTEMPTS,
                error,
            )
            await _record(
                session_factory=session_factory,
                item=item,
                at=clock(),
                error=f"{type(error).__name__}: {error}",
            )
        else:
            await _record(session_factory=session_factory, item=item, at=clock(), error=None)
            sent += 1
    return sent


# ---- reminders ---------------------------------------------------------------------------


async def enqueue_reminders(
    *, session_factory: SessionFactory, settings: Settings, now: datetime | None = None
) -> int:
    """Enqueue the reminder of every confirmed booking starting within a day, once each;
    returns how many bookings were reminded.

    Reminders carry no manage link: only the hash of the mover's token is stored, so the
    link cannot be rebuilt here (the confirmation email has it).
    """
    moment = now or utcnow()
    async with session_factory() as session:
        candidates = await execute(
            session,
            sa.select(col(Booking.id))
            .join(Slot, col(Slot.id) == col(Booking.slot_id))
            .where(
                col(Booking.status) == BookingStatus.confirmed,
                col(Booking.reminder_sent_at).is_(None),
                col(Slot.starts_at) > moment,
                col(Slot.starts_at) <= moment + REMINDER_AHEAD,
            )
            .order_by(col(Slot.starts_at)),
        )
        booking_ids = list(candidates.scalars())
        await session.commit()

    reminded = 0
    for booking_id in booking_ids:
        async with session_factory() as session:
            # Marking first takes the row (and on SQLite the write lock): of two workers,
            # only the one whose UPDATE matched goes on to enqueue.
            marked = await execute(
                session,
                sa.update(Booking)
                .where(
                    col(Booking.id) == booking_id,
                    col(Booking.status) == BookingStatus.confirmed,
                    col(Booking.reminder_sent_at).is_(None),
                )
                .values(reminder_sent_at=moment)
                .execution_options(synchronize_session=False),
            )
            if marked.rowcount != 1:
                await session.rollback()
                continue
            booking = await session.get(Booking, booking_id)
            slot = await session.get(Slot, booking.slot_id) if booking else None
            if (
                booking is None
                or slot is None
                or not (moment < slot.starts_at <= moment + REMINDER_AHEAD)
            ):
                # Rescheduled out of the window since the candidates were read.
                await session.rollback()
                continue
            guide = await session.get(Guide, booking.guide_id)
            municipality = await session.get(Municipality, booking.municipality_id)
            if guide is None or municipality is None:
                await session.rollback()
                continue
            await notify.booking_event(
                session=session,
                booking=booking,
                slot=slot,
                guide=guide,
                municipality=municipality,
                event="reminder",
                manage_url=None,
                settings=settings,
            )
            await session.commit()
            reminded += 1
    return reminded


async def enqueue_term_endings(
    *, session_factory: SessionFactory, settings: Settings, now: datetime | None = None
) -> int:
    """Ask for a successor 30 days before an active guide's term ends, unless one is
    already confirmed; returns how many emails were added. The outbox's dedupe key
    keeps it to one email per address and term however often the worker runs."""
    from app.services import guide as guide_service  # local: only this job needs it

    day = (now or utcnow()).astimezone(HELSINKI).date()
    added = 0
    async with session_factory() as session:
        successor = sa.orm.aliased(Guide)
        confirmed = (
            sa.select(col(successor.id))
            .where(
                col(successor.id) == col(Guide.successor_id),
                col(successor.status) == GuideStatus.active,
                col(successor.term_start) == col(Guide.term_end),
            )
            .exists()
        )
        guides = list(
            await session.exec(
                select(Guide).where(
                    guide_service.active_clause(day),
                    col(Guide.term_end) <= day + TERM_ENDING_AHEAD,
                    ~confirmed,
                )
            )
        )
        for guide in guides:
            municipality = await session.get(Municipality, guide.municipality_id)
            if municipality is None:
                continue
            admins = await session.exec(
                select(User.email)
                .join(RoleGrant, col(RoleGrant.user_id) == col(User.id))
                .where(
                    col(RoleGrant.municipality_id) == guide.municipality_id,
                    col(RoleGrant.role) == Role.municipality_admin,
                    col(User.is_active).is_(True),
                )
                .order_by(col(User.email))
            )
            added += await notify.guide_term_ending(
                session=session,
                guide=guide,
                municipality=municipality,
                admin_addresses=sorted(set(admins)),
                settings=settings,
            )
        await session.commit()
    return added


async def run_worker(
    *,
    session_factory: SessionFactory,
    settings: Settings,
    interval: float = 5.0,
    stop: asyncio.Event | None = None,
) -> None:
    """Deliver the outbox and the webhooks, and enqueue reminders, every `interval`
    seconds until `stop`."""
    from app.services import webhook_delivery  # it enqueues emails itself, through notify

    stop = stop or asyncio.Event()
    batch = 20
    log.info("mail worker started (%s)", "SMTP" if settings.smtp_url else "logging only")
    while not stop.is_set():
        sent = 0
        try:
            await enqueue_reminders(session_factory=session_factory, settings=settings)
            await enqueue_term_endings(session_factory=session_factory, settings=settings)
            sent = await deliver_due(
                session_factory=session_factory, settings=settings, batch=batch
            )
        except Exception:  # the database may be briefly away; try again next round
            log.exception("mail worker round failed")
        try:
            posted = await webhook_delivery.deliver_due(
                session_factory=session_factory, settings=settings, batch=batch
            )
            sent = max(sent, posted)
        except Exception:
            log.exception("webhook delivery round failed")
        if sent >= batch:
            continue  # more may be waiting
        with contextlib.suppress(TimeoutError):  # no stop request: the next round
            await asyncio.wait_for(stop.wait(), timeout=interval)
    log.info("mail worker stopped")
