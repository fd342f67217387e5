"""GraphQL types for communication plans, their calendar, analytics snapshots and
comparisons; built from the same documents the REST routes return."""

from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry

from app.graphql.types.common import Lang, Titled
from app.graphql.types.common import doc_text as _text
from app.graphql.types.common import graphql_id as _id
from app.graphql.types.service_card import TranslationsInput

Doc = dict[str, Any]


# ---- plans ---------------------------------------------------------------------------------


@strawberry.type(description="Who a row speaks to: a group of the circles, or a persona.")
class Audience:
    kind: str
    key: str
    _name: strawberry.Private[dict[str, str] | None]

    @strawberry.field
    def name(self, lang: Lang = Lang.FI) -> str | None:
        return _text(self._name, lang)

    @classmethod
    def from_doc(cls, doc: Doc) -> "Audience":
        return cls(kind=doc["kind"], key=doc["key"], _name=doc["name"])


@strawberry.type(description="A row of the plan's model table: for whom, what, how, when, who.")
class CommsPlanRow(Titled):
    id: strawberry.ID
    scope: str
    audience: Audience
    cadence: str = strawberry.field(
        description="An RRULE expanded in Europe/Helsinki, or `continuous` / `ad hoc`."
    )
    cadence_start: str | None = strawberry.field(description="Helsinki wall-clock time.")
    _doc: strawberry.Private[Doc]

    @strawberry.field
    def what(self, lang: Lang = Lang.FI) -> str | None:
        return _text(self._doc["what"], lang)

    @strawberry.field
    def channels(self, lang: Lang = Lang.FI) -> list[str]:
        return [_text(channel, lang) or "" for channel in self._doc["channels"]]

    @strawberry.field
    def cadence_text(self, lang: Lang = Lang.FI) -> str | None:
        return _text(self._doc["cadence_text"], lang)

    @strawberry.field
    def responsible(self, lang: Lang = Lang.FI) -> str:
        return _text(self._doc["responsible"], lang) or ""

    @classmethod
    def from_doc(cls, doc: Doc) -> "CommsPlanRow":
        return cls(
            id=_id(doc["id"]),
            scope=doc["scope"],
            audience=Audience.from_doc(doc["audience"]),
            cadence=doc["cadence"],
            cadence_start=doc["cadence_start"],
            _doc=doc,
        )


@strawberry.type
class StrategyAnswer:
    question: str
    _answer: strawberry.Private[dict[str, str] | None]

    @strawberry.field
    def answer(self, lang: Lang = Lang.FI) -> str | None:
        return _text(self._answer, lang)


@strawberry.type
class StakeholderGroup:
    key: str
    _name: strawberry.Private[dict[str, str]]

    @strawberry.field
    def name(self, lang: Lang = Lang.FI) -> str:
        return _text(self._name, lang) or ""


@strawberry.type(description="A circle of communication and its stakeholder groups.")
class Circle:
    key: str
    groups: list[StakeholderGroup]
    _name: strawberry.Private[dict[str, str]]

    @strawberry.field
    def name(self, lang: Lang = Lang.FI) -> str:
        return _text(self._name, lang) or ""


@strawberry.type
class PlanMetric:
    key: str
    unit: str | None
    period: str
    baseline: float | None
    target: float | None
    _name: strawberry.Private[dict[str, str]]

    @strawberry.field
    def name(self, lang: Lang = Lang.FI) -> str:
        return _text(self._name, lang) or ""


@strawberry.type
class PlanDecision:
    decision_date: date | None
    minutes_reference: str | None
    comment: str | None
    decided_at: datetime | None


@strawberry.type(description="One version of a municipality's communication plan for a year.")
class CommsPlan(Titled):
    id: strawberry.ID
    municipality: str
    year: int
    version: int = strawberry.field(description="The plan's edition for its year.")
    revision: int = strawberry.field(description="Send it back to update (like If-Match).")
    status: str
    hashtags: list[str]
    rows: list[CommsPlanRow]
    circles: list[Circle]
    metrics: list[PlanMetric]
    strategy: list[StrategyAnswer]
    based_on: strawberry.ID | None
    submitted_at: datetime | None
    decision: PlanDecision | None
    last_updated: datetime
    updated_by: str | None
    _doc: strawberry.Private[Doc]

    @classmethod
    def from_doc(cls, doc: Doc) -> "CommsPlan":
        decision = doc["decision"]
        return cls(
            id=_id(doc["id"]),
            municipality=doc["municipality"],
            year=doc["year"],
            version=doc["version"],
            revision=doc["revision"],
            status=doc["status"],
            hashtags=doc["hashtags"],
            rows=[CommsPlanRow.from_doc(row) for row in doc["rows"]],
            circles=[
                Circle(
                    key=c["key"],
                    _name=c["name"],
                    groups=[StakeholderGroup(key=g["key"], _name=g["name"]) for g in c["groups"]],
                )
                for c in doc["circles"]
            ],
            metrics=[
                PlanMetric(
                    key=m["key"],
                    unit=m["unit"],
                    period=m["period"],
                    baseline=m["baseline"],
                    target=m["target"],
                    _name=m["name"],
                )
                for m in doc["metrics"]
            ],
            strategy=[
                StrategyAnswer(question=question, _answer=answer)
                for question, answer in doc["strategy"].items()
            ],
            based_on=_id(doc["based_on"]) if doc["based_on"] else None,
            submitted_at=doc["submitted_at"],
            decision=PlanDecision(**decision) if decision else None,
            last_updated=doc["last_updated"],
            updated_by=doc["updated_by"],
            _doc=doc,
        )


@strawberry.type
class CommsPlanConnection:
    items: list[CommsPlan]
    next_cursor: str | None
    total: int


@strawberry.type(description="A dated task a row's cadence makes.")
class CalendarTask:
    uid: str
    row_id: strawberry.ID
    scope: str
    audience: Audience
    cadence: str
    starts_at: datetime = strawberry.field(description="With the Helsinki offset of that day.")
    starts_at_utc: datetime
    local_date: date
    local_time: str
    _doc: strawberry.Private[Doc]

    @strawberry.field
    def title(self, lang: Lang = Lang.FI) -> str:
        return _text(self._doc["title"], lang) or ""

    @strawberry.field
    def channels(self, lang: Lang = Lang.FI) -> list[str]:
        return [_text(channel, lang) or "" for channel in self._doc["channels"]]

    @strawberry.field
    def responsible(self, lang: Lang = Lang.FI) -> str:
        return _text(self._doc["responsible"], lang) or ""


@strawberry.type(description="A continuous or ad hoc row: no dates, always going on.")
class OngoingTask:
    row_id: strawberry.ID
    scope: str
    audience: Audience
    cadence: str
    _doc: strawberry.Private[Doc]

    @strawberry.field
    def title(self, lang: Lang = Lang.FI) -> str:
        return _text(self._doc["title"], lang) or ""

    @strawberry.field
    def responsible(self, lang: Lang = Lang.FI) -> str:
        return _text(self._doc["responsible"], lang) or ""


@strawberry.type
class CommsCalendar:
    plan_id: strawberry.ID
    timezone: str
    first_day: date
    last_day: date
    tasks: list[CalendarTask]
    ongoing: list[OngoingTask]

    @classmethod
    def from_doc(cls, doc: Doc) -> "CommsCalendar":
        return cls(
            plan_id=_id(doc["plan"]["id"]),
            timezone=doc["timezone"],
            first_day=doc["from"],
            last_day=doc["to"],
            tasks=[
                CalendarTask(
                    uid=task["uid"],
                    row_id=_id(task["row_id"]),
                    scope=task["scope"],
                    audience=Audience.from_doc(task["audience"]),
                    cadence=task["cadence"],
                    starts_at=task["starts_at"],
                    starts_at_utc=task["starts_at_utc"],
                    local_date=task["local_date"],
                    local_time=task["local_time"],
                    _doc=task,
                )
                for task in doc["tasks"]
            ],
            ongoing=[
                OngoingTask(
                    row_id=_id(task["row_id"]),
                    scope=task["scope"],
                    audience=Audience.from_doc(task["audience"]),
                    cadence=task["cadence"],
                    _doc=task,
                )
                for task in doc["ongoing"]
            ],
        )


@strawberry.type
class PlanEvent:
    created_at: datetime
    updated_by: str
    action: str
    status: str
    comment: str | None
    decision_date: date | None
    minutes_reference: str | None


# ---- analytics -----------------------------------------------------------------------------


@strawberry.type
class MetricValue:
    key: str
    group: str
    value: float
    _label: strawberry.Private[dict[str, str]]

    @strawberry.field
    def label(self, lang: Lang = Lang.FI) -> str:
        return _text(self._label, lang) or self.key


@strawberry.type
class SocialFigure:
    platform: str
    hashtag: str
    posts: int | None
    clicks: int | None
    likes: int | None
    reposts: int | None


@strawberry.type
class WebsiteFigures:
    sessions: int | None
    page_views: int | None
    users: int | None


@strawberry.type
class ComputedFigure:
    name: str
    value: int


@strawberry.type(description="One municipality's analytics of one quarter (`2026-Q3`).")
class AnalyticsSnapshot:
    id: strawberry.ID
    municipality: str
    quarter: str
    first_day: date
    last_day: date
    movers: int | None
    website: WebsiteFigures | None
    social: list[SocialFigure]
    computed: list[ComputedFigure]
    metrics: list[MetricValue]
    revision: int
    last_updated: datetime
    updated_by: str | None
    _doc: strawberry.Private[Doc]

    @strawberry.field
    def successes(self, lang: Lang = Lang.FI) -> list[str]:
        return [_text(item, lang) or "" for item in self._doc["successes"]]

    @strawberry.field
    def to_develop(self, lang: Lang = Lang.FI) -> list[str]:
        return [_text(item, lang) or "" for item in self._doc["to_develop"]]

    @strawberry.field
    def observations(self, lang: Lang = Lang.FI) -> str | None:
        return _text(self._doc["observations"], lang)

    @strawberry.field(description="Observations on the municipality's image.")
    def image_observations(self, lang: Lang = Lang.FI) -> str | None:
        return _text(self._doc["image_observations"], lang)

    @classmethod
    def from_doc(cls, doc: Doc) -> "AnalyticsSnapshot":
        website = doc["website"]
        return cls(
            id=_id(doc["id"]),
            municipality=doc["municipality"],
            quarter=doc["quarter"],
            first_day=date.fromisoformat(doc["period"]["from"]),
            last_day=date.fromisoformat(doc["period"]["to"]),
            movers=doc["movers"],
            website=WebsiteFigures(
                sessions=website.get("sessions"),
                page_views=website.get("page_views"),
                users=website.get("users"),
            )
            if website
            else None,
            social=[
                SocialFigure(
                    platform=s["platform"],
                    hashtag=s["hashtag"],
                    posts=s.get("posts"),
                    clicks=s.get("clicks"),
                    likes=s.get("likes"),
                    reposts=s.get("reposts"),
                )
                for s in doc["social"]
            ],
            computed=[
                ComputedFigure(name=name, value=value)
                for name, value in (doc.get("computed") or {}).items()
            ],
            metrics=[
                MetricValue(key=m["key"], group=m["group"], value=m["value"], _label=m["label"])
                for m in doc.get("metrics", [])
            ],
            revision=doc["revision"],
            last_updated=doc["last_updated"],
            updated_by=doc["updated_by"],
            _doc=doc,
        )


@strawberry.type
class AnalyticsSnapshotConnection:
    items: list[AnalyticsSnapshot]
    next_cursor: str | None
    total: int


@strawberry.type(description="A metric against an earlier quarter.")
class MetricComparison:
    key: str
    group: str
    value: float | None
    previous: float | None
    change_abs: float | None
    change_pct: float | None = strawberry.field(description="Null when the previous value is 0.")
    flag: str | None = strawberry.field(description="`new`, `vanished`, or null.")
    target: float | None
    _label: strawberry.Private[dict[str, str]]

    @strawberry.field
    def label(self, lang: Lang = Lang.FI) -> str:
        return _text(self._label, lang) or self.key


@strawberry.type
class AnalyticsComparison:
    quarter: str
    compare: str
    against: str
    against_snapshot: strawberry.ID | None
    metrics: list[MetricComparison]

    @classmethod
    def from_doc(cls, doc: Doc) -> "AnalyticsComparison":
        return cls(
            quarter=doc["quarter"],
            compare=doc["compare"],
            against=doc["against"],
            against_snapshot=_id(doc["against_snapshot"]) if doc["against_snapshot"] else None,
            metrics=[
                MetricComparison(
                    key=m["key"],
                    group=m["group"],
                    value=m["value"],
                    previous=m["previous"],
                    change_abs=m["change_abs"],
                    change_pct=m["change_pct"],
                    flag=m["flag"],
                    target=m["target"],
                    _label=m["label"],
                )
                for m in doc["metrics"]
            ],
        )


@strawberry.type
class TrendPoint:
    quarter: str
    value: float | None


@strawberry.type
class AnalyticsTrend:
    metric: str
    points: list[TrendPoint]
    _label: strawberry.Private[dict[str, str]]

    @strawberry.field
    def label(self, lang: Lang = Lang.FI) -> str:
        return _text(self._label, lang) or self.metric


@strawberry.enum(description="What a quarter is compared with.")
class CompareWith(Enum):
    PREVIOUS = "previous"
    YEAR_AGO = "year_ago"


# ---- inputs --------------------------------------------------------------------------------


@strawberry.input
class StrategyInput:
    why: TranslationsInput | None = None
    for_whom: TranslationsInput | None = None
    what: TranslationsInput | None = None
    where: TranslationsInput | None = None
    when: TranslationsInput | None = None
    implement: TranslationsInput | None = None
    take_part: TranslationsInput | None = None
    analyse: TranslationsInput | None = None
    measure: TranslationsInput | None = None
    develop: TranslationsInput | None = None


@strawberry.input
class StakeholderGroupInput:
    key: str
    name: TranslationsInput


@strawberry.input
class CircleInput:
    key: str
    name: TranslationsInput
    groups: list[StakeholderGroupInput] | None = None


@strawberry.input
class PlanMetricInput:
    key: str
    name: TranslationsInput
    unit: str | None = None
    period: str | None = None
    baseline: float | None = None
    target: float | None = None
    note: TranslationsInput | None = None


@strawberry.input
class AudienceInput:
    kind: str
    key: str


@strawberry.input(description="A row; send `id` to keep an existing row (and its calendar UIDs).")
class PlanRowInput:
    scope: str
    audience: AudienceInput
    title: TranslationsInput
    cadence: str
    responsible: TranslationsInput
    id: strawberry.ID | None = None
    what: TranslationsInput | None = None
    channels: list[TranslationsInput] | None = None
    cadence_start: str | None = strawberry.field(
        default=None, description="Helsinki wall-clock time, `2026-01-15T09:00`."
    )
    cadence_text: TranslationsInput | None = None


@strawberry.input(description="A new plan; the same rules as REST's PlanCreate.")
class CommsPlanInput:
    year: int
    title: TranslationsInput
    strategy: StrategyInput | None = None
    hashtags: list[str] | None = None
    circles: list[CircleInput] | None = None
    metrics: list[PlanMetricInput] | None = None
    rows: list[PlanRowInput] | None = None


@strawberry.input(description="A partial update of a draft or returned plan.")
class CommsPlanPatch:
    title: TranslationsInput | None = strawberry.UNSET
    strategy: StrategyInput | None = strawberry.UNSET
    hashtags: list[str] | None = strawberry.UNSET
    circles: list[CircleInput] | None = strawberry.UNSET
    metrics: list[PlanMetricInput] | None = strawberry.UNSET
    rows: list[PlanRowInput] | None = strawberry.UNSET


@strawberry.input
class WebsiteFiguresInput:
    sessions: int | None = None
    page_views: int | None = None
    users: int | None = None


@strawberry.input
class SocialFigureInput:
    platform: str
    hashtag: str
    posts: int | None = None
    clicks: int | None = None
    likes: int | None = None
    reposts: int | None = None


@strawberry.input(description="A mover interview in summary: consent is required, names never.")
class InterviewInput:
    consent: bool
    segment: str | None = None
    moods: TranslationsInput | None = None
    expectations: TranslationsInput | None = None
    first_impressions: TranslationsInput | None = None


@strawberry.input
class FeedbackInput:
    source: str
    summary: TranslationsInput
    responses: int | None = None


@strawberry.input(description="A new quarter's snapshot; the same rules as REST's SnapshotCreate.")
class AnalyticsSnapshotInput:
    quarter: str
    movers: int | None = None
    website: WebsiteFiguresInput | None = None
    social: list[SocialFigureInput] | None = None
    interviews: list[InterviewInput] | None = None
    feedback: list[FeedbackInput] | None = None
    observations: TranslationsInput | None = None
    image_observations: TranslationsInput | None = None
    successes: list[TranslationsInput] | None = None
    to_develop: list[TranslationsInput] | None = None
