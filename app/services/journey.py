"""The mover's journey: the six stages as each municipality describes them (with
history), resolved into what it offers at each stage: cards, contact ways, guides and
checklist items with their timing."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy import type_coerce
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import JSONType, execute
from app.core.time import utcnow
from app.models.journey import JOURNEY_FIELDS, STAGE_KEYS, Journey, JourneyUpdate, StageIn
from app.models.landing import ContactWayKind
from app.models.service_card import (
    CardEntry,
    CardSection,
    CardStatus,
    EntryKind,
    MoveTiming,
    ServiceCard,
)
from app.services import changes as changes_log
from app.services import content_revision, content_version
from app.services import landing as landing_service
from app.services.content_revision import Document, jsonable
from app.services.persona import TIMING_ORDER
from app.services.service_card import Actor

KIND = "journey"
GUIDES_PER_STAGE = 12

# What every municipality's journey has before it writes its own: the stage titles and
# a sensible choice of contact ways and checklist timings for each stage.
DEFAULT_STAGES: list[dict[str, Any]] = [
    {
        "key": "awareness",
        "title": {"fi": "Kiinnostus herää", "en": "The first spark", "sv": "Intresset väcks"},
        "contact_ways": [ContactWayKind.info_package],
    },
    {
        "key": "exploring",
        "title": {"fi": "Tutustuminen", "en": "Exploring", "sv": "Att utforska"},
        "contact_ways": [ContactWayKind.message, ContactWayKind.phone],
        "show_guides": True,
    },
    {
        "key": "decision",
        "title": {"fi": "Päätös", "en": "The decision", "sv": "Beslutet"},
        "contact_ways": [
            ContactWayKind.live_meeting,
            ContactWayKind.remote_meeting,
            ContactWayKind.phone,
        ],
        "show_guides": True,
    },
    {
        "key": "moving",
        "title": {"fi": "Muutto", "en": "Moving", "sv": "Flytten"},
        "contact_ways": [ContactWayKind.message, ContactWayKind.phone],
        "checklist": [MoveTiming.before, MoveTiming.during],
    },
    {
        "key": "settled",
        "title": {"fi": "Asettuminen", "en": "Settling in", "sv": "Att komma till rätta"},
        "contact_ways": [ContactWayKind.message],
        "checklist": [MoveTiming.after],
    },
    {
        "key": "living-here",
        "title": {"fi": "Elämää täällä", "en": "Living here", "sv": "Livet här"},
        "contact_ways": [ContactWayKind.message],
    },
]
assert [stage["key"] for stage in DEFAULT_STAGES] == list(STAGE_KEYS)


def default_stages() -> list[StageIn]:
    """The six stages as a municipality has them before writing its own."""
    return [StageIn.model_validate(stage) for stage in DEFAULT_STAGES]


async def get_config(
    *, session: AsyncSession, municipality_id: uuid.UUID, for_update: bool = False
) -> Journey | None:
    """The saved journey, or None while the defaults apply."""
    statement = select(Journey).where(col(Journey.municipality_id) == municipality_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.exec(statement)).first()


def _stage_document(stage: StageIn) -> Document:
    return {
        "key": stage.key.value,
        "title": stage.title.as_dict(),
        "description": stage.description.as_dict() if stage.description else None,
        "topics": list(stage.topics),
        "contact_ways": [way.value for way in stage.contact_ways],
        "show_guides": stage.show_guides,
        "checklist": [timing.value for timing in stage.checklist],
        "links": [jsonable(link) for link in stage.links],
    }


def config_document(journey: Journey | None, slug: str) -> Document:
    """The stages as configured, or the defaults (revision 0)."""
    stages = journey.stages if journey and journey.stages else default_stages()
    introduction = journey.introduction if journey else None
    return {
        "municipality": slug,
        "introduction": jsonable(introduction) if introduction else None,
        "stages": [_stage_document(stage) for stage in stages],
        "last_updated": journey.updated_at if journey else None,
        "updated_by": journey.updated_by_name if journey else None,
        "updated_items": list(journey.updated_items) if journey else [],
        "revision": journey.version if journey else 0,
    }


async def update_config(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    journey: Journey | None,
    actor: Actor,
    data: JourneyUpdate,
) -> Journey:
    """Save the fields sent (creating the journey on the first save), with a revision."""
    before = config_document(journey, "") if journey is not None else None
    if journey is None:
        journey = Journey(municipality_id=municipality_id, stages=default_stages(), version=1)
    for name in data.model_fields_set:
        setattr(journey, name, getattr(data, name))
    after = config_document(journey, "")
    changes = content_revision.diff(before, after, JOURNEY_FIELDS)
    if before is not None and not changes:
        return journey
    if before is not None:
        journey.version += 1
    journey.updated_at = utcnow()
    journey.updated_by_name = actor.name
    journey.updated_items = _stage_items(changes, before, after) if before else ["journey"]
    session.add(journey)
    await session.flush()
    await content_revision.record(
        session=session,
        municipality_id=municipality_id,
        subject=KIND,
        subject_id=journey.id,
        number=journey.version,
        actor=actor,
        action="updated" if before else "created",
        changes=changes,
        snapshot={name: after[name] for name in JOURNEY_FIELDS},
    )
    await content_version.bump_municipal(
        session=session, municipality_id=municipality_id, kind=KIND
    )
    await changes_log.singleton(
        session=session,
        municipality_id=municipality_id,
        kind=KIND,
        resource_id=journey.id,
        created=before is None,
        revision=journey.version,
        segment="journey",
    )
    return journey


def _stage_items(changes: list[Document], before: Document | None, after: Document) -> list[str]:
    """The footer names changed stages (`stages.moving`) rather than just `stages`."""
    items: list[str] = []
    for change in changes:
        if change["field"] != "stages" or before is None:
            items.append(change["field"])
            continue
        old = {stage["key"]: stage for stage in before["stages"]}
        items += [
            f"stages.{stage['key']}" for stage in after["stages"] if old.get(stage["key"]) != stage
        ]
    return items


# ---- the resolved journey --------------------------------------------------------------------


async def _checklist(
    session: AsyncSession, municipality_id: uuid.UUID, timings: set[str]
) -> list[Any]:
    """Checklist items of published cards with these timings, in card order: one query."""
    if not timings:
        return []
    return list(
        (
            await execute(
                session,
                sa_select(
                    col(CardEntry.id),
                    col(CardEntry.card_id),
                    col(CardEntry.timing),
                    type_coerce(CardEntry.name, JSONType).label("name"),
                    type_coerce(CardEntry.description, JSONType).label("description"),
                    type_coerce(ServiceCard.title, JSONType).label("card_title"),
                )
                .join(ServiceCard, col(ServiceCard.id) == col(CardEntry.card_id))
                .join(CardSection, col(CardSection.id) == col(CardEntry.section_id))
                .where(
                    col(ServiceCard.municipality_id) == municipality_id,
                    col(ServiceCard.status) == CardStatus.published,
                    col(CardEntry.kind) == EntryKind.checklist,
                    col(CardEntry.timing).in_(sorted(timings)),
                )
                .order_by(
                    col(ServiceCard.position),
                    col(ServiceCard.id),
                    col(CardSection.position),
                    col(CardEntry.position),
                ),
            )
        ).all()
    )


async def journey(
    *, session: AsyncSession, municipality_id: uuid.UUID
) -> tuple[Document, datetime | None]:
    """The journey with what each stage offers, and when it next goes stale on its own.
    Six queries whatever the amount of content."""
    municipality = await landing_service.municipality_of(session, municipality_id)
    slug = municipality.slug
    config = config_document(
        await get_config(session=session, municipality_id=municipality_id), slug
    )
    stages = config["stages"]
    cards = await landing_service.card_heads(session, municipality_id)
    timings = {timing for stage in stages for timing in stage["checklist"]}
    checklist = await _checklist(session, municipality_id, timings)
    next_free = await landing_service.next_free_slots(session, municipality_id)
    wants_guides = any(stage["show_guides"] for stage in stages)
    guides = (
        await landing_service.featured_guides(session, municipality_id, slug, GUIDES_PER_STAGE)
        if wants_guides
        else []
    )
    resolved = []
    for position, stage in enumerate(stages, start=1):
        items = sorted(
            (row for row in checklist if row.timing in stage["checklist"]),
            key=lambda row: TIMING_ORDER[MoveTiming(row.timing)],
        )
        resolved.append(
            {
                "key": stage["key"],
                "position": position,
                "title": stage["title"],
                "description": stage["description"],
                "cards": landing_service.cards_of(cards, stage["topics"], slug),
                "contact_ways": landing_service.contact_ways(
                    stage["contact_ways"], municipality, next_free
                ),
                "guides": guides if stage["show_guides"] else [],
                "checklist": [
                    {
                        "id": row.id,
                        "card_id": row.card_id,
                        "card_title": row.card_title,
                        "name": row.name,
                        "description": row.description,
                        "when": row.timing,
                    }
                    for row in items
                ],
                "links": [
                    {"url": link["url"], "label": link.get("label")} for link in stage["links"]
                ],
            }
        )
    document = {"municipality": slug, "introduction": config["introduction"], "stages": resolved}
    return document, landing_service.soonest_of(next_free["live"], next_free["remote"])
