"""Personas: reading, editing with a revision per change, restoring, copying between
municipalities, the recommendations for a persona, and the general service promise."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import exists, or_, type_coerce
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import JSONType, execute, json_array_contains
from app.core.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from app.core.i18n import LANGUAGES
from app.core.time import utcnow
from app.models.guide import Guide, Slot
from app.models.municipality import Municipality
from app.models.persona import (
    PERSONA_FIELDS,
    PERSONA_KEYS,
    Persona,
    PersonaCopyIn,
    PersonaCreate,
    PersonaUpdate,
    ServicePromise,
    ServicePromiseUpdate,
)
from app.models.service_card import (
    CardEntry,
    CardSection,
    CardStatus,
    EntryKind,
    MoveTiming,
    ServiceCard,
    Topic,
)
from app.services import changes as changes_log
from app.services import content_revision, content_version
from app.services import guide as guide_service
from app.services.content_revision import Document, jsonable
from app.services.service_card import Actor

KIND = "persona"
PROMISE_KIND = "service_promise"
API_BASE = "/api/v1/municipalities"
Translations = dict[str, str]


def _tr(value: Any) -> Translations | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return dict(value)
    result: Translations = value.as_dict()
    return result


# ---- documents ---------------------------------------------------------------------------


def document(persona: Persona, slug: str) -> Document:
    """The persona as every reader and every revision sees it."""
    return {
        "id": persona.id,
        "municipality": slug,
        "key": persona.key,
        "position": persona.position,
        "name": persona.name.as_dict(),
        "tagline": _tr(persona.tagline),
        "who": _tr(persona.who),
        "pull_factors": [text.as_dict() for text in persona.pull_factors],
        "dreams": [text.as_dict() for text in persona.dreams],
        "expectations": [text.as_dict() for text in persona.expectations],
        "service_needs": [text.as_dict() for text in persona.service_needs],
        "challenges": [text.as_dict() for text in persona.challenges],
        "service_promise": _tr(persona.service_promise),
        "topics": list(persona.topics),
        "expertise": list(persona.expertise),
        "service_languages": list(persona.service_languages),
        "image_url": persona.image_url,
        "last_updated": persona.updated_at,
        "updated_by": persona.updated_by_name,
        "updated_items": list(persona.updated_items),
        "revision": persona.version,
        "copied_from": None,
    }


def _snapshot(persona: Persona) -> Document:
    content = document(persona, "")
    snapshot: Document = jsonable({name: content[name] for name in ("key", *PERSONA_FIELDS)})
    return snapshot


async def _with_provenance(
    session: AsyncSession, rows: list[tuple[Persona, str]]
) -> list[Document]:
    """Documents with `copied_from` filled in: one query for all the sources."""
    source_ids = {p.source_persona_id for p, _ in rows if p.source_persona_id is not None}
    sources: dict[uuid.UUID, tuple[str, int]] = {}
    if source_ids:
        result = await execute(
            session,
            sa_select(col(Persona.id), col(Municipality.slug), col(Persona.version))
            .join(Municipality, col(Municipality.id) == col(Persona.municipality_id))
            .where(col(Persona.id).in_(source_ids)),
        )
        sources = {pid: (slug, version) for pid, slug, version in result.all()}
    documents = []
    for persona, slug in rows:
        doc = document(persona, slug)
        if persona.source_version is not None:
            # A source persona's row is gone only with its municipality: then it "changed".
            found = sources.get(persona.source_persona_id) if persona.source_persona_id else None
            source_slug, current = found if found else (None, None)
            doc["copied_from"] = {
                "persona_id": persona.source_persona_id,
                "municipality": source_slug,
                "revision": persona.source_version,
                "source_changed": current is None or current > persona.source_version,
            }
        documents.append(doc)
    return documents


async def list_documents(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    modified_since: datetime | None = None,
    keys: Sequence[str] | None = None,
) -> list[Document]:
    """The municipality's personas in their order (two queries)."""
    statement = (
        select(Persona, Municipality.slug)
        .join(Municipality, col(Municipality.id) == col(Persona.municipality_id))
        .where(col(Persona.municipality_id) == municipality_id)
        .order_by(col(Persona.position), col(Persona.key))
    )
    if modified_since is not None:
        statement = statement.where(col(Persona.updated_at) >= modified_since)
    if keys is not None:
        statement = statement.where(col(Persona.key).in_(list(keys)))
    rows = [(persona, slug) for persona, slug in await session.exec(statement)]
    return await _with_provenance(session, rows)


async def get_document(*, session: AsyncSession, municipality_id: uuid.UUID, key: str) -> Document:
    """One persona's document (404 for an unknown key)."""
    found = await list_documents(session=session, municipality_id=municipality_id, keys=[key])
    if not found:
        raise NotFound(f"No persona '{key}' here.")
    return found[0]


async def get(
    *, session: AsyncSession, municipality_id: uuid.UUID, key: str, for_update: bool = False
) -> Persona:
    """The persona row of this municipality (404 for an unknown key)."""
    statement = select(Persona).where(
        col(Persona.municipality_id) == municipality_id, col(Persona.key) == key
    )
    if for_update:
        statement = statement.with_for_update()
    persona = (await session.exec(statement)).first()
    if persona is None:
        raise NotFound(f"No persona '{key}' here.")
    return persona


# ---- writing -----------------------------------------------------------------------------


async def _check_topics(
    session: AsyncSession, municipality_id: uuid.UUID, topics: list[str]
) -> None:
    """Linked topics must be topics of this municipality's cards."""
    if not topics:
        return
    known = set(
        await session.exec(select(Topic.key).where(col(Topic.municipality_id) == municipality_id))
    )
    problems = [
        FieldProblem(f"body.topics[{index}]", f"unknown topic '{topic}'", "unknown")
        for index, topic in enumerate(topics)
        if topic not in known
    ]
    if problems:
        raise ValidationFailed("Link only topics this municipality's cards have.", errors=problems)


async def _record(
    session: AsyncSession,
    persona: Persona,
    actor: Actor,
    action: str,
    before: Document | None,
) -> list[Document]:
    """Write the revision for a change just made (nothing when nothing changed)."""
    after = _snapshot(persona)
    changes = content_revision.diff(before, after, PERSONA_FIELDS)
    if before is not None and not changes:
        return []
    if before is not None:
        persona.version += 1
    persona.updated_at = utcnow()
    persona.updated_by_name = actor.name
    persona.updated_items = (
        content_revision.changed_fields(changes) if before is not None else ["persona"]
    )
    session.add(persona)
    await session.flush()
    await content_revision.record(
        session=session,
        municipality_id=persona.municipality_id,
        subject=KIND,
        subject_id=persona.id,
        number=persona.version,
        actor=actor,
        action=action,
        changes=changes,
        snapshot=after,
    )
    await content_version.bump_municipal(
        session=session, municipality_id=persona.municipality_id, kind=KIND
    )
    await changes_log.visibility(
        session=session,
        municipality_id=persona.municipality_id,
        kind=KIND,
        resource_id=persona.id,
        was_public=None if before is None else True,
        is_public=True,
        revision=persona.version,
        collection="personas",
        path_id=persona.key,
    )
    return changes


async def create(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    actor: Actor,
    data: PersonaCreate,
    source: Persona | None = None,
    action: str = "created",
) -> Persona:
    """A persona for a segment the municipality does not have yet."""
    exists = (
        await session.exec(
            select(Persona.id).where(
                col(Persona.municipality_id) == municipality_id, col(Persona.key) == data.key
            )
        )
    ).first()
    if exists is not None:
        raise Conflict(f"The persona '{data.key}' exists already; update it.", code="duplicate")
    if source is None:
        await _check_topics(session, municipality_id, data.topics)
    values = data.model_dump(exclude={"position"})
    persona = Persona(
        municipality_id=municipality_id,
        **{name: getattr(data, name) for name in values},
        position=data.position if data.position is not None else PERSONA_KEYS.index(data.key),
        source_persona_id=source.id if source else None,
        source_version=source.version if source else None,
    )
    session.add(persona)
    await session.flush()
    await _record(session, persona, actor, action, None)
    return persona


async def update(
    *, session: AsyncSession, persona: Persona, actor: Actor, data: PersonaUpdate
) -> Persona:
    """Apply the fields sent; a revision records exactly what changed."""
    if data.topics is not None:
        await _check_topics(session, persona.municipality_id, data.topics)
    before = _snapshot(persona)
    for name in data.model_fields_set:
        setattr(persona, name, getattr(data, name))
    await _record(session, persona, actor, "updated", before)
    return persona


async def revisions(*, session: AsyncSession, persona: Persona) -> list[Document]:
    """The persona's history, newest first."""
    return content_revision.public(
        await content_revision.history(session=session, subject_id=persona.id)
    )


async def restore(*, session: AsyncSession, persona: Persona, actor: Actor, number: int) -> Persona:
    """Bring back the content of revision `number`; the restore is a new revision."""
    old = await content_revision.get(session=session, subject_id=persona.id, number=number)
    data = PersonaUpdate.model_validate({name: old.snapshot.get(name) for name in PERSONA_FIELDS})
    before = _snapshot(persona)
    for name in PERSONA_FIELDS:
        setattr(persona, name, getattr(data, name))
    await _record(session, persona, actor, f"restored {number}", before)
    return persona


# ---- copying -------------------------------------------------------------------------------


@dataclass
class CopyOutcome:
    copied: list[Persona] = field(default_factory=list)
    skipped: list[Document] = field(default_factory=list)


def _content_of(persona: Persona) -> Document:
    return {name: getattr(persona, name) for name in PERSONA_FIELDS if name != "position"}


async def copy(
    *,
    session: AsyncSession,
    source_municipality_id: uuid.UUID,
    target_municipality_id: uuid.UUID,
    source_slug: str,
    actor: Actor,
    data: PersonaCopyIn,
) -> CopyOutcome:
    """Copy another municipality's personas here, remembering source and revision.

    A persona the target already has is skipped unless `replace`; then it takes the
    source's content in a new revision and the source becomes its provenance."""
    if source_municipality_id == target_municipality_id:
        raise ValidationFailed(
            "Copy from another municipality.",
            errors=[FieldProblem("body.source_municipality", "the same as the target")],
        )
    sources = list(
        await session.exec(
            select(Persona)
            .where(col(Persona.municipality_id) == source_municipality_id)
            .order_by(col(Persona.position), col(Persona.key))
        )
    )
    wanted = list(data.keys) if data.keys else [source.key for source in sources]
    by_key = {source.key: source for source in sources}
    existing = {
        persona.key: persona
        for persona in await session.exec(
            select(Persona)
            .where(col(Persona.municipality_id) == target_municipality_id)
            .with_for_update()
        )
    }
    outcome = CopyOutcome()
    action = f"copied from {source_slug}"
    for key in wanted:
        source = by_key.get(key)
        if source is None:
            outcome.skipped.append({"key": key, "reason": "not-in-source"})
            continue
        target = existing.get(key)
        if target is None:
            outcome.copied.append(
                await create(
                    session=session,
                    municipality_id=target_municipality_id,
                    actor=actor,
                    data=PersonaCreate.model_validate(
                        {"key": key, "position": source.position, **_content_of(source)}
                    ),
                    source=source,
                    action=action,
                )
            )
        elif data.replace:
            before = _snapshot(target)
            for name, value in _content_of(source).items():
                setattr(target, name, value)
            target.source_persona_id = source.id
            target.source_version = source.version
            await _record(session, target, actor, action, before)
            outcome.copied.append(target)
        else:
            outcome.skipped.append({"key": key, "reason": "exists"})
    return outcome


# ---- recommendations -----------------------------------------------------------------------

TIMING_ORDER = {MoveTiming.before: 0, MoveTiming.during: 1, MoveTiming.after: 2}
TIMING_LABELS: dict[str, Translations] = {
    "before": {"fi": "ennen muuttoa", "en": "before the move", "sv": "före flytten"},
    "during": {"fi": "muuton aikana", "en": "during the move", "sv": "under flytten"},
    "after": {"fi": "muuton jälkeen", "en": "after the move", "sv": "efter flytten"},
}
LANGUAGE_NAMES: dict[str, Translations] = {
    "fi": {"fi": "suomi", "en": "Finnish", "sv": "finska"},
    "sv": {"fi": "ruotsi", "en": "Swedish", "sv": "svenska"},
    "en": {"fi": "englanti", "en": "English", "sv": "engelska"},
    "se": {"fi": "pohjoissaame", "en": "Northern Sami", "sv": "nordsamiska"},
    "ru": {"fi": "venäjä", "en": "Russian", "sv": "ryska"},
    "et": {"fi": "viro", "en": "Estonian", "sv": "estniska"},
    "de": {"fi": "saksa", "en": "German", "sv": "tyska"},
    "fr": {"fi": "ranska", "en": "French", "sv": "franska"},
    "es": {"fi": "espanja", "en": "Spanish", "sv": "spanska"},
    "uk": {"fi": "ukraina", "en": "Ukrainian", "sv": "ukrainska"},
    "ar": {"fi": "arabia", "en": "Arabic", "sv": "arabiska"},
}
REASON_TEXTS: dict[str, Translations] = {
    "card-lists-persona": {
        "fi": "Kortti on koottu ryhmälle {persona}.",
        "en": "This card is made for {persona}.",
        "sv": "Kortet är gjort för {persona}.",
    },
    "topic": {
        "fi": "Aihe ”{topic}” on tärkeä ryhmälle {persona}.",
        "en": "“{topic}” matters to {persona}.",
        "sv": "”{topic}” är viktigt för {persona}.",
    },
    "expertise": {
        "fi": "Asiantuntemusta: {tags}.",
        "en": "Knows about {tags}.",
        "sv": "Kan om {tags}.",
    },
    "language": {
        "fi": "Palvelukieli: {language}.",
        "en": "Speaks {language}.",
        "sv": "Talar {language}.",
    },
    "checklist": {
        "fi": "Muistilistalta ”{card}”, {when}.",
        "en": "From the checklist “{card}”, {when}.",
        "sv": "Från checklistan ”{card}”, {when}.",
    },
}


def _in(translations: Translations | None, lang: str) -> str:
    if not translations:
        return ""
    return translations.get(lang) or translations["fi"]


def _lower_first(text: str) -> str:
    """`Etätyöntekijät` → `etätyöntekijät` mid-sentence; acronyms are left alone."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _reason_text(reason: Document, persona_name: Translations, extra: Document) -> Translations:
    """The reason as a sentence in every language (the response picks one)."""
    texts: Translations = {}
    for lang in LANGUAGES:
        template = REASON_TEXTS[reason["code"]][lang]
        texts[lang] = template.format(
            persona=_lower_first(_in(persona_name, lang)),
            topic=_in(extra.get("topic_name"), lang),
            tags=", ".join(
                _in(extra.get("tag_labels", {}).get(tag), lang) or tag
                for tag in reason.get("tags") or []
            ),
            language=_in(LANGUAGE_NAMES.get(reason.get("language") or ""), lang)
            or (reason.get("language") or ""),
            card=_in(extra.get("card_title"), lang),
            when=_in(TIMING_LABELS.get(reason.get("when") or ""), lang),
        )
    return texts


def _joined(texts: list[Translations]) -> Translations:
    return {lang: " ".join(text[lang] for text in texts) for lang in LANGUAGES}


def guide_has_free_slots(municipality_id: uuid.UUID) -> Any:
    """Whether the outer query's guide has a future slot nobody has booked (the guide
    service's own rule of what is free, so the two never disagree)."""
    return exists(guide_service._free_slots(municipality_id).where(col(Slot.guide_id) == Guide.id))


def public_guide(
    guide: Guide, has_free: bool, labels: guide_service.Labels | None = None
) -> Document:
    document = guide_service.public_document(guide, labels)
    for private in ("status", "term_end", "revision"):
        document.pop(private, None)
    document["has_free_slots"] = bool(has_free)
    return document


async def recommendations(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    slug: str,
    keys: Sequence[str],
    lang: str | None,
) -> dict[str, Document]:
    """For each persona key: the cards, guides and checklist items that fit it, each with
    the reasons it was chosen. Five queries however many personas, cards and guides."""
    dialect = session.get_bind().dialect.name
    personas = list(
        await session.exec(
            select(Persona).where(
                col(Persona.municipality_id) == municipality_id, col(Persona.key).in_(list(keys))
            )
        )
    )
    if not personas:
        return {}
    topics = sorted({topic for persona in personas for topic in persona.topics})
    conditions = [json_array_contains(ServiceCard.personas, p.key, dialect) for p in personas]
    if topics:
        conditions.append(col(Topic.key).in_(topics))
    cards = (
        await execute(
            session,
            sa_select(
                col(ServiceCard.id),
                col(ServiceCard.position),
                type_coerce(ServiceCard.title, JSONType).label("title"),
                type_coerce(ServiceCard.summary, JSONType).label("summary"),
                type_coerce(ServiceCard.personas, JSONType).label("personas"),
                col(Topic.key).label("topic"),
                type_coerce(Topic.name, JSONType).label("topic_name"),
            )
            .join(Topic, col(Topic.id) == col(ServiceCard.topic_id))
            .where(
                col(ServiceCard.municipality_id) == municipality_id,
                col(ServiceCard.status) == CardStatus.published,
                or_(*conditions),
            )
            .order_by(col(ServiceCard.position), col(ServiceCard.id)),
        )
    ).all()
    checklist_rows = []
    if cards:
        checklist_rows = (
            await execute(
                session,
                sa_select(
                    col(CardEntry.id),
                    col(CardEntry.card_id),
                    col(CardEntry.timing),
                    col(CardEntry.position),
                    col(CardSection.position).label("section_position"),
                    type_coerce(CardEntry.name, JSONType).label("name"),
                    type_coerce(CardEntry.description, JSONType).label("description"),
                )
                .join(CardSection, col(CardSection.id) == col(CardEntry.section_id))
                .where(
                    col(CardEntry.card_id).in_([card.id for card in cards]),
                    col(CardEntry.kind) == EntryKind.checklist,
                ),
            )
        ).all()
    tags = sorted({tag for persona in personas for tag in persona.expertise})
    guide_rows = []
    if tags:
        has_free = guide_has_free_slots(municipality_id)
        guide_rows = (
            await execute(
                session,
                sa_select(Guide, has_free.label("has_free"))
                .where(
                    col(Guide.municipality_id) == municipality_id,
                    guide_service.active_clause(),
                    or_(*[json_array_contains(Guide.expertise, tag, dialect) for tag in tags]),
                )
                .order_by(col(Guide.display_name), col(Guide.id)),
            )
        ).all()
    # Read only when a guide matched: the reasons name the municipality's own labels for
    # the expertise, never the keys (English visitors saw "remote-work").
    labels = (
        await guide_service.expertise_labels(session=session, municipality_id=municipality_id)
        if guide_rows
        else {}
    )
    return {
        persona.key: _recommend(persona, slug, lang, cards, checklist_rows, guide_rows, labels)
        for persona in personas
    }


def _recommend(
    persona: Persona,
    slug: str,
    lang: str | None,
    cards: Sequence[Any],
    checklist_rows: Sequence[Any],
    guide_rows: Sequence[Any],
    labels: guide_service.Labels,
) -> Document:
    name = persona.name.as_dict()
    chosen: list[tuple[Any, list[Document], list[Translations]]] = []
    listing = [card for card in cards if persona.key in (card.personas or [])]
    by_topic = sorted(
        (card for card in cards if card not in listing and card.topic in persona.topics),
        key=lambda card: (persona.topics.index(card.topic), card.position, str(card.id)),
    )
    for card in [*listing, *by_topic]:
        reasons: list[Document] = []
        if card in listing:
            reasons.append({"code": "card-lists-persona"})
        if card.topic in persona.topics:
            reasons.append({"code": "topic", "topic": card.topic})
        texts = [_reason_text(r, name, {"topic_name": card.topic_name}) for r in reasons]
        chosen.append((card, reasons, texts))
    card_docs = [
        {
            "id": card.id,
            "topic": card.topic,
            "title": card.title,
            "summary": card.summary,
            "href": f"{API_BASE}/{slug}/service-cards/{card.id}",
            "reason": reasons[0],
            "reasons": reasons,
            "reason_text": _joined(texts),
        }
        for card, reasons, texts in chosen
    ]
    card_order = {card.id: index for index, (card, _, _) in enumerate(chosen)}
    card_titles = {card.id: card.title for card, _, _ in chosen}
    checklist = []
    for entry in sorted(
        (row for row in checklist_rows if row.card_id in card_order),
        key=lambda row: (
            TIMING_ORDER.get(MoveTiming(row.timing), 3) if row.timing else 3,
            card_order[row.card_id],
            row.section_position,
            row.position,
        ),
    ):
        reason = {"code": "checklist", "card_id": entry.card_id, "when": entry.timing}
        text = _reason_text(reason, name, {"card_title": card_titles[entry.card_id]})
        checklist.append(
            {
                "id": entry.id,
                "card_id": entry.card_id,
                "card_title": card_titles[entry.card_id],
                "name": entry.name,
                "description": entry.description,
                "when": entry.timing,
                "reason": reason,
                "reasons": [reason],
                "reason_text": text,
            }
        )
    return {
        "persona": {"key": persona.key, "name": name},
        "cards": card_docs,
        "guides": _rank_guides(persona, lang, guide_rows, labels),
        "checklist": checklist,
    }


# The translated keys of a recommendation document, REST's and GraphQL's alike: `label`
# is the guides' expertise labels.
RECOMMENDATION_TEXT_KEYS = frozenset(
    {"name", "title", "summary", "reason_text", "card_title", "description", "bio", "label"}
)


def _rank_guides(
    persona: Persona, lang: str | None, guide_rows: Sequence[Any], labels: guide_service.Labels
) -> list[Document]:
    """Guides whose expertise matches, those speaking the reader's language (`lang`)
    and the segment's languages first, then by how many tags match."""
    weights: dict[str, int] = {}
    if lang:
        weights[lang] = 2
    for code in persona.service_languages:
        weights[code] = weights.get(code, 0) + 1
    name = persona.name.as_dict()
    ranked = []
    for guide, has_free in guide_rows:
        tags = [tag for tag in persona.expertise if tag in guide.expertise]
        if not tags:
            continue
        reasons: list[Document] = [{"code": "expertise", "tags": tags}]
        spoken = sorted(
            (code for code in weights if code in guide.languages), key=lambda c: -weights[c]
        )
        reasons += [{"code": "language", "language": code} for code in spoken]
        score = sum(weights[code] for code in spoken)
        texts = [_reason_text(reason, name, {"tag_labels": labels}) for reason in reasons]
        document = public_guide(guide, has_free, labels)
        document |= {"reason": reasons[0], "reasons": reasons, "reason_text": _joined(texts)}
        ranked.append(
            ((-score, -len(tags), not has_free, guide.display_name, str(guide.id)), document)
        )
    return [document for _, document in sorted(ranked, key=lambda item: item[0])]


# ---- the general service promise -------------------------------------------------------------


async def get_promise(
    *, session: AsyncSession, municipality_id: uuid.UUID, for_update: bool = False
) -> ServicePromise | None:
    """The general promise, or None before anyone has written it."""
    statement = select(ServicePromise).where(col(ServicePromise.municipality_id) == municipality_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.exec(statement)).first()


def promise_document(promise: ServicePromise | None, slug: str) -> Document:
    """The promise, or an empty one (revision 0) before anyone has written it."""
    return {
        "municipality": slug,
        "title": _tr(promise.title) if promise else None,
        "text": _tr(promise.text) if promise else None,
        "principles": [t.as_dict() for t in promise.principles] if promise else [],
        "last_updated": promise.updated_at if promise else None,
        "updated_by": promise.updated_by_name if promise else None,
        "updated_items": list(promise.updated_items) if promise else [],
        "revision": promise.version if promise else 0,
    }


PROMISE_FIELDS = ("title", "text", "principles")


async def update_promise(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    promise: ServicePromise | None,
    actor: Actor,
    data: ServicePromiseUpdate,
) -> ServicePromise:
    """Write the general promise (creating it on the first write), with a revision."""
    before = jsonable(promise_document(promise, "")) if promise is not None else None
    if promise is None:
        promise = ServicePromise(municipality_id=municipality_id, version=1)
    for name in data.model_fields_set:
        setattr(promise, name, getattr(data, name))
    after = jsonable(promise_document(promise, ""))
    changes = content_revision.diff(before, after, PROMISE_FIELDS)
    if before is not None and not changes:
        return promise
    if before is not None:
        promise.version += 1
    promise.updated_at = utcnow()
    promise.updated_by_name = actor.name
    promise.updated_items = content_revision.changed_fields(changes) if before else ["promise"]
    session.add(promise)
    await session.flush()
    await content_revision.record(
        session=session,
        municipality_id=municipality_id,
        subject=PROMISE_KIND,
        subject_id=promise.id,
        number=promise.version,
        actor=actor,
        action="updated" if before else "created",
        changes=changes,
        snapshot={name: after[name] for name in PROMISE_FIELDS},
    )
    await content_version.bump_municipal(
        session=session, municipality_id=municipality_id, kind=PROMISE_KIND
    )
    await changes_log.singleton(
        session=session,
        municipality_id=municipality_id,
        kind=PROMISE_KIND,
        resource_id=promise.id,
        created=before is None,
        revision=promise.version,
        segment="service-promise",
    )
    return promise
