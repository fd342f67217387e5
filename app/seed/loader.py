"""Load the seed files idempotently: a second run finds nothing to change."""

import logging
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import yaml
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import Settings
from app.models.municipality import Municipality, MunicipalityCreate, MunicipalityUpdate
from app.models.user import Role
from app.services import municipality as municipality_service
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


async def seed(*, session: AsyncSession, settings: Settings) -> SeedReport:
    """Everything the seed files describe, created or brought up to date."""
    report = SeedReport()
    await seed_municipalities(session, report)
    await seed_first_admin(session, settings, report)
    return report
