"""What movers send without an account: bookings, messages and info-package requests.

Personal data is kept to what the service needs, never shown on public endpoints, and
erasable (by the mover's manage link, by staff, or by `settle purge` after a while).
"""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel, UniqueConstraint

from app.core.db import PydanticJSON
from app.core.time import UTCDateTime
from app.core.validation import Email, HttpUrl, PhoneNumber
from app.models.base import utc_field, uuid_pk
from app.models.guide import MeetingMode
from app.models.service_card import PersonaKey

ACTIVE_STATUSES = ("pending", "confirmed")


class BookingStatus(StrEnum):
    pending = "pending"
    confirmed = "confirmed"
    declined = "declined"
    cancelled = "cancelled"


class Booking(SQLModel, table=True):
    __tablename__ = "booking"
    __table_args__ = (
        # The guarantee that a slot is booked at most once, whatever the races.
        Index(
            "uq_booking_active_slot",
            "slot_id",
            unique=True,
            postgresql_where=text("status IN ('pending', 'confirmed')"),
            sqlite_where=text("status IN ('pending', 'confirmed')"),
        ),
        UniqueConstraint("municipality_id", "idempotency_key"),
    )

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(
        foreign_key="municipality.id", ondelete="CASCADE", index=True
    )
    slot_id: uuid.UUID = Field(foreign_key="slot.id", ondelete="RESTRICT", index=True)
    guide_id: uuid.UUID = Field(foreign_key="guide.id", ondelete="CASCADE", index=True)
    status: str = Field(default=BookingStatus.pending, max_length=16)
    mode: str = Field(max_length=8)
    name: str | None = Field(default=None, max_length=120)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=20)
    language: str = Field(default="fi", max_length=8)
    persona: str | None = Field(default=None, max_length=40)
    topics: list[str] = Field(default_factory=list, sa_type=PydanticJSON(list[str]))
    message: str | None = Field(default=None, max_length=2000)
    meeting_link: str | None = Field(default=None, max_length=2000)
    consent_at: datetime = Field(sa_type=UTCDateTime)
    manage_token_hash: str = Field(max_length=64, index=True)
    idempotency_key: str | None = Field(default=None, max_length=200)
    request_fingerprint: str | None = Field(default=None, max_length=64)
    ics_sequence: int = Field(default=0)
    reminder_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field(index=True)
    last_activity_at: datetime = utc_field(index=True)
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Message(SQLModel, table=True):
    """A question sent by message ("Kysy viestillä"), answered by staff by email."""

    __tablename__ = "mover_message"

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(
        foreign_key="municipality.id", ondelete="CASCADE", index=True
    )
    name: str | None = Field(default=None, max_length=120)
    email: str | None = Field(default=None, max_length=254)
    topic: str = Field(max_length=64)
    text: str | None = Field(default=None, max_length=5000)
    language: str = Field(default="fi", max_length=8)
    consent_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default="open", max_length=16, index=True)
    reply: str | None = Field(default=None, max_length=10000)
    answered_by: str | None = Field(default=None, max_length=200)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field(index=True)
    last_activity_at: datetime = utc_field(index=True)
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = Field(default=1)


class InfoPackageRequest(SQLModel, table=True):
    """The "Minustako kemijärveläinen?" info package ordered by email."""

    __tablename__ = "info_package_request"

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(
        foreign_key="municipality.id", ondelete="CASCADE", index=True
    )
    email: str | None = Field(default=None, max_length=254)
    language: str = Field(default="fi", max_length=8)
    topics: list[str] = Field(default_factory=list, sa_type=PydanticJSON(list[str]))
    persona: str | None = Field(default=None, max_length=40)
    consent_at: datetime = Field(sa_type=UTCDateTime)
    unsubscribe_token_hash: str = Field(max_length=64, index=True)
    unsubscribed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field(index=True)
    last_activity_at: datetime = utc_field(index=True)
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# ---- input -----------------------------------------------------------------------------------

Name = Annotated[str, PydanticField(min_length=1, max_length=120)]
Language = Literal["fi", "sv", "en"]
TopicKey = Annotated[str, PydanticField(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=64)]


class Consent(BaseModel):
    """Explicit consent: the mover ticked the box that says what is done with their data."""

    consent: Literal[True] = PydanticField(
        description="Must be true: the mover agrees to the processing of their data"
    )


class BookingCreate(Consent):
    model_config = ConfigDict(extra="forbid")

    slot_id: uuid.UUID
    mode: MeetingMode
    name: Name
    email: Email
    phone: PhoneNumber | None = None
    language: Language = "fi"
    persona: PersonaKey | None = None
    topics: list[TopicKey] = PydanticField(default_factory=list, max_length=20)
    message: Annotated[str, PydanticField(max_length=2000)] | None = None


class RescheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slot_id: uuid.UUID
    mode: MeetingMode | None = None


class HostDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    meeting_link: HttpUrl | None = None
    note: Annotated[str, PydanticField(max_length=1000)] | None = None


class MessageCreate(Consent):
    model_config = ConfigDict(extra="forbid")

    name: Name
    email: Email
    topic: TopicKey
    text: Annotated[str, PydanticField(min_length=1, max_length=5000)]
    language: Language = "fi"


class MessageReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reply: Annotated[str, PydanticField(min_length=1, max_length=10_000)]


# The topics a mover can choose for the info package: the 18 of the landing-page model
# (seed p. 16), in its order. Labels are in app.services.info_package.TOPIC_LABELS.
INFO_PACKAGE_TOPICS: tuple[str, ...] = (
    "jobs",
    "premises",
    "daycare",
    "early-education",
    "school",
    "hobbies",
    "rentals",
    "plots",
    "building",
    "moving-services",
    "social-health",
    "remote-work",
    "electricity",
    "culture",
    "studies",
    "associations",
    "international-services",
    "communities",
)


def _known_topic(value: str) -> str:
    if value not in INFO_PACKAGE_TOPICS:
        raise ValueError(f"unknown topic; one of {', '.join(INFO_PACKAGE_TOPICS)}")
    return value


class InfoPackageCreate(Consent):
    model_config = ConfigDict(extra="forbid")

    email: Email
    language: Language = "fi"
    topics: list[Annotated[str, AfterValidator(_known_topic)]] = PydanticField(
        min_length=1, max_length=len(INFO_PACKAGE_TOPICS)
    )
    persona: PersonaKey | None = None
