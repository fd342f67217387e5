"""Communication plans ("viestintäsuunnitelma", seed p. 36–65): per municipality and
year, versioned, approved by the municipal board, with the model table's rows
(for whom / what / how / when / who) whose cadences make a calendar."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic import Field as PydanticField
from sqlalchemy import Column, Date, DateTime, Text
from sqlmodel import Field, SQLModel, UniqueConstraint

from app.core.db import JSONType, PydanticJSON
from app.core.i18n import I18nLongText, I18nText, ResponseMeta
from app.core.recurrence import InvalidRule, normalize_cadence
from app.core.time import HELSINKI, UTCDateTime
from app.core.validation import Hashtag, Slug
from app.models.base import PatchModel, Timestamped, utc_field, uuid_pk
from app.models.service_card import PERSONA_KEYS


class PlanStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    approved = "approved"
    returned = "returned"
    # An approved version the board later replaced by approving a newer one: only one
    # version of a year's plan is in force.
    superseded = "superseded"


class Scope(StrEnum):
    internal = "internal"
    external = "external"


class AudienceKind(StrEnum):
    stakeholder = "stakeholder"
    persona = "persona"


def _cadence(value: str) -> str:
    try:
        return normalize_cadence(value, HELSINKI)
    except InvalidRule as error:
        raise ValueError(str(error)) from error


def _local_time(value: datetime | None) -> datetime | None:
    """A start given with an offset is turned into Helsinki wall-clock time."""
    if value is None:
        return value
    if value.tzinfo is not None:
        value = value.astimezone(HELSINKI).replace(tzinfo=None)
    # Expanding a rule walks from its start: a start centuries away would be slow.
    if not 2000 <= value.year <= 2100:
        raise ValueError("a cadence starts between the years 2000 and 2100")
    return value


Cadence = Annotated[
    str,
    PydanticField(
        min_length=1,
        max_length=500,
        description="An RFC 5545 RRULE value expanded in Europe/Helsinki "
        "(`FREQ=MONTHLY;INTERVAL=6;BYMONTHDAY=15;BYHOUR=9`), or `continuous` or `ad hoc`.",
        examples=["FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1", "continuous"],
    ),
    AfterValidator(_cadence),
]
LocalStart = Annotated[
    datetime | None,
    AfterValidator(_local_time),
    PydanticField(
        description="When the cadence starts, as Helsinki wall-clock time "
        "(`2026-01-15T09:00`); default: 1 January of the plan year at 09:00."
    ),
]
MetricKey = Annotated[
    str,
    PydanticField(
        min_length=1,
        max_length=300,
        pattern=r"^[^\s]+$",
        description="An analytics metric key such as `website.sessions` (see the README).",
    ),
]


class Strategy(BaseModel):
    """The strategy questions every item of communication answers (seed p. 46)."""

    model_config = ConfigDict(extra="forbid")

    why: I18nLongText | None = None
    for_whom: I18nLongText | None = None
    what: I18nLongText | None = None
    where: I18nLongText | None = None
    when: I18nLongText | None = None
    implement: I18nLongText | None = PydanticField(default=None, description="Who does it.")
    take_part: I18nLongText | None = None
    analyse: I18nLongText | None = None
    measure: I18nLongText | None = None
    develop: I18nLongText | None = None


class StakeholderGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Slug
    name: I18nText


class Circle(BaseModel):
    """One circle of communication (municipality, enablers, partners, residents, world)."""

    model_config = ConfigDict(extra="forbid")

    key: Slug
    name: I18nText
    groups: list[StakeholderGroup] = PydanticField(default_factory=list, max_length=50)


class Audience(BaseModel):
    """Who a row speaks to: a group of the plan's circles, or a mover persona."""

    model_config = ConfigDict(extra="forbid")

    kind: AudienceKind
    key: Slug

    @field_validator("key")
    @classmethod
    def _persona_known(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("kind") == AudienceKind.persona and value not in PERSONA_KEYS:
            raise ValueError(f"unknown persona; one of {', '.join(PERSONA_KEYS)}")
        return value


# Finite: JSON's 1e400 reads as infinity, which was stored as null without a word.
Figure = Annotated[float, PydanticField(ge=-(10**12), le=10**12, allow_inf_nan=False)]


class PlanMetric(BaseModel):
    """A metric the plan is measured by, with a target per quarter or per year."""

    model_config = ConfigDict(extra="forbid")

    key: MetricKey
    name: I18nText
    unit: str | None = PydanticField(default=None, max_length=32)
    period: Literal["quarter", "year"] = "quarter"
    baseline: Figure | None = None
    target: Figure | None = None
    note: I18nLongText | None = None


class RowIn(BaseModel):
    """A row of the model table; send `id` to keep an existing row's identity."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = None
    scope: Scope
    audience: Audience
    title: I18nText = PydanticField(description="The task in a few words: a calendar's summary.")
    what: I18nLongText | None = None
    channels: list[I18nText] = PydanticField(default_factory=list, max_length=20)
    cadence: Cadence
    cadence_start: LocalStart = None
    cadence_text: I18nText | None = PydanticField(
        default=None, description='The cadence in words ("2 krt/vuosi").'
    )
    responsible: I18nText


class PlanCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int = PydanticField(ge=2000, le=2100)
    title: I18nText
    strategy: Strategy = PydanticField(default_factory=Strategy)
    hashtags: list[Hashtag] = PydanticField(default_factory=list, max_length=50)
    circles: list[Circle] = PydanticField(default_factory=list, max_length=20)
    metrics: list[PlanMetric] = PydanticField(default_factory=list, max_length=50)
    rows: list[RowIn] = PydanticField(default_factory=list, max_length=200)


class PlanUpdate(PatchModel):
    """A partial update of a draft or returned plan; `rows`, when sent, replaces them all."""

    title: I18nText | None = None
    strategy: Strategy | None = None
    hashtags: list[Hashtag] | None = PydanticField(default=None, max_length=50)
    circles: list[Circle] | None = PydanticField(default=None, max_length=20)
    metrics: list[PlanMetric] | None = PydanticField(default=None, max_length=50)
    rows: list[RowIn] | None = PydanticField(default=None, max_length=200)


Comment = Annotated[str, PydanticField(min_length=1, max_length=5000)]
MinutesReference = Annotated[
    str,
    PydanticField(
        min_length=1,
        max_length=200,
        description="Where the decision is minuted (`Khall 12.3. § 45`).",
    ),
]


class SubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: Comment | None = None


class ApproveIn(BaseModel):
    """The board's approval as recorded by the communications officer."""

    model_config = ConfigDict(extra="forbid")

    decision_date: date
    minutes_reference: MinutesReference | None = None
    comment: Comment | None = None


class ReturnIn(BaseModel):
    """The board sent the plan back: say why, so the comms group knows what to change."""

    model_config = ConfigDict(extra="forbid")

    decision_date: date
    minutes_reference: MinutesReference | None = None
    comment: Comment


class NewVersionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: Comment | None = None


# ---- tables ----------------------------------------------------------------------------


class CommsPlan(Timestamped, table=True):
    """One version of a municipality's plan for a year. `version` (from Timestamped) is
    the row's revision for ETags; `plan_version` is the plan's edition (1, 2, ...)."""

    __tablename__ = "comms_plan"
    __table_args__ = (UniqueConstraint("municipality_id", "year", "plan_version"),)

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(
        foreign_key="municipality.id", ondelete="CASCADE", index=True
    )
    year: int
    plan_version: int = Field(default=1)
    status: str = Field(default=PlanStatus.draft, max_length=16)
    title: I18nText = Field(sa_type=PydanticJSON(I18nText))
    strategy: Strategy = Field(default_factory=Strategy, sa_type=PydanticJSON(Strategy))
    hashtags: list[str] = Field(default_factory=list, sa_type=PydanticJSON(list[str]))
    circles: list[Circle] = Field(default_factory=list, sa_type=PydanticJSON(list[Circle]))
    metrics: list[PlanMetric] = Field(default_factory=list, sa_type=PydanticJSON(list[PlanMetric]))
    based_on_id: uuid.UUID | None = Field(
        default=None, foreign_key="comms_plan.id", ondelete="SET NULL"
    )
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    decision_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    minutes_reference: str | None = Field(default=None, max_length=200)
    decision_comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    updated_by_name: str | None = Field(default=None, max_length=200)


class CommsPlanRow(SQLModel, table=True):
    """One row of the model table. The cadence start is Helsinki wall-clock time."""

    __tablename__ = "comms_plan_row"

    id: uuid.UUID = uuid_pk()
    plan_id: uuid.UUID = Field(foreign_key="comms_plan.id", ondelete="CASCADE", index=True)
    position: int = Field(default=0)
    scope: str = Field(max_length=16)
    audience_kind: str = Field(max_length=16)
    audience_key: str = Field(max_length=64)
    title: I18nText = Field(sa_type=PydanticJSON(I18nText))
    what: I18nLongText | None = Field(default=None, sa_type=PydanticJSON(I18nLongText))
    channels: list[I18nText] = Field(default_factory=list, sa_type=PydanticJSON(list[I18nText]))
    cadence: str = Field(max_length=500)
    cadence_start_local: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=False), nullable=True)
    )
    cadence_text: I18nText | None = Field(default=None, sa_type=PydanticJSON(I18nText))
    responsible: I18nText = Field(sa_type=PydanticJSON(I18nText))


class CommsPlanEvent(SQLModel, table=True):
    """The plan's log: every step (created, updated, submitted, approved, returned,
    new version) with who, when, and what changed or what the board said."""

    __tablename__ = "comms_plan_event"

    id: uuid.UUID = uuid_pk()
    plan_id: uuid.UUID = Field(foreign_key="comms_plan.id", ondelete="CASCADE", index=True)
    created_at: datetime = utc_field()
    actor_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    actor_name: str = Field(max_length=200)
    action: str = Field(max_length=32)
    status_after: str = Field(max_length=16)
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    decision_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    minutes_reference: str | None = Field(default=None, max_length=200)
    changes: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)


# ---- output (documentation of the shapes the services build) ---------------------------

LocalText = I18nText | str


class AudiencePublic(BaseModel):
    kind: AudienceKind
    key: str
    name: LocalText | None = None


class RowPublic(BaseModel):
    id: uuid.UUID
    scope: Scope
    audience: AudiencePublic
    title: LocalText
    what: LocalText | None = None
    channels: list[LocalText]
    cadence: str
    cadence_start: str | None = PydanticField(description="Helsinki wall-clock time.")
    cadence_text: LocalText | None = None
    responsible: LocalText


class DecisionPublic(BaseModel):
    decision_date: date | None
    minutes_reference: str | None
    comment: str | None
    decided_at: datetime | None


class PlanPublic(BaseModel):
    id: uuid.UUID
    municipality: str
    year: int
    version: int = PydanticField(description="The plan's edition for its year: 1, 2, ...")
    revision: int = PydanticField(description="Changes with every edit; the ETag follows it.")
    status: PlanStatus
    title: LocalText
    strategy: dict[str, LocalText | None]
    hashtags: list[str]
    circles: list[dict[str, Any]]
    metrics: list[dict[str, Any]]
    rows: list[RowPublic]
    based_on: uuid.UUID | None
    submitted_at: datetime | None
    decision: DecisionPublic | None
    created_at: datetime
    last_updated: datetime
    updated_by: str | None
    meta: ResponseMeta | None = None


class PlanEventPublic(BaseModel):
    created_at: datetime
    updated_by: str
    action: str
    status: PlanStatus
    comment: str | None
    decision_date: date | None
    minutes_reference: str | None
    changes: list[dict[str, Any]]


class CalendarTask(BaseModel):
    uid: str
    row_id: uuid.UUID
    scope: Scope
    audience: AudiencePublic
    title: LocalText
    channels: list[LocalText]
    responsible: LocalText
    cadence: str
    starts_at: datetime = PydanticField(description="With the Helsinki offset of that day.")
    starts_at_utc: datetime
    local_date: date
    local_time: str


class OngoingTask(BaseModel):
    row_id: uuid.UUID
    scope: Scope
    audience: AudiencePublic
    title: LocalText
    channels: list[LocalText]
    responsible: LocalText
    cadence: str


class CalendarPublic(BaseModel):
    plan: dict[str, Any]
    timezone: str
    from_: date = PydanticField(alias="from")
    to: date
    tasks: list[CalendarTask]
    ongoing: list[OngoingTask]
    meta: ResponseMeta | None = None
