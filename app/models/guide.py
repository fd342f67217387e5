"""Guides (volunteers and municipal representatives) and their appointment slots."""

import re
import uuid
from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator
from pydantic import Field as PydanticField
from sqlalchemy import Index
from sqlmodel import Field, SQLModel, UniqueConstraint

from app.core.db import PydanticJSON
from app.core.i18n import I18nLongText, I18nText
from app.core.time import Day, LooseInstant, UTCDateTime
from app.core.validation import HttpUrl
from app.models.base import PatchModel, Timestamped, utc_field, uuid_pk
from app.models.service_card import ServiceLanguage


class GuideStatus(StrEnum):
    """`status` as stored is the municipality's decision; what is shown follows the term's
    dates too (see `app.services.guide.effective_status`): an active guide whose term has
    passed is `ended`, a confirmed successor whose term has not begun is `upcoming`."""

    proposed = "proposed"
    active = "active"
    ended = "ended"
    upcoming = "upcoming"


class GuideKind(StrEnum):
    volunteer = "volunteer"
    representative = "representative"


class MeetingMode(StrEnum):
    live = "live"
    remote = "remote"
    phone = "phone"


def _tag(value: str) -> str:
    tag = value.strip().lower()
    if not re.fullmatch(r"[a-zäöå0-9]+(?:-[a-zäöå0-9]+)*", tag) or len(tag) > 40:
        raise ValueError("an expertise tag is lowercase words joined by hyphens, e.g. fishing")
    return tag


ExpertiseTag = Annotated[str, AfterValidator(_tag)]


class ContactDetail(BaseModel):
    """One way to reach a guide; only `public` ones ever appear on public endpoints."""

    model_config = ConfigDict(extra="forbid")

    kind: Annotated[str, PydanticField(pattern=r"^(phone|email|web|other)$")]
    value: Annotated[str, PydanticField(min_length=1, max_length=200)]
    public: bool = False


class Guide(Timestamped, table=True):
    __tablename__ = "guide"

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(
        foreign_key="municipality.id", ondelete="CASCADE", index=True
    )
    user_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL", index=True
    )
    kind: str = Field(default=GuideKind.volunteer, max_length=16)
    display_name: str = Field(max_length=120)
    photo_url: str | None = Field(default=None, max_length=2000)
    bio: I18nLongText | None = Field(default=None, sa_type=PydanticJSON(I18nLongText))
    languages: list[str] = Field(default_factory=list, sa_type=PydanticJSON(list[str]))
    expertise: list[str] = Field(default_factory=list, sa_type=PydanticJSON(list[str]))
    modes: list[str] = Field(default_factory=list, sa_type=PydanticJSON(list[str]))
    contacts: list[ContactDetail] = Field(
        default_factory=list, sa_type=PydanticJSON(list[ContactDetail])
    )
    status: str = Field(default=GuideStatus.proposed, max_length=16, index=True)
    term_start: date | None = None
    term_end: date | None = None
    successor_id: uuid.UUID | None = Field(
        default=None, foreign_key="guide.id", ondelete="SET NULL"
    )
    # An obviously fictional guide seeded for the development demo (`settle seed`);
    # `settle purge-demo` removes it with its slots and bookings.
    demo: bool = Field(default=False)


class ExpertiseTerm(SQLModel, table=True):
    """One area of expertise a guide can have, in a municipality's own vocabulary, with
    its label in each language: guides carry the key, visitors read the label."""

    __tablename__ = "guide_expertise"
    __table_args__ = (UniqueConstraint("municipality_id", "key"),)

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(
        foreign_key="municipality.id", ondelete="CASCADE", index=True
    )
    key: str = Field(max_length=40)
    label: I18nText = Field(sa_type=PydanticJSON(I18nText))
    position: int = Field(default=0)


class Slot(SQLModel, table=True):
    """A bookable time of one host. A host's slots never overlap: PostgreSQL enforces
    it with an exclusion constraint, SQLite with a trigger (see the migration)."""

    __tablename__ = "slot"
    __table_args__ = (Index("ix_slot_municipality_id_starts_at", "municipality_id", "starts_at"),)

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(foreign_key="municipality.id", ondelete="CASCADE")
    guide_id: uuid.UUID = Field(foreign_key="guide.id", ondelete="CASCADE", index=True)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    modes: list[str] = Field(default_factory=list, sa_type=PydanticJSON(list[str]))
    place: I18nText | None = Field(default=None, sa_type=PydanticJSON(I18nText))
    rule_id: uuid.UUID | None = Field(
        default=None, foreign_key="slot_rule.id", ondelete="SET NULL", index=True
    )
    created_at: datetime = utc_field()


class SlotRule(SQLModel, table=True):
    """A weekly availability in Europe/Helsinki wall-clock time, expanded into slots."""

    __tablename__ = "slot_rule"

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(foreign_key="municipality.id", ondelete="CASCADE")
    guide_id: uuid.UUID = Field(foreign_key="guide.id", ondelete="CASCADE", index=True)
    weekday: int = Field(ge=0, le=6)
    local_start: time
    duration_minutes: int
    modes: list[str] = Field(default_factory=list, sa_type=PydanticJSON(list[str]))
    place: I18nText | None = Field(default=None, sa_type=PydanticJSON(I18nText))
    valid_from: date
    valid_until: date
    created_at: datetime = utc_field()


# ---- input ---------------------------------------------------------------------------------


class GuideCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: Annotated[str, PydanticField(min_length=1, max_length=120)]
    kind: GuideKind = GuideKind.volunteer
    photo_url: HttpUrl | None = None
    bio: I18nLongText | None = None
    languages: list[ServiceLanguage] = PydanticField(default_factory=list, max_length=20)
    expertise: list[ExpertiseTag] = PydanticField(default_factory=list, max_length=30)
    modes: list[MeetingMode] = PydanticField(default_factory=list, max_length=3)
    contacts: list[ContactDetail] = PydanticField(default_factory=list, max_length=10)
    user_email: str | None = PydanticField(
        default=None, description="The staff account (role guide) that may edit this profile"
    )
    term_start: Day | None = None
    term_end: Day | None = None
    status: GuideStatus = GuideStatus.proposed

    @model_validator(mode="after")
    def _term_order(self) -> "GuideCreate":
        if self.status == GuideStatus.upcoming:
            raise ValueError("status upcoming follows from term_start; send active")
        if self.term_start and self.term_end and self.term_end <= self.term_start:
            raise ValueError("term_end must be after term_start")
        return self


class GuideUpdate(PatchModel):
    nullable_fields = frozenset({"photo_url", "bio", "term_start", "term_end"})

    display_name: Annotated[str, PydanticField(min_length=1, max_length=120)] | None = None
    photo_url: HttpUrl | None = None
    bio: I18nLongText | None = None
    languages: list[ServiceLanguage] | None = PydanticField(default=None, max_length=20)
    expertise: list[ExpertiseTag] | None = PydanticField(default=None, max_length=30)
    modes: list[MeetingMode] | None = PydanticField(default=None, max_length=3)
    contacts: list[ContactDetail] | None = PydanticField(default=None, max_length=10)
    term_start: Day | None = None
    term_end: Day | None = None


# Fields a guide may change on their own profile (the rest are the municipality's call).
SELF_EDITABLE = frozenset(
    {"display_name", "photo_url", "bio", "languages", "expertise", "modes", "contacts"}
)


class ExpertiseTermIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: ExpertiseTag
    label: I18nText


def _unique_terms(terms: list[ExpertiseTermIn]) -> list[ExpertiseTermIn]:
    keys = [term.key for term in terms]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"each key once: {', '.join(repeated)}")
    return terms


class ExpertiseVocabularyIn(BaseModel):
    """The whole vocabulary, in the order to show it; replaces the previous one."""

    model_config = ConfigDict(extra="forbid")

    terms: Annotated[
        list[ExpertiseTermIn], AfterValidator(_unique_terms), PydanticField(max_length=200)
    ]


class SuccessorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    successor_id: uuid.UUID


class SlotCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: LooseInstant
    ends_at: LooseInstant
    modes: list[MeetingMode] = PydanticField(min_length=1, max_length=3)
    place: I18nText | None = None

    @model_validator(mode="after")
    def _valid_range(self) -> "SlotCreate":
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("times need an offset (RFC 3339), e.g. 2026-05-04T10:00:00+03:00")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if (self.ends_at - self.starts_at).total_seconds() > 8 * 3600:
            raise ValueError("a slot is at most 8 hours")
        if MeetingMode.live in self.modes and self.place is None:
            raise ValueError("a live meeting needs a place")
        return self


class SlotRuleCreate(BaseModel):
    """Every `weekday` (0 = Monday) at `local_start` Europe/Helsinki time."""

    model_config = ConfigDict(extra="forbid")

    weekday: Annotated[int, PydanticField(ge=0, le=6)]
    local_start: time
    duration_minutes: Annotated[int, PydanticField(ge=10, le=480)]
    modes: list[MeetingMode] = PydanticField(min_length=1, max_length=3)
    place: I18nText | None = None
    valid_from: Day
    valid_until: Day
    on_nonexistent_time: Annotated[str, PydanticField(pattern=r"^(skip|shift)$")] = "skip"

    @model_validator(mode="after")
    def _valid(self) -> "SlotRuleCreate":
        if self.local_start.tzinfo is not None:
            raise ValueError("local_start is a wall-clock time without offset")
        if self.valid_until < self.valid_from:
            raise ValueError("valid_until must not be before valid_from")
        if (self.valid_until - self.valid_from).days > 366:
            raise ValueError("a rule covers at most a year")
        if MeetingMode.live in self.modes and self.place is None:
            raise ValueError("a live meeting needs a place")
        return self
