"""Quarterly analytics snapshots (the information-handling model, seed p. 66–79):
what the communications officer compiles four times a year for the comms group's
report to the service areas and the board."""

import re
import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import Column, String
from sqlmodel import Field, UniqueConstraint

from app.core.db import PydanticJSON
from app.core.i18n import I18nLongText, I18nText, ResponseMeta
from app.core.validation import Hashtag, Slug
from app.models.base import PatchModel, Timestamped, uuid_pk
from app.models.service_card import PersonaKey

QUARTER_RE = re.compile(r"^(\d{4})-Q([1-4])$")


def _quarter(value: str) -> str:
    match = QUARTER_RE.fullmatch(value.strip().upper())
    if match is None or not 2000 <= int(match.group(1)) <= 2100:
        raise ValueError("a quarter looks like 2026-Q3 (years 2000–2100)")
    return value.strip().upper()


Quarter = Annotated[
    str, AfterValidator(_quarter), PydanticField(examples=["2026-Q3"], max_length=7)
]
MAX_COUNT = 10**12
Count = Annotated[int, PydanticField(ge=0, le=MAX_COUNT)]


def _platform(value: str) -> str:
    platform = value.strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", platform):
        raise ValueError("a platform is a short name such as facebook, instagram or x")
    return platform


Platform = Annotated[str, AfterValidator(_platform)]


class PageViews(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = PydanticField(min_length=1, max_length=2000)
    views: Count


class SearchTerm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    term: str = PydanticField(min_length=1, max_length=200)
    count: Count


class WebsiteFigures(BaseModel):
    """Website analytics for the quarter; a figure left out was not measured."""

    model_config = ConfigDict(extra="forbid")

    sessions: Count | None = None
    page_views: Count | None = None
    users: Count | None = None
    top_pages: list[PageViews] = PydanticField(default_factory=list, max_length=100)
    top_search_terms: list[SearchTerm] = PydanticField(default_factory=list, max_length=100)


class SocialFigure(BaseModel):
    """Posts under one hashtag on one platform, with what they got. A figure left out
    was not measured: it stays absent (null), never zero, so a quarter that counted only
    posts does not read as a quarter with no likes."""

    model_config = ConfigDict(extra="forbid")

    platform: Platform
    hashtag: Hashtag
    posts: Count | None = None
    clicks: Count | None = None
    likes: Count | None = None
    reposts: Count | None = None


class FeedbackSummary(BaseModel):
    """Feedback from the website form, a Webropol survey or elsewhere, summarised."""

    model_config = ConfigDict(extra="forbid")

    source: Slug = PydanticField(examples=["website-form", "webropol"])
    responses: Count | None = None
    summary: I18nLongText


def _consented(value: bool) -> bool:
    if value is not True:
        raise ValueError("only interviews the mover consented to may be recorded")
    return value


class InterviewSummary(BaseModel):
    """A mover interview, summarised without names or contact details (anything else
    is refused) and only with the mover's consent."""

    model_config = ConfigDict(extra="forbid")

    consent: Annotated[bool, AfterValidator(_consented)]
    segment: PersonaKey | None = None
    moods: I18nLongText | None = None
    expectations: I18nLongText | None = None
    first_impressions: I18nLongText | None = None


class CustomMetric(BaseModel):
    """Any other figure the comms group follows (arrivals from Visit Kemijärvi, ...)."""

    model_config = ConfigDict(extra="forbid")

    key: Slug
    name: I18nText
    # Finite: JSON's 1e400 reads as infinity, which was stored as null and then
    # failed the snapshot's every read (a 500).
    value: float = PydanticField(ge=0, le=MAX_COUNT, allow_inf_nan=False)


class ImportRecord(BaseModel):
    kind: str
    at: datetime
    by: str
    rows: int
    sections: list[str]


class SnapshotContent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    website: WebsiteFigures | None = None
    social: list[SocialFigure] = PydanticField(default_factory=list, max_length=500)
    movers: Count | None = PydanticField(default=None, description="People who moved here.")
    feedback: list[FeedbackSummary] = PydanticField(default_factory=list, max_length=50)
    interviews: list[InterviewSummary] = PydanticField(default_factory=list, max_length=200)
    custom_metrics: list[CustomMetric] = PydanticField(default_factory=list, max_length=100)
    observations: I18nLongText | None = None
    image_observations: I18nLongText | None = PydanticField(
        default=None, description="Observations on the municipality's image."
    )
    successes: list[I18nLongText] = PydanticField(default_factory=list, max_length=50)
    to_develop: list[I18nLongText] = PydanticField(default_factory=list, max_length=50)


class SnapshotCreate(SnapshotContent):
    quarter: Quarter


class SnapshotUpdate(PatchModel):
    """A partial update; a list, when sent, replaces the whole list."""

    nullable_fields = frozenset({"website", "movers", "observations", "image_observations"})

    website: WebsiteFigures | None = None
    social: list[SocialFigure] | None = PydanticField(default=None, max_length=500)
    movers: Count | None = None
    feedback: list[FeedbackSummary] | None = PydanticField(default=None, max_length=50)
    interviews: list[InterviewSummary] | None = PydanticField(default=None, max_length=200)
    custom_metrics: list[CustomMetric] | None = PydanticField(default=None, max_length=100)
    observations: I18nLongText | None = None
    image_observations: I18nLongText | None = None
    successes: list[I18nLongText] | None = PydanticField(default=None, max_length=50)
    to_develop: list[I18nLongText] | None = PydanticField(default=None, max_length=50)


class AnalyticsSnapshot(Timestamped, table=True):
    """One municipality's snapshot of one quarter."""

    __tablename__ = "analytics_snapshot"
    __table_args__ = (UniqueConstraint("municipality_id", "quarter"),)

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(
        foreign_key="municipality.id", ondelete="CASCADE", index=True
    )
    quarter: str = Field(sa_column=Column(String(7), nullable=False))
    website: WebsiteFigures | None = Field(default=None, sa_type=PydanticJSON(WebsiteFigures))
    social: list[SocialFigure] = Field(
        default_factory=list, sa_type=PydanticJSON(list[SocialFigure])
    )
    movers: int | None = Field(default=None)
    feedback: list[FeedbackSummary] = Field(
        default_factory=list, sa_type=PydanticJSON(list[FeedbackSummary])
    )
    interviews: list[InterviewSummary] = Field(
        default_factory=list, sa_type=PydanticJSON(list[InterviewSummary])
    )
    custom_metrics: list[CustomMetric] = Field(
        default_factory=list, sa_type=PydanticJSON(list[CustomMetric])
    )
    observations: I18nLongText | None = Field(default=None, sa_type=PydanticJSON(I18nLongText))
    image_observations: I18nLongText | None = Field(
        default=None, sa_type=PydanticJSON(I18nLongText)
    )
    successes: list[I18nLongText] = Field(
        default_factory=list, sa_type=PydanticJSON(list[I18nLongText])
    )
    to_develop: list[I18nLongText] = Field(
        default_factory=list, sa_type=PydanticJSON(list[I18nLongText])
    )
    imports: list[ImportRecord] = Field(
        default_factory=list, sa_type=PydanticJSON(list[ImportRecord])
    )
    updated_by_name: str | None = Field(default=None, max_length=200)


# ---- output (documentation of the shapes the services build) ---------------------------

LocalText = I18nText | str


class MetricValue(BaseModel):
    key: str
    group: str
    label: LocalText
    value: float


class SnapshotPublic(SnapshotContent):
    model_config = ConfigDict(extra="allow")

    id: uuid.UUID
    municipality: str
    quarter: str
    period: dict[str, str] = PydanticField(description="First and last day of the quarter.")
    computed: dict[str, int] = PydanticField(
        description="Figures the API knows itself (stale cards, ...), computed on read."
    )
    metrics: list[MetricValue]
    imports: list[ImportRecord]
    revision: int
    created_at: datetime
    last_updated: datetime
    updated_by: str | None
    meta: ResponseMeta | None = None


class MetricComparison(BaseModel):
    key: str
    group: str
    label: LocalText
    value: float | None
    previous: float | None
    change_abs: float | None
    change_pct: float | None = PydanticField(description="Null when the previous value is 0.")
    flag: str | None = PydanticField(description="`new`, `vanished`, or null.")
    target: float | None = None


class ComparisonPublic(BaseModel):
    quarter: str
    compare: str
    against: str
    against_snapshot: uuid.UUID | None
    metrics: list[MetricComparison]
    meta: ResponseMeta | None = None


class TrendPoint(BaseModel):
    quarter: str
    value: float | None


class TrendPublic(BaseModel):
    metric: str
    label: LocalText
    points: list[TrendPoint]
    meta: ResponseMeta | None = None


class ImportProblem(BaseModel):
    field: str
    message: str
    code: str


def jsonable(value: Any) -> Any:
    """Plain JSON data from pydantic values (for documents and snapshots)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    return value
