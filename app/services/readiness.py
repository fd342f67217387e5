"""Can this municipality go live? What blocks it and what it should still look at.

The report reads what the public would see (the landing document, the published
cards, the contact channels) and says, item by item, what to fix and where: a `code`,
a message in the asked language, and a pointer (the resource URL and the field).
Blocking items keep `ready` false; advisory ones do not.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.i18n import LANGUAGES
from app.models.guide import Guide
from app.models.municipality import Municipality
from app.services import guide as guide_service
from app.services import handbook as handbook_service
from app.services import landing as landing_service
from app.services import persona as persona_service
from app.services import service_card as card_service

API_BASE = "/api/v1/municipalities"
Document = dict[str, Any]

# Placeholder numbers as seeds and templates write them: "nro 12345", "+358 16 123 4000",
# one digit over and over. A real switchboard number is never one of these.
_PLACEHOLDER_DIGITS = (re.compile(r"12345"), re.compile(r"1234"), re.compile(r"(\d)\1{5,}"))

_MESSAGES: dict[str, dict[str, str]] = {
    "placeholder-phone": {
        "fi": "Puhelinnumero {value} on paikkamerkki: vaihda oikeaan numeroon.",
        "en": "The phone number {value} is a placeholder: replace it with the real one.",
        "sv": "Telefonnumret {value} är en platshållare: byt till det riktiga numret.",
    },
    "no-service-promise": {
        "fi": "Palvelulupausta ei ole julkaistu.",
        "en": "No service promise is published.",
        "sv": "Inget servicelöfte är publicerat.",
    },
    "empty-tile": {
        "fi": "Palvelutiilellä {value} ei ole kortteja eikä linkkejä.",
        "en": "The service tile {value} has no cards and no links.",
        "sv": "Serviceplattan {value} har inga kort och inga länkar.",
    },
    "missing-translations": {
        "fi": "Kieli {value} on käytössä, mutta {count} julkaistua tekstiä on kääntämättä.",
        "en": "{value} is enabled, but {count} published texts are not translated.",
        "sv": "Språket {value} används, men {count} publicerade texter är inte översatta.",
    },
    "no-contact": {
        "fi": "Kuntaan ei voi ottaa yhteyttä: puhelin, sähköposti ja verkkosivu puuttuvat.",
        "en": "There is no way to contact the municipality: no phone, email or web site.",
        "sv": "Det finns inget sätt att kontakta kommunen: telefon, e-post och webbplats saknas.",
    },
    "stale-cards": {
        "fi": "{count} palvelukorttia on tarkistamatta yli {value} päivään.",
        "en": "{count} service cards have not been checked for over {value} days.",
        "sv": "{count} servicekort har inte kontrollerats på över {value} dagar.",
    },
    "no-active-guide": {
        "fi": "Yhtään tulomuuttajan opasta ei ole aktiivisena.",
        "en": "No guide is active.",
        "sv": "Ingen guide är aktiv.",
    },
    "no-story-hashtag": {
        "fi": "Tarinasyötteelle ei ole asetettu aihetunnistetta: kaikki hyväksytyt julkaisut "
        "näkyvät.",
        "en": "No stories hashtag is set: every approved post fills the story feed.",
        "sv": "Ingen berättelsehashtagg är vald: alla godkända inlägg visas.",
    },
    "empty-tile-description": {
        "fi": "Palvelutiilellä {value} ei ole kuvausta.",
        "en": "The service tile {value} has no description.",
        "sv": "Serviceplattan {value} saknar beskrivning.",
    },
    "names-another-municipality": {
        "fi": "Teksti mainitsee kunnan {value}: tarkista kopioitu teksti.",
        "en": "A text names {value}: review the copied text.",
        "sv": "En text nämner {value}: granska den kopierade texten.",
    },
}
_LANGUAGE_NAMES = {
    "fi": {"fi": "suomi", "en": "Finnish", "sv": "finska"},
    "en": {"fi": "englanti", "en": "English", "sv": "engelska"},
    "sv": {"fi": "ruotsi", "en": "Swedish", "sv": "svenska"},
}


@dataclass(frozen=True)
class Item:
    code: str
    resource: str
    field: str
    value: str = ""
    count: int = 0

    def document(self, lang: str) -> Document:
        words = _MESSAGES[self.code].get(lang) or _MESSAGES[self.code]["fi"]
        value = _LANGUAGE_NAMES.get(self.value, {}).get(lang, self.value)
        return {
            "code": self.code,
            "message": words.format(value=value, count=self.count),
            "pointer": {"resource": self.resource, "field": self.field},
        }


def is_placeholder_phone(number: str | None) -> bool:
    """A number of a known placeholder shape (see `_PLACEHOLDER_DIGITS`)."""
    if not number:
        return False
    digits = re.sub(r"\D", "", number)
    if digits.startswith("358"):
        digits = digits[3:]
    return any(pattern.search(digits) for pattern in _PLACEHOLDER_DIGITS)


def _translations(value: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every translations object ({"fi": ..., "en": ...}) in a JSON document."""
    if isinstance(value, dict):
        if isinstance(value.get("fi"), str) and set(value) <= set(LANGUAGES):
            yield path, value
            return
        for key, item in value.items():
            yield from _translations(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _translations(item, f"{path}[{index}]")


def _untranslated(document: Any, lang: str) -> list[str]:
    return [path for path, texts in _translations(document, "") if not texts.get(lang)]


def _stem(name: str) -> str:
    """Enough of a Finnish place name to find its inflected forms (Kemijärvellä)."""
    return name[:-1] if len(name) > 5 and name[-1] in "iae" else name


async def report(
    *,
    session: AsyncSession,
    municipality: Municipality,
    lang: str,
    stale_after_days: int,
) -> Document:
    """`{ready, blocking, advisory}` for one municipality, messages in `lang`."""
    slug = municipality.slug
    base = f"{API_BASE}/{slug}"
    blocking: list[Item] = []
    advisory: list[Item] = []

    contact = municipality.contact
    phone = contact.phone.number if contact.phone else None
    if is_placeholder_phone(phone) or (contact.phone and contact.phone.placeholder):
        blocking.append(Item("placeholder-phone", base, "contact.phone.number", str(phone)))
    if not (contact.phone or contact.email or contact.web_site):
        blocking.append(Item("no-contact", base, "contact"))
    guides = list(
        await session.exec(select(Guide).where(col(Guide.municipality_id) == municipality.id))
    )
    for guide in guides:
        for index, detail in enumerate(guide.contacts):
            if detail.kind == "phone" and is_placeholder_phone(detail.value):
                blocking.append(
                    Item(
                        "placeholder-phone",
                        f"{base}/guides/{guide.id}",
                        f"contacts[{index}].value",
                        detail.value,
                    )
                )

    promise = await persona_service.get_promise(session=session, municipality_id=municipality.id)
    if promise is None:
        blocking.append(Item("no-service-promise", f"{base}/service-promise", "title"))

    page, _ = await landing_service.landing(session=session, municipality_id=municipality.id)
    config = await landing_service.get_config(session=session, municipality_id=municipality.id)
    for index, tile in enumerate(page["tiles"]):
        key = tile["key"]
        if not tile["cards"] and not tile["links"]:
            blocking.append(Item("empty-tile", f"{base}/landing-config", f"tiles[{index}]", key))
        if not tile.get("description"):
            advisory.append(
                Item(
                    "empty-tile-description",
                    f"{base}/landing-config",
                    f"tiles[{index}].description",
                    key,
                )
            )

    card_ids = await handbook_service.published_card_ids(
        session=session, municipality_id=municipality.id
    )
    cards = await card_service.load_documents(session, card_ids)
    texts: list[tuple[str, Any]] = [(f"{base}/landing", page)]
    texts += [(f"{base}/service-cards/{card['id']}", card) for card in cards]
    for language in municipality.enabled_languages:
        if language == "fi":
            continue
        missing = [(url, paths) for url, doc in texts if (paths := _untranslated(doc, language))]
        if missing:
            url, paths = missing[0]
            total = sum(len(paths) for _, paths in missing)
            blocking.append(Item("missing-translations", url, paths[0], language, total))

    stale = await card_service.stale_count(
        session=session,
        municipality_id=municipality.id,
        stale_before=card_service.stale_cutoff(stale_after_days),
    )
    if stale:
        advisory.append(
            Item(
                "stale-cards",
                f"{base}/service-cards?stale=true",
                "verified_at",
                str(stale_after_days),
                stale,
            )
        )
    if not any(guide_service.effective_status(g) == "active" for g in guides):
        advisory.append(Item("no-active-guide", f"{base}/guides", "status"))
    if config is None or not config.story_hashtags:
        advisory.append(Item("no-story-hashtag", f"{base}/landing-config", "story_hashtags"))

    others = (
        await session.exec(select(Municipality).where(col(Municipality.id) != municipality.id))
    ).all()
    for other in others:
        stem = _stem(other.name.get("fi"))
        for url, doc in texts:
            for path, value in _translations(doc, ""):
                if any(stem in text for text in value.values() if isinstance(text, str)):
                    advisory.append(
                        Item("names-another-municipality", url, path, other.name.get(lang))
                    )

    return {
        "municipality": slug,
        "ready": not blocking,
        "blocking": [item.document(lang) for item in blocking],
        "advisory": [item.document(lang) for item in advisory],
    }


_BANNER: dict[str, dict[str, str]] = {
    "not-ready": {
        "fi": "Ei vielä valmis julkaistavaksi: valmiusraportissa {blocking} estävää ja "
        "{advisory} suositeltavaa korjausta.",
        "en": "Not ready to go live yet: the readiness report lists {blocking} blocking and "
        "{advisory} advisory items.",
        "sv": "Inte redo att publiceras än: beredskapsrapporten listar {blocking} hindrande "
        "och {advisory} rekommenderade åtgärder.",
    },
    "ready": {
        "fi": "Valmis julkaistavaksi; valmiusraportissa {advisory} suositeltavaa korjausta.",
        "en": "Ready to go live; the readiness report lists {advisory} advisory items.",
        "sv": "Redo att publiceras; beredskapsrapporten listar {advisory} rekommenderade åtgärder.",
    },
}


def banner(document: Document, lang: str) -> Document:
    """The go-live banner the landing page shows staff: the report in one sentence."""
    blocking, advisory = len(document["blocking"]), len(document["advisory"])
    words = _BANNER["ready" if document["ready"] else "not-ready"]
    return {
        "ready": document["ready"],
        "blocking": blocking,
        "advisory": advisory,
        "message": (words.get(lang) or words["fi"]).format(blocking=blocking, advisory=advisory),
        "href": f"{API_BASE}/{document['municipality']}/readiness",
    }
