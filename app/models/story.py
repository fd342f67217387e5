"""Stories of work and life ("Tuhannen ja yhden työn matkatoimisto", seed p. 60–65):
social-media posts and staff-written stories, shown once moderated."""

import re
import unicodedata
import uuid
from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, StringConstraints
from pydantic import Field as PydanticField
from sqlalchemy import Column, Index, Text
from sqlmodel import Field, UniqueConstraint

from app.core.db import PydanticJSON
from app.core.i18n import ResponseMeta
from app.core.time import HELSINKI, UTCDateTime, as_utc
from app.core.validation import HttpUrl
from app.models.base import PatchModel, Timestamped, uuid_pk
from app.models.service_card import ServiceLanguage


class StoryStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


def normalize_hashtag(value: str) -> str:
    """`Kemijärvi`, `#KEMIJÄRVI` → `#kemijärvi`: lower case, composed ä/ö, one `#`."""
    tag = unicodedata.normalize("NFC", value.strip()).lstrip("#").lower()
    if not re.fullmatch(r"\w{1,100}", tag):
        raise ValueError("a hashtag is # followed by letters, digits or underscores")
    return f"#{tag}"


def source_key(url: str) -> str:
    """The form a source URL is stored and compared in, so that the same post linked
    with or without a trailing slash or fragment is recognised as a duplicate."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/") if parts.path not in ("", "/") else ""
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def _platform(value: str) -> str:
    platform = value.strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,31}", platform):
        raise ValueError("a platform is a short name such as instagram, facebook or youtube")
    return platform


def _published(value: Any) -> Any:
    """A bare date means midnight in Helsinki (spreadsheets often drop the time)."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        value = date.fromisoformat(value.strip())
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time(0), tzinfo=HELSINKI)
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("give a time with an offset, e.g. 2026-05-04T10:00:00+03:00")
    return as_utc(value)


StoryHashtag = Annotated[str, AfterValidator(normalize_hashtag)]
Platform = Annotated[str, AfterValidator(_platform)]
SourceUrl = Annotated[HttpUrl, AfterValidator(source_key)]
PublishedAt = Annotated[datetime, BeforeValidator(_published), AfterValidator(_aware)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Author = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Summary = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]
BodyText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]


class Story(Timestamped, table=True):
    """A story. Its text is in one language (`language`): a post is not translated."""

    __tablename__ = "story"
    __table_args__ = (
        UniqueConstraint("municipality_id", "source_url"),
        Index(
            "ix_story_municipality_id_status_published_at",
            "municipality_id",
            "status",
            "published_at",
        ),
    )

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(foreign_key="municipality.id", ondelete="CASCADE")
    title: str = Field(max_length=200)
    summary: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    language: str = Field(default="fi", max_length=3)
    media_url: str | None = Field(default=None, max_length=2000)
    source_url: str | None = Field(default=None, max_length=2000)
    platform: str | None = Field(default=None, max_length=32)
    hashtags: list[str] = Field(default_factory=list, sa_type=PydanticJSON(list[str]))
    author: str = Field(max_length=120)
    published_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default=StoryStatus.pending, max_length=16)
    moderated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    moderated_by_name: str | None = Field(default=None, max_length=200)
    rejection_reason: str | None = Field(default=None, max_length=1000)
    created_by_name: str | None = Field(default=None, max_length=200)
    # Seeded for the development demo (`settle seed`); `settle purge-demo` removes it.
    demo: bool = Field(default=False)


# ---- input ---------------------------------------------------------------------------------

# The columns of the CSV import, in the template's order; `title`, `author` and
# `published_at` are required, the rest may be left out or empty.
STORY_COLUMNS: tuple[str, ...] = (
    "title",
    "summary",
    "body",
    "language",
    "media_url",
    "source_url",
    "platform",
    "hashtags",
    "author",
    "published_at",
)


class StoryIn(BaseModel):
    """A story's content, as staff write it or as one row of an import."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    summary: Summary | None = None
    body: BodyText | None = None
    language: ServiceLanguage = "fi"
    media_url: HttpUrl | None = None
    source_url: SourceUrl | None = None
    platform: Platform | None = None
    hashtags: list[StoryHashtag] = PydanticField(default_factory=list, max_length=30)
    author: Author = PydanticField(description="The display name shown with the story")
    published_at: PublishedAt


class StoryCreate(StoryIn):
    status: StoryStatus = PydanticField(
        default=StoryStatus.pending,
        description="comms and admins may publish at once with `approved`",
    )


class StoryUpdate(PatchModel):
    nullable_fields = frozenset({"summary", "body", "media_url", "source_url", "platform"})

    title: Title | None = None
    summary: Summary | None = None
    body: BodyText | None = None
    language: ServiceLanguage | None = None
    media_url: HttpUrl | None = None
    source_url: SourceUrl | None = None
    platform: Platform | None = None
    hashtags: list[StoryHashtag] | None = PydanticField(default=None, max_length=30)
    author: Author | None = None
    published_at: PublishedAt | None = None


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None


# ---- output --------------------------------------------------------------------------------


class StoryPublic(BaseModel):
    id: uuid.UUID
    municipality: str
    title: str
    summary: str | None
    body: str | None
    language: str
    media_url: str | None
    source_url: str | None
    platform: str | None
    hashtags: list[str]
    author: str
    published_at: datetime
    revision: int
    # Staff only:
    status: StoryStatus | None = None
    moderated_at: datetime | None = None
    moderated_by: str | None = None
    rejection_reason: str | None = None
    created_by: str | None = None
    meta: ResponseMeta | None = None


class SkippedStory(BaseModel):
    at: str = PydanticField(description="`line 7` (CSV) or `[3]` (JSON)")
    source_url: str
    reason: str
    existing_id: uuid.UUID | None = None


class StoryImportResult(BaseModel):
    imported: int
    skipped: list[SkippedStory]
    items: list[StoryPublic]
