"""The experiment fund ("kokeiluraha", seed p. 56–59): a yearly round with a budget,
residents' ideas, the jury's scores and decision, and the funded experiments' reports.

Money is in whole euros (integers): grants of 100–1000 EUR are never split into cents,
and integers add up exactly on every database.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic import Field as PydanticField
from sqlalchemy import Column, Date, Text, false
from sqlmodel import Field, SQLModel, UniqueConstraint

from app.core.db import PydanticJSON
from app.core.i18n import I18nLongText, I18nText, ResponseMeta
from app.core.time import UTCDateTime
from app.core.validation import Email, Hashtag, HttpUrl, PhoneNumber
from app.models.base import PatchModel, Timestamped, utc_field, uuid_pk
from app.models.booking import Consent, Language, Name

CURRENCY = "EUR"


class RoundPhase(StrEnum):
    """Where a round is, from its dates and whether the jury has decided."""

    upcoming = "upcoming"
    open = "open"
    jury = "jury"
    results = "results"
    reporting = "reporting"
    closed = "closed"


class SubmitterKind(StrEnum):
    person = "person"
    village_association = "village_association"
    association = "association"
    company = "company"


class IdeaStatus(StrEnum):
    submitted = "submitted"
    withdrawn = "withdrawn"
    funded = "funded"
    not_funded = "not_funded"


class ExperimentStatus(StrEnum):
    not_started = "not_started"
    in_progress = "in_progress"
    completed = "completed"
    cancelled = "cancelled"


Euros = Annotated[int, PydanticField(ge=1, le=10_000_000, description="Whole euros.")]


# ---- rounds: input ---------------------------------------------------------------------------


class RoundRules(BaseModel):
    """What the jury must respect; locked once ideas are open."""

    model_config = ConfigDict(extra="forbid")

    budget: Euros = PydanticField(description="The year's money for experiments, EUR.")
    grant_min: Euros = PydanticField(default=100, description="The smallest grant, EUR.")
    grant_max: Euros = PydanticField(default=1000, description="The largest grant, EUR.")
    min_funded: int = PydanticField(default=3, ge=1, le=100)
    max_funded: int = PydanticField(default=8, ge=1, le=100)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.grant_min > self.grant_max:
            raise ValueError("grant_min must not be more than grant_max")
        if self.grant_max > self.budget:
            raise ValueError("grant_max must not be more than the budget")
        if self.min_funded > self.max_funded:
            raise ValueError("min_funded must not be more than max_funded")
        if self.min_funded * self.grant_min > self.budget:
            raise ValueError("min_funded grants of grant_min would already exceed the budget")
        return self


class RoundSchedule(BaseModel):
    """The dated phases, as Europe/Helsinki calendar days (each inclusive)."""

    model_config = ConfigDict(extra="forbid")

    ideas_open_from: date
    ideas_open_until: date
    jury_from: date
    jury_until: date
    results_on: date
    reporting_until: date

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        if not 2000 <= self.ideas_open_from.year <= 2100:
            raise ValueError("the round's dates are between the years 2000 and 2100")
        if self.ideas_open_from > self.ideas_open_until:
            raise ValueError("ideas_open_from must not be after ideas_open_until")
        if self.jury_from <= self.ideas_open_until:
            raise ValueError("jury_from must be after ideas_open_until")
        if self.jury_from > self.jury_until:
            raise ValueError("jury_from must not be after jury_until")
        if self.results_on < self.jury_until:
            raise ValueError("results_on must not be before jury_until")
        if self.reporting_until < self.results_on:
            raise ValueError("reporting_until must not be before results_on")
        if (self.reporting_until - self.ideas_open_from).days > 3 * 366:
            raise ValueError("a round lasts at most three years")
        return self


class RoundCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int = PydanticField(ge=2000, le=2100, description="The budget year.")
    title: I18nText | None = PydanticField(
        default=None, description='Default: "Kokeiluraha {year}" / "Experiment fund {year}".'
    )
    call: I18nLongText | None = PydanticField(
        default=None, description='The call for ideas ("What have you always wanted to do here?").'
    )
    hashtags: list[Hashtag] = PydanticField(default_factory=list, max_length=20)
    rules: RoundRules
    schedule: RoundSchedule
    draft: bool = PydanticField(
        default=False,
        description="A draft round is seen only by the municipality's staff; nobody can "
        "send ideas to it until it is published (`draft: false`).",
    )


class RoundUpdate(PatchModel):
    """`rules` and `schedule`, when sent, replace the whole object."""

    nullable_fields = frozenset({"call"})

    title: I18nText | None = None
    call: I18nLongText | None = None
    hashtags: list[Hashtag] | None = PydanticField(default=None, max_length=20)
    rules: RoundRules | None = None
    schedule: RoundSchedule | None = None
    draft: bool | None = PydanticField(
        default=None,
        description="`false` publishes a draft round; a round with ideas stays public.",
    )


# ---- ideas: input ----------------------------------------------------------------------------


class IdeaCreate(Consent):
    """An idea its submitter commits to carry out, with the grant they apply for."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, PydanticField(min_length=3, max_length=200)]
    description: Annotated[str, PydanticField(min_length=10, max_length=5000)]
    language: Language = PydanticField(default="fi", description="The idea's content language.")
    submitter_kind: SubmitterKind
    organisation_name: Annotated[str, PydanticField(min_length=1, max_length=200)] | None = (
        PydanticField(default=None, description="Required unless submitter_kind is person.")
    )
    amount_requested: int = PydanticField(
        gt=0, le=1_000_000, description="Whole euros, within the round's grant range."
    )
    hashtag: Hashtag = PydanticField(description="The hashtag the experiment will be shown with.")
    contact_name: Name
    contact_email: Email
    contact_phone: PhoneNumber | None = None

    @model_validator(mode="after")
    def _organisation(self) -> Self:
        if self.submitter_kind != SubmitterKind.person and not self.organisation_name:
            raise ValueError("organisation_name is required for an association or a company")
        return self


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, PydanticField(min_length=1, max_length=2000)] | None = None


# ---- the jury: input -------------------------------------------------------------------------


class ScoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: int = PydanticField(ge=1, le=5, description="1 (weak) to 5 (excellent).")
    comment: Annotated[str, PydanticField(min_length=1, max_length=5000)] | None = None


Explanation = Annotated[str, PydanticField(min_length=1, max_length=5000)]


class FundedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    idea_id: uuid.UUID
    amount: int = PydanticField(description="The grant in whole euros; may differ from the ask.")
    note: Explanation | None = PydanticField(
        default=None, description="Public, e.g. why the grant differs from the request."
    )


class RejectedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    idea_id: uuid.UUID
    explanation: Explanation = PydanticField(description="Sent to the submitter; not public.")


class DecisionIn(BaseModel):
    """The jury's decision: every idea of the round is funded or rejected with a reason
    (its own, or `general_explanation` for every rejected idea without one)."""

    model_config = ConfigDict(extra="forbid")

    funded: list[FundedIn] = PydanticField(max_length=200)
    rejected: list[RejectedIn] = PydanticField(default_factory=list, max_length=500)
    general_explanation: Explanation | None = None
    minutes_reference: Annotated[str, PydanticField(min_length=1, max_length=200)] | None = None


# ---- experiments: input ----------------------------------------------------------------------


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl
    label: Annotated[str, PydanticField(min_length=1, max_length=200)] | None = None


class MediaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl
    kind: Literal["image", "video", "audio", "document"] = "image"
    caption: Annotated[str, PydanticField(min_length=1, max_length=500)] | None = PydanticField(
        default=None, description="Also the alternative text for screen readers."
    )


class EntryIn(BaseModel):
    """A dated progress entry."""

    model_config = ConfigDict(extra="forbid")

    date: date
    text: Annotated[str, PydanticField(min_length=1, max_length=10_000)]
    links: list[LinkIn] = PydanticField(default_factory=list, max_length=20)
    media: list[MediaIn] = PydanticField(default_factory=list, max_length=20)


class FinalReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    summary: Annotated[str, PydanticField(min_length=1, max_length=20_000)]
    links: list[LinkIn] = PydanticField(default_factory=list, max_length=50)
    media: list[MediaIn] = PydanticField(default_factory=list, max_length=50)


class ExperimentUpdate(PatchModel):
    """Staff change anything; the submitter (report link) the status and final report."""

    nullable_fields = frozenset({"spent", "final_report"})

    status: ExperimentStatus | None = None
    spent: int | None = PydanticField(default=None, ge=0, le=10_000_000, description="EUR.")
    final_report: FinalReport | None = None


# ---- tables ----------------------------------------------------------------------------------


class FundRound(Timestamped, table=True):
    """One municipality's experiment fund for one year; the jury's decision is on it."""

    __tablename__ = "fund_round"
    __table_args__ = (UniqueConstraint("municipality_id", "year"),)

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(
        foreign_key="municipality.id", ondelete="CASCADE", index=True
    )
    year: int
    title: I18nText = Field(sa_type=PydanticJSON(I18nText))
    call: I18nLongText | None = Field(default=None, sa_type=PydanticJSON(I18nLongText))
    hashtags: list[str] = Field(default_factory=list, sa_type=PydanticJSON(list[str]))
    budget: int
    grant_min: int
    grant_max: int
    min_funded: int
    max_funded: int
    ideas_open_from: date = Field(sa_column=Column(Date, nullable=False))
    ideas_open_until: date = Field(sa_column=Column(Date, nullable=False))
    jury_from: date = Field(sa_column=Column(Date, nullable=False))
    jury_until: date = Field(sa_column=Column(Date, nullable=False))
    results_on: date = Field(sa_column=Column(Date, nullable=False))
    reporting_until: date = Field(sa_column=Column(Date, nullable=False))
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    decided_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    decided_by_name: str | None = Field(default=None, max_length=200)
    general_explanation: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    minutes_reference: str | None = Field(default=None, max_length=200)
    updated_by_name: str | None = Field(default=None, max_length=200)
    draft: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class FundIdea(SQLModel, table=True):
    """An idea submitted without an account. The contact details are private and
    erasable; the idea itself (title, description, amount, hashtag) is public."""

    __tablename__ = "fund_idea"

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(
        foreign_key="municipality.id", ondelete="CASCADE", index=True
    )
    round_id: uuid.UUID = Field(foreign_key="fund_round.id", ondelete="CASCADE", index=True)
    status: str = Field(default=IdeaStatus.submitted, max_length=16)
    title: str = Field(max_length=200)
    description: str = Field(sa_column=Column(Text, nullable=False))
    language: str = Field(default="fi", max_length=8)
    submitter_kind: str = Field(max_length=32)
    organisation_name: str | None = Field(default=None, max_length=200)
    amount_requested: int
    hashtag: str = Field(max_length=120)
    contact_name: str | None = Field(default=None, max_length=120)
    contact_email: str | None = Field(default=None, max_length=254)
    contact_phone: str | None = Field(default=None, max_length=20)
    consent_at: datetime = Field(sa_type=UTCDateTime)
    manage_token_hash: str = Field(max_length=64, index=True)
    granted_amount: int | None = None
    decision_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    rejection_explanation: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    withdrawn_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field(index=True)
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    version: int = Field(default=1)


class FundScore(SQLModel, table=True):
    """One juror's score of one idea; changeable until the decision."""

    __tablename__ = "fund_score"
    __table_args__ = (UniqueConstraint("idea_id", "juror_id"),)

    id: uuid.UUID = uuid_pk()
    round_id: uuid.UUID = Field(foreign_key="fund_round.id", ondelete="CASCADE", index=True)
    idea_id: uuid.UUID = Field(foreign_key="fund_idea.id", ondelete="CASCADE", index=True)
    juror_id: uuid.UUID = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    juror_name: str = Field(max_length=200)
    score: int
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class FundExperiment(Timestamped, table=True):
    """A funded idea being carried out: its grant, progress and final report."""

    __tablename__ = "fund_experiment"

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(
        foreign_key="municipality.id", ondelete="CASCADE", index=True
    )
    round_id: uuid.UUID = Field(foreign_key="fund_round.id", ondelete="CASCADE", index=True)
    idea_id: uuid.UUID = Field(foreign_key="fund_idea.id", ondelete="CASCADE", unique=True)
    granted: int = Field(description="The grant in whole euros.")
    status: str = Field(default=ExperimentStatus.not_started, max_length=16)
    spent: int | None = None
    final_report: FinalReport | None = Field(default=None, sa_type=PydanticJSON(FinalReport))
    reported_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    updated_by_name: str | None = Field(default=None, max_length=200)


class FundEntry(SQLModel, table=True):
    """A dated progress entry of an experiment."""

    __tablename__ = "fund_entry"

    id: uuid.UUID = uuid_pk()
    experiment_id: uuid.UUID = Field(
        foreign_key="fund_experiment.id", ondelete="CASCADE", index=True
    )
    entry_date: date = Field(sa_column=Column(Date, nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    links: list[LinkIn] = Field(default_factory=list, sa_type=PydanticJSON(list[LinkIn]))
    media: list[MediaIn] = Field(default_factory=list, sa_type=PydanticJSON(list[MediaIn]))
    author: str | None = Field(default=None, max_length=200)
    by_submitter: bool = Field(default=False)
    created_at: datetime = utc_field()


# ---- output (documentation of the shapes the services build) ---------------------------------

LocalText = I18nText | str


class RoundTotals(BaseModel):
    ideas: int = PydanticField(description="Ideas submitted and not withdrawn.")
    requested: int
    funded: int
    granted: int
    spent: int = PydanticField(description="What the experiments have reported spending.")
    remaining: int = PydanticField(description="The budget minus what was granted.")


class RoundPublic(BaseModel):
    id: uuid.UUID
    municipality: str
    year: int
    title: LocalText
    call: LocalText | None
    hashtags: list[str]
    currency: str
    rules: RoundRules
    schedule: RoundSchedule
    timezone: str
    phase: RoundPhase
    rules_locked: bool
    decided_at: datetime | None
    totals: RoundTotals
    draft: bool = PydanticField(description="Seen only by the municipality's staff.")
    created_at: datetime
    last_updated: datetime
    updated_by: str | None
    meta: ResponseMeta | None = None


class ContactPublic(BaseModel):
    name: str | None
    email: str | None
    phone: str | None


class ScoreSummary(BaseModel):
    count: int
    average: float | None
    mine: int | None = PydanticField(description="The signed-in juror's own score.")


class IdeaPublic(BaseModel):
    """Never any personal data; staff and jurors also get `contact`, `scores` and more."""

    id: uuid.UUID
    year: int
    status: IdeaStatus
    title: str
    description: str
    language: str
    submitter_kind: SubmitterKind
    organisation_name: str | None
    amount_requested: int
    hashtag: str
    submitted_at: datetime
    granted_amount: int | None
    decision_note: str | None
    experiment_id: uuid.UUID | None
    contact: ContactPublic | None = None
    scores: ScoreSummary | None = None
    rejection_explanation: str | None = None
    erased: bool | None = None


class ScorePublic(BaseModel):
    juror: str
    score: int
    comment: str | None
    updated_at: datetime


class SuggestedIdea(BaseModel):
    idea_id: uuid.UUID
    title: str
    amount_requested: int
    amount: int
    average: float
    scores: int


class SuggestionPublic(BaseModel):
    method: str
    budget: int
    total: int
    remaining: int
    funded: list[SuggestedIdea]
    fits_rules: bool
    broken_rules: list[str]
    unscored: list[uuid.UUID]


class FundedPublic(BaseModel):
    idea_id: uuid.UUID
    title: str
    submitter_kind: SubmitterKind
    organisation_name: str | None
    amount_requested: int
    granted_amount: int
    note: str | None
    experiment_id: uuid.UUID


class RejectedPublic(BaseModel):
    idea_id: uuid.UUID
    title: str
    explanation: str | None


class DecisionPublic(BaseModel):
    year: int
    decided_at: datetime
    decided_by: str | None
    minutes_reference: str | None
    general_explanation: str | None
    currency: str
    budget: int
    total_granted: int
    funded: list[FundedPublic]
    not_funded: int
    rejected: list[RejectedPublic] | None = PydanticField(
        default=None, description="Staff and jurors only, with each explanation."
    )


class EntryPublic(BaseModel):
    id: uuid.UUID
    date: date
    text: str
    links: list[LinkIn]
    media: list[MediaIn]
    author: str | None = PydanticField(description="Staff's name, or the organisation.")
    by_submitter: bool
    created_at: datetime


class ExperimentPublic(BaseModel):
    id: uuid.UUID
    year: int
    idea_id: uuid.UUID
    title: str
    description: str
    submitter_kind: SubmitterKind
    organisation_name: str | None
    hashtag: str
    currency: str
    grant: int = PydanticField(description="Whole euros.")
    language: str
    spent: int | None
    status: ExperimentStatus
    final_report: FinalReport | None
    reported_at: datetime | None
    entries: list[EntryPublic]
    last_updated: datetime
