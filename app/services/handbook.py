"""The mover's handbook ("tulomuuttajan opas"): a municipality's published service cards
compiled into one document a mover can read, print, save or receive by email.

The operating model asks for cards that a municipality can "compile into a guide in
Finnish, English or other languages". Compiling happens in two steps so that other
features (the emailed info package) can reuse either one:

1. `build_handbook` reads the cards (a constant number of queries however many cards)
   and resolves every text for one language into a `Handbook` view: plain values,
   each translatable text remembering which language it actually is in, so that a
   Finnish fallback can be marked `lang="fi"` for screen readers and hyphenation.
2. `render_html` (Jinja2, autoescaped: every text here was typed by municipal staff)
   and `render_markdown` turn the view into text.

`compile_handbook` does both. Nothing here knows about HTTP.
"""

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import phonenumbers
from jinja2 import Environment, PackageLoader, StrictUndefined
from sqlalchemy import or_
from sqlalchemy import select as sa_select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import execute, json_array_contains
from app.core.errors import FieldProblem, ValidationFailed
from app.core.i18n import FALLBACK_LANGUAGE, LANGUAGES
from app.core.time import HELSINKI
from app.models.service_card import CardStatus, ServiceCard, Topic
from app.services import service_card as card_service
from app.services.service_card import Document

Format = Literal["html", "md"]
FORMATS: tuple[Format, ...] = ("html", "md")
MEDIA_TYPES: dict[Format, str] = {
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}

# ---- wording -------------------------------------------------------------------------------
# The handbook's own words in each language the API serves. Municipality names are not
# inflected in Finnish ("Tulomuuttajan opas – Kemijärvi"), so no sentence needs a case
# ending of a name nobody has declined for us.

LABELS: dict[str, dict[str, str]] = {
    "fi": {
        "title": "Tulomuuttajan opas – {name}",
        "intro": (
            "Tähän oppaaseen on koottu kunnan palvelukortit: palvelut, yhteystiedot ja "
            "muistilista kaikille, jotka muuttavat paikkakunnalle tai harkitsevat muuttoa."
        ),
        "contents": "Sisällys",
        "empty": "Kunnalla ei ole vielä julkaistuja palvelukortteja.",
        "empty_topics": "Valituista aiheista ei ole vielä julkaistuja palvelukortteja.",
        "when": "Milloin",
        "links": "Linkit",
        "phone": "Puhelin",
        "call_price": "puhelun hinta",
        "email": "Sähköposti",
        "address": "Osoite",
        "opening_hours": "Aukioloajat",
        "languages": "Palvelukielet",
        "updated": "Viimeisin päivitys {date}",
        "updated_by": "Päivittäjä {name}",
        "updated_items": "Päivitetyt kohdat: {items}",
        "before": "Ennen muuttoa",
        "during": "Muuton aikana",
        "after": "Muuton jälkeen",
    },
    "en": {
        "title": "Mover's handbook – {name}",
        "intro": (
            "This handbook collects the municipality's service cards: the services, contacts "
            "and checklist for everyone moving here or thinking about it."
        ),
        "contents": "Contents",
        "empty": "The municipality has no published service cards yet.",
        "empty_topics": "There are no published service cards on the chosen topics yet.",
        "when": "When",
        "links": "Links",
        "phone": "Phone",
        "call_price": "price of the call",
        "email": "Email",
        "address": "Address",
        "opening_hours": "Opening hours",
        "languages": "Service languages",
        "updated": "Last updated {date}",
        "updated_by": "Updated by {name}",
        "updated_items": "Updated items: {items}",
        "before": "Before the move",
        "during": "During the move",
        "after": "After the move",
    },
    "sv": {
        "title": "Inflyttarens guide – {name}",
        "intro": (
            "Den här guiden samlar kommunens servicekort: tjänster, kontaktuppgifter och en "
            "checklista för alla som flyttar hit eller funderar på att flytta."
        ),
        "contents": "Innehåll",
        "empty": "Kommunen har inga publicerade servicekort ännu.",
        "empty_topics": "Det finns inga publicerade servicekort om de valda ämnena ännu.",
        "when": "När",
        "links": "Länkar",
        "phone": "Telefon",
        "call_price": "samtalets pris",
        "email": "E-post",
        "address": "Adress",
        "opening_hours": "Öppettider",
        "languages": "Betjäningsspråk",
        "updated": "Senast uppdaterad {date}",
        "updated_by": "Uppdaterad av {name}",
        "updated_items": "Uppdaterade punkter: {items}",
        "before": "Före flytten",
        "during": "Under flytten",
        "after": "Efter flytten",
    },
}

_MONTHS: dict[str, tuple[str, ...]] = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "sv": (
        "januari",
        "februari",
        "mars",
        "april",
        "maj",
        "juni",
        "juli",
        "augusti",
        "september",
        "oktober",
        "november",
        "december",
    ),
}

# Service languages are stored as ISO 639 codes; a reader wants words. Codes not
# listed here are shown as they are (upper-cased), which is still understandable.
_LANGUAGE_NAMES: dict[str, tuple[str, str, str]] = {
    # code: (fi, en, sv)
    "fi": ("suomi", "Finnish", "finska"),
    "sv": ("ruotsi", "Swedish", "svenska"),
    "en": ("englanti", "English", "engelska"),
    "se": ("pohjoissaame", "Northern Sami", "nordsamiska"),
    "smn": ("inarinsaame", "Inari Sami", "enaresamiska"),
    "sms": ("koltansaame", "Skolt Sami", "skoltsamiska"),
    "ru": ("venäjä", "Russian", "ryska"),
    "et": ("viro", "Estonian", "estniska"),
    "uk": ("ukraina", "Ukrainian", "ukrainska"),
    "de": ("saksa", "German", "tyska"),
    "fr": ("ranska", "French", "franska"),
    "es": ("espanja", "Spanish", "spanska"),
    "ar": ("arabia", "Arabic", "arabiska"),
    "so": ("somali", "Somali", "somaliska"),
    "fa": ("persia", "Persian", "persiska"),
    "zh": ("kiina", "Chinese", "kinesiska"),
    "th": ("thai", "Thai", "thailändska"),
    "no": ("norja", "Norwegian", "norska"),
    "fit": ("meänkieli", "Meänkieli", "meänkieli"),
    "sgn": ("viittomakieli", "sign language", "teckenspråk"),
}


# ---- the view ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A text resolved for the reader, and the language it is really in (a fallback
    to Finnish is marked in HTML so that assistive technology reads it as Finnish)."""

    value: str
    lang: str


@dataclass(frozen=True)
class LinkView:
    url: str
    label: Text | None


@dataclass(frozen=True)
class PhoneView:
    number: str  # E.164, for tel: links
    display: str  # grouped for reading, e.g. +358 40 1234567
    price: Text | None


@dataclass(frozen=True)
class EntryView:
    kind: str
    name: Text
    description: Text | None
    when: str | None
    links: tuple[LinkView, ...]
    phones: tuple[PhoneView, ...]
    email: str | None
    address: Text | None
    opening_hours: Text | None
    languages: tuple[str, ...]

    @property
    def has_details(self) -> bool:
        return bool(
            self.when
            or self.links
            or self.phones
            or self.email
            or self.address
            or self.opening_hours
            or self.languages
        )


@dataclass(frozen=True)
class SectionView:
    anchor: str
    heading: Text
    entries: tuple[EntryView, ...]


@dataclass(frozen=True)
class CardView:
    anchor: str
    topic: str
    title: Text
    summary: Text | None
    sections: tuple[SectionView, ...]
    updated: str


@dataclass(frozen=True)
class Handbook:
    """Everything the renderers need, already in the reader's language."""

    lang: str
    title: str
    intro: str
    municipality: str
    labels: Mapping[str, str]
    cards: tuple[CardView, ...]
    empty_text: str  # what to say when `cards` is empty


# ---- reading -------------------------------------------------------------------------------


def _resolve_lang(lang: str | None) -> str:
    return lang if lang in LANGUAGES else FALLBACK_LANGUAGE


def _text(value: Mapping[str, str] | None, lang: str) -> Text | None:
    """The translation in `lang`, else Finnish (which every translatable text has)."""
    if not value:
        return None
    own = value.get(lang)
    if own is not None:
        return Text(own, lang)
    if FALLBACK_LANGUAGE in value:
        return Text(value[FALLBACK_LANGUAGE], FALLBACK_LANGUAGE)
    code, first = next(iter(value.items()))
    return Text(first, code)


def _required_text(value: Mapping[str, str] | None, lang: str) -> Text:
    return _text(value, lang) or Text("", lang)


def format_date(moment: datetime, lang: str) -> str:
    """A calendar date in Helsinki time, written the way each language writes dates."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(HELSINKI)
    if lang in _MONTHS:
        return f"{local.day} {_MONTHS[lang][local.month - 1]} {local.year}"
    return f"{local.day}.{local.month}.{local.year}"


def updated_line(document: Document, lang: str) -> str:
    """The card's "Viimeisin päivitys / Päivittäjä / Päivitetyt kohdat" footer.

    Updated items are stored as field names and Finnish entry names (that is how the
    history records them), so they are shown as recorded.
    """
    labels = LABELS[lang]
    parts: list[str] = []
    if document.get("last_updated") is not None:
        parts.append(labels["updated"].format(date=format_date(document["last_updated"], lang)))
    if document.get("updated_by"):
        parts.append(labels["updated_by"].format(name=document["updated_by"]))
    if document.get("updated_items"):
        parts.append(labels["updated_items"].format(items=", ".join(document["updated_items"])))
    return " · ".join(parts)


def language_name(code: str, lang: str) -> str:
    names = _LANGUAGE_NAMES.get(code)
    if names is None:
        return code.upper()
    return names[{"fi": 0, "en": 1, "sv": 2}.get(lang, 0)]


def _display_phone(number: str) -> str:
    """+358401234567 → +358 40 1234567: easier to read aloud and to type from paper."""
    try:
        parsed = phonenumbers.parse(number, "FI")
    except phonenumbers.NumberParseException:
        return number
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL))


def _entry(entry: Document, lang: str) -> EntryView:
    timing = entry.get("when")
    return EntryView(
        kind=str(entry.get("kind") or ""),
        name=_required_text(entry.get("name"), lang),
        description=_text(entry.get("description"), lang),
        when=LABELS[lang].get(timing) if timing in ("before", "during", "after") else None,
        links=tuple(
            LinkView(url=link["url"], label=_text(link.get("label"), lang))
            for link in entry.get("links") or []
        ),
        phones=tuple(
            PhoneView(
                number=phone["number"],
                display=_display_phone(phone["number"]),
                price=_text(phone.get("price"), lang),
            )
            for phone in entry.get("phones") or []
        ),
        email=entry.get("email"),
        address=_text(entry.get("address"), lang),
        opening_hours=_text(entry.get("opening_hours"), lang),
        languages=tuple(language_name(code, lang) for code in entry.get("languages") or []),
    )


def _card(document: Document, lang: str) -> CardView:
    anchor = f"card-{document['id']}"
    return CardView(
        anchor=anchor,
        topic=document["topic"],
        title=_required_text(document.get("title"), lang),
        summary=_text(document.get("summary"), lang),
        sections=tuple(
            SectionView(
                anchor=f"{anchor}-{index}",
                heading=_required_text(section.get("heading"), lang),
                entries=tuple(_entry(entry, lang) for entry in section.get("entries") or []),
            )
            for index, section in enumerate(document.get("sections") or [], start=1)
        ),
        updated=updated_line(document, lang),
    )


def normalise_topics(topics: Sequence[str] | None) -> list[str] | None:
    """Trimmed, de-duplicated topic keys; None (every card) when none are left."""
    if topics is None:
        return None
    keys = list(dict.fromkeys(key.strip() for key in topics if key.strip()))
    return keys or None


async def published_card_ids(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    topics: Sequence[str] | None = None,
    topics_field: str = "topics",
    strict_topics: bool = True,
    personas: Sequence[str] = (),
) -> list[uuid.UUID]:
    """The municipality's published cards in its card order, optionally of some topics.

    With `strict_topics` an unknown topic key is refused rather than ignored: a reader
    who asked for a topic by name should hear that it does not exist. A caller with a
    fixed vocabulary of topics that not every municipality has (the info package)
    passes `strict_topics=False` and simply gets the cards of the topics that exist.
    `personas` adds the cards written for those personas (with topics: either).
    """
    keys = normalise_topics(topics)
    statement = sa_select(col(ServiceCard.id)).where(
        col(ServiceCard.municipality_id) == municipality_id,
        col(ServiceCard.status) == CardStatus.published,
    )
    if keys is not None and strict_topics:
        known = [
            topic.key
            for topic in await card_service.list_topics(
                session=session, municipality_id=municipality_id
            )
        ]
        unknown = [key for key in keys if key not in known]
        if unknown:
            raise ValidationFailed(
                f"Unknown topic {', '.join(repr(key) for key in unknown)}.",
                errors=[
                    FieldProblem(
                        topics_field,
                        f"unknown topic {', '.join(unknown)}; "
                        f"this municipality has {', '.join(known) or 'no topics'}",
                        "unknown",
                    )
                ],
            )
    if keys is not None or personas:
        dialect = session.get_bind().dialect.name
        wanted = [json_array_contains(ServiceCard.personas, p, dialect) for p in personas]
        if keys is not None:
            wanted.append(col(Topic.key).in_(keys))
        statement = statement.join(Topic, Topic.id == ServiceCard.topic_id).where(  # type: ignore[arg-type]
            or_(*wanted)
        )
    rows = await execute(
        session, statement.order_by(col(ServiceCard.position), col(ServiceCard.id))
    )
    return [row.id for row in rows.all()]


async def build_handbook(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    municipality_name: Mapping[str, str],
    lang: str | None,
    topics: Sequence[str] | None = None,
    topics_field: str = "topics",
    strict_topics: bool = True,
    personas: Sequence[str] = (),
) -> Handbook:
    """The handbook's content in one language, ready for any renderer.

    Queries: the topic keys (only when `topics` is given), the card ids, and
    `load_documents`' fixed handful, however many cards there are.
    """
    language = _resolve_lang(lang)
    labels = LABELS[language]
    keys = normalise_topics(topics)
    ids = await published_card_ids(
        session=session,
        municipality_id=municipality_id,
        topics=keys,
        topics_field=topics_field,
        strict_topics=strict_topics,
        personas=personas,
    )
    documents = await card_service.load_documents(session, ids)
    name = _required_text(municipality_name, language).value
    return Handbook(
        lang=language,
        title=labels["title"].format(name=name),
        intro=labels["intro"],
        municipality=name,
        labels=labels,
        cards=tuple(_card(document, language) for document in documents),
        empty_text=labels["empty" if keys is None else "empty_topics"],
    )


# ---- HTML ----------------------------------------------------------------------------------

# Autoescape is on for every template: all card text is user input.
_TEMPLATES = Environment(
    loader=PackageLoader("app", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render_html(handbook: Handbook) -> str:
    """A standalone, printable HTML5 page: no scripts and no external resources."""
    return _TEMPLATES.get_template("handbook.html").render(handbook=handbook)


# ---- Markdown ------------------------------------------------------------------------------

_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~])")
_MD_LINE_START = re.compile(r"^(\s*)(?:([#+\-=>])|(\d+)([.)]))")


def _escape_line_start(match: re.Match[str]) -> str:
    """`#`, `-`, `+`, `=`, `>` get a backslash; in `1.` the dot does (`\\1` is no escape)."""
    indent, mark, digits, dot = match.groups()
    if mark is not None:
        return f"{indent}\\{mark}"
    return f"{indent}{digits}\\{dot}"


def md_escape(text: str, *, block: bool = False) -> str:
    """Staff-written text as literal Markdown: no emphasis, links, code, raw HTML or
    tables by accident. Inline text (names, labels, headings) is kept on one line;
    a `block` (a summary, a description) keeps its lines, and none of them becomes a
    heading, list or quote because it happens to start with `#`, `-`, `1.` or `>`."""
    if not block:
        return _MD_INLINE.sub(r"\\\1", " ".join(text.split()))
    lines = []
    for line in text.splitlines():
        escaped = _MD_INLINE.sub(r"\\\1", line)
        lines.append(_MD_LINE_START.sub(_escape_line_start, escaped))
    return "\n".join(lines)


def _md_url(url: str) -> str:
    """A link destination that cannot end the link early (spaces and brackets encoded)."""
    return (
        url.replace(" ", "%20")
        .replace("(", "%28")
        .replace(")", "%29")
        .replace("<", "%3C")
        .replace(">", "%3E")
    )


def _md_block(text: str, indent: str) -> list[str]:
    """A multi-line text inside a list item: every line indented, blank lines kept."""
    return [f"{indent}{line}" if line else "" for line in md_escape(text, block=True).split("\n")]


def _md_entry(entry: EntryView, labels: Mapping[str, str]) -> list[str]:
    lines = [f"- **{md_escape(entry.name.value)}**"]
    if entry.description is not None:
        lines += ["", *_md_block(entry.description.value, "  ")]
    details: list[str] = []
    if entry.when:
        details.append(f"{labels['when']}: {md_escape(entry.when)}")
    if entry.links:
        links = ", ".join(
            f"[{md_escape(link.label.value if link.label else link.url)}]({_md_url(link.url)})"
            for link in entry.links
        )
        details.append(f"{labels['links']}: {links}")
    for phone in entry.phones:
        text = f"{labels['phone']}: [{md_escape(phone.display)}](tel:{phone.number})"
        if phone.price is not None:
            text += f" ({labels['call_price']}: {md_escape(phone.price.value)})"
        details.append(text)
    if entry.email:
        details.append(
            f"{labels['email']}: [{md_escape(entry.email)}]({_md_url('mailto:' + entry.email)})"
        )
    if entry.address is not None:
        details.append(f"{labels['address']}: {md_escape(entry.address.value)}")
    if entry.opening_hours is not None:
        details.append(f"{labels['opening_hours']}: {md_escape(entry.opening_hours.value)}")
    if entry.languages:
        details.append(f"{labels['languages']}: {md_escape(', '.join(entry.languages))}")
    if details:
        lines += ["", *(f"  - {detail}" for detail in details)]
    return lines


def render_markdown(handbook: Handbook) -> str:
    """The same content as Markdown (CommonMark; anchors as inline HTML ids)."""
    labels = handbook.labels
    out = [f"# {md_escape(handbook.title)}", "", handbook.intro, ""]
    if not handbook.cards:
        out += [handbook.empty_text, ""]
        return "\n".join(out)
    out += [f"**{labels['contents']}**", ""]
    out += [f"- [{md_escape(card.title.value)}](#{card.anchor})" for card in handbook.cards]
    for card in handbook.cards:
        out += ["", f'<a id="{card.anchor}"></a>', "", f"## {md_escape(card.title.value)}", ""]
        if card.summary is not None:
            out += [md_escape(card.summary.value, block=True), ""]
        for section in card.sections:
            out += [f"### {md_escape(section.heading.value)}", ""]
            for entry in section.entries:
                out += [*_md_entry(entry, labels), ""]
        if card.updated:
            out += [f"*{md_escape(card.updated)}*", ""]
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


# ---- both ----------------------------------------------------------------------------------


async def compile_handbook(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    municipality_name: dict[str, str],
    lang: str,
    topics: list[str] | None,
    fmt: Format,
    topics_field: str = "topics",
    strict_topics: bool = True,
    personas: Sequence[str] = (),
) -> str:
    """The municipality's published cards (all, or those of `topics`, in card order)
    as one document in `lang` (texts fall back to Finnish) and in `fmt`.

    `topics_field` names the input in a 422 (`query.topics` over REST, `body.topics`
    for a caller that takes the topics in a request body); `strict_topics=False`
    ignores topic keys this municipality does not have instead of refusing them.
    """
    handbook = await build_handbook(
        session=session,
        municipality_id=municipality_id,
        municipality_name=municipality_name,
        lang=lang,
        topics=topics,
        topics_field=topics_field,
        strict_topics=strict_topics,
        personas=personas,
    )
    return render_html(handbook) if fmt == "html" else render_markdown(handbook)
