"""Service cards ("palvelukortit"): topic cards listing the providers, services and
checklist items a mover needs, grouped under headings, with their full history."""

import re
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator
from pydantic import Field as PydanticField
from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel, UniqueConstraint

from app.core.db import JSONType, PydanticJSON
from app.core.i18n import I18nLongText, I18nText, ResponseMeta
from app.core.time import UTCDateTime
from app.core.validation import Email, HttpUrl, PhoneNumber, Slug
from app.models.base import PatchModel, Timestamped, utc_field, uuid_pk

# The eight mover segments of the operating model; a card names the ones it serves.
PERSONA_KEYS: tuple[str, ...] = (
    "families",
    "retirees",
    "remote-workers",
    "couples-self-employed",
    "international",
    "highly-educated",
    "growth-entrepreneurs",
    "visitors",
)


class CardStatus(StrEnum):
    draft = "draft"
    published = "published"
    archived = "archived"


class EntryKind(StrEnum):
    provider = "provider"
    service = "service"
    checklist = "checklist"


class MoveTiming(StrEnum):
    before = "before"
    during = "during"
    after = "after"


def _language_code(value: str) -> str:
    code = value.strip().lower()
    if not re.fullmatch(r"[a-z]{2,3}", code):
        raise ValueError("a service language is an ISO 639 code such as fi, en, se or ru")
    return code


def _persona(value: str) -> str:
    if value not in PERSONA_KEYS:
        raise ValueError(f"unknown persona; one of {', '.join(PERSONA_KEYS)}")
    return value


ServiceLanguage = Annotated[str, AfterValidator(_language_code)]
PersonaKey = Annotated[str, AfterValidator(_persona)]


class Link(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl
    label: I18nText | None = None


class Phone(BaseModel):
    """A number with what a call costs: the operating model insists both are shown."""

    model_config = ConfigDict(extra="forbid")

    number: PhoneNumber
    price: I18nText | None = None


class Topic(SQLModel, table=True):
    """A municipality's card topics (home, children, work, ...), extensible per municipality."""

    __tablename__ = "card_topic"
    __table_args__ = (UniqueConstraint("municipality_id", "key"),)

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(foreign_key="municipality.id", ondelete="CASCADE")
    key: str = Field(max_length=64)
    name: I18nText = Field(sa_type=PydanticJSON(I18nText))
    position: int = Field(default=0)


class ServiceCard(Timestamped, table=True):
    """One card. `version` is its revision number: every change writes a revision."""

    __tablename__ = "service_card"
    # The list's filter and order in one index: without it SQLite picked the status
    # index and scanned every municipality's published cards.
    __table_args__ = (
        Index("ix_service_card_listing", "municipality_id", "status", "position", "id"),
    )

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(
        foreign_key="municipality.id", ondelete="CASCADE", index=True
    )
    topic_id: uuid.UUID = Field(foreign_key="card_topic.id", ondelete="RESTRICT", index=True)
    title: I18nText = Field(sa_type=PydanticJSON(I18nText))
    summary: I18nLongText | None = Field(default=None, sa_type=PydanticJSON(I18nLongText))
    position: int = Field(default=0)
    status: str = Field(default=CardStatus.draft, max_length=16, index=True)
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    personas: list[str] = Field(default_factory=list, sa_type=PydanticJSON(list[str]))
    updated_by_name: str | None = Field(default=None, max_length=200)
    updated_items: list[str] = Field(default_factory=list, sa_type=PydanticJSON(list[str]))
    source_card_id: uuid.UUID | None = Field(
        default=None, foreign_key="service_card.id", ondelete="SET NULL"
    )
    source_version: int | None = Field(default=None)
    # Normalised terms (app.services.search_text) that full-text search indexes.
    search_title: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    search_body: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class CardSection(SQLModel, table=True):
    __tablename__ = "card_section"

    id: uuid.UUID = uuid_pk()
    card_id: uuid.UUID = Field(foreign_key="service_card.id", ondelete="CASCADE", index=True)
    position: int = Field(default=0)
    heading: I18nText = Field(sa_type=PydanticJSON(I18nText))


class CardEntry(SQLModel, table=True):
    """A provider, a service or a checklist item. Its id is stable across edits and
    exports (HSDS ids derive from it)."""

    __tablename__ = "card_entry"

    id: uuid.UUID = uuid_pk()
    card_id: uuid.UUID = Field(foreign_key="service_card.id", ondelete="CASCADE", index=True)
    section_id: uuid.UUID = Field(foreign_key="card_section.id", ondelete="CASCADE", index=True)
    position: int = Field(default=0)
    kind: str = Field(max_length=16)
    name: I18nText = Field(sa_type=PydanticJSON(I18nText))
    description: I18nLongText | None = Field(default=None, sa_type=PydanticJSON(I18nLongText))
    links: list[Link] = Field(default_factory=list, sa_type=PydanticJSON(list[Link]))
    phones: list[Phone] = Field(default_factory=list, sa_type=PydanticJSON(list[Phone]))
    email: str | None = Field(default=None, max_length=254)
    address: I18nText | None = Field(default=None, sa_type=PydanticJSON(I18nText))
    opening_hours: I18nText | None = Field(default=None, sa_type=PydanticJSON(I18nText))
    languages: list[str] = Field(default_factory=list, sa_type=PydanticJSON(list[str]))
    timing: str | None = Field(default=None, max_length=8)


class ServiceCardRevision(SQLModel, table=True):
    """Who changed what and when: a full snapshot plus the per-field changes."""

    __tablename__ = "service_card_revision"
    __table_args__ = (UniqueConstraint("card_id", "number"),)

    id: uuid.UUID = uuid_pk()
    card_id: uuid.UUID = Field(foreign_key="service_card.id", ondelete="CASCADE", index=True)
    number: int
    created_at: datetime = utc_field()
    actor_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    actor_name: str = Field(max_length=200)
    action: str = Field(max_length=32)
    changes: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    snapshot: dict[str, Any] = Field(sa_type=JSONType)


# ---- input -----------------------------------------------------------------------------


class EntryIn(BaseModel):
    """An entry as written; send `id` to keep an existing entry's identity."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = None
    kind: EntryKind
    name: I18nText
    description: I18nLongText | None = None
    links: list[Link] = PydanticField(default_factory=list, max_length=20)
    phones: list[Phone] = PydanticField(default_factory=list, max_length=10)
    email: Email | None = None
    address: I18nText | None = None
    opening_hours: I18nText | None = None
    languages: list[ServiceLanguage] = PydanticField(default_factory=list, max_length=30)
    when: MoveTiming | None = None

    @model_validator(mode="after")
    def _timing_only_on_checklist(self) -> "EntryIn":
        if self.when is not None and self.kind != EntryKind.checklist:
            raise ValueError("`when` is only for checklist items")
        if self.kind == EntryKind.checklist and self.when is None:
            raise ValueError("a checklist item needs `when`: before, during or after the move")
        return self


class SectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = None
    heading: I18nText
    entries: list[EntryIn] = PydanticField(default_factory=list, max_length=200)


class CardCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = None
    topic: Slug
    title: I18nText
    summary: I18nLongText | None = None
    position: int | None = PydanticField(default=None, ge=0, le=100_000)
    status: CardStatus = CardStatus.draft
    personas: list[PersonaKey] = PydanticField(default_factory=list, max_length=8)
    sections: list[SectionIn] = PydanticField(default_factory=list, max_length=50)


class CardUpdate(PatchModel):
    """A partial update. `sections`, when sent, replaces them all (send entry ids to keep them)."""

    nullable_fields = frozenset({"summary"})

    topic: Slug | None = None
    title: I18nText | None = None
    summary: I18nLongText | None = None
    position: int | None = PydanticField(default=None, ge=0, le=100_000)
    personas: list[PersonaKey] | None = PydanticField(default=None, max_length=8)
    sections: list[SectionIn] | None = PydanticField(default=None, max_length=50)


class ReorderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    card_ids: list[uuid.UUID] = PydanticField(min_length=1, max_length=1000)


class CopyIn(BaseModel):
    """Copy one card, one topic, or every published card of another municipality."""

    model_config = ConfigDict(extra="forbid")

    source_municipality: Slug
    card_id: uuid.UUID | None = None
    topic: Slug | None = None
    status: CardStatus = CardStatus.draft

    @model_validator(mode="after")
    def _one_scope(self) -> "CopyIn":
        if self.card_id is not None and self.topic is not None:
            raise ValueError("give card_id or topic (or neither, for every published card)")
        return self


class TopicIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Slug
    name: I18nText
    position: int = PydanticField(default=0, ge=0, le=10_000)


# ---- output (documentation of the shapes the read path builds) --------------------------

LocalText = I18nText | str


class LinkPublic(BaseModel):
    url: str
    label: LocalText | None = None


class PhonePublic(BaseModel):
    number: str
    price: LocalText | None = None


class EntryPublic(BaseModel):
    id: uuid.UUID
    kind: EntryKind
    name: LocalText
    description: LocalText | None = None
    links: list[LinkPublic] = []
    phones: list[PhonePublic] = []
    email: str | None = None
    address: LocalText | None = None
    opening_hours: LocalText | None = None
    languages: list[str] = []
    when: MoveTiming | None = None


class SectionPublic(BaseModel):
    id: uuid.UUID
    heading: LocalText
    entries: list[EntryPublic]


class CopiedFrom(BaseModel):
    card_id: uuid.UUID | None
    municipality: str | None
    revision: int | None
    source_changed: bool


class CardPublic(BaseModel):
    id: uuid.UUID
    municipality: str
    topic: str
    title: LocalText
    summary: LocalText | None = None
    position: int
    status: CardStatus
    personas: list[str]
    verified_at: datetime | None
    last_updated: datetime
    updated_by: str | None
    updated_items: list[str]
    revision: int
    copied_from: CopiedFrom | None = None
    sections: list[SectionPublic]
    meta: ResponseMeta | None = None


class TopicPublic(BaseModel):
    key: str
    name: LocalText
    position: int


class FieldChange(BaseModel):
    field: str
    before: Any = None
    after: Any = None


class RevisionPublic(BaseModel):
    number: int
    created_at: datetime
    updated_by: str
    action: str
    changes: list[FieldChange]


class CopyResult(BaseModel):
    copied: list[CardPublic]
