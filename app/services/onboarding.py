"""Onboarding a municipality from another's starter kit in one call (issue 16, part 1).

Copies, as drafts and with provenance where the part has it: the published service
cards, the personas, the service promise, the journey, the landing configuration with
its tiles, and the communication plan (the source's newest, as this year's draft).
Idempotent: a card already copied from the same source card, a persona key the target
has, or a promise, journey, landing configuration or this year's plan that exists is
left alone, so a second run adds nothing. Where a copied text names the source municipality
its name is replaced by the target's and the text is reported for review; inflected
forms ("Kemijärvellä") cannot be replaced safely, so they are only reported (and the
readiness report keeps flagging them until someone edits them).

Not yet copied (the rest of part 1): the fund's rules and the roadmap template.
"""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.errors import FieldProblem, ValidationFailed
from app.core.time import HELSINKI, utcnow
from app.models.comms_plan import CommsPlan, PlanCreate
from app.models.journey import JourneyUpdate
from app.models.landing import LANDING_CONFIG_FIELDS, LandingConfigUpdate
from app.models.municipality import Municipality
from app.models.persona import Persona, PersonaCopyIn, ServicePromiseUpdate
from app.models.service_card import CardStatus, ServiceCard, Topic
from app.services import comms_plan as comms_service
from app.services import journey as journey_service
from app.services import landing as landing_service
from app.services import persona as persona_service
from app.services import service_card as card_service
from app.services.content_revision import jsonable
from app.services.service_card import Actor

PARTS = ("cards", "personas", "promise", "journey", "landing", "comms-plan")


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
                review.append({"resource": where, "field": path})
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
    return value


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
    return outcome


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
        outcome.review += [
            {"resource": f"{base}/service-cards/{new.id}", "field": item["field"]}
            for item in review
        ]
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
