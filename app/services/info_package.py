"""The "Minustako kemijärveläinen?" info package: the handbook of chosen topics by email."""

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.errors import NotFound
from app.core.security import hash_secret_token, new_secret_token, secret_token_matches
from app.core.time import utcnow
from app.models.booking import InfoPackageCreate, InfoPackageRequest

# The mover's topics (seed p. 16) mapped to the card topics that answer them.
CARD_TOPICS: dict[str, tuple[str, ...]] = {
    "jobs": ("work",),
    "premises": ("work", "entrepreneurs"),
    "daycare": ("children",),
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


def card_topics(topics: list[str]) -> list[str]:
    """The card topics to compile, in a stable order, without repeats."""
    return list(dict.fromkeys(card for topic in topics for card in CARD_TOPICS.get(topic, ())))


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
