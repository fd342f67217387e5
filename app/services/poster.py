"""The mover's wall poster ("huoneentaulu", seed p. 11–13): the service promise and
how to reach the services on one printable page, and the operating model's three
roles (the swimlanes: settlement services, communication, leadership) with what each
is responsible for."""

from typing import Any

from app.models.landing import LandingConfig
from app.models.municipality import Municipality
from app.models.persona import ServicePromise
from app.services.handbook import _TEMPLATES
from app.services.info_package import package_name
from app.services.notify import _display_phone as display_phone

# The swimlane model's three lanes, in the model's order, in our own words.
ROLES: list[dict[str, Any]] = [
    {
        "key": "settlement-services",
        "name": {
            "fi": "Asettautumispalvelut",
            "en": "Settlement services",
            "sv": "Etableringstjänster",
        },
        "responsibilities": [
            {
                "fi": "Palvelee muuttajaa ensikontaktista kotiutumiseen: keskustelut, "
                "tulomuuttajan oppaat, tietopaketti ja palvelukortit.",
                "en": "Serves the mover from the first contact until they are settled: "
                "conversations, local guides, the info package and the service cards.",
                "sv": "Betjänar inflyttaren från första kontakten tills hen har rotat "
                "sig: samtal, lokala guider, informationspaketet och servicekorten.",
            },
            {
                "fi": "Pitää palvelukortit ja palvelulupauksen ajan tasalla yli toimialarajojen.",
                "en": "Keeps the service cards and the service promise up to date across "
                "departments.",
                "sv": "Håller servicekorten och servicelöftet aktuella över förvaltningsgränserna.",
            },
        ],
    },
    {
        "key": "communication",
        "name": {"fi": "Viestintä", "en": "Communication", "sv": "Kommunikation"},
        "responsibilities": [
            {
                "fi": "Koordinoi kunnan ja muiden toimijoiden viestintää ja toteuttaa "
                "sen: laskeutumissivu, some ja tarinat.",
                "en": "Coordinates the communication of the municipality and its partners "
                "and carries it out: the landing page, social media and stories.",
                "sv": "Samordnar kommunens och partnernas kommunikation och genomför den: "
                "landningssidan, sociala medier och berättelser.",
            },
            {
                "fi": "Kerää ja analysoi tiedon neljästi vuodessa ja päivittää "
                "viestintäsuunnitelman.",
                "en": "Gathers and analyses the figures four times a year and updates the "
                "communication plan.",
                "sv": "Samlar och analyserar uppgifterna fyra gånger om året och "
                "uppdaterar kommunikationsplanen.",
            },
        ],
    },
    {
        "key": "leadership",
        "name": {"fi": "Johtaminen", "en": "Leadership", "sv": "Ledning"},
        "responsibilities": [
            {
                "fi": "Kunta johtaa asettautumispalveluja strategisesti, viestii "
                "aktiivisesti ja houkuttelee muita toimijoita mukaan.",
                "en": "The municipality leads settlement services strategically, "
                "communicates actively and brings other actors on board.",
                "sv": "Kommunen leder etableringstjänsterna strategiskt, kommunicerar "
                "aktivt och lockar med andra aktörer.",
            },
            {
                "fi": "Käsittelee raportit kahdesti vuodessa ja arvioi toimintamallin vuosittain.",
                "en": "Reviews the reports twice a year and the operating model yearly.",
                "sv": "Behandlar rapporterna två gånger om året och utvärderar "
                "verksamhetsmodellen årligen.",
            },
        ],
    },
]

_WORDS = {
    "fi": {
        "title": "Muuttajan palvelut",
        "promise": "Palvelulupaus",
        "reach": "Näin tavoitat meidät",
        "call": "Soita",
        "email": "Sähköposti",
        "visit": "Käyntiosoite",
        "web": "Verkossa",
        "book": "Varaa keskustelu tulomuuttajan oppaan kanssa: paikan päällä, etänä tai "
        "puhelimessa.",
        "package": "Tilaa maksuton tietopaketti",
        "roles": "Kuka tekee mitä",
    },
    "en": {
        "title": "Services for people moving here",
        "promise": "Our service promise",
        "reach": "How to reach us",
        "call": "Call",
        "email": "Email",
        "visit": "Visiting address",
        "web": "Online",
        "book": "Book a conversation with a local guide: in person, remotely or by phone.",
        "package": "Order the free info package",
        "roles": "Who does what",
    },
    "sv": {
        "title": "Tjänster för inflyttare",
        "promise": "Vårt servicelöfte",
        "reach": "Så når du oss",
        "call": "Ring",
        "email": "E-post",
        "visit": "Besöksadress",
        "web": "På nätet",
        "book": "Boka ett samtal med en lokal guide: på plats, på distans eller per telefon.",
        "package": "Beställ det kostnadsfria informationspaketet",
        "roles": "Vem gör vad",
    },
}


def _text(value: Any, lang: str) -> str:
    if value is None:
        return ""
    texts = value if isinstance(value, dict) else value.as_dict()
    return str(texts.get(lang) or texts.get("fi") or "")


def roles(lang: str | None) -> list[dict[str, Any]]:
    """The three roles, with every translation or in `lang`."""
    if lang is None:
        return ROLES
    return [
        {
            "key": role["key"],
            "name": _text(role["name"], lang),
            "responsibilities": [_text(r, lang) for r in role["responsibilities"]],
        }
        for role in ROLES
    ]


def render(
    *,
    municipality: Municipality,
    promise: ServicePromise | None,
    config: LandingConfig | None,
    lang: str,
) -> str:
    """One printable HTML page (A4), no scripts, no external resources."""
    contact = municipality.contact
    phone = None
    if contact.phone is not None:
        phone = {
            "number": display_phone(contact.phone.number),
            "hours": _text(contact.phone.hours, lang),
            "price": _text(contact.phone.price, lang),
        }
    return _TEMPLATES.get_template("poster.html").render(
        lang=lang,
        words=_WORDS[lang],
        name=_text(municipality.name, lang),
        promise={
            "title": _text(promise.title, lang),
            "text": _text(promise.text, lang),
            "principles": [_text(p, lang) for p in promise.principles],
        }
        if promise
        else None,
        phone=phone,
        email=contact.email,
        visit=_text(contact.visiting_address, lang),
        web=contact.web_site,
        package=package_name(config).get(lang),
        roles=roles(lang),
    )
