"""Onboarding a municipality from another's starter kit in one call.

Copies, as drafts and with provenance where the part has it: the published service
cards, the personas, the service promise, the journey, the landing configuration with
its tiles, the communication plan (the source's newest, as this year's draft), the
experiment fund's rules (the source's newest round, as a draft round for the first year
whose call has not yet opened) and the roadmap template (every phase, moved by whole
years to start next year, with statuses and outcomes left for the new municipality).
Idempotent: a card already copied from the same source card, a persona key the target
has, or a promise, journey, landing configuration, this year's plan, a fund round or a
roadmap that exists is left alone, so a second run adds nothing.

Where a copied text names the source municipality its name is replaced by the target's
and the text is reported for review; inflected forms ("Kemijärvellä") cannot be replaced
safely, so they are only reported (and the readiness report keeps flagging them until
someone edits them). Links are reviewed too: the source's own web site becomes the
target's, a listing filtered to the source (…/vuokra-asunnot/kemijarvi) is filtered to
the target, and a site named after the source (visitkemijarvi.fi) is kept but reported,
as nobody can guess the target's counterpart.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.errors import FieldProblem, ValidationFailed
from app.core.time import HELSINKI, utcnow
from app.models.comms_plan import CommsPlan, PlanCreate
from app.models.fund import FundRound, RoundCreate
from app.models.journey import JourneyUpdate
from app.models.landing import LANDING_CONFIG_FIELDS, LandingConfigUpdate
from app.models.municipality import Municipality
from app.models.persona import Persona, PersonaCopyIn, ServicePromiseUpdate
from app.models.roadmap import PhaseCreate, RoadmapPhase
from app.models.service_card import CardStatus, ServiceCard, Topic
from app.services import comms_plan as comms_service
from app.services import fund as fund_service
from app.services import journey as journey_service
from app.services import landing as landing_service
from app.services import persona as persona_service
from app.services import roadmap as roadmap_service
from app.services import service_card as card_service
from app.services.content_revision import jsonable
from app.services.service_card import Actor

PARTS = ("cards", "personas", "promise", "journey", "landing", "comms-plan", "fund", "roadmap")


@dataclass
class Outcome:
    """What one run did: per part, how many were copied and which texts to review."""

    copied: dict[str, int] = field(default_factory=dict)
    review: list[dict[str, str]] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        return {"copied": self.copied, "review": self.review}


def _stem(name: str) -> str:
    return name[:-1] if len(name) > 5 and name[-1] in "iae" else name


def _rename(
    value: Any,
    source: Municipality,
    target: Municipality,
    path: str,
    where: str,
    review: list[dict[str, str]],
) -> Any:
    """The value with the source's name replaced by the target's in every translation;
    every text that named the source (in any form) is added to `review`."""
    if isinstance(value, dict):
        if isinstance(value.get("fi"), str) and set(value) <= {"fi", "sv", "en"}:
            named = False
            out = {}
            for lang, text in value.items():
                old = source.name.get(lang)
                if isinstance(text, str) and _stem(old) in text:
                    named = True
                    text = text.replace(old, target.name.get(lang))
                out[lang] = text
            if named:
                review.append({"resource": where, "field": path, "reason": "text"})
            return out
        return {
            key: _rename(item, source, target, f"{path}.{key}" if path else key, where, review)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            _rename(item, source, target, f"{path}[{i}]", where, review)
            for i, item in enumerate(value)
        ]
    if isinstance(value, str):
        adapted, reason = _adapt_reference(value, source, target)
        if reason is not None:
            review.append({"resource": where, "field": path, "reason": reason})
        return adapted
    return value


def _site(municipality: Municipality) -> str | None:
    site = municipality.contact.web_site if municipality.contact else None
    return str(site) if site else None


def _adapt_reference(
    value: str, source: Municipality, target: Municipality
) -> tuple[str, str | None]:
    """A link or hashtag adapted to the target, and why it needs review (None: it does
    not point at the source at all)."""
    if value.startswith("#"):
        names = {source.slug, source.name.get("fi").lower()}
        if not any(name in value.lower() for name in names):
            return value, None
        adapted = value.lower()
        adapted = adapted.replace(source.name.get("fi").lower(), target.name.get("fi").lower())
        return adapted.replace(source.slug, target.slug), "hashtag"
    if not value.startswith(("http://", "https://")):
        return value, None
    parts = urlsplit(value)
    host = parts.hostname or ""
    source_site, target_site = _site(source), _site(target)
    if source_site and host == urlsplit(source_site).hostname:
        # The source's own pages mean nothing on the target's site: its front page.
        return target_site or value, "link"
    segments = parts.path.split("/")
    if source.slug in segments:
        path = "/".join(target.slug if segment == source.slug else segment for segment in segments)
        return urlunsplit(parts._replace(path=path)), "link"
    if source.slug in host:
        return value, "link"
    return value, None


async def onboard(
    *,
    session: AsyncSession,
    source: Municipality,
    target: Municipality,
    actor: Actor,
    parts: list[str] | None = None,
) -> Outcome:
    """Copy the starter kit's `parts` (all by default) from `source` into `target`."""
    wanted = parts or list(PARTS)
    unknown = [part for part in wanted if part not in PARTS]
    if unknown or source.id == target.id:
        raise ValidationFailed(
            "Onboard from another municipality, with parts among " + ", ".join(PARTS) + ".",
            errors=[
                FieldProblem(
                    "body.parts" if unknown else "body.from_municipality",
                    f"unknown part {', '.join(unknown)}" if unknown else "the same as the target",
                )
            ],
        )
    outcome = Outcome()
    base = f"/api/v1/municipalities/{target.slug}"
    if "cards" in wanted:
        outcome.copied["cards"] = await _cards(session, source, target, actor, base, outcome)
    if "personas" in wanted:
        outcome.copied["personas"] = await _personas(session, source, target, actor)
    if "promise" in wanted:
        promise = await persona_service.get_promise(session=session, municipality_id=source.id)
        have = await persona_service.get_promise(session=session, municipality_id=target.id)
        copied = 0
        if promise is not None and have is None:
            data = _rename(
                {
                    "title": jsonable(promise.title),
                    "text": jsonable(promise.text),
                    "principles": [jsonable(p) for p in promise.principles],
                },
                source,
                target,
                "",
                f"{base}/service-promise",
                outcome.review,
            )
            await persona_service.update_promise(
                session=session,
                municipality_id=target.id,
                promise=None,
                actor=actor,
                data=ServicePromiseUpdate.model_validate(data),
            )
            copied = 1
        outcome.copied["promise"] = copied
    if "journey" in wanted:
        journey = await journey_service.get_config(session=session, municipality_id=source.id)
        have_journey = await journey_service.get_config(session=session, municipality_id=target.id)
        copied = 0
        if journey is not None and have_journey is None:
            data = _rename(
                {
                    "introduction": jsonable(journey.introduction),
                    "stages": [jsonable(stage) for stage in journey.stages],
                },
                source,
                target,
                "",
                f"{base}/journey",
                outcome.review,
            )
            await journey_service.update_config(
                session=session,
                municipality_id=target.id,
                journey=None,
                actor=actor,
                data=JourneyUpdate.model_validate(data),
            )
            copied = 1
        outcome.copied["journey"] = copied
    if "landing" in wanted:
        config = await landing_service.get_config(session=session, municipality_id=source.id)
        have_config = await landing_service.get_config(session=session, municipality_id=target.id)
        copied = 0
        if config is not None and have_config is None:
            document = landing_service.config_document(config, source.slug)
            data = {name: document[name] for name in LANDING_CONFIG_FIELDS}
            data = _rename(data, source, target, "", f"{base}/landing-config", outcome.review)
            await landing_service.update_config(
                session=session,
                municipality_id=target.id,
                config=None,
                actor=actor,
                data=LandingConfigUpdate.model_validate(data),
            )
            copied = 1
        outcome.copied["landing"] = copied
    if "comms-plan" in wanted:
        outcome.copied["comms-plan"] = await _comms_plan(
            session, source, target, actor, base, outcome
        )
    if "fund" in wanted:
        outcome.copied["fund"] = await _fund(session, source, target, actor, base, outcome)
    if "roadmap" in wanted:
        outcome.copied["roadmap"] = await _roadmap(session, source, target, actor, base, outcome)
    return outcome


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


async def _fund(
    session: AsyncSession,
    source: Municipality,
    target: Municipality,
    actor: Actor,
    base: str,
    outcome: Outcome,
) -> int:
    """The source's newest round's rules, call and hashtags as a draft round of the
    target, its dates moved by whole years to the first year whose call has not opened
    yet. Nothing when the target has any round: its fund is its own already."""
    have = (
        await session.exec(select(FundRound.id).where(col(FundRound.municipality_id) == target.id))
    ).first()
    newest = (
        await session.exec(
            select(FundRound)
            .where(col(FundRound.municipality_id) == source.id)
            .order_by(col(FundRound.year).desc())
        )
    ).first()
    if have is not None or newest is None:
        return 0
    today = fund_service.today()
    years = max(1, today.year - newest.year)
    while _years_later(newest.ideas_open_from, years) <= today:
        years += 1
    document = {
        "year": newest.year + years,
        "call": jsonable(newest.call) if newest.call else None,
        "hashtags": list(newest.hashtags),
        "rules": {name: getattr(newest, name) for name in fund_service.RULE_FIELDS},
        "schedule": {
            name: _years_later(getattr(newest, name), years).isoformat()
            for name in fund_service.SCHEDULE_FIELDS
        },
        "draft": True,
    }
    where = f"{base}/fund/rounds/{newest.year + years}"
    document = _rename(document, source, target, "", where, outcome.review)
    # "#kemijärvi" and "#kemijarvi" both become "#posio".
    document["hashtags"] = list(dict.fromkeys(document["hashtags"]))
    await fund_service.create_round(
        session=session,
        municipality_id=target.id,
        actor=actor,
        data=RoundCreate.model_validate(document),
    )
    # The amounts are the source's decision, not the target's: always for review.
    outcome.review.append({"resource": where, "field": "rules.budget", "reason": "amount"})
    return 1


_YEAR = re.compile(r"\b(20\d\d)\b")


async def _roadmap(
    session: AsyncSession,
    source: Municipality,
    target: Municipality,
    actor: Actor,
    base: str,
    outcome: Outcome,
) -> int:
    """The source's roadmap as the target's template: every phase as a draft, moved by
    whole years so the first starts next year (keys and the years named in texts move
    with it), with no status or outcome of the source's. Nothing when the target has a
    roadmap."""
    have = (
        await session.exec(
            select(RoadmapPhase.id).where(col(RoadmapPhase.municipality_id) == target.id)
        )
    ).first()
    phases = list(
        await session.exec(
            select(RoadmapPhase)
            .where(col(RoadmapPhase.municipality_id) == source.id)
            .order_by(col(RoadmapPhase.starts_on), col(RoadmapPhase.key))
        )
    )
    if have is not None or not phases:
        return 0
    years = max(0, fund_service.today().year + 1 - phases[0].starts_on.year)

    def moved(match: re.Match[str]) -> str:
        return str(int(match.group(1)) + years)

    def shift(value: Any) -> Any:
        if isinstance(value, str):
            return _YEAR.sub(moved, value)
        if isinstance(value, dict):
            return {key: shift(item) for key, item in value.items()}
        if isinstance(value, list):
            return [shift(item) for item in value]
        return value

    for phase in phases:
        pilots = [
            {
                "key": pilot.key,
                "title": jsonable(pilot.title),
                "description": jsonable(pilot.description) if pilot.description else None,
            }
            for pilot in phase.pilots
        ]
        document = {
            "key": _YEAR.sub(moved, phase.key),
            "starts_on": _years_later(phase.starts_on, years).isoformat(),
            "ends_on": _years_later(phase.ends_on, years).isoformat(),
            "title": shift(jsonable(phase.title)),
            "description": shift(jsonable(phase.description)) if phase.description else None,
            "goals": [shift(jsonable(goal)) for goal in phase.goals],
            "pilots": shift(pilots),
            "draft": True,
        }
        review: list[dict[str, str]] = []
        document = _rename(document, source, target, "", "", review)
        created = await roadmap_service.create_phase(
            session=session,
            municipality_id=target.id,
            actor=actor,
            data=PhaseCreate.model_validate(document),
        )
        where = f"{base}/roadmap/phases/{created.id}"
        outcome.review += [item | {"resource": where} for item in review]
    return len(phases)


async def _comms_plan(
    session: AsyncSession,
    source: Municipality,
    target: Municipality,
    actor: Actor,
    base: str,
    outcome: Outcome,
) -> int:
    """The source's newest plan (the version in force of its latest year) as version 1
    of the target's plan for this year, a draft for its own board; nothing when the
    target has a plan for this year. Cadence starts move to the same day of this year."""
    year = utcnow().astimezone(HELSINKI).year
    if await comms_service.plan_for_year(session=session, municipality_id=target.id, year=year):
        return 0
    newest = (
        await session.exec(
            select(func.max(CommsPlan.year)).where(col(CommsPlan.municipality_id) == source.id)
        )
    ).first()
    if newest is None:
        return 0
    plan = await comms_service.plan_for_year(
        session=session, municipality_id=source.id, year=newest
    )
    if plan is None:
        return 0
    rows = []
    for row in await comms_service.rows_as_input(session, plan):
        data = row.model_dump(mode="json", exclude={"id"})
        if row.cadence_start is not None:
            try:
                moved = row.cadence_start.replace(year=row.cadence_start.year + year - plan.year)
                data["cadence_start"] = moved.isoformat()
            except ValueError:  # 29 February into a common year: the plan's default start
                data["cadence_start"] = None
        rows.append(data)
    document = {
        "year": year,
        "title": jsonable(plan.title),
        "strategy": jsonable(plan.strategy),
        "hashtags": list(plan.hashtags),
        "circles": jsonable(plan.circles),
        "metrics": jsonable(plan.metrics),
        "rows": rows,
    }
    document = _rename(document, source, target, "", f"{base}/comms-plans", outcome.review)
    document["hashtags"] = list(dict.fromkeys(document["hashtags"]))
    await comms_service.create(
        session=session,
        municipality_id=target.id,
        actor=actor,
        data=PlanCreate.model_validate(document),
    )
    return 1


async def _cards(
    session: AsyncSession,
    source: Municipality,
    target: Municipality,
    actor: Actor,
    base: str,
    outcome: Outcome,
) -> int:
    already = set(
        await session.exec(
            select(ServiceCard.source_card_id).where(col(ServiceCard.municipality_id) == target.id)
        )
    )
    sources = list(
        await session.exec(
            select(ServiceCard)
            .where(
                col(ServiceCard.municipality_id) == source.id,
                col(ServiceCard.status) == CardStatus.published,
            )
            .order_by(col(ServiceCard.position), col(ServiceCard.id))
        )
    )
    copied = 0
    for card in sources:
        if card.id in already:
            continue
        topic = await session.get(Topic, card.topic_id)
        assert topic is not None
        await card_service._ensure_topic(session, topic, target.id)
        document = await card_service.snapshot(session, card)
        review: list[dict[str, str]] = []
        renamed = _rename(document, source, target, "", "", review)
        new = await card_service.create(
            session=session,
            municipality_id=target.id,
            actor=actor,
            data=card_service._as_new(renamed, CardStatus.draft),
            source=card,
            action=f"copied from {source.slug}",
        )
        outcome.review += [item | {"resource": f"{base}/service-cards/{new.id}"} for item in review]
        copied += 1
    return copied


async def _personas(
    session: AsyncSession, source: Municipality, target: Municipality, actor: Actor
) -> int:
    present = set(
        await session.exec(select(Persona.key).where(col(Persona.municipality_id) == target.id))
    )
    keys = sorted(
        set(
            await session.exec(select(Persona.key).where(col(Persona.municipality_id) == source.id))
        )
        - present
    )
    if not keys:
        return 0
    result = await persona_service.copy(
        session=session,
        source_municipality_id=source.id,
        target_municipality_id=target.id,
        source_slug=source.slug,
        actor=actor,
        data=PersonaCopyIn(source_municipality=source.slug, keys=keys),
    )
    return len(result.copied)
