"""The development demo: obviously fictional guides with weekly availability and a few
approved stories for Kemijärvi, so a booking can be tried right after `make run`.

Never seeded when ENVIRONMENT=production (the caller decides, see `app.cli`); what is
seeded is marked `demo` and `settle purge-demo` (`app.services.demo.purge`) removes it.
"""

from datetime import datetime, time, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.time import HELSINKI
from app.models.guide import Guide, GuideCreate, GuideStatus, SlotRuleCreate
from app.models.story import Story, StoryCreate, StoryStatus
from app.seed.loader import SeedReport, _municipality, read_data
from app.services import guide as guide_service
from app.services import story as story_service
from app.services.service_card import SYSTEM

# How far ahead the weekly rules make slots; a re-seed after that adds nothing (purge
# and seed again for fresh times).
DEMO_WEEKS = 12


async def seed_demo(session: AsyncSession, report: SeedReport) -> None:
    """The demo guides (each with its weekly rules) and stories, each only once."""
    kemijarvi = await _municipality(session, "kemijarvi")
    data = read_data("kemijarvi/demo.yaml")
    today = guide_service.today()
    have = set(
        await session.exec(
            select(Guide.display_name).where(
                col(Guide.municipality_id) == kemijarvi.id, col(Guide.demo).is_(True)
            )
        )
    )
    for item in data["guides"]:
        if item["display_name"] in have:
            continue
        fields = {key: value for key, value in item.items() if key != "rules"}
        guide = await guide_service.create(
            session=session,
            municipality_id=kemijarvi.id,
            data=GuideCreate.model_validate(
                fields | {"status": GuideStatus.active, "term_start": today}
            ),
        )
        guide.demo = True
        for rule in item["rules"]:
            await guide_service.add_rule(
                session=session,
                guide=guide,
                data=SlotRuleCreate.model_validate(
                    rule
                    | {
                        "valid_from": today,
                        "valid_until": today + timedelta(weeks=DEMO_WEEKS),
                    }
                ),
                weeks=DEMO_WEEKS,
            )
        report.created.append(f"demo guide kemijarvi/{guide.display_name}")
    titles = set(
        await session.exec(
            select(Story.title).where(
                col(Story.municipality_id) == kemijarvi.id, col(Story.demo).is_(True)
            )
        )
    )
    for item in data["stories"]:
        if item["title"] in titles:
            continue
        day = today - timedelta(days=item["days_ago"])
        fields = {key: value for key, value in item.items() if key != "days_ago"}
        story = await story_service.create(
            session=session,
            municipality_id=kemijarvi.id,
            actor=SYSTEM,
            data=StoryCreate.model_validate(
                fields
                | {
                    "status": StoryStatus.approved,
                    "published_at": datetime.combine(day, time(9), HELSINKI),
                }
            ),
        )
        story.demo = True
        report.created.append(f"demo story kemijarvi/{story.title}")
    await session.flush()
