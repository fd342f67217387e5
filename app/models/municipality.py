"""Municipalities: the tenants. Everything municipal hangs off one of these."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel

from app.core.db import PydanticJSON
from app.core.i18n import LANGUAGES, I18nText, ResponseMeta, languages_list
from app.core.validation import Email, Hashtag, HttpUrl, PhoneNumber, Slug
from app.models.base import PatchModel, Timestamped, uuid_pk

MunicipalityCode = Annotated[str, PydanticField(pattern=r"^\d{3}$")]


class PhoneChannel(BaseModel):
    """ "Call this number on these hours at this price" — all three must be shown."""

    model_config = ConfigDict(extra="forbid")

    number: PhoneNumber
    hours: I18nText
    price: I18nText
    # A number known to be a stand-in (the seed's): the readiness report blocks going
    # live until a real one replaces it.
    placeholder: bool = False


class ContactChannels(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: PhoneChannel | None = None
    email: Email | None = None
    visiting_address: I18nText | None = None
    web_site: HttpUrl | None = None


class MunicipalityBase(SQLModel):
    slug: Slug = Field(unique=True, max_length=64)
    code: MunicipalityCode = Field(unique=True, max_length=3)
    name: I18nText = Field(sa_type=PydanticJSON(I18nText))
    default_language: str = Field(default="fi", max_length=8)
    enabled_languages: list[str] = Field(
        default_factory=lambda: ["fi", "en"], sa_type=PydanticJSON(list[str])
    )
    contact: ContactChannels = Field(
        default_factory=ContactChannels, sa_type=PydanticJSON(ContactChannels)
    )
    hashtags: list[Hashtag] = Field(default_factory=list, sa_type=PydanticJSON(list[str]))


class Municipality(MunicipalityBase, Timestamped, table=True):
    id: uuid.UUID = uuid_pk()


class _LanguageRules(BaseModel):
    @field_validator("enabled_languages", check_fields=False)
    @classmethod
    def _known_languages(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        codes = languages_list(value)
        if "fi" not in codes:
            raise ValueError("Finnish (fi) is always enabled: it is the fallback language")
        return list(dict.fromkeys(codes))

    @field_validator("default_language", check_fields=False)
    @classmethod
    def _known_default(cls, value: str | None) -> str | None:
        if value is not None and value not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return value


class MunicipalityCreate(_LanguageRules, MunicipalityBase):
    """What a platform admin sends to add a municipality."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    enabled_languages: list[str] = PydanticField(default_factory=lambda: ["fi", "en"])
    hashtags: list[Hashtag] = PydanticField(default_factory=list, max_length=50)


class MunicipalityUpdate(_LanguageRules, PatchModel):
    """A partial update: only the fields sent are changed."""

    slug: Slug | None = None
    code: MunicipalityCode | None = None
    name: I18nText | None = None
    default_language: str | None = None
    enabled_languages: list[str] | None = None
    contact: ContactChannels | None = None
    hashtags: list[Hashtag] | None = PydanticField(default=None, max_length=50)


class PhoneChannelPublic(BaseModel):
    number: str
    hours: I18nText | str
    price: I18nText | str
    placeholder: bool = PydanticField(
        default=False, description="A stand-in number: not real yet (see …/readiness)"
    )


class ContactChannelsPublic(BaseModel):
    phone: PhoneChannelPublic | None = None
    email: str | None = None
    visiting_address: I18nText | str | None = None
    web_site: str | None = None


class MunicipalityPublic(BaseModel):
    """A municipality as anyone may read it. Texts are strings when a language was asked."""

    id: uuid.UUID
    slug: str
    code: str
    name: I18nText | str
    default_language: str
    enabled_languages: list[str]
    contact: ContactChannelsPublic
    hashtags: list[str]
    updated_at: datetime
    meta: ResponseMeta | None = None

    @classmethod
    def from_row(cls, row: Municipality) -> "MunicipalityPublic":
        return cls.model_validate(
            {
                "id": row.id,
                "slug": row.slug,
                "code": row.code,
                "name": row.name,
                "default_language": row.default_language,
                "enabled_languages": row.enabled_languages,
                "contact": row.contact.model_dump(),
                "hashtags": row.hashtags,
                "updated_at": row.updated_at,
            }
        )


OnboardPart = Literal[
    "cards", "personas", "promise", "journey", "landing", "comms-plan", "fund", "roadmap"
]


class OnboardIn(BaseModel):
    """Start a municipality from another's starter kit (copies arrive as drafts)."""

    model_config = ConfigDict(extra="forbid")

    from_municipality: Slug
    parts: list[OnboardPart] | None = PydanticField(
        default=None, min_length=1, max_length=8, description="Default: every part"
    )


class OnboardReview(BaseModel):
    """A copied text, link or figure the new municipality should check."""

    resource: str = PydanticField(description="The copy's URL.")
    field: str = PydanticField(description="The field within it, e.g. `tiles[3].links[0].url`.")
    reason: Literal["text", "link", "hashtag", "amount"] = PydanticField(
        description="text: named the source (replaced where it could be); link: pointed "
        "at the source's site or listings; hashtag: named the source; amount: the "
        "source's own money figure."
    )


class OnboardOutcome(BaseModel):
    """What one onboarding call copied, part by part, and what to review."""

    municipality: str
    source: str
    copied: dict[OnboardPart, int] = PydanticField(
        description="Per part asked, how many were copied (0: present already)."
    )
    review: list[OnboardReview]
