"""The "Minustako kemijärveläinen?" info package: the handbook of chosen topics by email."""

import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.errors import NotFound
from app.core.security import hash_secret_token, new_secret_token, secret_token_matches
from app.core.time import utcnow
from app.models.booking import INFO_PACKAGE_TOPICS, InfoPackageCreate, InfoPackageRequest
from app.models.landing import LandingConfig

# The mover's topics (seed p. 16) mapped to the card topics that answer them.
CARD_TOPICS: dict[str, tuple[str, ...]] = {
    "jobs": ("work",),
    "premises": ("work", "entrepreneurs"),
    "daycare": ("children",),
    "early-education": ("children",),
    "school": ("children",),
    "hobbies": ("leisure", "children"),
    "rentals": ("home",),
    "plots": ("home",),
    "building": ("home",),
    "moving-services": ("moving-checklist", "home"),
    "social-health": ("social-health",),
    "remote-work": ("work", "home"),
    "electricity": ("home",),
    "culture": ("leisure",),
    "studies": ("leisure", "children"),
    "associations": ("leisure", "social-health"),
    "international-services": ("moving-checklist",),
    "communities": ("leisure",),
}


# Topics answered by the cards written for a persona rather than by a card topic:
# "KV-palvelut" (international services) is every card for international movers.
PERSONA_CARDS: dict[str, tuple[str, ...]] = {"international-services": ("international",)}

# The model's own names (seed p. 16) and their translations, so no front end has to
# hard-code them.
TOPIC_LABELS: dict[str, dict[str, str]] = {
    "jobs": {"fi": "Vapaat työpaikat", "en": "Open jobs", "sv": "Lediga jobb"},
    "premises": {"fi": "Vapaat toimitilat", "en": "Business premises", "sv": "Lediga lokaler"},
    "daycare": {"fi": "Päivähoito", "en": "Day care", "sv": "Dagvård"},
    "early-education": {
        "fi": "Varhaiskasvatus",
        "en": "Early childhood education",
        "sv": "Småbarnspedagogik",
    },
    "school": {"fi": "Peruskoulu", "en": "Basic education", "sv": "Grundskola"},
    "hobbies": {"fi": "Harrastukset", "en": "Hobbies", "sv": "Fritidsintressen"},
    "rentals": {"fi": "Vapaat vuokra-asunnot", "en": "Rental homes", "sv": "Lediga hyresbostäder"},
    "plots": {"fi": "Vapaat tontit", "en": "Building plots", "sv": "Lediga tomter"},
    "building": {"fi": "Rakentaminen", "en": "Building", "sv": "Byggande"},
    "moving-services": {"fi": "Muuttopalvelut", "en": "Moving services", "sv": "Flyttjänster"},
    "social-health": {
        "fi": "Sote-palvelut",
        "en": "Social and health services",
        "sv": "Social- och hälsovård",
    },
    "remote-work": {
        "fi": "Etätyö ja yhteydet",
        "en": "Remote work and connections",
        "sv": "Distansarbete och förbindelser",
    },
    "electricity": {"fi": "Sähkösopimus", "en": "Electricity contract", "sv": "Elavtal"},
    "culture": {"fi": "Kulttuuripalvelut", "en": "Cultural services", "sv": "Kulturtjänster"},
    "studies": {
        "fi": "Opinnot ja kouluttautuminen",
        "en": "Studies and training",
        "sv": "Studier och utbildning",
    },
    "associations": {"fi": "Järjestötoiminta", "en": "Associations", "sv": "Föreningsverksamhet"},
    "international-services": {
        "fi": "KV-palvelut",
        "en": "International services",
        "sv": "Internationella tjänster",
    },
    "communities": {"fi": "Yhteisöt", "en": "Communities", "sv": "Gemenskaper"},
}
DEFAULT_NAME = {
    "fi": "Tietopaketti tulomuuttajalle",
    "en": "Information package for people moving here",
    "sv": "Informationspaket för inflyttare",
}


def card_topics(topics: list[str]) -> list[str]:
    """The card topics to compile, in a stable order, without repeats."""
    return list(dict.fromkeys(card for topic in topics for card in CARD_TOPICS.get(topic, ())))


def card_personas(topics: list[str]) -> list[str]:
    """The personas whose cards the chosen topics also bring (international services)."""
    return list(dict.fromkeys(p for topic in topics for p in PERSONA_CARDS.get(topic, ())))


def package_name(config: LandingConfig | None) -> dict[str, str]:
    """What this municipality calls its info package, in every language it has."""
    if config is not None and config.info_package_name is not None:
        return DEFAULT_NAME | config.info_package_name.as_dict()
    return dict(DEFAULT_NAME)


def topics_document(config: LandingConfig | None) -> dict[str, Any]:
    """The package's name and the 18 topics a mover can choose, labelled."""
    return {
        "name": package_name(config),
        "topics": [{"key": key, "label": TOPIC_LABELS[key]} for key in INFO_PACKAGE_TOPICS],
    }


async def create(
    *, session: AsyncSession, municipality_id: uuid.UUID, data: InfoPackageCreate
) -> tuple[InfoPackageRequest, str]:
    """The request and its unsubscribe token (only the token's hash is stored)."""
    token = new_secret_token()
    request = InfoPackageRequest(
        municipality_id=municipality_id,
        email=data.email,
        language=data.language,
        topics=list(dict.fromkeys(data.topics)),
        persona=data.persona,
        consent_at=utcnow(),
        unsubscribe_token_hash=hash_secret_token(token),
    )
    session.add(request)
    await session.flush()
    return request, token


async def by_token(
    *, session: AsyncSession, municipality_id: uuid.UUID, request_id: uuid.UUID, token: str
) -> InfoPackageRequest:
    request = await session.get(InfoPackageRequest, request_id)
    if (
        request is None
        or request.municipality_id != municipality_id
        or request.erased_at is not None
        or not secret_token_matches(token, request.unsubscribe_token_hash)
    ):
        raise NotFound("No such request, or the link has expired.")
    return request


async def unsubscribe(*, session: AsyncSession, request: InfoPackageRequest) -> InfoPackageRequest:
    """No more mail, and the address is forgotten at once: it was only kept for mailing."""
    erase_personal_data(request)
    request.unsubscribed_at = utcnow()
    await session.flush()
    return request


def erase_personal_data(request: InfoPackageRequest) -> None:
    request.email = None
    request.erased_at = request.updated_at = utcnow()
    request.unsubscribe_token_hash = hash_secret_token(new_secret_token())


async def get(
    *, session: AsyncSession, municipality_id: uuid.UUID, request_id: uuid.UUID
) -> InfoPackageRequest:
    request = await session.get(InfoPackageRequest, request_id)
    if request is None or request.municipality_id != municipality_id:
        raise NotFound("No such request.")
    return request
