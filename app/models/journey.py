"""The mover's journey (seed p. 14–17): from the first spark to settled life, and what
the municipality offers at each stage."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlmodel import Field

from app.core.db import PydanticJSON
from app.core.i18n import I18nLongText, I18nText, ResponseMeta
from app.core.validation import Slug
from app.models.base import PatchModel, Timestamped, uuid_pk
from app.models.landing import (
    CardRef,
    ContactWay,
    ContactWayKind,
    FeaturedGuide,
    Introduction,
    IntroductionOut,
    LinkOut,
)
from app.models.service_card import Link, MoveTiming


class StageKey(StrEnum):
    awareness = "awareness"
    exploring = "exploring"
    decision = "decision"
    moving = "moving"
    settled = "settled"
    living_here = "living-here"


STAGE_KEYS: tuple[str, ...] = tuple(stage.value for stage in StageKey)


class StageIn(BaseModel):
    """One stage as configured: its texts and what it points to."""

    model_config = ConfigDict(extra="forbid")

    key: StageKey
    title: I18nText
    description: I18nLongText | None = None
    topics: list[Slug] = PydanticField(default_factory=list, max_length=10)
    contact_ways: list[ContactWayKind] = PydanticField(default_factory=list, max_length=5)
    show_guides: bool = False
    checklist: list[MoveTiming] = PydanticField(
        default_factory=list,
        max_length=3,
        description="Which checklist items to show here: before, during and/or after the move",
    )
    links: list[Link] = PydanticField(default_factory=list, max_length=10)


def _every_stage_in_order(stages: list[StageIn]) -> list[StageIn]:
    if [stage.key.value for stage in stages] != list(STAGE_KEYS):
        raise ValueError(f"list the six stages once each, in order: {', '.join(STAGE_KEYS)}")
    return stages


Stages = Annotated[list[StageIn], AfterValidator(_every_stage_in_order)]


class Journey(Timestamped, table=True):
    """One municipality's journey; absent, every stage has its default title only."""

    __tablename__ = "journey"

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(
        foreign_key="municipality.id", ondelete="CASCADE", unique=True
    )
    introduction: Introduction | None = Field(default=None, sa_type=PydanticJSON(Introduction))
    stages: list[StageIn] = Field(default_factory=list, sa_type=PydanticJSON(list[StageIn]))
    updated_by_name: str | None = Field(default=None, max_length=200)
    updated_items: list[str] = Field(default_factory=list, sa_type=PydanticJSON(list[str]))


JOURNEY_FIELDS: tuple[str, ...] = ("introduction", "stages")


class JourneyUpdate(PatchModel):
    """`stages`, when sent, lists all six stages in order."""

    nullable_fields = frozenset({"introduction"})

    introduction: Introduction | None = None
    stages: Stages | None = None


# ---- output --------------------------------------------------------------------------------

LocalText = I18nText | str


class StageConfigOut(BaseModel):
    key: StageKey
    title: LocalText
    description: LocalText | None
    topics: list[str]
    contact_ways: list[ContactWayKind]
    show_guides: bool
    checklist: list[MoveTiming]
    links: list[LinkOut]


class JourneyConfigPublic(BaseModel):
    municipality: str
    introduction: IntroductionOut | None
    stages: list[StageConfigOut]
    last_updated: datetime | None
    updated_by: str | None
    updated_items: list[str]
    revision: int
    meta: ResponseMeta | None = None


class StageChecklistItem(BaseModel):
    id: uuid.UUID
    card_id: uuid.UUID
    card_title: LocalText
    name: LocalText
    description: LocalText | None
    when: MoveTiming


class StageOut(BaseModel):
    key: StageKey
    position: int
    title: LocalText
    description: LocalText | None
    cards: list[CardRef]
    contact_ways: list[ContactWay]
    guides: list[FeaturedGuide]
    checklist: list[StageChecklistItem]
    links: list[LinkOut]


class JourneyPublic(BaseModel):
    """The journey with what each stage offers, resolved from cards, guides and contacts."""

    municipality: str
    introduction: IntroductionOut | None
    stages: list[StageOut]
    meta: ResponseMeta | None = None
