"""GraphQL types for service cards; sections and entries come through DataLoaders."""

import hashlib
import uuid
from datetime import datetime
from typing import Any

import orjson
import strawberry
from strawberry.types import Info

from app.graphql.types.common import Lang, Titled, Translations
from app.graphql.types.common import doc_text as _text
from app.graphql.types.common import doc_translations as _translations


@strawberry.type
class Link:
    url: str
    _label: strawberry.Private[dict[str, str] | None]

    @strawberry.field
    def label(self, lang: Lang = Lang.FI) -> str | None:
        return _text(self._label, lang)


@strawberry.type
class Phone:
    number: str
    _price: strawberry.Private[dict[str, str] | None]

    @strawberry.field(description="What a call costs.")
    def price(self, lang: Lang = Lang.FI) -> str | None:
        return _text(self._price, lang)


@strawberry.type
class Entry:
    id: strawberry.ID
    kind: str
    email: str | None
    languages: list[str]
    when: str | None = strawberry.field(
        description="Checklist items: before, during or after the move."
    )
    links: list[Link]
    phones: list[Phone]
    _doc: strawberry.Private[dict[str, Any]]

    @strawberry.field
    def name(self, lang: Lang = Lang.FI) -> str:
        return _text(self._doc["name"], lang) or ""

    @strawberry.field
    def name_i18n(self) -> Translations:
        translations = _translations(self._doc["name"])
        assert translations is not None
        return translations

    @strawberry.field
    def description(self, lang: Lang = Lang.FI) -> str | None:
        return _text(self._doc["description"], lang)

    @strawberry.field
    def address(self, lang: Lang = Lang.FI) -> str | None:
        return _text(self._doc["address"], lang)

    @strawberry.field
    def opening_hours(self, lang: Lang = Lang.FI) -> str | None:
        return _text(self._doc["opening_hours"], lang)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "Entry":
        return cls(
            id=strawberry.ID(str(doc["id"])),
            kind=doc["kind"],
            email=doc["email"],
            languages=doc["languages"],
            when=doc["when"],
            links=[Link(url=link["url"], _label=link["label"]) for link in doc["links"]],
            phones=[Phone(number=p["number"], _price=p["price"]) for p in doc["phones"]],
            _doc=doc,
        )


@strawberry.type
class Section:
    id: strawberry.ID
    entries: list[Entry]
    _heading: strawberry.Private[dict[str, str]]

    @strawberry.field
    def heading(self, lang: Lang = Lang.FI) -> str:
        return _text(self._heading, lang) or ""

    @strawberry.field
    def heading_i18n(self) -> Translations:
        translations = _translations(self._heading)
        assert translations is not None
        return translations

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "Section":
        return cls(
            id=strawberry.ID(str(doc["id"])),
            entries=[Entry.from_doc(entry) for entry in doc["entries"]],
            _heading=doc["heading"],
        )


@strawberry.type
class CopiedFrom:
    card_id: strawberry.ID | None
    municipality: str | None
    revision: int | None
    source_changed: bool


@strawberry.type
class ServiceCard(Titled):
    id: strawberry.ID
    municipality: str
    topic: str
    position: int
    status: str
    personas: list[str]
    verified_at: datetime | None
    last_updated: datetime
    updated_by: str | None
    updated_items: list[str]
    revision: int
    copied_from: CopiedFrom | None
    sections: list[Section] = strawberry.field(
        description="Loaded for the whole page at once through the request's DataLoaders"
    )
    _doc: strawberry.Private[dict[str, Any]]

    @strawberry.field
    def summary(self, lang: Lang = Lang.FI) -> str | None:
        return _text(self._doc["summary"], lang)

    @strawberry.field
    def summary_i18n(self) -> Translations | None:
        return _translations(self._doc["summary"])

    def memo_digest(self) -> bytes:
        """A digest of everything this card's fields are computed from (its document,
        sections and entries included): the executor keeps the card's finished subtree
        under it, so any change to the card is a different key (`app.graphql.executor`)."""
        options = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
        encoded = orjson.dumps(self._doc, default=str, option=options)  # str: asyncpg's UUID
        return hashlib.blake2b(encoded, digest_size=16).digest()

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "ServiceCard":
        """`doc["sections"]` must hold the sections with their entries (see `with_sections`)."""
        source = doc.get("copied_from")
        return cls(
            id=strawberry.ID(str(doc["id"])),
            municipality=doc["municipality"],
            topic=doc["topic"],
            position=doc["position"],
            status=doc["status"],
            personas=doc["personas"],
            verified_at=doc["verified_at"],
            last_updated=doc["last_updated"],
            updated_by=doc["updated_by"],
            updated_items=doc["updated_items"],
            revision=doc["revision"],
            copied_from=CopiedFrom(
                card_id=strawberry.ID(str(source["card_id"])) if source["card_id"] else None,
                municipality=source["municipality"],
                revision=source["revision"],
                source_changed=source["source_changed"],
            )
            if source
            else None,
            sections=[Section.from_doc(section) for section in doc["sections"]],
            _doc=doc,
        )


async def with_sections(info: Info, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fill in every card's sections and entries through the request's DataLoader: one
    batched query for the whole page, resolved before the fields are, so GraphQL does
    not await once per card."""
    card_ids = [uuid.UUID(str(doc["id"])) for doc in docs]
    sections = await info.context.loaders.sections_by_card.load_many(card_ids)
    for doc, card_sections in zip(docs, sections, strict=True):
        doc["sections"] = card_sections
    return docs


@strawberry.type
class ServiceCardConnection:
    items: list[ServiceCard]
    next_cursor: str | None
    total: int


@strawberry.input(description="A text in Finnish (required) and optionally Swedish and English.")
class TranslationsInput:
    fi: str
    sv: str | None = None
    en: str | None = None


@strawberry.input
class LinkInput:
    url: str
    label: TranslationsInput | None = None


@strawberry.input
class PhoneInput:
    number: str
    price: TranslationsInput | None = None


@strawberry.input
class EntryInput:
    kind: str
    name: TranslationsInput
    id: strawberry.ID | None = None
    description: TranslationsInput | None = None
    links: list[LinkInput] | None = None
    phones: list[PhoneInput] | None = None
    email: str | None = None
    address: TranslationsInput | None = None
    opening_hours: TranslationsInput | None = None
    languages: list[str] | None = None
    when: str | None = None


@strawberry.input
class SectionInput:
    heading: TranslationsInput
    id: strawberry.ID | None = None
    entries: list[EntryInput] | None = None


@strawberry.input(description="A new service card; the same rules as REST's CardCreate.")
class ServiceCardInput:
    topic: str
    title: TranslationsInput
    summary: TranslationsInput | None = None
    position: int | None = None
    status: str | None = None
    personas: list[str] | None = None
    sections: list[SectionInput] | None = None


@strawberry.input(description="A partial update: fields left out stay as they are.")
class ServiceCardPatch:
    topic: str | None = strawberry.UNSET
    title: TranslationsInput | None = strawberry.UNSET
    summary: TranslationsInput | None = strawberry.UNSET
    position: int | None = strawberry.UNSET
    personas: list[str] | None = strawberry.UNSET
    sections: list[SectionInput] | None = strawberry.UNSET


def input_dict(value: Any, *, keep_top_nulls: bool = False) -> Any:
    """A Strawberry input as plain data for pydantic: UNSET fields and nulls dropped
    (a patch keeps its top-level nulls, which clear a field)."""
    return _plain(value, top=keep_top_nulls)


def _plain(value: Any, top: bool = False) -> Any:
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if hasattr(value, "__strawberry_definition__"):
        result = {}
        for name in value.__strawberry_definition__.fields:
            item = getattr(value, name.python_name)
            if item is strawberry.UNSET or (item is None and not top):
                continue
            result[name.python_name] = _plain(item)
        return result
    return value
