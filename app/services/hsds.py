"""An Open Referral HSDS 3.0 export of a municipality's published service cards.

Read-only, per municipality and language. Every published card's entries of kind
`provider` or `service` become HSDS services; checklist items are things to do, not
services, and are left out, as is everything on draft or archived cards.

Organizations: the municipality itself, and one organization per distinct provider
name (the Finnish name, case and spacing normalised) among the municipality's
published provider entries. A provider entry's service belongs to its provider's
organization; a `service` entry names no provider, so it belongs to the municipality,
which is the organization that lists it.

Identifiers are stable across exports, languages and edits: each is a UUID 5 in the
fixed namespace `NAMESPACE` of a name built from the UUID of the thing it comes from
and a suffix for the HSDS object type (`stable_id`):

    service               "{entry_id}:service"
    its phone number i    "{entry_id}:phone:{i}"          (i = 0, 1, ... in card order)
    its schedule          "{entry_id}:schedule"           (the opening hours)
    its language          "{entry_id}:language:{code}"
    its location          "{entry_id}:location"           (the address, as free text)
    service at location   "{entry_id}:service_at_location"
    topic attribute       "{entry_id}:attribute:topic"
    municipality org.     "{municipality_id}:organization"
    its phone number      "{municipality_id}:organization:phone:0"
    its location          "{municipality_id}:organization:location"
    its identifier        "{municipality_id}:organization:identifier:municipality-code"
    provider org.         "{municipality_id}:provider:{normalised Finnish name}"
    topic taxonomy        "{municipality_id}:taxonomy:card-topics"
    topic term            "{topic_id}:taxonomy_term"

A card entry keeps its UUID when its card is edited (editors send entry ids back),
so an edit of one card changes no other card's ids and no unchanged entry's id.

Nothing is invented: the free-text addresses are not split into HSDS address objects
(those need a postcode, city, state or province and country), and no metadata
records are given (they need a field-level change history the export does not keep).
"""

import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import execute
from app.core.errors import FieldProblem, NotFound, ValidationFailed
from app.core.i18n import FALLBACK_LANGUAGE, LANGUAGES, Translations
from app.models.municipality import Municipality
from app.models.service_card import CardStatus, EntryKind, ServiceCard
from app.services import service_card as card_service

HSDS_VERSION = "3.0"
# The HSDS 3.0 specification this export follows; no profile narrows it.
HSDS_PROFILE = "https://github.com/openreferral/specification/tree/3.0"
# Fixed for good: changing it would change every exported identifier.
NAMESPACE = uuid.UUID("386dbadc-6e20-4c1e-90b3-d5ee417c41b1")
EXPORTED_KINDS = frozenset({EntryKind.provider.value, EntryKind.service.value})
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100
# Far beyond any export (100 million services at the largest page size).
MAX_PAGE = 1_000_000

Object = dict[str, Any]


class UnsupportedLanguageError(ValidationFailed):
    title = "Unsupported language"


def check_language(lang: str) -> str:
    """The export's language; anything but the API's languages is a 422 problem."""
    if lang in LANGUAGES:
        return lang
    supported = ", ".join(LANGUAGES)
    raise UnsupportedLanguageError(
        f"Supported languages: {supported}.",
        code="unsupported-language",
        errors=[FieldProblem("path.lang", f"must be one of {supported}", "unsupported-language")],
        extra={"supported": list(LANGUAGES)},
    )


def stable_id(*parts: object) -> str:
    """The UUID 5 of `parts` joined with ':' in the project namespace, as HSDS wants it."""
    return str(uuid.uuid5(NAMESPACE, ":".join(str(part) for part in parts)))


def service_id(entry_id: uuid.UUID | str) -> str:
    """The HSDS id of the service a card entry becomes."""
    return stable_id(entry_id, "service")


def municipality_organization_id(municipality_id: uuid.UUID | str) -> str:
    return stable_id(municipality_id, "organization")


def normalise_name(name: str) -> str:
    """A provider name as organizations are told apart: case and spacing do not count."""
    return " ".join(name.split()).casefold()


def provider_organization_id(municipality_id: uuid.UUID | str, finnish_name: str) -> str:
    return stable_id(municipality_id, "provider", normalise_name(finnish_name))


# ---- text in the requested language ---------------------------------------------------------


def text(value: Mapping[str, str] | Translations | None, lang: str) -> str | None:
    """`value` in `lang`, falling back to Finnish, like the rest of the API."""
    if value is None:
        return None
    if isinstance(value, Translations):
        return value.get(lang)
    found = value.get(lang)
    return found if found is not None else value.get(FALLBACK_LANGUAGE)


def _language_of(value: Mapping[str, str] | Translations, lang: str) -> str:
    if isinstance(value, Translations):
        return lang if value.has(lang) else FALLBACK_LANGUAGE
    return lang if value.get(lang) is not None else FALLBACK_LANGUAGE


# Texts the export writes itself, in each API language.
_MESSAGES: dict[str, dict[str, str]] = {
    "municipality": {
        "fi": "{name} (kuntanumero {code}): kunnan asettautumispalvelut ja palvelukortit"
        " kuntaan muuttaville.",
        "sv": "{name} (kommunnummer {code}): kommunens tjänster och servicekort för inflyttare.",
        "en": "{name} (municipality code {code}): the municipality's settlement services"
        " and service cards for people moving there.",
    },
    "provider": {
        "fi": "Palveluntarjoaja, joka mainitaan palvelukorteilla ({municipality}).",
        "sv": "En tjänsteleverantör som nämns på servicekorten ({municipality}).",
        "en": "A provider listed on the service cards of {municipality}.",
    },
    "taxonomy": {
        "fi": "Palvelukorttien aiheet",
        "sv": "Servicekortens teman",
        "en": "Service card topics",
    },
    "taxonomy_description": {
        "fi": "Aiheet, joiden alle {municipality} ryhmittelee palvelukorttinsa.",
        "sv": "Teman som {municipality} grupperar sina servicekort under.",
        "en": "The topics under which {municipality} groups its service cards.",
    },
    "term_description": {
        "fi": "Palvelukortin aihe: {name}.",
        "sv": "Servicekortets tema: {name}.",
        "en": "Service card topic: {name}.",
    },
    "export": {
        "fi": "Avoin HSDS 3.0 -vienti: {municipality} – julkaistujen palvelukorttien"
        " palveluntarjoajat ja palvelut.",
        "sv": "Öppen HSDS 3.0-export: {municipality} – leverantörer och tjänster på de"
        " publicerade servicekorten.",
        "en": "Open HSDS 3.0 export: {municipality} – the providers and services on the"
        " published service cards.",
    },
    "identifier_type": {
        "fi": "Tilastokeskuksen kuntanumero",
        "sv": "Statistikcentralens kommunnummer",
        "en": "Statistics Finland municipality code",
    },
}

# Names of the languages services are most often given in, in each API language.
LANGUAGE_NAMES: dict[str, dict[str, str]] = {
    "fi": {"fi": "suomi", "sv": "finska", "en": "Finnish"},
    "sv": {"fi": "ruotsi", "sv": "svenska", "en": "Swedish"},
    "en": {"fi": "englanti", "sv": "engelska", "en": "English"},
    "se": {"fi": "pohjoissaame", "sv": "nordsamiska", "en": "Northern Sami"},
    "smn": {"fi": "inarinsaame", "sv": "enaresamiska", "en": "Inari Sami"},
    "sms": {"fi": "koltansaame", "sv": "skoltsamiska", "en": "Skolt Sami"},
    "ru": {"fi": "venäjä", "sv": "ryska", "en": "Russian"},
    "et": {"fi": "viro", "sv": "estniska", "en": "Estonian"},
    "uk": {"fi": "ukraina", "sv": "ukrainska", "en": "Ukrainian"},
    "ar": {"fi": "arabia", "sv": "arabiska", "en": "Arabic"},
    "so": {"fi": "somali", "sv": "somaliska", "en": "Somali"},
    "fa": {"fi": "persia", "sv": "persiska", "en": "Persian"},
    "de": {"fi": "saksa", "sv": "tyska", "en": "German"},
    "fr": {"fi": "ranska", "sv": "franska", "en": "French"},
    "es": {"fi": "espanja", "sv": "spanska", "en": "Spanish"},
}


def _message(key: str, lang: str, **values: str) -> str:
    return _MESSAGES[key][lang].format(**values)


def _compact(data: Object) -> Object:
    """Drop absent optional fields: HSDS types them as strings, not nulls."""
    return {key: value for key, value in data.items() if value is not None and value != []}


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _timestamp(value: datetime | None) -> str | None:
    return None if value is None else _utc(value).isoformat()


def _date(value: datetime | None) -> str | None:
    return None if value is None else _utc(value).date().isoformat()


# ---- the export ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicTerm:
    """A card topic as the export needs it."""

    id: uuid.UUID
    key: str
    name: Mapping[str, str] | Translations


@dataclass
class Export:
    """Everything one municipality exports in one language, in card order."""

    services: list[Object] = field(default_factory=list)
    organizations: list[Object] = field(default_factory=list)


def _municipality_organization(municipality: Municipality, lang: str) -> Object:
    org_id = municipality_organization_id(municipality.id)
    name = municipality.name.get(lang)
    contact = municipality.contact
    phones = []
    if contact.phone is not None:
        phones.append(
            {
                "id": stable_id(municipality.id, "organization", "phone", 0),
                "organization_id": org_id,
                "number": contact.phone.number,
                # The operating model: a number is shown with its hours and its price.
                "description": f"{contact.phone.hours.get(lang).rstrip('.')}."
                f" {contact.phone.price.get(lang)}",
            }
        )
    locations = []
    if contact.visiting_address is not None:
        locations.append(
            {
                "id": stable_id(municipality.id, "organization", "location"),
                "location_type": "physical",
                "organization_id": org_id,
                "description": contact.visiting_address.get(lang),
            }
        )
    return _compact(
        {
            "id": org_id,
            "name": name,
            "description": _message("municipality", lang, name=name, code=municipality.code),
            "email": contact.email,
            "website": contact.web_site,
            "phones": phones,
            "locations": locations,
            "organization_identifiers": [
                {
                    "id": stable_id(
                        municipality.id, "organization", "identifier", "municipality-code"
                    ),
                    "organization_id": org_id,
                    "identifier_type": _message("identifier_type", lang),
                    "identifier": municipality.code,
                }
            ],
        }
    )


def _basic(organization: Object) -> Object:
    """An organization without its nested lists, as a service embeds it."""
    keys = ("id", "name", "alternate_name", "description", "email", "website")
    return {key: organization[key] for key in keys if key in organization}


def _provider_organization(
    municipality: Municipality, org_id: str, entry: Object, lang: str
) -> Object:
    first_link = entry["links"][0]["url"] if entry["links"] else None
    return _compact(
        {
            "id": org_id,
            "name": text(entry["name"], lang),
            "description": _message("provider", lang, municipality=municipality.name.get(lang)),
            "email": entry["email"],
            "website": first_link,
        }
    )


def _topic_attribute(
    municipality: Municipality, entry_id: object, hsds_service_id: str, topic: TopicTerm, lang: str
) -> Object:
    municipality_name = municipality.name.get(lang)
    taxonomy_id = stable_id(municipality.id, "taxonomy", "card-topics")
    term_id = stable_id(topic.id, "taxonomy_term")
    term_name = text(topic.name, lang) or topic.key
    return {
        "id": stable_id(entry_id, "attribute", "topic"),
        "link_id": hsds_service_id,
        "link_entity": "service",
        "taxonomy_term_id": term_id,
        "taxonomy_term": {
            "id": term_id,
            "code": topic.key,
            "name": term_name,
            "description": _message("term_description", lang, name=term_name),
            "language": _language_of(topic.name, lang),
            "taxonomy_id": taxonomy_id,
            "taxonomy_detail": {
                "id": taxonomy_id,
                "name": _message("taxonomy", lang),
                "description": _message(
                    "taxonomy_description", lang, municipality=municipality_name
                ),
            },
        },
    }


def _service(
    entry: Object,
    card: Object,
    organization: Object,
    topic: TopicTerm | None,
    municipality: Municipality,
    lang: str,
) -> Object:
    entry_id = entry["id"]
    hsds_id = service_id(entry_id)
    phones = [
        _compact(
            {
                "id": stable_id(entry_id, "phone", index),
                "service_id": hsds_id,
                "number": phone["number"],
                "description": text(phone["price"], lang),
            }
        )
        for index, phone in enumerate(entry["phones"])
    ]
    languages = [
        _compact(
            {
                "id": stable_id(entry_id, "language", code),
                "service_id": hsds_id,
                "code": code,
                "name": LANGUAGE_NAMES.get(code, {}).get(lang),
            }
        )
        for code in dict.fromkeys(entry["languages"])
    ]
    schedules = []
    if entry["opening_hours"]:
        schedules.append(
            {
                "id": stable_id(entry_id, "schedule"),
                "service_id": hsds_id,
                "description": text(entry["opening_hours"], lang),
            }
        )
    at_locations = []
    if entry["address"]:
        location_id = stable_id(entry_id, "location")
        at_locations.append(
            {
                "id": stable_id(entry_id, "service_at_location"),
                "service_id": hsds_id,
                "location_id": location_id,
                "location": {
                    "id": location_id,
                    "location_type": "physical",
                    "description": text(entry["address"], lang),
                },
            }
        )
    attributes = [_topic_attribute(municipality, entry_id, hsds_id, topic, lang)] if topic else []
    return _compact(
        {
            "id": hsds_id,
            "organization_id": organization["id"],
            "name": text(entry["name"], lang),
            "description": text(entry["description"], lang),
            "url": entry["links"][0]["url"] if entry["links"] else None,
            "email": entry["email"],
            "status": "active",
            "assured_date": _date(card["verified_at"]),
            "last_modified": _timestamp(card["last_updated"]),
            "organization": _basic(organization),
            "phones": phones,
            "schedules": schedules,
            "service_at_locations": at_locations,
            "languages": languages,
            "attributes": attributes,
        }
    )


def build_export(
    municipality: Municipality,
    cards: Iterable[Object],
    topics: Iterable[TopicTerm],
    lang: str,
) -> Export:
    """Map published card documents (`service_card.load_documents`) to HSDS objects.

    Pure: the same cards in the same language give the same export, ids included.
    """
    by_key = {topic.key: topic for topic in topics}
    municipality_org = _municipality_organization(municipality, lang)
    export = Export(organizations=[municipality_org])
    providers: dict[str, Object] = {}
    for card in cards:
        if card["status"] != CardStatus.published:
            continue
        topic = by_key.get(card["topic"])
        for section in card["sections"]:
            for entry in section["entries"]:
                if entry["kind"] not in EXPORTED_KINDS:
                    continue
                organization = municipality_org
                if entry["kind"] == EntryKind.provider:
                    org_id = provider_organization_id(municipality.id, entry["name"]["fi"])
                    if org_id not in providers:
                        providers[org_id] = _provider_organization(
                            municipality, org_id, entry, lang
                        )
                        export.organizations.append(providers[org_id])
                    organization = providers[org_id]
                export.services.append(
                    _service(entry, card, organization, topic, municipality, lang)
                )
    return export


async def load_municipality(*, session: AsyncSession, municipality_id: uuid.UUID) -> Municipality:
    municipality = await session.get(Municipality, municipality_id)
    if municipality is None:
        raise NotFound("No such municipality.")
    return municipality


async def load_export(*, session: AsyncSession, municipality_id: uuid.UUID, lang: str) -> Export:
    """The municipality's export in `lang`: one query for the card ids, four for the
    cards (`load_documents`), one each for the municipality and its topics."""
    municipality = await load_municipality(session=session, municipality_id=municipality_id)
    card_ids = (
        (
            await execute(
                session,
                sa_select(col(ServiceCard.id))
                .where(
                    col(ServiceCard.municipality_id) == municipality_id,
                    col(ServiceCard.status) == CardStatus.published,
                )
                .order_by(col(ServiceCard.position), col(ServiceCard.id)),
            )
        )
        .scalars()
        .all()
    )
    cards = await card_service.load_documents(session, list(card_ids))
    topics = [
        TopicTerm(id=row.id, key=row.key, name=row.name)
        for row in await card_service.list_topics(session=session, municipality_id=municipality_id)
    ]
    return build_export(municipality, cards, topics, lang)


def root(
    municipality: Municipality,
    lang: str,
    *,
    base_url: str,
    openapi_url: str | None,
) -> Object:
    """The HSDS API root ("/"): version, profile and where the API is described, plus
    this export's language and the addresses of its lists (`base_url` ends with '/')."""
    name = municipality.name.get(lang)
    return _compact(
        {
            "version": HSDS_VERSION,
            "profile": HSDS_PROFILE,
            "openapi_url": openapi_url,
            "description": _message("export", lang, municipality=name),
            "language": lang,
            "municipality": {"slug": municipality.slug, "name": name},
            "services_url": f"{base_url}services",
            "organizations_url": f"{base_url}organizations",
        }
    )


def page(items: Sequence[Object], *, page_number: int, per_page: int) -> Object:
    """One HSDS page: the Page object of the HSDS OpenAPI with `contents`."""
    total = len(items)
    total_pages = math.ceil(total / per_page)
    start = (page_number - 1) * per_page
    contents = list(items[start : start + per_page])
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page_number,
        "size": len(contents),
        "first_page": page_number == 1,
        "last_page": page_number >= total_pages,
        "empty": not contents,
        "contents": contents,
    }


def find_service(export: Export, hsds_id: str) -> Object:
    """One service by its HSDS id; 404 for anything else, malformed ids included."""
    try:
        wanted = str(uuid.UUID(hsds_id))
    except ValueError:
        wanted = None
    for service in export.services:
        if service["id"] == wanted:
            return service
    raise NotFound("No such HSDS service in this municipality's export.")
