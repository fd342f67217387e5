"""GraphQL types for personas, recommendations, the service promise, the journey, the
landing page and stories.

Editable resources (a persona, the promise) follow the API convention: `name(lang:)`
plus `nameI18n`. The views built for one reader (recommendations, the journey, the
landing page) take `lang` once, at the top, and carry plain strings: they are built
from the same localized documents REST serves."""

import uuid
from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from app.graphql.types.common import Lang, Translations
from app.graphql.types.common import doc_text as _text
from app.graphql.types.common import doc_translations as _translations
from app.graphql.types.common import graphql_id as _id
from app.graphql.types.service_card import TranslationsInput

Doc = dict[str, Any]


def _optional_id(value: Any) -> strawberry.ID | None:
    return None if value is None else _id(value)


# ---- personas ------------------------------------------------------------------------------


@strawberry.type
class PersonaCopiedFrom:
    persona_id: strawberry.ID | None
    municipality: str | None
    revision: int | None
    source_changed: bool


@strawberry.type(description="A mover segment and the persona that stands for it.")
class Persona:
    id: strawberry.ID
    municipality: str
    key: str
    position: int
    topics: list[str] = strawberry.field(description="Card topics that serve this segment")
    expertise: list[str] = strawberry.field(description="Guide expertise that serves it")
    service_languages: list[str]
    image_url: str | None
    last_updated: datetime
    updated_by: str | None
    updated_items: list[str]
    revision: int
    copied_from: PersonaCopiedFrom | None
    _doc: strawberry.Private[Doc]
    _municipality_id: strawberry.Private[uuid.UUID]

    def _list(self, name: str, lang: Lang) -> list[str]:
        return [_text(item, lang) or "" for item in self._doc[name]]

    def _list_i18n(self, name: str) -> list[Translations]:
        return [t for item in self._doc[name] if (t := _translations(item)) is not None]

    @strawberry.field
    def name(self, lang: Lang = Lang.FI) -> str:
        return _text(self._doc["name"], lang) or ""

    @strawberry.field
    def name_i18n(self) -> Translations:
        translations = _translations(self._doc["name"])
        assert translations is not None
        return translations

    @strawberry.field
    def tagline(self, lang: Lang = Lang.FI) -> str | None:
        return _text(self._doc["tagline"], lang)

    @strawberry.field
    def tagline_i18n(self) -> Translations | None:
        return _translations(self._doc["tagline"])

    @strawberry.field(description="Who they are.")
    def who(self, lang: Lang = Lang.FI) -> str | None:
        return _text(self._doc["who"], lang)

    @strawberry.field
    def who_i18n(self) -> Translations | None:
        return _translations(self._doc["who"])

    @strawberry.field(description="Why they come.")
    def pull_factors(self, lang: Lang = Lang.FI) -> list[str]:
        return self._list("pull_factors", lang)

    @strawberry.field
    def pull_factors_i18n(self) -> list[Translations]:
        return self._list_i18n("pull_factors")

    @strawberry.field
    def dreams(self, lang: Lang = Lang.FI) -> list[str]:
        return self._list("dreams", lang)

    @strawberry.field
    def dreams_i18n(self) -> list[Translations]:
        return self._list_i18n("dreams")

    @strawberry.field
    def expectations(self, lang: Lang = Lang.FI) -> list[str]:
        return self._list("expectations", lang)

    @strawberry.field
    def expectations_i18n(self) -> list[Translations]:
        return self._list_i18n("expectations")

    @strawberry.field
    def service_needs(self, lang: Lang = Lang.FI) -> list[str]:
        return self._list("service_needs", lang)

    @strawberry.field
    def service_needs_i18n(self) -> list[Translations]:
        return self._list_i18n("service_needs")

    @strawberry.field
    def challenges(self, lang: Lang = Lang.FI) -> list[str]:
        return self._list("challenges", lang)

    @strawberry.field
    def challenges_i18n(self) -> list[Translations]:
        return self._list_i18n("challenges")

    @strawberry.field(description="This segment's own service promise.")
    def service_promise(self, lang: Lang = Lang.FI) -> str | None:
        return _text(self._doc["service_promise"], lang)

    @strawberry.field
    def service_promise_i18n(self) -> Translations | None:
        return _translations(self._doc["service_promise"])

    @strawberry.field(
        description="Cards, guides and checklist items for this persona, with reasons. "
        "Batched per request: one set of queries for every persona asked."
    )
    async def recommendations(self, info: Info, lang: Lang = Lang.FI) -> "PersonaRecommendations":
        from app.graphql.personas import loaders_of  # the loaders live with the resolvers

        document = await loaders_of(info).recommendations.load(
            (self._municipality_id, self.municipality, self.key, lang.value)
        )
        return PersonaRecommendations.from_doc(document)

    @classmethod
    def from_doc(cls, doc: Doc, municipality_id: uuid.UUID) -> "Persona":
        source = doc.get("copied_from")
        return cls(
            id=_id(doc["id"]),
            municipality=doc["municipality"],
            key=doc["key"],
            position=doc["position"],
            topics=doc["topics"],
            expertise=doc["expertise"],
            service_languages=doc["service_languages"],
            image_url=doc["image_url"],
            last_updated=doc["last_updated"],
            updated_by=doc["updated_by"],
            updated_items=doc["updated_items"],
            revision=doc["revision"],
            copied_from=PersonaCopiedFrom(
                persona_id=_optional_id(source["persona_id"]),
                municipality=source["municipality"],
                revision=source["revision"],
                source_changed=source["source_changed"],
            )
            if source
            else None,
            _doc=doc,
            _municipality_id=municipality_id,
        )


@strawberry.type
class SkippedPersona:
    key: str
    reason: str


@strawberry.type
class PersonaCopyResult:
    copied: list[Persona]
    skipped: list[SkippedPersona]


@strawberry.input(description="A partial update: fields left out stay as they are.")
class PersonaPatch:
    name: TranslationsInput | None = strawberry.UNSET
    tagline: TranslationsInput | None = strawberry.UNSET
    who: TranslationsInput | None = strawberry.UNSET
    pull_factors: list[TranslationsInput] | None = strawberry.UNSET
    dreams: list[TranslationsInput] | None = strawberry.UNSET
    expectations: list[TranslationsInput] | None = strawberry.UNSET
    service_needs: list[TranslationsInput] | None = strawberry.UNSET
    challenges: list[TranslationsInput] | None = strawberry.UNSET
    service_promise: TranslationsInput | None = strawberry.UNSET
    topics: list[str] | None = strawberry.UNSET
    expertise: list[str] | None = strawberry.UNSET
    service_languages: list[str] | None = strawberry.UNSET
    image_url: str | None = strawberry.UNSET
    position: int | None = strawberry.UNSET


# ---- recommendations (plain strings in the language asked) ------------------------------------


@strawberry.type(description="Why an item was recommended.")
class Reason:
    code: str = strawberry.field(
        description="card-lists-persona, topic, expertise, language or checklist"
    )
    topic: str | None
    tags: list[str] | None
    language: str | None
    card_id: strawberry.ID | None
    when: str | None

    @classmethod
    def from_doc(cls, doc: Doc) -> "Reason":
        return cls(
            code=doc["code"],
            topic=doc.get("topic"),
            tags=doc.get("tags"),
            language=doc.get("language"),
            card_id=_optional_id(doc.get("card_id")),
            when=doc.get("when"),
        )


@strawberry.type
class RecommendedCard:
    id: strawberry.ID
    topic: str
    title: str
    summary: str | None
    href: str
    reason: Reason
    reasons: list[Reason]
    reason_text: str


@strawberry.type(description="A guide's public profile on a landing page or a recommendation.")
class PublicGuide:
    id: strawberry.ID
    kind: str
    display_name: str
    photo_url: str | None
    bio: str | None
    languages: list[str]
    expertise: list[str]
    modes: list[str]
    public_contacts: list[str] = strawberry.field(description="kind:value of public contacts")
    has_free_slots: bool
    href: str | None

    @classmethod
    def from_doc(cls, doc: Doc) -> "PublicGuide":
        return cls(
            id=_id(doc["id"]),
            kind=doc["kind"],
            display_name=doc["display_name"],
            photo_url=doc["photo_url"],
            bio=doc["bio"],
            languages=doc["languages"],
            expertise=doc["expertise"],
            modes=doc["modes"],
            public_contacts=[f"{c['kind']}:{c['value']}" for c in doc["contacts"]],
            has_free_slots=doc["has_free_slots"],
            href=doc.get("href"),
        )


@strawberry.type
class RecommendedGuide:
    guide: PublicGuide
    reason: Reason
    reasons: list[Reason]
    reason_text: str


@strawberry.type
class ChecklistItem:
    id: strawberry.ID
    card_id: strawberry.ID
    card_title: str
    name: str
    description: str | None
    when: str | None
    reason: Reason | None
    reason_text: str | None

    @classmethod
    def from_doc(cls, doc: Doc) -> "ChecklistItem":
        reason = doc.get("reason")
        return cls(
            id=_id(doc["id"]),
            card_id=_id(doc["card_id"]),
            card_title=doc["card_title"],
            name=doc["name"],
            description=doc["description"],
            when=doc["when"],
            reason=Reason.from_doc(reason) if reason else None,
            reason_text=doc.get("reason_text"),
        )


@strawberry.type(description="What fits a persona, in order, each with its reasons.")
class PersonaRecommendations:
    persona_key: str
    persona_name: str
    cards: list[RecommendedCard]
    guides: list[RecommendedGuide]
    checklist: list[ChecklistItem]
    language: str | None
    fallback_fields: list[str]

    @classmethod
    def from_doc(cls, doc: Doc) -> "PersonaRecommendations":
        def reasons(item: Doc) -> tuple[Reason, list[Reason]]:
            return Reason.from_doc(item["reason"]), [Reason.from_doc(r) for r in item["reasons"]]

        return cls(
            persona_key=doc["persona"]["key"],
            persona_name=doc["persona"]["name"],
            cards=[
                RecommendedCard(
                    id=_id(card["id"]),
                    topic=card["topic"],
                    title=card["title"],
                    summary=card["summary"],
                    href=card["href"],
                    reason=reasons(card)[0],
                    reasons=reasons(card)[1],
                    reason_text=card["reason_text"],
                )
                for card in doc["cards"]
            ],
            guides=[
                RecommendedGuide(
                    guide=PublicGuide.from_doc(guide),
                    reason=reasons(guide)[0],
                    reasons=reasons(guide)[1],
                    reason_text=guide["reason_text"],
                )
                for guide in doc["guides"]
            ],
            checklist=[ChecklistItem.from_doc(item) for item in doc["checklist"]],
            language=doc["meta"]["language"],
            fallback_fields=doc["meta"]["fallback_fields"],
        )


# ---- the service promise -------------------------------------------------------------------


@strawberry.type(description="The municipality's general service promise to movers.")
class ServicePromise:
    municipality: str
    last_updated: datetime | None
    updated_by: str | None
    updated_items: list[str]
    revision: int = strawberry.field(description="0: not written yet")
    _doc: strawberry.Private[Doc]

    @strawberry.field
    def title(self, lang: Lang = Lang.FI) -> str | None:
        return _text(self._doc["title"], lang)

    @strawberry.field
    def title_i18n(self) -> Translations | None:
        return _translations(self._doc["title"])

    @strawberry.field
    def text(self, lang: Lang = Lang.FI) -> str | None:
        return _text(self._doc["text"], lang)

    @strawberry.field
    def text_i18n(self) -> Translations | None:
        return _translations(self._doc["text"])

    @strawberry.field
    def principles(self, lang: Lang = Lang.FI) -> list[str]:
        return [_text(item, lang) or "" for item in self._doc["principles"]]

    @strawberry.field
    def principles_i18n(self) -> list[Translations]:
        return [t for item in self._doc["principles"] if (t := _translations(item)) is not None]

    @classmethod
    def from_doc(cls, doc: Doc) -> "ServicePromise":
        return cls(
            municipality=doc["municipality"],
            last_updated=doc["last_updated"],
            updated_by=doc["updated_by"],
            updated_items=doc["updated_items"],
            revision=doc["revision"],
            _doc=doc,
        )


@strawberry.input
class ServicePromisePatch:
    title: TranslationsInput | None = strawberry.UNSET
    text: TranslationsInput | None = strawberry.UNSET
    principles: list[TranslationsInput] | None = strawberry.UNSET


# ---- landing page and journey (plain strings in the language asked) ---------------------------


@strawberry.type
class Introduction:
    title: str
    text: str | None

    @classmethod
    def from_doc(cls, doc: Doc | None) -> "Introduction | None":
        return cls(title=doc["title"], text=doc.get("text")) if doc else None


@strawberry.type(description="A way to get in touch; meetings say whether free slots exist.")
class ContactWay:
    kind: str
    label: str
    available: bool
    href: str | None
    mode: str | None
    next_free_slot: datetime | None
    booking_href: str | None
    number: str | None
    hours: str | None
    price: str | None
    email: str | None
    topics: list[str] | None

    @classmethod
    def from_doc(cls, doc: Doc) -> "ContactWay":
        return cls(
            kind=doc["kind"],
            label=doc["label"],
            available=doc["available"],
            href=doc.get("href"),
            mode=doc.get("mode"),
            next_free_slot=doc.get("next_free_slot"),
            booking_href=doc.get("booking_href"),
            number=doc.get("number"),
            hours=doc.get("hours"),
            price=doc.get("price"),
            email=doc.get("email"),
            topics=doc.get("topics"),
        )


@strawberry.type
class WebLink:
    url: str
    label: str | None


@strawberry.type
class TopicRef:
    key: str
    name: str


@strawberry.type
class CardRef:
    id: strawberry.ID
    topic: str
    title: str
    href: str

    @classmethod
    def from_doc(cls, doc: Doc) -> "CardRef":
        return cls(id=_id(doc["id"]), topic=doc["topic"], title=doc["title"], href=doc["href"])


def _links(docs: list[Doc]) -> list[WebLink]:
    return [WebLink(url=link["url"], label=link.get("label")) for link in docs]


@strawberry.type(description="A service tile, in the municipality's order.")
class Tile:
    key: str
    label: str
    description: str | None
    topics: list[TopicRef]
    cards: list[CardRef]
    links: list[WebLink]


@strawberry.type
class PromiseView:
    title: str | None
    text: str | None
    principles: list[str]


@strawberry.type
class PersonaTeaser:
    key: str
    name: str
    tagline: str | None
    href: str


@strawberry.type
class MapLink:
    label: str
    url: str
    description: str | None


@strawberry.type(description="A story of work and life. Its text is in `language`.")
class Story:
    id: strawberry.ID
    title: str
    summary: str | None
    body: str | None
    language: str
    media_url: str | None
    source_url: str | None
    platform: str | None
    hashtags: list[str]
    author: str
    published_at: datetime
    href: str | None
    revision: int | None
    status: str | None = strawberry.field(description="Staff only: pending, approved, rejected")
    moderated_by: str | None
    rejection_reason: str | None

    @classmethod
    def from_doc(cls, doc: Doc) -> "Story":
        return cls(
            id=_id(doc["id"]),
            title=doc["title"],
            summary=doc["summary"],
            body=doc.get("body"),
            language=doc["language"],
            media_url=doc["media_url"],
            source_url=doc["source_url"],
            platform=doc["platform"],
            hashtags=doc["hashtags"],
            author=doc["author"],
            published_at=doc["published_at"],
            href=doc.get("href"),
            revision=doc.get("revision"),
            status=doc.get("status"),
            moderated_by=doc.get("moderated_by"),
            rejection_reason=doc.get("rejection_reason"),
        )


@strawberry.type
class StoryConnection:
    items: list[Story]
    next_cursor: str | None
    total: int


@strawberry.input(description="A story; the same rules as REST's StoryCreate.")
class StoryInput:
    title: str
    author: str
    published_at: datetime
    summary: str | None = None
    body: str | None = None
    language: str | None = None
    media_url: str | None = None
    source_url: str | None = None
    platform: str | None = None
    hashtags: list[str] | None = None
    status: str | None = None


@strawberry.type
class LandingMunicipality:
    slug: str
    name: str
    web_site: str | None
    enabled_languages: list[str]


@strawberry.type(description="Everything the mover landing page shows, in one query.")
class Landing:
    municipality: LandingMunicipality
    introduction: Introduction | None
    contact_ways: list[ContactWay]
    tiles: list[Tile]
    service_promise: PromiseView | None
    personas: list[PersonaTeaser]
    featured_guides: list[PublicGuide]
    stories: list[Story]
    map_links: list[MapLink]
    hashtags: list[str]
    language: str | None
    fallback_fields: list[str]

    @classmethod
    def from_doc(cls, doc: Doc) -> "Landing":
        promise = doc["service_promise"]
        return cls(
            municipality=LandingMunicipality(**doc["municipality"]),
            introduction=Introduction.from_doc(doc["introduction"]),
            contact_ways=[ContactWay.from_doc(way) for way in doc["contact_ways"]],
            tiles=[
                Tile(
                    key=tile["key"],
                    label=tile["label"],
                    description=tile["description"],
                    topics=[TopicRef(key=t["key"], name=t["name"]) for t in tile["topics"]],
                    cards=[CardRef.from_doc(card) for card in tile["cards"]],
                    links=_links(tile["links"]),
                )
                for tile in doc["tiles"]
            ],
            service_promise=PromiseView(**promise) if promise else None,
            personas=[PersonaTeaser(**persona) for persona in doc["personas"]],
            featured_guides=[PublicGuide.from_doc(guide) for guide in doc["featured_guides"]],
            stories=[Story.from_doc(story) for story in doc["stories"]],
            map_links=[MapLink(**link) for link in doc["map_links"]],
            hashtags=doc["hashtags"],
            language=doc["meta"]["language"],
            fallback_fields=doc["meta"]["fallback_fields"],
        )


@strawberry.type(description="One stage of the mover's journey and what it offers.")
class JourneyStage:
    key: str
    position: int
    title: str
    description: str | None
    cards: list[CardRef]
    contact_ways: list[ContactWay]
    guides: list[PublicGuide]
    checklist: list[ChecklistItem]
    links: list[WebLink]


@strawberry.type(description="The mover's journey, from the first spark to living here.")
class Journey:
    municipality: str
    introduction: Introduction | None
    stages: list[JourneyStage]
    language: str | None
    fallback_fields: list[str]

    @classmethod
    def from_doc(cls, doc: Doc) -> "Journey":
        return cls(
            municipality=doc["municipality"],
            introduction=Introduction.from_doc(doc["introduction"]),
            stages=[
                JourneyStage(
                    key=stage["key"],
                    position=stage["position"],
                    title=stage["title"],
                    description=stage["description"],
                    cards=[CardRef.from_doc(card) for card in stage["cards"]],
                    contact_ways=[ContactWay.from_doc(way) for way in stage["contact_ways"]],
                    guides=[PublicGuide.from_doc(guide) for guide in stage["guides"]],
                    checklist=[ChecklistItem.from_doc(item) for item in stage["checklist"]],
                    links=_links(stage["links"]),
                )
                for stage in doc["stages"]
            ],
            language=doc["meta"]["language"],
            fallback_fields=doc["meta"]["fallback_fields"],
        )
