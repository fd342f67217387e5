"""Load the seed files idempotently: a second run finds nothing to change."""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, time
from importlib.resources import files
from typing import Any

import yaml
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import Settings
from app.core.i18n import I18nText
from app.core.time import HELSINKI
from app.models.comms_plan import CommsPlan, PlanCreate, PlanStatus
from app.models.fund import FundRound, RoundCreate
from app.models.guide import ExpertiseTerm
from app.models.journey import JourneyUpdate
from app.models.landing import LandingConfigUpdate
from app.models.municipality import Municipality, MunicipalityCreate, MunicipalityUpdate
from app.models.persona import Persona, PersonaCopyIn, PersonaCreate, ServicePromiseUpdate
from app.models.roadmap import PhaseCreate, RoadmapPhase
from app.models.service_card import CardCreate, CopyIn, ServiceCard, Topic, TopicIn
from app.models.user import Role
from app.services import comms_plan as plan_service
from app.services import fund as fund_service
from app.services import journey as journey_service
from app.services import landing as landing_service
from app.services import municipality as municipality_service
from app.services import persona as persona_service
from app.services import roadmap as roadmap_service
from app.services import service_card as card_service
from app.services import user as user_service

log = logging.getLogger("settle.seed")


@dataclass
class SeedReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def read_data(name: str) -> Any:
    """A YAML file from app/seed/data (shipped inside the package)."""
    return yaml.safe_load(files("app.seed").joinpath("data", name).read_text(encoding="utf-8"))


async def seed_municipalities(session: AsyncSession, report: SeedReport) -> None:
    for item in read_data("municipalities.yaml"):
        wanted = MunicipalityCreate.model_validate(item)
        existing = (
            await session.exec(select(Municipality).where(col(Municipality.slug) == wanted.slug))
        ).first()
        if existing is None:
            await municipality_service.create(session=session, data=wanted)
            report.created.append(f"municipality {wanted.slug}")
            continue
        changes = {
            name: getattr(wanted, name)
            for name in MunicipalityUpdate.model_fields
            if getattr(existing, name) != getattr(wanted, name)
        }
        if changes:
            await municipality_service.update(
                session=session, municipality=existing, data=MunicipalityUpdate(**changes)
            )
            report.updated.append(f"municipality {wanted.slug} ({', '.join(sorted(changes))})")


async def _municipality(session: AsyncSession, slug: str) -> Municipality:
    return (await session.exec(select(Municipality).where(col(Municipality.slug) == slug))).one()


async def seed_topics(session: AsyncSession, report: SeedReport, topics: list[Any]) -> None:
    """Every municipality starts with the same topic list; each may add its own."""
    for municipality in await session.exec(select(Municipality)):
        existing = set(
            await session.exec(
                select(Topic.key).where(col(Topic.municipality_id) == municipality.id)
            )
        )
        for position, item in enumerate(topics, start=1):
            if item["key"] in existing:
                continue
            await card_service.create_topic(
                session=session,
                municipality_id=municipality.id,
                data=TopicIn(key=item["key"], name=item["name"], position=position),
            )
            report.created.append(f"topic {municipality.slug}/{item['key']}")


async def seed_guide_expertise(session: AsyncSession, report: SeedReport) -> None:
    """Every municipality starts with the same labelled expertise vocabulary; terms it
    already has (perhaps relabelled) are left alone."""
    terms = read_data("guide_expertise.yaml")["terms"]
    for municipality in await session.exec(select(Municipality)):
        have = set(
            await session.exec(
                select(ExpertiseTerm.key).where(
                    col(ExpertiseTerm.municipality_id) == municipality.id
                )
            )
        )
        for position, item in enumerate(terms, start=1):
            if item["key"] in have:
                continue
            session.add(
                ExpertiseTerm(
                    municipality_id=municipality.id,
                    key=item["key"],
                    label=I18nText.model_validate(item["label"]),
                    position=position,
                )
            )
            report.created.append(f"guide expertise {municipality.slug}/{item['key']}")
    await session.flush()


async def seed_cards(session: AsyncSession, report: SeedReport) -> None:
    """Kemijärvi's cards from the operating model, then a starter set for the partner
    municipalities copied (with provenance) from its municipality-neutral cards.

    A card that exists is left alone: after the first seed the cards belong to the
    municipality's editors, and a re-seed must not undo their work.
    """
    data = read_data("kemijarvi/service_cards.yaml")
    await seed_topics(session, report, data["topics"])
    kemijarvi = await _municipality(session, "kemijarvi")
    neutral = []
    for item in data["cards"]:
        card_id = uuid.UUID(str(item["id"]))
        if item.get("neutral"):
            neutral.append(card_id)
        if await session.get(ServiceCard, card_id) is not None:
            continue
        fields = {key: value for key, value in item.items() if key not in ("neutral", "order")}
        fields["position"] = item.get("order")
        await card_service.create(
            session=session,
            municipality_id=kemijarvi.id,
            actor=card_service.SYSTEM,
            data=CardCreate.model_validate(fields),
        )
        report.created.append(f"card kemijarvi/{item['title']['fi']}")
    for slug in ("posio", "keminmaa"):
        target = await _municipality(session, slug)
        copied = set(
            await session.exec(
                select(ServiceCard.source_card_id).where(
                    col(ServiceCard.municipality_id) == target.id
                )
            )
        )
        for card_id in neutral:
            if card_id in copied:
                continue
            await card_service.copy(
                session=session,
                source_municipality_id=kemijarvi.id,
                target_municipality_id=target.id,
                actor=card_service.SYSTEM,
                data=CopyIn(source_municipality="kemijarvi", card_id=card_id, status="published"),
            )
            report.created.append(f"card {slug}/copy of {card_id}")


async def seed_comms_plans(session: AsyncSession, report: SeedReport) -> None:
    """Kemijärvi's communication plan from the operating model, approved as the seed
    describes it. A plan that exists is left alone: it belongs to the comms group."""
    kemijarvi = await _municipality(session, "kemijarvi")
    for item in read_data("kemijarvi/comms_plan.yaml")["plans"]:
        plan_id = uuid.UUID(str(item["id"]))
        if await session.get(CommsPlan, plan_id) is not None:
            continue
        fields = {
            key: value
            for key, value in item.items()
            if key not in ("id", "status", "decision_comment", "decision_date")
        }
        plan = await plan_service.create(
            session=session,
            municipality_id=kemijarvi.id,
            actor=plan_service.SYSTEM,
            data=PlanCreate.model_validate(fields),
            plan_id=plan_id,
        )
        if item.get("status") == PlanStatus.approved:
            await plan_service.submit(session=session, plan=plan, actor=plan_service.SYSTEM)
            decided = item.get("decision_date")
            await plan_service.approve(
                session=session,
                plan=plan,
                actor=plan_service.SYSTEM,
                decision_date=decided,
                comment=item.get("decision_comment"),
                # History as it was: decided on the decision day, not when seeded.
                decided_at=datetime.combine(decided, time(12), HELSINKI) if decided else None,
            )
        report.created.append(f"comms plan kemijarvi/{plan.year}")


async def seed_fund_and_roadmap(session: AsyncSession, report: SeedReport) -> None:
    """Kemijärvi's experiment-fund rounds 2023–2025 and its 2022–2025 roadmap. What exists
    is left alone: rounds and phases belong to the municipality once seeded."""
    kemijarvi = await _municipality(session, "kemijarvi")
    years = set(
        await session.exec(
            select(FundRound.year).where(col(FundRound.municipality_id) == kemijarvi.id)
        )
    )
    for item in read_data("kemijarvi/fund.yaml")["rounds"]:
        if item["year"] in years:
            continue
        await fund_service.create_round(
            session=session,
            municipality_id=kemijarvi.id,
            actor=card_service.SYSTEM,
            data=RoundCreate.model_validate(item),
        )
        report.created.append(f"fund round kemijarvi/{item['year']}")
    keys = set(
        await session.exec(
            select(RoadmapPhase.key).where(col(RoadmapPhase.municipality_id) == kemijarvi.id)
        )
    )
    for item in read_data("kemijarvi/roadmap.yaml")["phases"]:
        if str(item["key"]) in keys:
            continue
        await roadmap_service.create_phase(
            session=session,
            municipality_id=kemijarvi.id,
            actor=card_service.SYSTEM,
            data=PhaseCreate.model_validate(item),
        )
        report.created.append(f"roadmap phase kemijarvi/{item['key']}")


async def seed_personas(session: AsyncSession, report: SeedReport) -> None:
    """Kemijärvi's eight personas, then copies (with provenance) for the partner
    municipalities. A persona that exists is left alone: it belongs to the comms group."""
    kemijarvi = await _municipality(session, "kemijarvi")
    have = set(
        await session.exec(select(Persona.key).where(col(Persona.municipality_id) == kemijarvi.id))
    )
    for item in read_data("kemijarvi/personas.yaml")["personas"]:
        if item["key"] in have:
            continue
        await persona_service.create(
            session=session,
            municipality_id=kemijarvi.id,
            actor=card_service.SYSTEM,
            data=PersonaCreate.model_validate(item),
        )
        report.created.append(f"persona kemijarvi/{item['key']}")
    source = set(
        await session.exec(select(Persona.key).where(col(Persona.municipality_id) == kemijarvi.id))
    )
    for slug in ("posio", "keminmaa"):
        target = await _municipality(session, slug)
        present = set(
            await session.exec(select(Persona.key).where(col(Persona.municipality_id) == target.id))
        )
        missing = sorted(source - present)
        if not missing:
            continue
        outcome = await persona_service.copy(
            session=session,
            source_municipality_id=kemijarvi.id,
            target_municipality_id=target.id,
            source_slug="kemijarvi",
            actor=card_service.SYSTEM,
            data=PersonaCopyIn(source_municipality="kemijarvi", keys=missing),
        )
        report.created += [f"persona {slug}/copy of {p.key}" for p in outcome.copied]


async def seed_landing(session: AsyncSession, report: SeedReport) -> None:
    """Kemijärvi's service promise, journey and landing page, each only if none exists."""
    kemijarvi = await _municipality(session, "kemijarvi")
    data = read_data("kemijarvi/landing.yaml")
    if await persona_service.get_promise(session=session, municipality_id=kemijarvi.id) is None:
        await persona_service.update_promise(
            session=session,
            municipality_id=kemijarvi.id,
            promise=None,
            actor=card_service.SYSTEM,
            data=ServicePromiseUpdate.model_validate(data["service_promise"]),
        )
        report.created.append("service promise kemijarvi")
    if await journey_service.get_config(session=session, municipality_id=kemijarvi.id) is None:
        await journey_service.update_config(
            session=session,
            municipality_id=kemijarvi.id,
            journey=None,
            actor=card_service.SYSTEM,
            data=JourneyUpdate.model_validate(data["journey"]),
        )
        report.created.append("journey kemijarvi")
    if await landing_service.get_config(session=session, municipality_id=kemijarvi.id) is None:
        await landing_service.update_config(
            session=session,
            municipality_id=kemijarvi.id,
            config=None,
            actor=card_service.SYSTEM,
            data=LandingConfigUpdate.model_validate(data["landing"]),
        )
        report.created.append("landing page kemijarvi")


async def seed_first_admin(session: AsyncSession, settings: Settings, report: SeedReport) -> None:
    if not (settings.first_admin_email and settings.first_admin_password):
        return
    _, created = await user_service.ensure_account(
        session=session,
        email=settings.first_admin_email,
        password=settings.first_admin_password,
        display_name="Platform administrator",
        role=Role.platform_admin,
    )
    if created:
        report.created.append(f"platform admin {settings.first_admin_email}")


async def seed(*, session: AsyncSession, settings: Settings, demo: bool = False) -> SeedReport:
    """Everything the seed files describe, created or brought up to date; with `demo`
    (development only: never when ENVIRONMENT=production) also the fictional demo
    guides and stories of `app.seed.demo`."""
    report = SeedReport()
    await seed_municipalities(session, report)
    await seed_guide_expertise(session, report)
    await seed_cards(session, report)
    await seed_comms_plans(session, report)
    await seed_fund_and_roadmap(session, report)
    await seed_personas(session, report)
    await seed_landing(session, report)
    await seed_first_admin(session, settings, report)
    if demo and settings.environment != "production":
        from app.seed.demo import seed_demo  # local: it builds on this module

        await seed_demo(session, report)
    return report
