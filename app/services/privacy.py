"""Personal data of movers: kept only while needed, then anonymised (`settle purge`)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import execute
from app.core.time import utcnow
from app.models.booking import Booking, InfoPackageRequest, Message
from app.models.outbox import OutboxEmail
from app.services import booking as booking_service
from app.services import fund as fund_service
from app.services import info_package as info_package_service
from app.services import message as message_service


@dataclass
class PurgeReport:
    bookings: int = 0
    messages: int = 0
    info_package_requests: int = 0
    fund_ideas: int = 0
    sent_emails: int = 0


# Sent emails hold names and links; they are kept only long enough to investigate a
# delivery problem.
KEEP_SENT_EMAILS = timedelta(days=14)


async def purge(*, session: AsyncSession, inactive_since: datetime) -> PurgeReport:
    """Anonymise everything whose last activity is older than `inactive_since`."""
    report = PurgeReport()
    for booking in await session.exec(
        select(Booking).where(
            col(Booking.erased_at).is_(None), col(Booking.last_activity_at) < inactive_since
        )
    ):
        booking_service.erase_personal_data(booking)
        report.bookings += 1
    for message in await session.exec(
        select(Message).where(
            col(Message.erased_at).is_(None), col(Message.last_activity_at) < inactive_since
        )
    ):
        message_service.erase_personal_data(message)
        report.messages += 1
    for request in await session.exec(
        select(InfoPackageRequest).where(
            col(InfoPackageRequest.erased_at).is_(None),
            col(InfoPackageRequest.last_activity_at) < inactive_since,
        )
    ):
        info_package_service.erase_personal_data(request)
        report.info_package_requests += 1
    # Fund applicants are kept until their round's reporting has ended, however quiet.
    report.fund_ideas = await fund_service.purge_finished_rounds(
        session=session, day=fund_service.today()
    )
    sent = await execute(
        session, delete(OutboxEmail).where(col(OutboxEmail.sent_at) < utcnow() - KEEP_SENT_EMAILS)
    )
    report.sent_emails = int(getattr(sent, "rowcount", 0) or 0)
    await session.flush()
    return report
