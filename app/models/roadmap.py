"""The settlement services' roadmap ("tiekartta", seed p. 56–59): dated phases with
goals and pilots, each with a status and an outcome, and the yearly review of the
operating model (seed p. 79: how the process worked, results, strengths, what to
develop). Every change records when, by whom and which fields ("Viimeisin päivitys /
Päivittäjä / Päivitetyt kohdat")."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic import Field as PydanticField
from sqlalchemy import Column, Date, false
from sqlmodel import Field, UniqueConstraint

from app.core.db import PydanticJSON
from app.core.i18n import I18nLongText, I18nText, ResponseMeta
from app.core.validation import Slug
from app.models.base import PatchModel, Timestamped, uuid_pk


class RoadmapStatus(StrEnum):
    planned = "planned"
    in_progress = "in_progress"
    done = "done"
    postponed = "postponed"
    cancelled = "cancelled"


class Pilot(BaseModel):
    """A pilot or experiment of a phase (e.g. the joint recruitment campaign)."""

    model_config = ConfigDict(extra="forbid")

    key: Slug
    title: I18nText
    description: I18nLongText | None = None
    status: RoadmapStatus = RoadmapStatus.planned
    outcome: I18nLongText | None = None


def _unique_pilots(pilots: list[Pilot] | None) -> None:
    if pilots is None:
        return
    keys = [pilot.key for pilot in pilots]
    if len(keys) != len(set(keys)):
        raise ValueError("every pilot of a phase needs its own key")


class PhaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Slug = PydanticField(description="Stable within the municipality: `2022-h1`.")
    starts_on: date
    ends_on: date
    title: I18nText
    description: I18nLongText | None = None
    goals: list[I18nText] = PydanticField(default_factory=list, max_length=50)
    pilots: list[Pilot] = PydanticField(default_factory=list, max_length=50)
    status: RoadmapStatus | None = PydanticField(
        default=None,
        description="Leave out (or null) to let the dates decide: planned before the "
        "phase, in_progress during it, done after it.",
    )
    outcome: I18nLongText | None = None
    draft: bool = PydanticField(
        default=False, description="A draft phase is seen only by the municipality's staff."
    )

    @model_validator(mode="after")
    def _valid(self) -> Self:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on must not be before starts_on")
        _unique_pilots(self.pilots)
        return self


class PhaseUpdate(PatchModel):
    """`goals` and `pilots`, when sent, replace the whole list."""

    nullable_fields = frozenset({"description", "outcome", "status"})

    starts_on: date | None = None
    ends_on: date | None = None
    title: I18nText | None = None
    description: I18nLongText | None = None
    goals: list[I18nText] | None = PydanticField(default=None, max_length=50)
    pilots: list[Pilot] | None = PydanticField(default=None, max_length=50)
    status: RoadmapStatus | None = None
    outcome: I18nLongText | None = None
    draft: bool | None = PydanticField(default=None, description="`false` publishes the phase.")

    @model_validator(mode="after")
    def _valid(self) -> Self:
        _unique_pilots(self.pilots)
        return self


class ReviewCreate(BaseModel):
    """The yearly review of the operating model: the four questions of the seed."""

    model_config = ConfigDict(extra="forbid")

    year: int = PydanticField(ge=2000, le=2100)
    reviewed_on: date
    reviewed_by: I18nText = PydanticField(
        description="Who reviewed: the body responsible (e.g. the management team)."
    )
    how_it_worked: I18nLongText
    results: I18nLongText
    strengths: I18nLongText
    to_develop: I18nLongText
    changes_made: I18nLongText | None = PydanticField(
        default=None, description="What was changed in the process because of the review."
    )


class ReviewUpdate(PatchModel):
    nullable_fields = frozenset({"changes_made"})

    reviewed_on: date | None = None
    reviewed_by: I18nText | None = None
    how_it_worked: I18nLongText | None = None
    results: I18nLongText | None = None
    strengths: I18nLongText | None = None
    to_develop: I18nLongText | None = None
    changes_made: I18nLongText | None = None


# ---- tables ----------------------------------------------------------------------------------


class RoadmapPhase(Timestamped, table=True):
    __tablename__ = "roadmap_phase"
    __table_args__ = (UniqueConstraint("municipality_id", "key"),)

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(
        foreign_key="municipality.id", ondelete="CASCADE", index=True
    )
    key: str = Field(max_length=64)
    starts_on: date = Field(sa_column=Column(Date, nullable=False))
    ends_on: date = Field(sa_column=Column(Date, nullable=False))
    title: I18nText = Field(sa_type=PydanticJSON(I18nText))
    description: I18nLongText | None = Field(default=None, sa_type=PydanticJSON(I18nLongText))
    goals: list[I18nText] = Field(default_factory=list, sa_type=PydanticJSON(list[I18nText]))
    pilots: list[Pilot] = Field(default_factory=list, sa_type=PydanticJSON(list[Pilot]))
    # None: the dates decide (see app.services.roadmap.phase_status).
    status: str | None = Field(default=None, max_length=16)
    outcome: I18nLongText | None = Field(default=None, sa_type=PydanticJSON(I18nLongText))
    updated_by_name: str | None = Field(default=None, max_length=200)
    changed_fields: list[str] = Field(default_factory=list, sa_type=PydanticJSON(list[str]))
    draft: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class RoadmapReview(Timestamped, table=True):
    __tablename__ = "roadmap_review"
    __table_args__ = (UniqueConstraint("municipality_id", "year"),)

    id: uuid.UUID = uuid_pk()
    municipality_id: uuid.UUID = Field(
        foreign_key="municipality.id", ondelete="CASCADE", index=True
    )
    year: int
    reviewed_on: date = Field(sa_column=Column(Date, nullable=False))
    reviewed_by: I18nText = Field(sa_type=PydanticJSON(I18nText))
    how_it_worked: I18nLongText = Field(sa_type=PydanticJSON(I18nLongText))
    results: I18nLongText = Field(sa_type=PydanticJSON(I18nLongText))
    strengths: I18nLongText = Field(sa_type=PydanticJSON(I18nLongText))
    to_develop: I18nLongText = Field(sa_type=PydanticJSON(I18nLongText))
    changes_made: I18nLongText | None = Field(default=None, sa_type=PydanticJSON(I18nLongText))
    updated_by_name: str | None = Field(default=None, max_length=200)
    changed_fields: list[str] = Field(default_factory=list, sa_type=PydanticJSON(list[str]))


# ---- output ----------------------------------------------------------------------------------

LocalText = I18nText | str


class PilotPublic(BaseModel):
    key: str
    title: LocalText
    description: LocalText | None
    status: RoadmapStatus
    outcome: LocalText | None


class LastUpdate(BaseModel):
    """The seed's "Viimeisin päivitys / Päivittäjä / Päivitetyt kohdat"."""

    at: datetime
    by: str | None
    fields: list[str]


class PhasePublic(BaseModel):
    id: uuid.UUID
    key: str
    starts_on: date
    ends_on: date
    timing: str = PydanticField(description="past, current or upcoming, by today's date.")
    title: LocalText
    description: LocalText | None
    goals: list[LocalText]
    pilots: list[PilotPublic]
    status: RoadmapStatus = PydanticField(
        description="As set by the municipality, else from the dates (see status_source)."
    )
    status_source: str = PydanticField(description="set, or dates")
    outcome: LocalText | None
    draft: bool = PydanticField(description="Seen only by the municipality's staff.")
    last_update: LastUpdate
    meta: ResponseMeta | None = None


class ReviewPublic(BaseModel):
    id: uuid.UUID
    year: int
    reviewed_on: date
    reviewed_by: LocalText
    how_it_worked: LocalText
    results: LocalText
    strengths: LocalText
    to_develop: LocalText
    changes_made: LocalText | None
    last_update: LastUpdate
    meta: ResponseMeta | None = None
