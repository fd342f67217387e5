"""The mover landing page: its configuration (with history) and the one-call document
that carries everything the page shows, built in a fixed number of queries."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Uuid, cast, func, literal_column, null, type_coerce, union_all
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import JSONType, execute, json_array_contains
from app.core.errors import NotFound
from app.core.time import utcnow
from app.models.booking import INFO_PACKAGE_TOPICS
from app.models.guide import Guide, MeetingMode, Slot
from app.models.landing import (
    LANDING_CONFIG_FIELDS,
    ContactWayKind,
    LandingConfig,
    LandingConfigUpdate,
)
from app.models.municipality import Municipality
from app.models.persona import Persona, ServicePromise
from app.models.service_card import CardStatus, ServiceCard, Topic
from app.services import changes as changes_log
from app.services import content_revision, content_version
from app.services import guide as guide_service
from app.services import persona as persona_service
from app.services import story as story_service
from app.services.content_revision import Document, jsonable
from app.services.service_card import Actor

KIND = "landing_config"
API_BASE = "/api/v1/municipalities"
Translations = dict[str, str]

CONTACT_LABELS: dict[ContactWayKind, Translations] = {
    ContactWayKind.live_meeting: {
        "fi": "Varaa aika live-tapaamiseen",
        "en": "Book a meeting in person",
        "sv": "Boka ett möte på plats",
    },
    ContactWayKind.remote_meeting: {
        "fi": "Varaa aika etätapaamiseen",
        "en": "Book a remote meeting",
        "sv": "Boka ett distansmöte",
    },
    ContactWayKind.message: {
        "fi": "Kysy viestillä",
        "en": "Ask by message",
        "sv": "Fråga med ett meddelande",
    },
    ContactWayKind.phone: {"fi": "Soita meille", "en": "Call us", "sv": "Ring oss"},
    ContactWayKind.info_package: {
        "fi": "Tilaa tietopaketti sähköpostiisi",
        "en": "Order the info package by email",
        "sv": "Beställ informationspaketet per e-post",
    },
}
MEETING_MODES = {
    ContactWayKind.live_meeting: MeetingMode.live,
    ContactWayKind.remote_meeting: MeetingMode.remote,
}


# ---- configuration -------------------------------------------------------------------------


async def get_config(
    *, session: AsyncSession, municipality_id: uuid.UUID, for_update: bool = False
) -> LandingConfig | None:
    """The saved configuration, or None while the defaults apply."""
    statement = select(LandingConfig).where(col(LandingConfig.municipality_id) == municipality_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.exec(statement)).first()


def config_document(config: LandingConfig | None, slug: str) -> Document:
    """The configuration, or the defaults (revision 0) before anyone has saved one."""
    current = config or LandingConfig(municipality_id=uuid.UUID(int=0), version=0)
    return {
        "municipality": slug,
        "introduction": jsonable(current.introduction) if current.introduction else None,
        "tiles": [jsonable(tile) for tile in current.tiles],
        "contact_ways": list(current.contact_ways),
        "featured_guides": current.featured_guides,
        "stories": current.stories,
        "story_hashtags": list(current.story_hashtags),
        "show_service_promise": current.show_service_promise,
        "map_links": [jsonable(link) for link in current.map_links],
        "info_package_name": jsonable(current.info_package_name)
        if current.info_package_name
        else None,
        "last_updated": config.updated_at if config else None,
        "updated_by": config.updated_by_name if config else None,
        "updated_items": list(config.updated_items) if config else [],
        "revision": current.version,
    }


def _content(document: Document) -> Document:
    return {name: document[name] for name in LANDING_CONFIG_FIELDS}


async def update_config(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    config: LandingConfig | None,
    actor: Actor,
    data: LandingConfigUpdate,
) -> LandingConfig:
    """Save the fields sent (creating the configuration on the first save), with a revision."""
    before = _content(config_document(config, "")) if config is not None else None
    if config is None:
        config = LandingConfig(municipality_id=municipality_id, version=1)
    for name in data.model_fields_set:
        value = getattr(data, name)
        setattr(config, name, [str(way) for way in value] if name == "contact_ways" else value)
    after = _content(config_document(config, ""))
    changes = content_revision.diff(before, after, LANDING_CONFIG_FIELDS)
    if before is not None and not changes:
        return config
    if before is not None:
        config.version += 1
    config.updated_at = utcnow()
    config.updated_by_name = actor.name
    config.updated_items = content_revision.changed_fields(changes) if before else ["landing"]
    session.add(config)
    await session.flush()
    await content_revision.record(
        session=session,
        municipality_id=municipality_id,
        subject=KIND,
        subject_id=config.id,
        number=config.version,
        actor=actor,
        action="updated" if before else "created",
        changes=changes,
        snapshot=after,
    )
    await content_version.bump_municipal(
        session=session, municipality_id=municipality_id, kind=KIND
    )
    await changes_log.singleton(
        session=session,
        municipality_id=municipality_id,
        kind="landing",
        resource_id=config.id,
        created=before is None,
        revision=config.version,
        segment="landing",
    )
    return config


# ---- pieces shared with the journey ------------------------------------------------------------


async def card_heads(session: AsyncSession, municipality_id: uuid.UUID) -> list[Any]:
    """Every published card's id, topic and title, in card order: one query."""
    return list(
        (
            await execute(
                session,
                sa_select(
                    col(ServiceCard.id),
                    col(Topic.key).label("topic"),
                    type_coerce(ServiceCard.title, JSONType).label("title"),
                )
                .join(Topic, col(Topic.id) == col(ServiceCard.topic_id))
                .where(
                    col(ServiceCard.municipality_id) == municipality_id,
                    col(ServiceCard.status) == CardStatus.published,
                )
                .order_by(col(ServiceCard.position), col(ServiceCard.id)),
            )
        ).all()
    )


def card_ref(card: Any, slug: str) -> Document:
    """A card as a tile or a stage links to it."""
    return {
        "id": card.id,
        "topic": card.topic,
        "title": card.title,
        "href": f"{API_BASE}/{slug}/service-cards/{card.id}",
    }


def cards_of(cards: Sequence[Any], topics: Sequence[str], slug: str) -> list[Document]:
    """The cards of these topics, topic by topic in the order given."""
    return [card_ref(card, slug) for topic in topics for card in cards if card.topic == topic]


def _soonest_free(municipality_id: uuid.UUID, mode: MeetingMode, dialect: str) -> Any:
    """The start of the soonest free slot of an active guide in `mode`, as a subquery."""
    return (
        sa_select(func.min(Slot.starts_at))
        .join(Guide, col(Guide.id) == col(Slot.guide_id))
        .where(
            col(Slot.id).in_(guide_service._free_slots(municipality_id)),
            guide_service.active_clause(),
            json_array_contains(Slot.modes, mode.value, dialect),
        )
        .scalar_subquery()
    )


async def next_free_slots(
    session: AsyncSession, municipality_id: uuid.UUID
) -> dict[str, datetime | None]:
    """The soonest free slot of an active guide for live and for remote meetings: one query."""
    dialect = session.get_bind().dialect.name
    row = (
        await execute(
            session,
            sa_select(
                _soonest_free(municipality_id, MeetingMode.live, dialect).label("live"),
                _soonest_free(municipality_id, MeetingMode.remote, dialect).label("remote"),
            ),
        )
    ).one()
    return {"live": _aware(row.live), "remote": _aware(row.remote)}


def _aware(value: Any) -> datetime | None:
    """A MIN() over a timestamp comes back as text on SQLite; as UTC either way."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


async def featured_guides(
    session: AsyncSession, municipality_id: uuid.UUID, slug: str, limit: int
) -> list[Document]:
    """Active guides' public profiles, those with free slots first: one query."""
    if limit <= 0:
        return []
    has_free = persona_service.guide_has_free_slots(municipality_id).label("has_free")
    rows = (
        await execute(
            session,
            sa_select(Guide, has_free)
            .where(
                col(Guide.municipality_id) == municipality_id,
                guide_service.active_clause(),
            )
            .order_by(has_free.desc(), col(Guide.display_name), col(Guide.id))
            .limit(limit),
        )
    ).all()
    labels = await guide_service.expertise_labels(session=session, municipality_id=municipality_id)
    guides = []
    for guide, free in rows:
        document = persona_service.public_guide(guide, free, labels)
        document["href"] = f"{API_BASE}/{slug}/guides/{guide.id}"
        guides.append(document)
    return guides


def contact_ways(
    kinds: Sequence[str],
    municipality: Municipality,
    next_free: dict[str, datetime | None],
) -> list[Document]:
    """The ways to get in touch, each with what a page needs to offer it."""
    base = f"{API_BASE}/{municipality.slug}"
    ways: list[Document] = []
    for value in kinds:
        kind = ContactWayKind(value)
        way: Document = {"kind": kind.value, "label": CONTACT_LABELS[kind]}
        if kind in MEETING_MODES:
            mode = MEETING_MODES[kind].value
            way |= {
                "mode": mode,
                "available": next_free.get(mode) is not None,
                "next_free_slot": next_free.get(mode),
                "href": f"{base}/slots?mode={mode}",
                "booking_href": f"{base}/bookings",
            }
        elif kind == ContactWayKind.message:
            way |= {
                "available": True,
                "href": f"{base}/messages",
                "email": municipality.contact.email,
            }
        elif kind == ContactWayKind.phone:
            phone = municipality.contact.phone
            way |= {
                "available": phone is not None,
                "href": f"tel:{phone.number}" if phone else None,
                "number": phone.number if phone else None,
                "hours": phone.hours.as_dict() if phone else None,
                "price": phone.price.as_dict() if phone else None,
            }
        else:
            way |= {
                "available": True,
                "href": f"{base}/info-package-requests",
                "topics": list(INFO_PACKAGE_TOPICS),
            }
        ways.append(way)
    return ways


def soonest_of(*moments: datetime | None) -> datetime | None:
    """When a cached body stops being true even without a write (a free slot starts)."""
    found = [moment for moment in moments if moment is not None]
    return min(found) if found else None


# ---- the landing document ------------------------------------------------------------------


async def municipality_of(session: AsyncSession, municipality_id: uuid.UUID) -> Municipality:
    """The municipality row: its name, contact channels and hashtags are on the page."""
    municipality = await session.get(Municipality, municipality_id)
    if municipality is None:
        raise NotFound("No such municipality.")
    return municipality


@dataclass(frozen=True)
class _Head:
    """A persona, topic or card as the page lists it."""

    key: str
    name: Any
    extra: Any
    position: int
    id: Any

    @property
    def topic(self) -> str:
        return self.key

    @property
    def title(self) -> Any:
        return self.name


async def _page_lists(
    session: AsyncSession, municipality_id: uuid.UUID
) -> tuple[list[_Head], list[_Head], list[_Head]]:
    """Personas, card topics and published card titles in one round trip: three small
    lists of the same shape, so one UNION ALL instead of three queries."""
    no_json = cast(null(), JSONType)
    no_id = cast(null(), Uuid())
    personas: Any = sa_select(
        literal_column("'persona'").label("kind"),
        col(Persona.key).label("key"),
        type_coerce(Persona.name, JSONType).label("name"),
        type_coerce(Persona.tagline, JSONType).label("extra"),
        col(Persona.position).label("position"),
        no_id.label("id"),
    ).where(col(Persona.municipality_id) == municipality_id)
    topics: Any = sa_select(
        literal_column("'topic'"),
        col(Topic.key),
        type_coerce(Topic.name, JSONType),
        no_json,
        col(Topic.position),
        no_id,
    ).where(col(Topic.municipality_id) == municipality_id)
    cards: Any = (
        sa_select(
            literal_column("'card'"),
            col(Topic.key),
            type_coerce(ServiceCard.title, JSONType),
            no_json,
            col(ServiceCard.position),
            col(ServiceCard.id),
        )
        .join(Topic, col(Topic.id) == col(ServiceCard.topic_id))
        .where(
            col(ServiceCard.municipality_id) == municipality_id,
            col(ServiceCard.status) == CardStatus.published,
        )
    )
    found: dict[str, list[_Head]] = {"persona": [], "topic": [], "card": []}
    for row in (await execute(session, union_all(personas, topics, cards))).all():
        found[row.kind].append(_Head(row.key, row.name, row.extra, row.position, row.id))
    for kind, heads in found.items():
        heads.sort(key=lambda head: (head.position, str(head.id) if kind == "card" else head.key))
    return found["persona"], found["topic"], found["card"]


async def landing(
    *, session: AsyncSession, municipality_id: uuid.UUID
) -> tuple[Document, datetime | None]:
    """Everything the landing page shows, and when it next goes stale on its own.

    Four queries whatever the amount of content (each costs a round trip, which is what
    a cold read pays for): the municipality with its configuration, promise and soonest
    free slots; personas, topics and card titles; the featured guides; the newest
    stories. Nothing personal: guides' public fields only."""
    dialect = session.get_bind().dialect.name
    row = (
        await execute(
            session,
            sa_select(
                Municipality,
                LandingConfig,
                ServicePromise,
                _soonest_free(municipality_id, MeetingMode.live, dialect).label("live"),
                _soonest_free(municipality_id, MeetingMode.remote, dialect).label("remote"),
            )
            .outerjoin(LandingConfig, col(LandingConfig.municipality_id) == col(Municipality.id))
            .outerjoin(ServicePromise, col(ServicePromise.municipality_id) == col(Municipality.id))
            .where(col(Municipality.id) == municipality_id),
        )
    ).one_or_none()
    if row is None:
        raise NotFound("No such municipality.")
    municipality, config, promise = row[0], row[1], row[2]
    next_free = {"live": _aware(row.live), "remote": _aware(row.remote)}
    slug = municipality.slug
    settings = config_document(config, slug)
    if not settings["show_service_promise"]:
        promise = None
    personas, topics, cards = await _page_lists(session, municipality_id)
    guides = await featured_guides(session, municipality_id, slug, settings["featured_guides"])
    stories = await story_service.newest(
        session=session,
        municipality_id=municipality_id,
        slug=slug,
        limit=settings["stories"],
        hashtags=settings["story_hashtags"],
    )
    topic_names = {topic.key: topic.name for topic in topics}
    tiles = settings["tiles"] or [
        # No tiles configured yet: one per card topic, so every municipality has a page.
        {"key": t.key, "label": t.name, "topics": [t.key], "links": []}
        for t in topics
    ]
    promise_doc = persona_service.promise_document(promise, slug) if promise else None
    document = {
        "municipality": {
            "slug": slug,
            "name": municipality.name.as_dict(),
            "web_site": municipality.contact.web_site,
            "enabled_languages": list(municipality.enabled_languages),
        },
        "introduction": settings["introduction"],
        "contact_ways": contact_ways(settings["contact_ways"], municipality, next_free),
        "tiles": [
            {
                "key": tile["key"],
                "label": tile["label"],
                "description": tile.get("description"),
                "topics": [
                    {"key": key, "name": topic_names[key]}
                    for key in tile["topics"]
                    if key in topic_names
                ],
                "cards": cards_of(cards, tile["topics"], slug),
                "links": [
                    {"url": link["url"], "label": link.get("label")} for link in tile["links"]
                ],
            }
            for tile in tiles
        ],
        "service_promise": {
            "title": promise_doc["title"],
            "text": promise_doc["text"],
            "principles": promise_doc["principles"],
        }
        if promise_doc
        else None,
        "personas": [
            {
                "key": persona.key,
                "name": persona.name,
                "tagline": persona.extra,
                "href": f"{API_BASE}/{slug}/personas/{persona.key}",
            }
            for persona in personas
        ],
        "featured_guides": guides,
        "stories": stories,
        "map_links": [
            {"label": link["label"], "url": link["url"], "description": link.get("description")}
            for link in settings["map_links"]
        ],
        "hashtags": list(municipality.hashtags),
    }
    return document, soonest_of(next_free["live"], next_free["remote"])
