"""The mover landing page (seed p. 39–42): what the municipality configures (its
introduction, tiles and their order, how many guides and stories to feature, map
links) and the shapes of the one-call landing document built from it."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator
from pydantic import Field as PydanticField
from sqlmodel import Field

from app.core.db import PydanticJSON
from app.core.i18n import I18nLongText, I18nText, ResponseMeta
from app.core.validation import Hashtag, HttpUrl, Slug
from app.models.base import PatchModel, Timestamped, uuid_pk
from app.models.service_card import Link


class ContactWayKind(StrEnum):
    """The ways to reach the municipality the landing page offers (seed p. 40)."""

    live_meeting = "live-meeting"
    remote_meeting = "remote-meeting"
    message = "message"
    phone = "phone"
    info_package = "info-package"


# "Book a live meeting, book a remote meeting, ask by message, call": the seed's four.
DEFAULT_CONTACT_WAYS: tuple[ContactWayKind, ...] = (
    ContactWayKind.live_meeting,
    ContactWayKind.remote_meeting,
    ContactWayKind.message,
    ContactWayKind.phone,
)


class Introduction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: I18nText
    text: I18nLongText | None = None


class Tile(BaseModel):
    """A service tile: a label that leads to card topics, web addresses, or both."""

    model_config = ConfigDict(extra="forbid")

    key: Slug
    label: I18nText
    description: I18nLongText | None = None
    topics: list[Slug] = PydanticField(default_factory=list, max_length=10)
    links: list[Link] = PydanticField(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def _leads_somewhere(self) -> "Tile":
        if not self.topics and not self.links:
            raise ValueError("a tile needs card topics, links or both")
        return self


class MapLink(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: I18nText
    url: HttpUrl
    description: I18nText | None = None


def _unique_keys(tiles: list[Tile]) -> list[Tile]:
    keys = [tile.key for tile in tiles]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"tile keys must be unique: {', '.join(repeated)}")
    return tiles


def _distinct_ways(ways: list[ContactWayKind]) -> list[ContactWayKind]:
    if len(set(ways)) != len(ways):
        raise ValueError("each contact way at most once")
    return ways


Tiles = Annotated[list[Tile], AfterValidator(_unique_keys), PydanticField(max_length=40)]
ContactWays = Annotated[
    list[ContactWayKind], AfterValidator(_distinct_ways), PydanticField(max_length=5)
]


class LandingConfig(Timestamped, table=True):
    """One municipality's landing-page settings; absent, the defaults apply."""

    __tablename__ = "landing_config"

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(
        foreign_key="municipality.id", ondelete="CASCADE", unique=True
    )
    introduction: Introduction | None = Field(default=None, sa_type=PydanticJSON(Introduction))
    tiles: list[Tile] = Field(default_factory=list, sa_type=PydanticJSON(list[Tile]))
    contact_ways: list[str] = Field(
        default_factory=lambda: [str(way) for way in DEFAULT_CONTACT_WAYS],
        sa_type=PydanticJSON(list[str]),
    )
    featured_guides: int = Field(default=3)
    stories: int = Field(default=3)
    # The stories hashtags (seed p. 60–65): the feed shows only approved stories carrying
    # one of them; empty, any approved story.
    story_hashtags: list[str] = Field(default_factory=list, sa_type=PydanticJSON(list[str]))
    show_service_promise: bool = Field(default=True)
    map_links: list[MapLink] = Field(default_factory=list, sa_type=PydanticJSON(list[MapLink]))
    # What the info package is called (Kemijärvi: "Minustako kemijärveläinen?"); the
    # email names it. None: a neutral name.
    info_package_name: I18nText | None = Field(default=None, sa_type=PydanticJSON(I18nText))
    updated_by_name: str | None = Field(default=None, max_length=200)
    updated_items: list[str] = Field(default_factory=list, sa_type=PydanticJSON(list[str]))


LANDING_CONFIG_FIELDS: tuple[str, ...] = (
    "introduction",
    "tiles",
    "contact_ways",
    "featured_guides",
    "stories",
    "story_hashtags",
    "show_service_promise",
    "map_links",
    "info_package_name",
)


class LandingConfigUpdate(PatchModel):
    """A partial update; `tiles` (in the order to show them) and `map_links` replace
    the whole list when sent."""

    nullable_fields = frozenset({"introduction", "info_package_name"})

    introduction: Introduction | None = None
    tiles: Tiles | None = None
    contact_ways: ContactWays | None = None
    featured_guides: int | None = PydanticField(default=None, ge=0, le=12)
    stories: int | None = PydanticField(default=None, ge=0, le=12)
    story_hashtags: list[Hashtag] | None = PydanticField(
        default=None,
        max_length=10,
        description="Show only approved stories carrying one of these hashtags "
        "(empty: any approved story)",
    )
    show_service_promise: bool | None = None
    map_links: list[MapLink] | None = PydanticField(default=None, max_length=20)
    info_package_name: I18nText | None = PydanticField(
        default=None,
        description='What the info package is called, e.g. "Minustako kemijärveläinen?"',
    )


# ---- output (documentation of the landing document) ------------------------------------------

LocalText = I18nText | str


class LinkOut(BaseModel):
    url: str
    label: LocalText | None = None


class MapLinkOut(BaseModel):
    label: LocalText
    url: str
    description: LocalText | None = None


class IntroductionOut(BaseModel):
    title: LocalText
    text: LocalText | None = None


class TileOut(BaseModel):
    key: str
    label: LocalText
    description: LocalText | None = None
    topics: list[str]
    links: list[LinkOut]


class LandingConfigPublic(BaseModel):
    municipality: str
    introduction: IntroductionOut | None
    tiles: list[TileOut]
    contact_ways: list[ContactWayKind]
    featured_guides: int
    stories: int
    story_hashtags: list[str]
    show_service_promise: bool
    map_links: list[MapLinkOut]
    info_package_name: LocalText | None = None
    last_updated: datetime | None
    updated_by: str | None
    updated_items: list[str]
    revision: int
    meta: ResponseMeta | None = None


class ContactWay(BaseModel):
    """One way to get in touch. Meetings say whether free slots exist (`available`)
    and the next one; the phone gives number, hours and price; `href` is where to act."""

    kind: ContactWayKind
    label: LocalText
    available: bool
    href: str | None = None
    mode: str | None = None
    next_free_slot: datetime | None = None
    booking_href: str | None = None
    number: str | None = None
    hours: LocalText | None = None
    price: LocalText | None = None
    email: str | None = None
    topics: list[str] | None = None


class CardRef(BaseModel):
    id: uuid.UUID
    topic: str
    title: LocalText
    href: str


class TopicRef(BaseModel):
    key: str
    name: LocalText


class LandingTile(BaseModel):
    key: str
    label: LocalText
    description: LocalText | None
    topics: list[TopicRef]
    cards: list[CardRef]
    links: list[LinkOut]


class FeaturedGuide(BaseModel):
    id: uuid.UUID
    kind: str
    display_name: str
    photo_url: str | None
    bio: LocalText | None
    languages: list[str]
    expertise: list[str]
    modes: list[str]
    contacts: list[dict[str, str]]
    has_free_slots: bool
    href: str


class StoryTeaser(BaseModel):
    id: uuid.UUID
    title: str
    summary: str | None
    language: str
    media_url: str | None
    source_url: str | None
    platform: str | None
    hashtags: list[str]
    author: str
    published_at: datetime
    href: str


class PersonaTeaser(BaseModel):
    key: str
    name: LocalText
    tagline: LocalText | None
    href: str


class PromiseOut(BaseModel):
    title: LocalText | None
    text: LocalText | None
    principles: list[LocalText]


class LandingMunicipality(BaseModel):
    slug: str
    name: LocalText
    web_site: str | None
    enabled_languages: list[str]


class GoLiveBanner(BaseModel):
    """What the municipality's own staff see above the landing page until it can go live:
    the readiness report in a sentence, and where to read it whole."""

    ready: bool
    blocking: int = PydanticField(description="How many blocking items the report lists.")
    advisory: int = PydanticField(description="How many advisory items the report lists.")
    message: str = PydanticField(description="The banner's sentence, in the served language.")
    href: str = PydanticField(description="The readiness report.")


class LandingPublic(BaseModel):
    """Everything the mover landing page shows, in one response."""

    municipality: LandingMunicipality
    introduction: IntroductionOut | None
    contact_ways: list[ContactWay]
    tiles: list[LandingTile]
    service_promise: PromiseOut | None
    personas: list[PersonaTeaser]
    featured_guides: list[FeaturedGuide]
    stories: list[StoryTeaser]
    map_links: list[MapLinkOut]
    hashtags: list[str]
    go_live: GoLiveBanner | None = PydanticField(
        default=None,
        description="Only for the municipality's staff (comms, editors, admins), who are "
        "answered uncached: the go-live banner from the readiness report.",
    )
    meta: ResponseMeta | None = None
