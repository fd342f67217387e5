"""GraphQL types for the experiment fund and the roadmap, built from the same documents
the REST routes return. Ideas have only their public fields here: no contact details."""

from datetime import date, datetime
from typing import Any

import strawberry

from app.graphql.types.common import Lang, Titled
from app.graphql.types.common import doc_text as _text
from app.graphql.types.common import graphql_id as _id
from app.graphql.types.service_card import TranslationsInput

Doc = dict[str, Any]


def _opt_id(value: Any) -> strawberry.ID | None:
    return None if value is None else _id(value)


# ---- rounds ----------------------------------------------------------------------------------


@strawberry.type(description="What the jury must respect; locked once ideas are open.")
class FundRules:
    budget: int
    grant_min: int
    grant_max: int
    min_funded: int
    max_funded: int


@strawberry.type(description="The dated phases, Europe/Helsinki calendar days (inclusive).")
class FundSchedule:
    ideas_open_from: date
    ideas_open_until: date
    jury_from: date
    jury_until: date
    results_on: date
    reporting_until: date


@strawberry.type
class FundTotals:
    ideas: int
    requested: int
    funded: int
    granted: int
    spent: int
    remaining: int


@strawberry.type(description="A year's experiment-fund round (amounts in whole euros).")
class FundRound(Titled):
    id: strawberry.ID
    municipality: str
    year: int
    hashtags: list[str]
    currency: str
    rules: FundRules
    schedule: FundSchedule
    timezone: str
    phase: str = strawberry.field(description="upcoming, open, jury, results, reporting or closed.")
    rules_locked: bool
    decided_at: datetime | None
    totals: FundTotals
    last_updated: datetime
    _doc: strawberry.Private[Doc]

    @strawberry.field
    def call(self, lang: Lang = Lang.FI) -> str | None:
        return _text(self._doc["call"], lang)

    @classmethod
    def from_doc(cls, doc: Doc) -> "FundRound":
        return cls(
            id=_id(doc["id"]),
            municipality=doc["municipality"],
            year=doc["year"],
            hashtags=doc["hashtags"],
            currency=doc["currency"],
            rules=FundRules(**doc["rules"]),
            schedule=FundSchedule(**doc["schedule"]),
            timezone=doc["timezone"],
            phase=str(doc["phase"]),
            rules_locked=doc["rules_locked"],
            decided_at=doc["decided_at"],
            totals=FundTotals(**doc["totals"]),
            last_updated=doc["last_updated"],
            _doc=doc,
        )


@strawberry.type
class FundRoundConnection:
    items: list[FundRound]
    next_cursor: str | None
    total: int


# ---- ideas and the jury ----------------------------------------------------------------------


@strawberry.type(description="An idea's public fields: never the submitter's contact details.")
class FundIdea:
    id: strawberry.ID
    year: int
    status: str
    title: str
    description: str
    language: str
    submitter_kind: str
    organisation_name: str | None
    amount_requested: int
    hashtag: str
    submitted_at: datetime
    granted_amount: int | None
    decision_note: str | None
    experiment_id: strawberry.ID | None

    @classmethod
    def from_doc(cls, doc: Doc) -> "FundIdea":
        return cls(
            id=_id(doc["id"]),
            year=doc["year"],
            status=str(doc["status"]),
            title=doc["title"],
            description=doc["description"],
            language=doc["language"],
            submitter_kind=str(doc["submitter_kind"]),
            organisation_name=doc["organisation_name"],
            amount_requested=doc["amount_requested"],
            hashtag=doc["hashtag"],
            submitted_at=doc["submitted_at"],
            granted_amount=doc["granted_amount"],
            decision_note=doc["decision_note"],
            experiment_id=_opt_id(doc["experiment_id"]),
        )


@strawberry.type
class FundIdeaConnection:
    items: list[FundIdea]
    next_cursor: str | None
    total: int


@strawberry.type(description="A submitted idea and the submitter's secret link (shown once).")
class FundSubmission:
    idea: FundIdea
    manage_url: str


@strawberry.type(description="One juror's score of an idea.")
class FundScore:
    juror: str
    score: int
    comment: str | None
    updated_at: datetime


@strawberry.type
class FundedIdea:
    idea_id: strawberry.ID
    title: str
    submitter_kind: str
    organisation_name: str | None
    amount_requested: int
    granted_amount: int
    note: str | None
    experiment_id: strawberry.ID


@strawberry.type(description="The jury's decision: the funded set and its grants.")
class FundDecision:
    year: int
    decided_at: datetime
    decided_by: str | None
    minutes_reference: str | None
    general_explanation: str | None
    currency: str
    budget: int
    total_granted: int
    funded: list[FundedIdea]
    not_funded: int

    @classmethod
    def from_doc(cls, doc: Doc) -> "FundDecision":
        return cls(
            year=doc["year"],
            decided_at=doc["decided_at"],
            decided_by=doc["decided_by"],
            minutes_reference=doc["minutes_reference"],
            general_explanation=doc["general_explanation"],
            currency=doc["currency"],
            budget=doc["budget"],
            total_granted=doc["total_granted"],
            funded=[
                FundedIdea(
                    idea_id=_id(item["idea_id"]),
                    title=item["title"],
                    submitter_kind=str(item["submitter_kind"]),
                    organisation_name=item["organisation_name"],
                    amount_requested=item["amount_requested"],
                    granted_amount=item["granted_amount"],
                    note=item["note"],
                    experiment_id=_id(item["experiment_id"]),
                )
                for item in doc["funded"]
            ],
            not_funded=doc["not_funded"],
        )


@strawberry.input
class FundIdeaInput:
    title: str
    description: str
    submitter_kind: str
    amount_requested: int
    hashtag: str
    contact_name: str
    contact_email: str
    consent: bool
    organisation_name: str | None = None
    contact_phone: str | None = None
    language: str = "fi"


@strawberry.input
class FundedInput:
    idea_id: strawberry.ID
    amount: int
    note: str | None = None


@strawberry.input
class RejectedInput:
    idea_id: strawberry.ID
    explanation: str


@strawberry.input(description="As REST's decision: funded, rejected with reasons.")
class FundDecisionInput:
    funded: list[FundedInput]
    rejected: list[RejectedInput] | None = None
    general_explanation: str | None = None
    minutes_reference: str | None = None


@strawberry.input
class FundRulesInput:
    budget: int
    grant_min: int = 100
    grant_max: int = 1000
    min_funded: int = 3
    max_funded: int = 8


@strawberry.input
class FundScheduleInput:
    ideas_open_from: date
    ideas_open_until: date
    jury_from: date
    jury_until: date
    results_on: date
    reporting_until: date


@strawberry.input
class FundRoundInput:
    year: int
    rules: FundRulesInput
    schedule: FundScheduleInput
    title: TranslationsInput | None = None
    call: TranslationsInput | None = None
    hashtags: list[str] | None = None


# ---- experiments -----------------------------------------------------------------------------


@strawberry.type
class FundLink:
    url: str
    label: str | None


@strawberry.type
class FundMedia:
    url: str
    kind: str
    caption: str | None


def _links(items: list[Doc]) -> list[FundLink]:
    return [FundLink(url=i["url"], label=i.get("label")) for i in items]


def _media(items: list[Doc]) -> list[FundMedia]:
    return [FundMedia(url=i["url"], kind=i["kind"], caption=i.get("caption")) for i in items]


@strawberry.type(description="A dated progress entry.")
class FundEntry:
    id: strawberry.ID
    date: date
    text: str
    links: list[FundLink]
    media: list[FundMedia]
    author: str | None
    by_submitter: bool


@strawberry.type
class FundReport:
    summary: str
    links: list[FundLink]
    media: list[FundMedia]


@strawberry.type(description="A funded experiment: its grant, progress and final report.")
class FundExperiment:
    id: strawberry.ID
    year: int
    idea_id: strawberry.ID
    title: str
    description: str
    submitter_kind: str
    organisation_name: str | None
    hashtag: str
    currency: str
    grant: int
    spent: int | None
    status: str
    final_report: FundReport | None
    reported_at: datetime | None
    entries: list[FundEntry]
    last_updated: datetime

    @classmethod
    def from_doc(cls, doc: Doc) -> "FundExperiment":
        report = doc["final_report"]
        return cls(
            id=_id(doc["id"]),
            year=doc["year"],
            idea_id=_id(doc["idea_id"]),
            title=doc["title"],
            description=doc["description"],
            submitter_kind=str(doc["submitter_kind"]),
            organisation_name=doc["organisation_name"],
            hashtag=doc["hashtag"],
            currency=doc["currency"],
            grant=doc["grant"],
            spent=doc["spent"],
            status=str(doc["status"]),
            final_report=FundReport(
                summary=report["summary"],
                links=_links(report["links"]),
                media=_media(report["media"]),
            )
            if report
            else None,
            reported_at=doc["reported_at"],
            entries=[
                FundEntry(
                    id=_id(e["id"]),
                    date=e["date"],
                    text=e["text"],
                    links=_links(e["links"]),
                    media=_media(e["media"]),
                    author=e["author"],
                    by_submitter=e["by_submitter"],
                )
                for e in doc["entries"]
            ],
            last_updated=doc["last_updated"],
        )


@strawberry.type
class FundExperimentConnection:
    items: list[FundExperiment]
    next_cursor: str | None
    total: int


# ---- the roadmap -----------------------------------------------------------------------------


@strawberry.type(description="When, by whom and which fields were last changed.")
class LastUpdate:
    at: datetime
    by: str | None
    fields: list[str]


@strawberry.type
class RoadmapPilot:
    key: str
    status: str
    _doc: strawberry.Private[Doc]

    @strawberry.field
    def title(self, lang: Lang = Lang.FI) -> str:
        return _text(self._doc["title"], lang) or ""

    @strawberry.field
    def description(self, lang: Lang = Lang.FI) -> str | None:
        return _text(self._doc["description"], lang)

    @strawberry.field
    def outcome(self, lang: Lang = Lang.FI) -> str | None:
        return _text(self._doc["outcome"], lang)


@strawberry.type(description="A dated phase of the roadmap with its goals and pilots.")
class RoadmapPhase(Titled):
    id: strawberry.ID
    key: str
    starts_on: date
    ends_on: date
    timing: str = strawberry.field(description="past, current or upcoming.")
    status: str
    pilots: list[RoadmapPilot]
    last_update: LastUpdate
    _doc: strawberry.Private[Doc]

    @strawberry.field
    def description(self, lang: Lang = Lang.FI) -> str | None:
        return _text(self._doc["description"], lang)

    @strawberry.field
    def goals(self, lang: Lang = Lang.FI) -> list[str]:
        return [_text(goal, lang) or "" for goal in self._doc["goals"]]

    @strawberry.field
    def outcome(self, lang: Lang = Lang.FI) -> str | None:
        return _text(self._doc["outcome"], lang)

    @classmethod
    def from_doc(cls, doc: Doc) -> "RoadmapPhase":
        return cls(
            id=_id(doc["id"]),
            key=doc["key"],
            starts_on=doc["starts_on"],
            ends_on=doc["ends_on"],
            timing=doc["timing"],
            status=str(doc["status"]),
            pilots=[
                RoadmapPilot(key=p["key"], status=str(p["status"]), _doc=p) for p in doc["pilots"]
            ],
            last_update=LastUpdate(**doc["last_update"]),
            _doc=doc,
        )


@strawberry.type(description="A year's review of the operating model.")
class RoadmapReview:
    id: strawberry.ID
    year: int
    reviewed_on: date
    last_update: LastUpdate
    _doc: strawberry.Private[Doc]

    @strawberry.field
    def reviewed_by(self, lang: Lang = Lang.FI) -> str:
        return _text(self._doc["reviewed_by"], lang) or ""

    @strawberry.field
    def how_it_worked(self, lang: Lang = Lang.FI) -> str:
        return _text(self._doc["how_it_worked"], lang) or ""

    @strawberry.field
    def results(self, lang: Lang = Lang.FI) -> str:
        return _text(self._doc["results"], lang) or ""

    @strawberry.field
    def strengths(self, lang: Lang = Lang.FI) -> str:
        return _text(self._doc["strengths"], lang) or ""

    @strawberry.field
    def to_develop(self, lang: Lang = Lang.FI) -> str:
        return _text(self._doc["to_develop"], lang) or ""

    @strawberry.field
    def changes_made(self, lang: Lang = Lang.FI) -> str | None:
        return _text(self._doc["changes_made"], lang)

    @classmethod
    def from_doc(cls, doc: Doc) -> "RoadmapReview":
        return cls(
            id=_id(doc["id"]),
            year=doc["year"],
            reviewed_on=doc["reviewed_on"],
            last_update=LastUpdate(**doc["last_update"]),
            _doc=doc,
        )
