"""The experiment fund: yearly rounds with dated phases, ideas submitted without an
account, the jury's scores, a decision that must keep the round's rules, and the
funded experiments' progress and reports.

Phases follow the round's dates (Europe/Helsinki calendar days) and the decision:

- `upcoming` before `ideas_open_from`; `open` until `ideas_open_until` (ideas come in;
  jurors may already score them);
- `jury` from the day after ideas close until the decision (scores change, the
  decision is recorded); `jury_from`–`jury_until` is the jury's published plan;
- once decided: `results` until `results_on`, `reporting` until `reporting_until`,
  then `closed`. A round never decided is `closed` after `reporting_until`.
"""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import Settings
from app.core.db import execute
from app.core.errors import (
    Conflict,
    FieldProblem,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from app.core.i18n import I18nText
from app.core.pagination import Page, as_offset, decode_cursor, encode_cursor
from app.core.security import hash_secret_token, new_secret_token, secret_token_matches
from app.core.time import HELSINKI, utcnow
from app.models.fund import (
    CURRENCY,
    DecisionIn,
    EntryIn,
    ExperimentStatus,
    ExperimentUpdate,
    FundEntry,
    FundExperiment,
    FundIdea,
    FundRound,
    FundScore,
    IdeaCreate,
    IdeaStatus,
    RoundCreate,
    RoundPhase,
    RoundRules,
    RoundSchedule,
    RoundUpdate,
    ScoreIn,
)
from app.models.municipality import Municipality
from app.models.outbox import OutboxEmail
from app.services import changes, content_version, notify
from app.services.service_card import Actor

KIND = "fund"
TIMEZONE = "Europe/Helsinki"
Document = dict[str, Any]

RULE_FIELDS = tuple(RoundRules.model_fields)
SCHEDULE_FIELDS = tuple(RoundSchedule.model_fields)
# The order in which broken decision rules are reported: the problem's `code` is the
# first one broken; `errors` lists every one.
DECISION_RULES = (
    "unknown-idea",
    "grant-range",
    "funded-count",
    "over-budget",
    "explanation-required",
)
ACTIVE_IDEAS = (IdeaStatus.submitted, IdeaStatus.funded, IdeaStatus.not_funded)


# ---- time and phases -------------------------------------------------------------------------


def today() -> date:
    """Today in Helsinki: the round's dates are municipal calendar days."""
    return utcnow().astimezone(HELSINKI).date()


def next_midnight(day: date) -> float:
    """Epoch seconds of the Helsinki midnight after `day`, when a phase may change."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=HELSINKI).timestamp()


def phase_of(fund_round: FundRound, day: date) -> RoundPhase:
    """The round's phase on `day` (see the module docstring)."""
    if fund_round.decided_at is not None:
        if day <= fund_round.results_on:
            return RoundPhase.results
        if day <= fund_round.reporting_until:
            return RoundPhase.reporting
        return RoundPhase.closed
    if day < fund_round.ideas_open_from:
        return RoundPhase.upcoming
    if day <= fund_round.ideas_open_until:
        return RoundPhase.open
    if day <= fund_round.reporting_until:
        return RoundPhase.jury
    return RoundPhase.closed


def rules_locked(fund_round: FundRound, day: date) -> bool:
    """The rules are fixed once ideas may come in: nobody applies under changing rules.
    A draft round takes no ideas, so its rules stay open until it is published."""
    if fund_round.draft:
        return False
    return day >= fund_round.ideas_open_from or fund_round.decided_at is not None


# ---- round documents -------------------------------------------------------------------------


@dataclass
class Totals:
    ideas: int = 0
    requested: int = 0
    funded: int = 0
    granted: int = 0
    spent: int = 0


async def totals_of(
    session: AsyncSession, round_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Totals]:
    """Ideas, requested, granted and spent per round: two queries however many rounds."""
    found: dict[uuid.UUID, Totals] = defaultdict(Totals)
    if not round_ids:
        return found
    ideas = await execute(
        session,
        sa_select(
            col(FundIdea.round_id),
            func.count(),
            func.coalesce(func.sum(FundIdea.amount_requested), 0),
        )
        .where(col(FundIdea.round_id).in_(round_ids), col(FundIdea.status).in_(ACTIVE_IDEAS))
        .group_by(col(FundIdea.round_id)),
    )
    for round_id, count, requested in ideas:
        found[round_id].ideas = int(count)
        found[round_id].requested = int(requested)
    experiments = await execute(
        session,
        sa_select(
            col(FundExperiment.round_id),
            func.count(),
            func.coalesce(func.sum(FundExperiment.granted), 0),
            func.coalesce(func.sum(FundExperiment.spent), 0),
        )
        .where(col(FundExperiment.round_id).in_(round_ids))
        .group_by(col(FundExperiment.round_id)),
    )
    for round_id, count, granted, spent in experiments:
        found[round_id].funded = int(count)
        found[round_id].granted = int(granted)
        found[round_id].spent = int(spent)
    return found


def round_doc(fund_round: FundRound, municipality: str, totals: Totals, day: date) -> Document:
    """The round as everyone sees it; nothing in it is personal."""
    return {
        "id": fund_round.id,
        "municipality": municipality,
        "year": fund_round.year,
        "title": fund_round.title.as_dict(),
        "call": fund_round.call.as_dict() if fund_round.call else None,
        "hashtags": list(fund_round.hashtags),
        "currency": CURRENCY,
        "rules": {name: getattr(fund_round, name) for name in RULE_FIELDS},
        "schedule": {name: getattr(fund_round, name) for name in SCHEDULE_FIELDS},
        "timezone": TIMEZONE,
        "phase": phase_of(fund_round, day),
        "rules_locked": rules_locked(fund_round, day),
        "decided_at": fund_round.decided_at,
        "draft": fund_round.draft,
        "totals": {
            "ideas": totals.ideas,
            "requested": totals.requested,
            "funded": totals.funded,
            "granted": totals.granted,
            "spent": totals.spent,
            "remaining": fund_round.budget - totals.granted,
        },
        "created_at": fund_round.created_at,
        "last_updated": fund_round.updated_at,
        "updated_by": fund_round.updated_by_name,
    }


async def round_documents(
    session: AsyncSession, rounds: Sequence[FundRound], municipality: str, day: date
) -> list[Document]:
    totals = await totals_of(session, [r.id for r in rounds])
    return [round_doc(r, municipality, totals[r.id], day) for r in rounds]


# ---- rounds ----------------------------------------------------------------------------------


async def list_rounds(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    limit: int,
    cursor: str | None = None,
    modified_since: datetime | None = None,
    include_drafts: bool = False,
) -> Page[FundRound]:
    """Newest year first; draft rounds only for the municipality's staff."""
    conditions = [col(FundRound.municipality_id) == municipality_id]
    if not include_drafts:
        conditions.append(col(FundRound.draft).is_(False))
    if modified_since is not None:
        conditions.append(col(FundRound.updated_at) >= modified_since)
    total = (
        await execute(session, sa_select(func.count()).select_from(FundRound).where(*conditions))
    ).scalar_one()
    statement = select(FundRound).where(*conditions)
    after = decode_cursor("fund-rounds", cursor, int)
    if after is not None:
        statement = statement.where(col(FundRound.year) < after[0])
    rounds = list(
        await session.exec(statement.order_by(col(FundRound.year).desc()).limit(limit + 1))
    )
    next_cursor = None
    if len(rounds) > limit:
        rounds = rounds[:limit]
        next_cursor = encode_cursor("fund-rounds", [rounds[-1].year])
    return Page(items=rounds, next_cursor=next_cursor, total=int(total))


async def get_round(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    year: int,
    for_update: bool = False,
    include_drafts: bool = False,
) -> FundRound:
    """The year's round; a draft one is not found unless `include_drafts` (staff), so
    nobody sends ideas to, or reads, a round the municipality has not published."""
    statement = select(FundRound).where(
        col(FundRound.municipality_id) == municipality_id, col(FundRound.year) == year
    )
    if for_update:
        statement = statement.with_for_update()
    found = (await session.exec(statement)).first()
    if found is None or (found.draft and not include_drafts):
        raise NotFound(f"No experiment fund round for {year}.")
    return found


def _default_title(year: int) -> I18nText:
    return I18nText(
        fi=f"Kokeiluraha {year}", sv=f"Försökspeng {year}", en=f"Experiment fund {year}"
    )


async def create_round(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    actor: Actor,
    data: RoundCreate,
    round_id: uuid.UUID | None = None,
) -> FundRound:
    """A new round; one per municipality and year (409 `duplicate`)."""
    clash = (
        await session.exec(
            select(FundRound.id).where(
                col(FundRound.municipality_id) == municipality_id, col(FundRound.year) == data.year
            )
        )
    ).first()
    if clash is not None:
        raise Conflict(f"There is a round for {data.year} already.", code="duplicate")
    fund_round = FundRound(
        id=round_id or uuid.uuid4(),
        municipality_id=municipality_id,
        year=data.year,
        title=data.title or _default_title(data.year),
        call=data.call,
        hashtags=list(data.hashtags),
        updated_by_name=actor.name,
        draft=data.draft,
        **data.rules.model_dump(),
        **data.schedule.model_dump(),
    )
    try:
        async with session.begin_nested():
            session.add(fund_round)
            await session.flush()
    except IntegrityError as error:
        raise Conflict(f"There is a round for {data.year} already.", code="duplicate") from error
    await content_version.bump_municipal(
        session=session, municipality_id=municipality_id, kind=KIND
    )
    await _log_round(session, fund_round, created=True)
    return fund_round


ROUND_CHANGE = "fund_round"
IDEA_CHANGE = "fund_idea"
EXPERIMENT_CHANGE = "fund_experiment"


async def _log_round(
    session: AsyncSession,
    fund_round: FundRound,
    *,
    created: bool = False,
    deleted: bool = False,
    was_draft: bool | None = None,
) -> None:
    """A published round's writes are changes for the feed; a draft round is the staff's
    own until published (then `published`; back to draft, `unpublished`)."""
    before = fund_round.draft if was_draft is None else was_draft
    await changes.visibility(
        session=session,
        municipality_id=fund_round.municipality_id,
        kind=ROUND_CHANGE,
        resource_id=fund_round.id,
        was_public=None if created else not before,
        is_public=None if deleted else not fund_round.draft,
        revision=fund_round.version,
        collection="fund/rounds",
        path_id=fund_round.year,
    )


def _idea_public(idea: FundIdea) -> bool:
    return idea.status != IdeaStatus.withdrawn


async def _log_idea(
    session: AsyncSession,
    fund_round: FundRound,
    idea: FundIdea,
    *,
    was_public: bool | None,
    verb: str | None = None,
) -> None:
    """Submitted ideas are listed publicly (without personal data) until withdrawn."""
    await changes.visibility(
        session=session,
        municipality_id=idea.municipality_id,
        kind=IDEA_CHANGE,
        resource_id=idea.id,
        was_public=was_public,
        is_public=_idea_public(idea),
        revision=idea.version,
        collection=f"fund/rounds/{fund_round.year}/ideas",
        verb=verb,
    )


async def _log_experiment(
    session: AsyncSession, experiment: FundExperiment, *, created: bool = False
) -> None:
    await changes.visibility(
        session=session,
        municipality_id=experiment.municipality_id,
        kind=EXPERIMENT_CHANGE,
        resource_id=experiment.id,
        was_public=None if created else True,
        is_public=True,
        revision=experiment.version,
        collection="fund/experiments",
    )


def _locked(detail: str) -> Conflict:
    return Conflict(detail, code="round-locked")


async def update_round(
    *, session: AsyncSession, fund_round: FundRound, actor: Actor, data: RoundUpdate, day: date
) -> FundRound:
    """Change texts any time; the rules only before ideas open (409 `round-locked`); the
    dates until the decision, except the opening day once it has come. After the
    decision only `reporting_until` may still move."""
    was_draft = fund_round.draft
    changes = data.model_dump(exclude_unset=True)
    if data.rules is not None:
        changed = [n for n in RULE_FIELDS if getattr(data.rules, n) != getattr(fund_round, n)]
        if changed and rules_locked(fund_round, day):
            raise _locked(
                "The rules are locked: ideas have been open since "
                f"{fund_round.ideas_open_from.isoformat()} ({', '.join(changed)} would change)."
            )
    if data.schedule is not None:
        changed = [
            n for n in SCHEDULE_FIELDS if getattr(data.schedule, n) != getattr(fund_round, n)
        ]
        if fund_round.decided_at is not None and set(changed) - {"reporting_until"}:
            raise _locked("The round is decided: only reporting_until may still change.")
        if "ideas_open_from" in changed and day >= fund_round.ideas_open_from:
            raise _locked("Ideas are already open: the opening day cannot move.")
    if data.title is not None:
        fund_round.title = data.title
    if "call" in changes:
        fund_round.call = data.call
    if data.hashtags is not None:
        fund_round.hashtags = list(data.hashtags)
    if data.rules is not None:
        for name in RULE_FIELDS:
            setattr(fund_round, name, getattr(data.rules, name))
    if data.schedule is not None:
        for name in SCHEDULE_FIELDS:
            setattr(fund_round, name, getattr(data.schedule, name))
    if data.draft is not None and data.draft != fund_round.draft:
        if data.draft and await _has_ideas(session, fund_round):
            raise _locked("The round has ideas; it cannot go back to being a draft.")
        fund_round.draft = data.draft
    _touch_round(fund_round, actor)
    await session.flush()
    await content_version.bump_municipal(
        session=session, municipality_id=fund_round.municipality_id, kind=KIND
    )
    await _log_round(session, fund_round, was_draft=was_draft)
    return fund_round


def _touch_round(fund_round: FundRound, actor: Actor) -> None:
    fund_round.updated_at = utcnow()
    fund_round.updated_by_name = actor.name
    fund_round.version += 1


async def _has_ideas(session: AsyncSession, fund_round: FundRound) -> bool:
    found = await session.exec(select(FundIdea.id).where(col(FundIdea.round_id) == fund_round.id))
    return found.first() is not None


async def delete_round(*, session: AsyncSession, fund_round: FundRound) -> None:
    """Only a round without ideas: once someone has applied, the round is a record."""
    if await _has_ideas(session, fund_round):
        raise Conflict("The round has ideas; it stays as a record.", code="round-locked")
    municipality_id = fund_round.municipality_id
    await _log_round(session, fund_round, deleted=True)
    await session.delete(fund_round)
    await session.flush()
    await content_version.bump_municipal(
        session=session, municipality_id=municipality_id, kind=KIND
    )


# ---- ideas -----------------------------------------------------------------------------------


def _grant_range_problem(fund_round: FundRound, field: str, amount: int) -> FieldProblem | None:
    if fund_round.grant_min <= amount <= fund_round.grant_max:
        return None
    return FieldProblem(
        field,
        f"a grant is {fund_round.grant_min}–{fund_round.grant_max} EUR; {amount} EUR is outside it",
        "grant-range",
    )


async def submit_idea(
    *, session: AsyncSession, fund_round: FundRound, data: IdeaCreate, day: date
) -> tuple[FundIdea, str]:
    """Accept an idea while the round is open (422 `round-not-open` otherwise). Returns
    the idea and its secret link token (only the hash is stored)."""
    phase = phase_of(fund_round, day)
    if phase != RoundPhase.open:
        s = fund_round
        raise ValidationFailed(
            f"The {s.year} round takes ideas from {s.ideas_open_from.isoformat()} to "
            f"{s.ideas_open_until.isoformat()} (Helsinki time); it is now {phase}.",
            code="round-not-open",
            extra={
                "phase": phase,
                "ideas_open_from": s.ideas_open_from.isoformat(),
                "ideas_open_until": s.ideas_open_until.isoformat(),
            },
        )
    problem = _grant_range_problem(fund_round, "body.amount_requested", data.amount_requested)
    if problem is not None:
        raise ValidationFailed("The amount is outside the round's grant range.", errors=[problem])
    token = new_secret_token()
    idea = FundIdea(
        municipality_id=fund_round.municipality_id,
        round_id=fund_round.id,
        title=data.title,
        description=data.description,
        language=data.language,
        submitter_kind=data.submitter_kind,
        organisation_name=data.organisation_name if data.submitter_kind != "person" else None,
        amount_requested=data.amount_requested,
        hashtag=data.hashtag,
        contact_name=data.contact_name,
        contact_email=data.contact_email,
        contact_phone=data.contact_phone,
        consent_at=utcnow(),
        manage_token_hash=hash_secret_token(token),
    )
    session.add(idea)
    await session.flush()
    await content_version.bump_municipal(
        session=session, municipality_id=fund_round.municipality_id, kind=KIND
    )
    await _log_idea(session, fund_round, idea, was_public=None)
    return idea, token


@dataclass
class IdeaFilters:
    status: IdeaStatus | None = None
    submitter_kind: str | None = None
    q: str | None = None
    modified_since: datetime | None = None
    include_withdrawn: bool = False


def idea_ids(fund_round: FundRound) -> Any:
    """A select of the ids of a round's ideas."""
    return sa_select(col(FundIdea.id)).where(col(FundIdea.round_id) == fund_round.id)


async def list_ideas(
    *,
    session: AsyncSession,
    fund_round: FundRound,
    filters: IdeaFilters,
    limit: int,
    cursor: str | None = None,
) -> Page[FundIdea]:
    """In the order they arrived. A round holds tens of ideas, so filtering and free-text
    search run in Python, where `ä` and `Ä` compare as Finnish readers expect."""
    statement = select(FundIdea).where(col(FundIdea.round_id) == fund_round.id)
    if not filters.include_withdrawn:
        statement = statement.where(col(FundIdea.status) != IdeaStatus.withdrawn)
    if filters.status is not None:
        statement = statement.where(col(FundIdea.status) == filters.status)
    if filters.submitter_kind is not None:
        statement = statement.where(col(FundIdea.submitter_kind) == filters.submitter_kind)
    if filters.modified_since is not None:
        statement = statement.where(col(FundIdea.updated_at) >= filters.modified_since)
    ideas = list(await session.exec(statement.order_by(col(FundIdea.created_at), col(FundIdea.id))))
    if filters.q:
        words = filters.q.casefold().split()
        ideas = [
            idea
            for idea in ideas
            if all(
                word
                in f"{idea.title} {idea.description} {idea.hashtag} "
                f"{idea.organisation_name or ''}".casefold()
                for word in words
            )
        ]
    after = decode_cursor("fund-ideas", cursor, as_offset)
    offset = after[0] if after else 0
    window = ideas[offset : offset + limit]
    next_cursor = (
        encode_cursor("fund-ideas", [offset + limit]) if offset + limit < len(ideas) else None
    )
    return Page(items=window, next_cursor=next_cursor, total=len(ideas))


async def get_idea(
    *, session: AsyncSession, fund_round: FundRound, idea_id: uuid.UUID, for_update: bool = False
) -> FundIdea:
    statement = select(FundIdea).where(
        col(FundIdea.id) == idea_id, col(FundIdea.round_id) == fund_round.id
    )
    if for_update:
        statement = statement.with_for_update()
    idea = (await session.exec(statement)).first()
    if idea is None:
        raise NotFound("No such idea in this round.")
    return idea


def token_matches(idea: FundIdea, token: str) -> bool:
    return idea.erased_at is None and secret_token_matches(token, idea.manage_token_hash)


async def idea_by_token(
    *, session: AsyncSession, fund_round: FundRound, idea_id: uuid.UUID, token: str
) -> FundIdea:
    """The idea behind a submitter's link; a wrong or erased link is a plain 404."""
    try:
        idea = await get_idea(session=session, fund_round=fund_round, idea_id=idea_id)
    except NotFound:
        idea = None
    if idea is None or not token_matches(idea, token):
        raise NotFound("No such idea, or the link is no longer valid.")
    return idea


async def experiment_ids(
    session: AsyncSession, idea_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """idea id → experiment id for the funded ones."""
    if not idea_ids:
        return {}
    rows = await execute(
        session,
        sa_select(col(FundExperiment.idea_id), col(FundExperiment.id)).where(
            col(FundExperiment.idea_id).in_(idea_ids)
        ),
    )
    return dict(rows.all())


def idea_doc(idea: FundIdea, year: int, experiment_id: uuid.UUID | None) -> Document:
    """The idea as anyone sees it: never a name, an email address or a phone number."""
    return {
        "id": idea.id,
        "year": year,
        "status": idea.status,
        "title": idea.title,
        "description": idea.description,
        "language": idea.language,
        "submitter_kind": idea.submitter_kind,
        "organisation_name": idea.organisation_name,
        "amount_requested": idea.amount_requested,
        "hashtag": idea.hashtag,
        "submitted_at": idea.created_at,
        "granted_amount": idea.granted_amount,
        "decision_note": idea.decision_note,
        "experiment_id": experiment_id,
    }


def private_idea_doc(
    idea: FundIdea, year: int, experiment_id: uuid.UUID | None, scores: Document | None
) -> Document:
    """For the jury, the municipality's admins and the submitter's own link."""
    return idea_doc(idea, year, experiment_id) | {
        "contact": {
            "name": idea.contact_name,
            "email": idea.contact_email,
            "phone": idea.contact_phone,
        },
        "scores": scores,
        "rejection_explanation": idea.rejection_explanation,
        "withdrawn_reason": idea.withdrawn_reason,
        "erased": idea.erased_at is not None,
    }


def _touch_idea(idea: FundIdea) -> None:
    idea.updated_at = utcnow()
    idea.version += 1


async def withdraw_idea(
    *, session: AsyncSession, fund_round: FundRound, idea: FundIdea, reason: str | None
) -> FundIdea:
    """The submitter changes their mind, or staff take down an idea that breaks the
    rules; only before the decision. A withdrawn idea leaves the public list."""
    if fund_round.decided_at is not None or idea.status != IdeaStatus.submitted:
        raise Conflict(
            f"A {idea.status} idea of a decided round cannot be withdrawn."
            if fund_round.decided_at
            else f"The idea is already {idea.status}.",
            code="invalid-transition",
        )
    idea.status = IdeaStatus.withdrawn
    idea.withdrawn_reason = reason
    _touch_idea(idea)
    await session.flush()
    await content_version.bump_municipal(
        session=session, municipality_id=idea.municipality_id, kind=KIND
    )
    await _log_idea(session, fund_round, idea, was_public=True, verb="withdrawn")
    return idea


def erase_personal_data(idea: FundIdea) -> None:
    """Forget who submitted: the idea itself stays (it is public, and a funded one is a
    record of public money); its link stops working."""
    idea.contact_name = idea.contact_email = idea.contact_phone = None
    idea.manage_token_hash = hash_secret_token(new_secret_token())
    idea.erased_at = utcnow()
    _touch_idea(idea)


async def erase_idea(*, session: AsyncSession, idea: FundIdea) -> FundIdea:
    """Erase on request, including emails to the submitter not yet sent."""
    erase_personal_data(idea)
    await execute(
        session,
        delete(OutboxEmail).where(
            col(OutboxEmail.dedupe_key).startswith(f"fund-idea:{idea.id}:"),
            col(OutboxEmail.sent_at).is_(None),
        ),
    )
    await session.flush()
    return idea


async def purge_finished_rounds(*, session: AsyncSession, day: date) -> int:
    """Erase the submitters' contact details of rounds whose reporting has ended."""
    ended = sa_select(col(FundRound.id)).where(col(FundRound.reporting_until) < day)
    count = 0
    for idea in await session.exec(
        select(FundIdea).where(col(FundIdea.erased_at).is_(None), col(FundIdea.round_id).in_(ended))
    ):
        erase_personal_data(idea)
        count += 1
    return count


# ---- the jury --------------------------------------------------------------------------------


def _may_score(fund_round: FundRound, idea: FundIdea, day: date) -> None:
    phase = phase_of(fund_round, day)
    if phase not in (RoundPhase.open, RoundPhase.jury):
        raise Conflict(
            f"Scores are given while ideas are open and until the decision; the round is {phase}.",
            code="invalid-transition",
            extra={"phase": phase},
        )
    if idea.status != IdeaStatus.submitted:
        raise Conflict(f"The idea is {idea.status}; it is not scored.", code="invalid-transition")


async def score_idea(
    *,
    session: AsyncSession,
    fund_round: FundRound,
    idea: FundIdea,
    actor: Actor,
    data: ScoreIn,
    day: date,
) -> tuple[FundScore, bool]:
    """Set the juror's own score of an idea (one per juror; changeable until the
    decision). Returns the score and whether it was new."""
    assert actor.id is not None
    _may_score(fund_round, idea, day)
    existing = (
        await session.exec(
            select(FundScore).where(
                col(FundScore.idea_id) == idea.id, col(FundScore.juror_id) == actor.id
            )
        )
    ).first()
    now = utcnow()
    if existing is not None:
        existing.score = data.score
        existing.comment = data.comment
        existing.juror_name = actor.name
        existing.updated_at = now
        await session.flush()
        return existing, False
    score = FundScore(
        round_id=fund_round.id,
        idea_id=idea.id,
        juror_id=actor.id,
        juror_name=actor.name,
        score=data.score,
        comment=data.comment,
        created_at=now,
        updated_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(score)
            await session.flush()
    except IntegrityError as error:
        raise Conflict(
            "Your score was saved by another request just now; send it again to change it.",
            code="conflict",
        ) from error
    return score, True


async def scores_of(*, session: AsyncSession, idea: FundIdea) -> list[FundScore]:
    rows = await session.exec(
        select(FundScore)
        .where(col(FundScore.idea_id) == idea.id)
        .order_by(col(FundScore.juror_name), col(FundScore.id))
    )
    return list(rows)


def score_doc(score: FundScore) -> Document:
    return {
        "juror": score.juror_name,
        "score": score.score,
        "comment": score.comment,
        "updated_at": score.updated_at,
    }


async def score_summaries(
    session: AsyncSession, idea_ids: Sequence[uuid.UUID], juror_id: uuid.UUID | None
) -> dict[uuid.UUID, Document]:
    """Count, average and the asking juror's own score per idea, in one query."""
    found: dict[uuid.UUID, list[FundScore]] = defaultdict(list)
    if idea_ids:
        for score in await session.exec(
            select(FundScore).where(col(FundScore.idea_id).in_(idea_ids))
        ):
            found[score.idea_id].append(score)
    result = {}
    for idea_id in idea_ids:
        scores = found.get(idea_id, [])
        result[idea_id] = {
            "count": len(scores),
            "average": round(sum(s.score for s in scores) / len(scores), 2) if scores else None,
            "mine": next((s.score for s in scores if s.juror_id == juror_id), None),
        }
    return result


async def suggestion(*, session: AsyncSession, fund_round: FundRound) -> Document:
    """A funded set by score that fits the budget, for the jury to start from.

    Greedy and deterministic, so a jury can follow it by hand: the best average score
    first (ties: more scores, then the smaller amount, then the earlier idea); each at
    its requested amount within the grant range; an idea that no longer fits the
    remaining budget is skipped; at most `max_funded`. Unscored ideas are left out."""
    ideas = list(
        await session.exec(
            select(FundIdea).where(
                col(FundIdea.round_id) == fund_round.id,
                col(FundIdea.status) == IdeaStatus.submitted,
            )
        )
    )
    summaries = await score_summaries(session, [idea.id for idea in ideas], None)
    scored = [idea for idea in ideas if summaries[idea.id]["count"]]
    scored.sort(
        key=lambda idea: (
            -summaries[idea.id]["average"],
            -summaries[idea.id]["count"],
            idea.amount_requested,
            idea.created_at,
            str(idea.id),
        )
    )
    picked: list[Document] = []
    total = 0
    for idea in scored:
        if len(picked) >= fund_round.max_funded:
            break
        amount = min(max(idea.amount_requested, fund_round.grant_min), fund_round.grant_max)
        if total + amount > fund_round.budget:
            continue
        total += amount
        picked.append(
            {
                "idea_id": idea.id,
                "title": idea.title,
                "amount_requested": idea.amount_requested,
                "amount": amount,
                "average": summaries[idea.id]["average"],
                "scores": summaries[idea.id]["count"],
            }
        )
    broken = [] if len(picked) >= fund_round.min_funded else ["funded-count"]
    unscored = sorted(
        (idea for idea in ideas if not summaries[idea.id]["count"]), key=lambda i: i.created_at
    )
    return {
        "method": "greedy by average score; ties: more scores, smaller amount, earlier idea",
        "currency": CURRENCY,
        "budget": fund_round.budget,
        "total": total,
        "remaining": fund_round.budget - total,
        "funded": picked,
        "fits_rules": not broken,
        "broken_rules": broken,
        "unscored": [idea.id for idea in unscored],
    }


# ---- the decision ----------------------------------------------------------------------------


def _check_decision(fund_round: FundRound, ideas: list[FundIdea], data: DecisionIn) -> None:
    """Every rule the decision breaks, at once; the first one names the problem."""
    seen: set[uuid.UUID] = set()
    duplicates: list[FieldProblem] = []
    listed = [(f"body.funded[{i}]", item.idea_id) for i, item in enumerate(data.funded)] + [
        (f"body.rejected[{i}]", item.idea_id) for i, item in enumerate(data.rejected)
    ]
    for where, idea_id in listed:
        if idea_id in seen:
            duplicates.append(
                FieldProblem(f"{where}.idea_id", "the idea is listed twice", "duplicate")
            )
        seen.add(idea_id)
    if duplicates:
        raise ValidationFailed("Each idea may be funded or rejected once.", errors=duplicates)
    by_id = {idea.id: idea for idea in ideas}
    problems: list[FieldProblem] = [
        FieldProblem(
            f"{where}.idea_id",
            f"{idea_id} is not an idea of the {fund_round.year} round",
            "unknown-idea",
        )
        for where, idea_id in listed
        if idea_id not in by_id
    ]
    for i, item in enumerate(data.funded):
        problem = _grant_range_problem(fund_round, f"body.funded[{i}].amount", item.amount)
        if problem is not None:
            problems.append(problem)
    count = len(data.funded)
    if not fund_round.min_funded <= count <= fund_round.max_funded:
        problems.append(
            FieldProblem(
                "body.funded",
                f"{count} experiments funded; the round funds "
                f"{fund_round.min_funded}–{fund_round.max_funded}",
                "funded-count",
            )
        )
    total = sum(item.amount for item in data.funded)
    if total > fund_round.budget:
        problems.append(
            FieldProblem(
                "body.funded",
                f"the grants total {total} EUR, over the budget of {fund_round.budget} EUR",
                "over-budget",
            )
        )
    if not data.general_explanation:
        funded = {item.idea_id for item in data.funded}
        explained = {item.idea_id for item in data.rejected}
        for idea in ideas:
            if idea.id not in funded and idea.id not in explained:
                problems.append(
                    FieldProblem(
                        "body.rejected",
                        f"idea {idea.id} ('{idea.title}') is not funded: explain why "
                        "(or give general_explanation)",
                        "explanation-required",
                    )
                )
    if problems:
        problems.sort(key=lambda p: DECISION_RULES.index(p.code))
        broken = list(dict.fromkeys(p.code for p in problems))
        raise ValidationFailed(
            f"The decision breaks the round's rules: {problems[0].message}.",
            code=problems[0].code,
            errors=problems,
            extra={"broken_rules": broken},
        )


async def decide(
    *, session: AsyncSession, fund_round: FundRound, actor: Actor, data: DecisionIn, day: date
) -> FundRound:
    """Record the jury's decision: the funded set with granted amounts (which may differ
    from the requests) and a reason for every rejection. Refused whole when it breaks a
    rule (422, the rule's code); funded ideas become experiments; final."""
    phase = phase_of(fund_round, day)
    if fund_round.decided_at is not None:
        raise Conflict(
            f"The {fund_round.year} round is decided already.", code="invalid-transition"
        )
    if phase != RoundPhase.jury:
        raise Conflict(
            f"The decision is made after ideas close and before the round ends; it is {phase}.",
            code="invalid-transition",
            extra={"phase": phase},
        )
    ideas = list(
        await session.exec(
            select(FundIdea)
            .where(
                col(FundIdea.round_id) == fund_round.id,
                col(FundIdea.status) == IdeaStatus.submitted,
            )
            .order_by(col(FundIdea.created_at))
        )
    )
    _check_decision(fund_round, ideas, data)
    funded = {item.idea_id: item for item in data.funded}
    rejected = {item.idea_id: item.explanation for item in data.rejected}
    experiments = []
    for idea in ideas:
        grant = funded.get(idea.id)
        if grant is not None:
            idea.status = IdeaStatus.funded
            idea.granted_amount = grant.amount
            idea.decision_note = grant.note
            experiment = FundExperiment(
                municipality_id=fund_round.municipality_id,
                round_id=fund_round.id,
                idea_id=idea.id,
                granted=grant.amount,
                updated_by_name=actor.name,
            )
            session.add(experiment)
            experiments.append(experiment)
        else:
            idea.status = IdeaStatus.not_funded
            idea.rejection_explanation = rejected.get(idea.id) or data.general_explanation
        _touch_idea(idea)
    fund_round.decided_at = utcnow()
    fund_round.decided_by_id = actor.id
    fund_round.decided_by_name = actor.name
    fund_round.general_explanation = data.general_explanation
    fund_round.minutes_reference = data.minutes_reference
    _touch_round(fund_round, actor)
    await session.flush()
    await content_version.bump_municipal(
        session=session, municipality_id=fund_round.municipality_id, kind=KIND
    )
    await _log_round(session, fund_round)
    for idea in ideas:
        verb = "funded" if idea.status == IdeaStatus.funded else "not_funded"
        await _log_idea(session, fund_round, idea, was_public=True, verb=verb)
    for experiment in experiments:
        await _log_experiment(session, experiment, created=True)
    return fund_round


async def decision_doc(*, session: AsyncSession, fund_round: FundRound, private: bool) -> Document:
    """The decision: funded ideas with grants for everyone; the rejected ones with
    their explanations only for the jury and the municipality's admins."""
    if fund_round.decided_at is None:
        raise NotFound(f"The {fund_round.year} round has no decision yet.")
    ideas = list(
        await session.exec(
            select(FundIdea)
            .where(
                col(FundIdea.round_id) == fund_round.id,
                col(FundIdea.status).in_((IdeaStatus.funded, IdeaStatus.not_funded)),
            )
            .order_by(col(FundIdea.created_at), col(FundIdea.id))
        )
    )
    experiments = await experiment_ids(
        session, [i.id for i in ideas if i.status == IdeaStatus.funded]
    )
    funded = [idea for idea in ideas if idea.status == IdeaStatus.funded]
    rejected = [idea for idea in ideas if idea.status == IdeaStatus.not_funded]
    return {
        "year": fund_round.year,
        "decided_at": fund_round.decided_at,
        "decided_by": fund_round.decided_by_name,
        "minutes_reference": fund_round.minutes_reference,
        "general_explanation": fund_round.general_explanation,
        "currency": CURRENCY,
        "budget": fund_round.budget,
        "total_granted": sum(idea.granted_amount or 0 for idea in funded),
        "funded": [
            {
                "idea_id": idea.id,
                "title": idea.title,
                "submitter_kind": idea.submitter_kind,
                "organisation_name": idea.organisation_name,
                "amount_requested": idea.amount_requested,
                "granted_amount": idea.granted_amount,
                "note": idea.decision_note,
                "experiment_id": experiments[idea.id],
            }
            for idea in funded
        ],
        "not_funded": len(rejected),
        "rejected": [
            {"idea_id": idea.id, "title": idea.title, "explanation": idea.rejection_explanation}
            for idea in rejected
        ]
        if private
        else None,
    }


# ---- experiments -----------------------------------------------------------------------------


async def list_experiments(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    limit: int,
    cursor: str | None = None,
    year: int | None = None,
    status: ExperimentStatus | None = None,
    modified_since: datetime | None = None,
) -> Page[tuple[FundExperiment, FundIdea, FundRound]]:
    """Newest round first, then in the order the ideas arrived."""
    statement = (
        select(FundExperiment, FundIdea, FundRound)
        .join(FundIdea, col(FundIdea.id) == col(FundExperiment.idea_id))
        .join(FundRound, col(FundRound.id) == col(FundExperiment.round_id))
        .where(col(FundExperiment.municipality_id) == municipality_id)
    )
    if year is not None:
        statement = statement.where(col(FundRound.year) == year)
    if status is not None:
        statement = statement.where(col(FundExperiment.status) == status)
    if modified_since is not None:
        statement = statement.where(col(FundExperiment.updated_at) >= modified_since)
    rows = list(
        await session.exec(
            statement.order_by(
                col(FundRound.year).desc(), col(FundIdea.created_at), col(FundExperiment.id)
            )
        )
    )
    after = decode_cursor("fund-experiments", cursor, as_offset)
    offset = after[0] if after else 0
    window = rows[offset : offset + limit]
    next_cursor = (
        encode_cursor("fund-experiments", [offset + limit]) if offset + limit < len(rows) else None
    )
    return Page(items=[(e, i, r) for e, i, r in window], next_cursor=next_cursor, total=len(rows))


async def get_experiment(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    experiment_id: uuid.UUID,
    for_update: bool = False,
) -> tuple[FundExperiment, FundIdea, FundRound]:
    statement = select(FundExperiment).where(
        col(FundExperiment.id) == experiment_id,
        col(FundExperiment.municipality_id) == municipality_id,
    )
    if for_update:
        statement = statement.with_for_update()
    experiment = (await session.exec(statement)).first()
    if experiment is None:
        raise NotFound("No such experiment.")
    idea = await session.get(FundIdea, experiment.idea_id)
    fund_round = await session.get(FundRound, experiment.round_id)
    assert idea is not None
    assert fund_round is not None
    return experiment, idea, fund_round


async def entries_of(
    session: AsyncSession, experiment_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[FundEntry]]:
    """Every experiment's entries, newest date first, in one query."""
    found: dict[uuid.UUID, list[FundEntry]] = defaultdict(list)
    if experiment_ids:
        rows = await session.exec(
            select(FundEntry)
            .where(col(FundEntry.experiment_id).in_(experiment_ids))
            .order_by(col(FundEntry.entry_date).desc(), col(FundEntry.created_at).desc())
        )
        for entry in rows:
            found[entry.experiment_id].append(entry)
    return found


def entry_doc(entry: FundEntry) -> Document:
    return {
        "id": entry.id,
        "date": entry.entry_date,
        "text": entry.text,
        "links": [link.model_dump(mode="json") for link in entry.links],
        "media": [item.model_dump(mode="json") for item in entry.media],
        "author": entry.author,
        "by_submitter": entry.by_submitter,
        "created_at": entry.created_at,
    }


def experiment_doc(
    experiment: FundExperiment, idea: FundIdea, year: int, entries: Sequence[FundEntry]
) -> Document:
    """A funded experiment as everyone sees it: grant, progress and reports, never the
    submitter's contact details."""
    report = experiment.final_report
    return {
        "id": experiment.id,
        "year": year,
        "idea_id": idea.id,
        "title": idea.title,
        "description": idea.description,
        "language": idea.language,
        "submitter_kind": idea.submitter_kind,
        "organisation_name": idea.organisation_name,
        "hashtag": idea.hashtag,
        "currency": CURRENCY,
        "grant": experiment.granted,
        "spent": experiment.spent,
        "status": experiment.status,
        "final_report": report.model_dump(mode="json") if report else None,
        "reported_at": experiment.reported_at,
        "entries": [entry_doc(entry) for entry in entries],
        "last_updated": experiment.updated_at,
    }


async def experiment_documents(
    session: AsyncSession, rows: Sequence[tuple[FundExperiment, FundIdea, FundRound]]
) -> list[Document]:
    entries = await entries_of(session, [experiment.id for experiment, _, _ in rows])
    return [
        experiment_doc(experiment, idea, fund_round.year, entries.get(experiment.id, []))
        for experiment, idea, fund_round in rows
    ]


async def update_experiment(
    *,
    session: AsyncSession,
    experiment: FundExperiment,
    author: str,
    data: ExperimentUpdate,
    by_submitter: bool,
) -> FundExperiment:
    """Progress status and the final report (staff or the submitter's link); what was
    spent only by the municipality's staff, who pay the grant."""
    changes = data.model_dump(exclude_unset=True)
    if by_submitter and "spent" in changes:
        raise Forbidden("The municipality records what was spent; report it in your text.")
    if data.status is not None:
        experiment.status = data.status
    if "spent" in changes:
        experiment.spent = data.spent
    if "final_report" in changes:
        experiment.final_report = data.final_report
        experiment.reported_at = utcnow() if data.final_report is not None else None
    experiment.updated_at = utcnow()
    experiment.updated_by_name = author
    experiment.version += 1
    await session.flush()
    await content_version.bump_municipal(
        session=session, municipality_id=experiment.municipality_id, kind=KIND
    )
    await _log_experiment(session, experiment)
    return experiment


async def add_entry(
    *,
    session: AsyncSession,
    experiment: FundExperiment,
    data: EntryIn,
    author: str | None,
    by_submitter: bool,
) -> FundEntry:
    """A dated progress entry; the first one moves a not-started experiment along."""
    entry = FundEntry(
        experiment_id=experiment.id,
        entry_date=data.date,
        text=data.text,
        links=list(data.links),
        media=list(data.media),
        author=author,
        by_submitter=by_submitter,
    )
    session.add(entry)
    if experiment.status == ExperimentStatus.not_started:
        experiment.status = ExperimentStatus.in_progress
    experiment.updated_at = utcnow()
    experiment.version += 1
    await session.flush()
    await content_version.bump_municipal(
        session=session, municipality_id=experiment.municipality_id, kind=KIND
    )
    await _log_experiment(session, experiment)
    return entry


async def delete_entry(
    *, session: AsyncSession, experiment: FundExperiment, entry_id: uuid.UUID
) -> None:
    entry = await session.get(FundEntry, entry_id)
    if entry is None or entry.experiment_id != experiment.id:
        raise NotFound("No such entry.")
    await session.delete(entry)
    experiment.updated_at = utcnow()
    experiment.version += 1
    await session.flush()
    await content_version.bump_municipal(
        session=session, municipality_id=experiment.municipality_id, kind=KIND
    )
    await _log_experiment(session, experiment)


# ---- the flows both front doors use: change, then tell the people concerned ------------------


async def _municipality(session: AsyncSession, municipality_id: uuid.UUID) -> Municipality:
    municipality = await session.get(Municipality, municipality_id)
    if municipality is None:
        raise NotFound("No such municipality.")
    return municipality


async def submit_and_confirm(
    *,
    session: AsyncSession,
    fund_round: FundRound,
    slug: str,
    data: IdeaCreate,
    settings: Settings,
) -> tuple[FundIdea, str]:
    """Submit, then email the submitter their own link (same transaction). Returns the
    idea and the link, which the response shows once."""
    idea, token = await submit_idea(session=session, fund_round=fund_round, data=data, day=today())
    link = notify.fund_idea_url(settings, slug, fund_round.year, idea.id, token)
    await notify.fund_idea_received(
        session=session,
        idea=idea,
        fund_round=fund_round,
        municipality=await _municipality(session, fund_round.municipality_id),
        link=link,
    )
    return idea, link


async def decide_and_notify(
    *, session: AsyncSession, fund_round: FundRound, actor: Actor, data: DecisionIn
) -> FundRound:
    """Decide, then tell every submitter the outcome."""
    fund_round = await decide(
        session=session, fund_round=fund_round, actor=actor, data=data, day=today()
    )
    municipality = await _municipality(session, fund_round.municipality_id)
    ideas = await session.exec(
        select(FundIdea).where(
            col(FundIdea.round_id) == fund_round.id,
            col(FundIdea.status).in_((IdeaStatus.funded, IdeaStatus.not_funded)),
        )
    )
    for idea in ideas:
        await notify.fund_idea_decided(
            session=session, idea=idea, fund_round=fund_round, municipality=municipality
        )
    return fund_round
