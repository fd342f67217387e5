"""Removing the development demo (`settle purge-demo`): the guides and stories seeded
with `demo` set, the demo guides' slots, rules and any bookings made on them."""

from dataclasses import dataclass

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import execute
from app.models.booking import Booking
from app.models.guide import Guide, Slot, SlotRule
from app.models.story import Story
from app.services import content_version
from app.services.guide import KIND as GUIDE_KIND
from app.services.guide import SLOT_KIND
from app.services.story import KIND as STORY_KIND


@dataclass
class PurgeReport:
    guides: int = 0
    slots: int = 0
    bookings: int = 0
    stories: int = 0


async def purge(*, session: AsyncSession) -> PurgeReport:
    """Delete everything marked demo, explicitly child rows first (SQLite may run
    without foreign-key enforcement), and tell the caches."""
    report = PurgeReport()
    guides = list(await session.exec(select(Guide).where(col(Guide.demo).is_(True))))
    ids = [guide.id for guide in guides]
    if ids:
        await execute(
            session,
            update(Guide).where(col(Guide.successor_id).in_(ids)).values(successor_id=None),
        )
        bookings = await execute(session, delete(Booking).where(col(Booking.guide_id).in_(ids)))
        report.bookings = bookings.rowcount or 0
        slots = await execute(session, delete(Slot).where(col(Slot.guide_id).in_(ids)))
        report.slots = slots.rowcount or 0
        await execute(session, delete(SlotRule).where(col(SlotRule.guide_id).in_(ids)))
        for guide in guides:
            await session.delete(guide)
        report.guides = len(guides)
    stories = list(await session.exec(select(Story).where(col(Story.demo).is_(True))))
    for story in stories:
        await session.delete(story)
    report.stories = len(stories)
    await session.flush()
    touched = {guide.municipality_id for guide in guides}
    for municipality_id in touched:
        for kind in (GUIDE_KIND, SLOT_KIND):
            await content_version.bump_municipal(
                session=session, municipality_id=municipality_id, kind=kind
            )
    for municipality_id in {story.municipality_id for story in stories}:
        await content_version.bump_municipal(
            session=session, municipality_id=municipality_id, kind=STORY_KIND
        )
    return report
