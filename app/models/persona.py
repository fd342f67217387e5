"""Mover segments and their personas (seed p. 29–35), and the service promise
("palvelulupaus"): the municipality's general promise; each persona carries its own."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlmodel import Field, UniqueConstraint

from app.core.db import PydanticJSON
from app.core.i18n import I18nLongText, I18nText, ResponseMeta
from app.core.validation import HttpUrl, Slug
from app.models.base import PatchModel, Timestamped, uuid_pk
from app.models.guide import ExpertiseTag
from app.models.service_card import PERSONA_KEYS, PersonaKey, ServiceLanguage

__all__ = ["PERSONA_KEYS", "Persona", "ServicePromise"]

# The persona's descriptive lists: each item a short translatable text (a bullet point).
PERSONA_LIST_FIELDS: tuple[str, ...] = (
    "pull_factors",
    "dreams",
    "expectations",
    "service_needs",
    "challenges",
)
# Everything a revision records and a diff compares, in display order.
PERSONA_FIELDS: tuple[str, ...] = (
    "name",
    "tagline",
    "who",
    *PERSONA_LIST_FIELDS,
    "service_promise",
    "topics",
    "expertise",
    "service_languages",
    "image_url",
    "position",
)


class Persona(Timestamped, table=True):
    """One segment of movers and the persona that stands for it. `key` is the segment
    (the same keys service cards list); a municipality has at most one per key."""

    __tablename__ = "persona"
    __table_args__ = (UniqueConstraint("municipality_id", "key"),)

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(
        foreign_key="municipality.id", ondelete="CASCADE", index=True
    )
    key: str = Field(max_length=64)
    position: int = Field(default=0)
    name: I18nText = Field(sa_type=PydanticJSON(I18nText))
    tagline: I18nText | None = Field(default=None, sa_type=PydanticJSON(I18nText))
    who: I18nLongText | None = Field(default=None, sa_type=PydanticJSON(I18nLongText))
    pull_factors: list[I18nText] = Field(default_factory=list, sa_type=PydanticJSON(list[I18nText]))
    dreams: list[I18nText] = Field(default_factory=list, sa_type=PydanticJSON(list[I18nText]))
    expectations: list[I18nText] = Field(default_factory=list, sa_type=PydanticJSON(list[I18nText]))
    service_needs: list[I18nText] = Field(
        default_factory=list, sa_type=PydanticJSON(list[I18nText])
    )
    challenges: list[I18nText] = Field(default_factory=list, sa_type=PydanticJSON(list[I18nText]))
    service_promise: I18nLongText | None = Field(default=None, sa_type=PydanticJSON(I18nLongText))
    # Card topics and guide expertise that serve this segment (recommendations use them),
    # and the service languages it often needs (guides speaking them rank first).
    topics: list[str] = Field(default_factory=list, sa_type=PydanticJSON(list[str]))
    expertise: list[str] = Field(default_factory=list, sa_type=PydanticJSON(list[str]))
    service_languages: list[str] = Field(default_factory=list, sa_type=PydanticJSON(list[str]))
    image_url: str | None = Field(default=None, max_length=2000)
    updated_by_name: str | None = Field(default=None, max_length=200)
    updated_items: list[str] = Field(default_factory=list, sa_type=PydanticJSON(list[str]))
    source_persona_id: uuid.UUID | None = Field(
        default=None, foreign_key="persona.id", ondelete="SET NULL"
    )
    source_version: int | None = Field(default=None)


class ServicePromise(Timestamped, table=True):
    """The municipality's general promise to movers (one per municipality)."""

    __tablename__ = "service_promise"

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(
        foreign_key="municipality.id", ondelete="CASCADE", unique=True
    )
    title: I18nText | None = Field(default=None, sa_type=PydanticJSON(I18nText))
    text: I18nLongText | None = Field(default=None, sa_type=PydanticJSON(I18nLongText))
    principles: list[I18nText] = Field(default_factory=list, sa_type=PydanticJSON(list[I18nText]))
    updated_by_name: str | None = Field(default=None, max_length=200)
    updated_items: list[str] = Field(default_factory=list, sa_type=PydanticJSON(list[str]))


# ---- input ---------------------------------------------------------------------------------

TextList = list[I18nText]


class PersonaFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tagline: I18nText | None = None
    who: I18nLongText | None = None
    pull_factors: TextList = PydanticField(default_factory=list, max_length=20)
    dreams: TextList = PydanticField(default_factory=list, max_length=20)
    expectations: TextList = PydanticField(default_factory=list, max_length=20)
    service_needs: TextList = PydanticField(default_factory=list, max_length=20)
    challenges: TextList = PydanticField(default_factory=list, max_length=20)
    service_promise: I18nLongText | None = None
    topics: list[Slug] = PydanticField(default_factory=list, max_length=20)
    expertise: list[ExpertiseTag] = PydanticField(default_factory=list, max_length=30)
    service_languages: list[ServiceLanguage] = PydanticField(default_factory=list, max_length=20)
    image_url: HttpUrl | None = None
    position: int | None = PydanticField(default=None, ge=0, le=1000)


class PersonaCreate(PersonaFields):
    """A persona for a segment the municipality has none for yet."""

    key: PersonaKey
    name: I18nText


class PersonaUpdate(PatchModel):
    """A partial update; a list sent replaces the whole list."""

    nullable_fields = frozenset({"tagline", "who", "service_promise", "image_url"})

    name: I18nText | None = None
    tagline: I18nText | None = None
    who: I18nLongText | None = None
    pull_factors: TextList | None = PydanticField(default=None, max_length=20)
    dreams: TextList | None = PydanticField(default=None, max_length=20)
    expectations: TextList | None = PydanticField(default=None, max_length=20)
    service_needs: TextList | None = PydanticField(default=None, max_length=20)
    challenges: TextList | None = PydanticField(default=None, max_length=20)
    service_promise: I18nLongText | None = None
    topics: list[Slug] | None = PydanticField(default=None, max_length=20)
    expertise: list[ExpertiseTag] | None = PydanticField(default=None, max_length=30)
    service_languages: list[ServiceLanguage] | None = PydanticField(default=None, max_length=20)
    image_url: HttpUrl | None = None
    position: int | None = PydanticField(default=None, ge=0, le=1000)


class PersonaCopyIn(BaseModel):
    """Copy personas of another municipality: all of them, or the `keys` listed."""

    model_config = ConfigDict(extra="forbid")

    source_municipality: Slug
    keys: list[PersonaKey] | None = PydanticField(default=None, min_length=1, max_length=8)
    replace: bool = PydanticField(
        default=False,
        description="Overwrite personas the municipality already has (else they are skipped)",
    )


class ServicePromiseUpdate(PatchModel):
    nullable_fields = frozenset({"title", "text"})

    title: I18nText | None = None
    text: I18nLongText | None = None
    principles: TextList | None = PydanticField(default=None, max_length=20)


# ---- output (documentation of the shapes the services build) ------------------------------

LocalText = I18nText | str


class PersonaCopiedFrom(BaseModel):
    persona_id: uuid.UUID | None
    municipality: str | None
    revision: int | None
    source_changed: bool


class PersonaPublic(BaseModel):
    id: uuid.UUID
    municipality: str
    key: str
    position: int
    name: LocalText
    tagline: LocalText | None
    who: LocalText | None
    pull_factors: list[LocalText]
    dreams: list[LocalText]
    expectations: list[LocalText]
    service_needs: list[LocalText]
    challenges: list[LocalText]
    service_promise: LocalText | None
    topics: list[str]
    expertise: list[str]
    service_languages: list[str]
    image_url: str | None
    last_updated: datetime
    updated_by: str | None
    updated_items: list[str]
    revision: int
    copied_from: PersonaCopiedFrom | None
    meta: ResponseMeta | None = None


class SkippedPersona(BaseModel):
    key: str
    reason: str


class PersonaCopyResult(BaseModel):
    copied: list[PersonaPublic]
    skipped: list[SkippedPersona]


class Reason(BaseModel):
    """Why an item was recommended: `code` and the facts behind it."""

    code: str = PydanticField(
        description="card-lists-persona, topic, expertise, language or checklist"
    )
    topic: str | None = None
    tags: list[str] | None = None
    language: str | None = None
    card_id: uuid.UUID | None = None
    when: str | None = None


class RecommendedCard(BaseModel):
    id: uuid.UUID
    topic: str
    title: LocalText
    summary: LocalText | None
    reason: Reason
    reasons: list[Reason]
    reason_text: LocalText


class RecommendedGuide(BaseModel):
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
    reason: Reason
    reasons: list[Reason]
    reason_text: LocalText


class ChecklistItem(BaseModel):
    id: uuid.UUID
    card_id: uuid.UUID
    card_title: LocalText
    name: LocalText
    description: LocalText | None
    when: str | None
    reason: Reason
    reasons: list[Reason]
    reason_text: LocalText


class PersonaRef(BaseModel):
    key: str
    name: LocalText


class RecommendationsPublic(BaseModel):
    persona: PersonaRef
    cards: list[RecommendedCard]
    guides: list[RecommendedGuide]
    checklist: list[ChecklistItem]
    meta: ResponseMeta | None = None


class ServicePromisePublic(BaseModel):
    municipality: str
    title: LocalText | None
    text: LocalText | None
    principles: list[LocalText]
    last_updated: datetime | None
    updated_by: str | None
    updated_items: list[str]
    revision: int
    meta: ResponseMeta | None = None


class RevisionChange(BaseModel):
    field: str
    before: Any = None
    after: Any = None


class ContentRevisionPublic(BaseModel):
    number: int
    created_at: datetime
    updated_by: str
    action: str
    changes: list[RevisionChange]
