"""Service cards: reading (lean, for the public read path), writing with a revision per
change, restoring, copying between municipalities, and Finnish-aware search."""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, literal_column, or_, text, type_coerce
from sqlalchemy import select as sa_select
from sqlalchemy import update as sa_update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import JSONType, execute, json_array_contains
from app.core.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from app.core.i18n import I18nText
from app.core.pagination import (
    Page,
    as_offset,
    as_uuid,
    decode_cursor,
    encode_cursor,
    keyset_page,
)
from app.core.time import utcnow
from app.models.municipality import Municipality
from app.models.service_card import (
    CardCreate,
    CardEntry,
    CardSection,
    CardStatus,
    CardUpdate,
    CopyIn,
    SectionIn,
    ServiceCard,
    ServiceCardRevision,
    Topic,
    TopicIn,
)
from app.models.user import Role
from app.services import changes as changes_log
from app.services import content_version, search_text

KIND = "service_card"
# Who writes cards, and who (besides them) may read drafts, in both front doors.
EDITORS = (Role.editor, Role.municipality_admin)
STAFF = (Role.editor, Role.municipality_admin, Role.comms, Role.guide)
Document = dict[str, Any]


@dataclass(frozen=True)
class Actor:
    """Who makes a change, as the history shows it (a display name, never an email)."""

    id: uuid.UUID | None
    name: str


SYSTEM = Actor(id=None, name="Settle")


@dataclass
class CardFilters:
    topic: str | None = None
    persona: str | None = None
    q: str | None = None
    modified_since: datetime | None = None
    statuses: tuple[str, ...] = (CardStatus.published,)
    stale_before: datetime | None = None


# ---- documents: the one shape every reader and every revision uses ---------------------


def _tr(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if isinstance(value, I18nText) or hasattr(value, "as_dict"):
        result: dict[str, str] = value.as_dict()
        return result
    return dict(value)


def _entry_doc(entry: Any) -> Document:
    links = [
        {"url": link["url"], "label": _tr(link.get("label"))}
        if isinstance(link, dict)
        else {"url": link.url, "label": _tr(link.label)}
        for link in entry.links or []
    ]
    phones = [
        {"number": phone["number"], "price": _tr(phone.get("price"))}
        if isinstance(phone, dict)
        else {"number": phone.number, "price": _tr(phone.price)}
        for phone in entry.phones or []
    ]
    return {
        "id": entry.id,
        "kind": entry.kind,
        "name": _tr(entry.name),
        "description": _tr(entry.description),
        "links": links,
        "phones": phones,
        "email": entry.email,
        "address": _tr(entry.address),
        "opening_hours": _tr(entry.opening_hours),
        "languages": list(entry.languages or []),
        "when": entry.timing,
    }


def _card_doc(card: Any, municipality: str, topic: str, sections: list[Document]) -> Document:
    return {
        "id": card.id,
        "municipality": municipality,
        "topic": topic,
        "title": _tr(card.title),
        "summary": _tr(card.summary),
        "position": card.position,
        "status": card.status,
        "personas": list(card.personas or []),
        "verified_at": card.verified_at,
        "last_updated": card.updated_at,
        "updated_by": card.updated_by_name,
        "updated_items": list(card.updated_items or []),
        "revision": card.version,
        "copied_from": None,
        "sections": sections,
    }


_CARD_COLUMNS = (
    col(ServiceCard.id),
    col(ServiceCard.municipality_id),
    col(ServiceCard.position),
    col(ServiceCard.status),
    col(ServiceCard.verified_at),
    col(ServiceCard.updated_at),
    col(ServiceCard.updated_by_name),
    col(ServiceCard.version),
    col(ServiceCard.source_card_id),
    col(ServiceCard.source_version),
    type_coerce(ServiceCard.title, JSONType).label("title"),
    type_coerce(ServiceCard.summary, JSONType).label("summary"),
    type_coerce(ServiceCard.personas, JSONType).label("personas"),
    type_coerce(ServiceCard.updated_items, JSONType).label("updated_items"),
    Topic.key.label("topic_key"),  # type: ignore[attr-defined]
    Municipality.slug.label("municipality_slug"),  # type: ignore[attr-defined]
)


async def load_documents(
    session: AsyncSession, card_ids: Sequence[uuid.UUID], *, with_sections: bool = True
) -> list[Document]:
    """Cards with sections and entries, in the order given: four queries however many.

    The read path selects columns (JSON left unparsed by pydantic) rather than ORM
    entities: loading ~200 entities per page is what made the naive version slow.
    """
    if not card_ids:
        return []
    rows = (await execute(session, _card_select().where(col(ServiceCard.id).in_(card_ids)))).all()
    cards = await _card_documents(session, rows, with_sections=with_sections)
    return [cards[card_id] for card_id in card_ids if card_id in cards]


def _card_select() -> Any:
    """The card columns a document needs, with its topic key and municipality slug."""
    return (
        sa_select(*_CARD_COLUMNS)
        .join(Topic, Topic.id == ServiceCard.topic_id)  # type: ignore[arg-type]
        .join(Municipality, Municipality.id == ServiceCard.municipality_id)  # type: ignore[arg-type]
    )


async def _card_documents(
    session: AsyncSession, card_rows: Sequence[Any], *, with_sections: bool
) -> dict[uuid.UUID, Document]:
    """Documents for rows of `_card_select`: one more query for every section and entry
    of them (and one for their sources, where some are copies)."""
    sections = (
        await sections_with_entries(session, [row.id for row in card_rows]) if with_sections else {}
    )
    sources = await _source_state(session, [row for row in card_rows if row.source_card_id])
    documents: dict[uuid.UUID, Document] = {}
    for row in card_rows:
        document = _card_doc(row, row.municipality_slug, row.topic_key, sections.get(row.id, []))
        if row.source_card_id is not None or row.source_version is not None:
            slug, current = sources.get(row.source_card_id, (None, None))
            document["copied_from"] = {
                "card_id": row.source_card_id,
                "municipality": slug,
                "revision": row.source_version,
                "source_changed": current is not None and current > (row.source_version or 0),
            }
        documents[row.id] = document
    return documents


async def sections_with_entries(
    session: AsyncSession, card_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Document]]:
    """Each card's sections in order, each with its entries in order: one query (sections
    outer-joined to entries), one round trip fewer than loading them apart."""
    if not card_ids:
        return {}
    rows = (
        await execute(
            session,
            sa_select(
                col(CardSection.id).label("section_id"),
                col(CardSection.card_id),
                type_coerce(CardSection.heading, JSONType).label("heading"),
                col(CardEntry.id),
                col(CardEntry.kind),
                col(CardEntry.email),
                col(CardEntry.timing),
                type_coerce(CardEntry.name, JSONType).label("name"),
                type_coerce(CardEntry.description, JSONType).label("description"),
                type_coerce(CardEntry.links, JSONType).label("links"),
                type_coerce(CardEntry.phones, JSONType).label("phones"),
                type_coerce(CardEntry.address, JSONType).label("address"),
                type_coerce(CardEntry.opening_hours, JSONType).label("opening_hours"),
                type_coerce(CardEntry.languages, JSONType).label("languages"),
            )
            .outerjoin(CardEntry, CardEntry.section_id == CardSection.id)  # type: ignore[arg-type]
            .where(col(CardSection.card_id).in_(card_ids))
            .order_by(
                col(CardSection.card_id),
                col(CardSection.position),
                col(CardSection.id),
                col(CardEntry.position),
            ),
        )
    ).all()
    sections: dict[uuid.UUID, list[Document]] = defaultdict(list)
    current: Document | None = None
    for row in rows:
        if current is None or current["id"] != row.section_id:
            current = {"id": row.section_id, "heading": _tr(row.heading), "entries": []}
            sections[row.card_id].append(current)
        if row.id is not None:
            current["entries"].append(_entry_doc(row))
    return sections


async def _source_state(
    session: AsyncSession, rows: Iterable[Any]
) -> dict[uuid.UUID, tuple[str, int]]:
    ids = {row.source_card_id for row in rows}
    if not ids:
        return {}
    result = await execute(
        session,
        sa_select(col(ServiceCard.id), col(Municipality.slug), col(ServiceCard.version))
        .join(Municipality, Municipality.id == ServiceCard.municipality_id)  # type: ignore[arg-type]
        .where(col(ServiceCard.id).in_(ids)),
    )
    return {card_id: (slug, version) for card_id, slug, version in result.all()}


# ---- listing and search -------------------------------------------------------------------


def _filtered(
    municipality_id: uuid.UUID, filters: CardFilters, dialect: str, statement: Any = None
) -> Any:
    """`statement` (the card ids by default) narrowed to the filters, without `q`."""
    if statement is None:
        statement = sa_select(col(ServiceCard.id))
    statement = statement.where(
        col(ServiceCard.municipality_id) == municipality_id,
        col(ServiceCard.status).in_(filters.statuses),
    )
    if filters.topic is not None:
        statement = statement.where(
            col(ServiceCard.topic_id)
            == sa_select(col(Topic.id))
            .where(col(Topic.municipality_id) == municipality_id, col(Topic.key) == filters.topic)
            .scalar_subquery()
        )
    if filters.persona is not None:
        statement = statement.where(
            json_array_contains(ServiceCard.personas, filters.persona, dialect)
        )
    if filters.modified_since is not None:
        statement = statement.where(col(ServiceCard.updated_at) >= filters.modified_since)
    if filters.stale_before is not None:
        statement = statement.where(
            or_(
                col(ServiceCard.verified_at).is_(None),
                col(ServiceCard.verified_at) < filters.stale_before,
            )
        )
    return statement


async def list_page(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    filters: CardFilters,
    limit: int,
    cursor: str | None = None,
    with_sections: bool = True,
) -> Page[Document]:
    """A page of cards (with sections and entries unless GraphQL loads them itself);
    `q` ranks title hits first."""
    dialect = session.get_bind().dialect.name
    statement = _filtered(municipality_id, filters, dialect)
    if filters.q is not None:
        return await _search_page(
            session, statement, filters.q, limit, cursor, dialect, with_sections
        )
    selection = _filtered(municipality_id, filters, dialect, _card_select())
    page = await keyset_page(
        session,
        selection,
        collection="service-cards",
        order=(col(ServiceCard.position), col(ServiceCard.id)),
        after=decode_cursor("service-cards", cursor, int, as_uuid),
        limit=limit,
        count_from=statement,
        key=lambda row: [row.position, str(row.id)],
    )
    documents = await _card_documents(session, page.items, with_sections=with_sections)
    return Page(
        items=[documents[row.id] for row in page.items],
        next_cursor=page.next_cursor,
        total=page.total,
    )


def _fts_match(groups: list[list[str]], dialect: str) -> Any:
    if dialect == "postgresql":
        query = " & ".join("(" + " | ".join(group) + ")" for group in groups)
        vector = func.to_tsvector(
            text("'simple'"),
            ServiceCard.search_title + literal_column("' '") + ServiceCard.search_body,
        )
        return vector.op("@@")(func.to_tsquery(text("'simple'"), query))
    query = " AND ".join("(" + " OR ".join(f'"{term}"' for term in group) + ")" for group in groups)
    matching = (
        text("SELECT card_id FROM service_card_fts WHERE service_card_fts MATCH :q")
        .bindparams(q=query)
        .columns(literal_column("card_id"))
    )
    return col(ServiceCard.id).in_(matching)


def _rank(groups: list[list[str]], title: str, body: str, position: int) -> tuple[int, int, int]:
    """Title hits first, then how many query words the body has, then the card order.
    Ranking happens here, not in SQL, so SQLite and PostgreSQL rank identically."""
    title_terms, body_terms = set(title.split()), set(body.split())
    title_hits = sum(1 for group in groups if title_terms.intersection(group))
    body_hits = sum(1 for group in groups if body_terms.intersection(group))
    return (-title_hits, -body_hits, position)


async def _search_page(
    session: AsyncSession,
    statement: Any,
    q: str,
    limit: int,
    cursor: str | None,
    dialect: str,
    with_sections: bool,
) -> Page[Document]:
    groups = search_text.query_groups(q)
    if not groups:
        return Page(items=[], next_cursor=None, total=0)
    matches = (
        await execute(
            session,
            statement.add_columns(
                ServiceCard.search_title, ServiceCard.search_body, ServiceCard.position
            ).where(_fts_match(groups, dialect)),
        )
    ).all()
    ranked = sorted(
        matches,
        key=lambda row: (
            *_rank(groups, row.search_title, row.search_body, row.position),
            str(row.id),
        ),
    )
    after = decode_cursor("service-card-search", cursor, as_offset)
    offset = after[0] if after else 0
    window = ranked[offset : offset + limit]
    next_cursor = (
        encode_cursor("service-card-search", [offset + limit])
        if offset + limit < len(ranked)
        else None
    )
    documents = await load_documents(
        session, [row.id for row in window], with_sections=with_sections
    )
    return Page(items=documents, next_cursor=next_cursor, total=len(ranked))


async def get_document(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    card_id: uuid.UUID,
    statuses: Iterable[str],
) -> Document:
    found = (
        await execute(
            session,
            sa_select(col(ServiceCard.id)).where(
                col(ServiceCard.id) == card_id,
                col(ServiceCard.municipality_id) == municipality_id,
                col(ServiceCard.status).in_(list(statuses)),
            ),
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("No such service card.")
    (document,) = await load_documents(session, [card_id])
    return document


async def get_card(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    card_id: uuid.UUID,
    for_update: bool = False,
) -> ServiceCard:
    """The card row of this municipality (404 for another municipality's card)."""
    statement = select(ServiceCard).where(
        col(ServiceCard.id) == card_id, col(ServiceCard.municipality_id) == municipality_id
    )
    if for_update:
        statement = statement.with_for_update()
    card = (await session.exec(statement)).first()
    if card is None:
        raise NotFound("No such service card.")
    return card


async def stale_count(
    *, session: AsyncSession, municipality_id: uuid.UUID, stale_before: datetime
) -> int:
    statement = _filtered(
        municipality_id,
        CardFilters(statuses=(CardStatus.published, CardStatus.draft), stale_before=stale_before),
        session.get_bind().dialect.name,
    )
    return int(
        (
            await execute(session, sa_select(func.count()).select_from(statement.subquery()))
        ).scalar_one()
    )


def stale_cutoff(days: int) -> datetime:
    return utcnow() - timedelta(days=days)


# ---- topics ------------------------------------------------------------------------------


async def list_topics(*, session: AsyncSession, municipality_id: uuid.UUID) -> list[Topic]:
    rows = await session.exec(
        select(Topic)
        .where(col(Topic.municipality_id) == municipality_id)
        .order_by(col(Topic.position), col(Topic.key))
    )
    return list(rows if hasattr(rows, "scalars") else rows)


async def _topic(session: AsyncSession, municipality_id: uuid.UUID, key: str) -> Topic:
    topic = (
        await session.exec(
            select(Topic).where(
                col(Topic.municipality_id) == municipality_id, col(Topic.key) == key
            )
        )
    ).first()
    if topic is None:
        raise ValidationFailed(
            f"Unknown topic '{key}'.",
            errors=[FieldProblem("body.topic", f"unknown topic '{key}'", "unknown")],
        )
    return topic


async def create_topic(
    *, session: AsyncSession, municipality_id: uuid.UUID, data: TopicIn
) -> Topic:
    existing = (
        await session.exec(
            select(Topic).where(
                col(Topic.municipality_id) == municipality_id, col(Topic.key) == data.key
            )
        )
    ).first()
    if existing is not None:
        raise Conflict(f"The topic '{data.key}' exists already.", code="duplicate")
    topic = Topic(
        municipality_id=municipality_id, key=data.key, name=data.name, position=data.position
    )
    session.add(topic)
    await session.flush()
    await content_version.bump_municipal(
        session=session, municipality_id=municipality_id, kind=KIND
    )
    return topic


# ---- writing -----------------------------------------------------------------------------


async def _sections_and_entries(
    session: AsyncSession, card_id: uuid.UUID
) -> tuple[list[CardSection], list[CardEntry]]:
    sections = list(
        await session.exec(
            select(CardSection)
            .where(col(CardSection.card_id) == card_id)
            .order_by(col(CardSection.position))
        )
    )
    entries = list(
        await session.exec(
            select(CardEntry)
            .where(col(CardEntry.card_id) == card_id)
            .order_by(col(CardEntry.position))
        )
    )
    return sections, entries


async def snapshot(session: AsyncSession, card: ServiceCard) -> Document:
    """The card as a JSON-ready document: what revisions store and diffs compare."""
    sections, entries = await _sections_and_entries(session, card.id)
    by_section: dict[uuid.UUID, list[Document]] = defaultdict(list)
    for entry in entries:
        by_section[entry.section_id].append(_entry_doc(entry))
    topic = await session.get(Topic, card.topic_id)
    municipality = await session.get(Municipality, card.municipality_id)
    assert topic is not None
    assert municipality is not None
    document = _card_doc(
        card,
        municipality.slug,
        topic.key,
        [{"id": s.id, "heading": _tr(s.heading), "entries": by_section[s.id]} for s in sections],
    )
    jsonable: Document = _jsonable(document)
    return jsonable


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


_TRACKED_FIELDS = ("topic", "title", "summary", "position", "status", "personas", "verified_at")
_ENTRY_FIELDS = (
    "kind",
    "name",
    "description",
    "links",
    "phones",
    "email",
    "address",
    "opening_hours",
    "languages",
    "when",
)


def diff(before: Document | None, after: Document) -> list[dict[str, Any]]:
    """Per-field changes between two snapshots: card fields, headings and entries."""
    if before is None:
        return [{"field": "card", "before": None, "after": "created"}]
    changes: list[dict[str, Any]] = []
    for name in _TRACKED_FIELDS:
        if before.get(name) != after.get(name):
            changes.append({"field": name, "before": before.get(name), "after": after.get(name)})
    old_sections = {s["id"]: s for s in before["sections"]}
    new_sections = {s["id"]: s for s in after["sections"]}
    for section_id, section in new_sections.items():
        old = old_sections.get(section_id)
        if old is None:
            changes.append(
                {"field": f"sections.{section_id}", "before": None, "after": section["heading"]}
            )
        elif old["heading"] != section["heading"]:
            changes.append(
                {
                    "field": f"sections.{section_id}.heading",
                    "before": old["heading"],
                    "after": section["heading"],
                }
            )
    for section_id, section in old_sections.items():
        if section_id not in new_sections:
            changes.append(
                {"field": f"sections.{section_id}", "before": section["heading"], "after": None}
            )
    if [s["id"] for s in before["sections"]] != [s["id"] for s in after["sections"]] and not any(
        c["field"].startswith("sections.") for c in changes
    ):
        changes.append({"field": "sections.order", "before": None, "after": None})
    old_entries = {e["id"]: e for s in before["sections"] for e in s["entries"]}
    new_entries = {e["id"]: e for s in after["sections"] for e in s["entries"]}
    for entry_id, entry in new_entries.items():
        old = old_entries.get(entry_id)
        if old is None:
            changes.append({"field": f"entries.{entry_id}", "before": None, "after": entry["name"]})
            continue
        for name in _ENTRY_FIELDS:
            if old.get(name) != entry.get(name):
                changes.append(
                    {
                        "field": f"entries.{entry_id}.{name}",
                        "before": old.get(name),
                        "after": entry.get(name),
                    }
                )
    for entry_id, entry in old_entries.items():
        if entry_id not in new_entries:
            changes.append({"field": f"entries.{entry_id}", "before": entry["name"], "after": None})
    return changes


def updated_items(
    changes: list[dict[str, Any]], before: Document | None, after: Document
) -> list[str]:
    """The footer's "updated items": field names, and entries by their Finnish name."""
    names = {
        e["id"]: e["name"]["fi"]
        for document in (before, after)
        if document
        for s in document["sections"]
        for e in s["entries"]
    }
    headings = {
        s["id"]: s["heading"]["fi"]
        for document in (before, after)
        if document
        for s in document["sections"]
    }
    items: list[str] = []
    for change in changes:
        parts = change["field"].split(".")
        if parts[0] == "entries":
            label = names.get(parts[1], parts[1])
        elif parts[0] == "sections" and parts[1] != "order":
            label = headings.get(parts[1], parts[1])
        else:
            label = parts[0]
        if label not in items:
            items.append(label)
    return items


def _index(card: ServiceCard, sections: list[SectionIn] | None, existing: Document | None) -> None:
    """Refresh the search columns from the card's texts in every language."""
    title_parts = [
        search_text.index_text(text, lang) for lang, text in card.title.as_dict().items()
    ]
    body_parts: list[str] = []
    if card.summary is not None:
        body_parts += [
            search_text.index_text(t, lang) for lang, t in card.summary.as_dict().items()
        ]
    texts: list[dict[str, str] | None] = []
    if sections is not None:
        for section in sections:
            texts.append(section.heading.as_dict())
            for entry in section.entries:
                texts += [
                    entry.name.as_dict(),
                    entry.description.as_dict() if entry.description else None,
                    entry.address.as_dict() if entry.address else None,
                ]
    elif existing is not None:
        for section_doc in existing["sections"]:
            texts.append(section_doc["heading"])
            for entry_doc in section_doc["entries"]:
                texts += [entry_doc["name"], entry_doc["description"], entry_doc["address"]]
    for translations in texts:
        if translations:
            body_parts += [search_text.index_text(t, lang) for lang, t in translations.items()]
    card.search_title = " ".join(part for part in title_parts if part)
    card.search_body = " ".join(part for part in body_parts if part)


async def _sync_fts(session: AsyncSession, card: ServiceCard, *, deleted: bool = False) -> None:
    """SQLite keeps an FTS5 table beside the cards; PostgreSQL indexes the columns."""
    if session.get_bind().dialect.name != "sqlite":
        return
    connection = await session.connection()
    await connection.execute(
        text("DELETE FROM service_card_fts WHERE card_id = :id"), {"id": card.id.hex}
    )
    if not deleted:
        await connection.execute(
            text("INSERT INTO service_card_fts (card_id, title, body) VALUES (:id, :title, :body)"),
            {"id": card.id.hex, "title": card.search_title, "body": card.search_body},
        )


async def _write_sections(
    session: AsyncSession,
    card: ServiceCard,
    sections: list[SectionIn],
    also_allowed: set[uuid.UUID] | None = None,
) -> None:
    """Replace the card's sections and entries, keeping the ids the client sent back.

    An id that belongs to another card is refused: ids are identities, not templates.
    `also_allowed` lets a restore bring back entries deleted since, with their old ids.
    """
    old_sections, old_entries = await _sections_and_entries(session, card.id)
    known = {s.id for s in old_sections} | {e.id for e in old_entries} | (also_allowed or set())
    problems: list[FieldProblem] = []
    seen: set[uuid.UUID] = set()

    def check(item_id: uuid.UUID | None, where: str) -> None:
        if item_id is None:
            return
        if item_id not in known or item_id in seen:
            problems.append(FieldProblem(f"{where}.id", "not a section or entry of this card"))
        seen.add(item_id)

    for i, section in enumerate(sections):
        check(section.id, f"body.sections[{i}]")
        for j, entry in enumerate(section.entries):
            check(entry.id, f"body.sections[{i}].entries[{j}]")
    if problems:
        raise ValidationFailed("Some ids do not belong to this card.", errors=problems)
    await execute(session, delete(CardEntry).where(col(CardEntry.card_id) == card.id))
    await execute(session, delete(CardSection).where(col(CardSection.card_id) == card.id))
    await session.flush()
    section_rows = [
        CardSection(
            id=section.id or uuid.uuid4(), card_id=card.id, position=i, heading=section.heading
        )
        for i, section in enumerate(sections)
    ]
    session.add_all(section_rows)
    await session.flush()  # sections first: the entries refer to them
    for section, section_row in zip(sections, section_rows, strict=True):
        for j, entry in enumerate(section.entries):
            session.add(
                CardEntry(
                    id=entry.id or uuid.uuid4(),
                    card_id=card.id,
                    section_id=section_row.id,
                    position=j,
                    kind=entry.kind,
                    name=entry.name,
                    description=entry.description,
                    links=entry.links,
                    phones=entry.phones,
                    email=entry.email,
                    address=entry.address,
                    opening_hours=entry.opening_hours,
                    languages=entry.languages,
                    timing=entry.when,
                )
            )
    await session.flush()


async def _record(
    session: AsyncSession,
    card: ServiceCard,
    actor: Actor,
    action: str,
    before: Document | None,
) -> list[dict[str, Any]]:
    """Write the revision for a change just made, and the card's history footer."""
    await session.flush()
    after = await snapshot(session, card)
    changes = diff(before, after)
    if before is not None and not changes:
        return []
    if before is not None:
        card.version += 1
    card.updated_at = utcnow()
    card.updated_by_name = actor.name
    card.updated_items = updated_items(changes, before, after) if before else ["card"]
    session.add(card)
    await session.flush()
    after = await snapshot(session, card)
    session.add(
        ServiceCardRevision(
            card_id=card.id,
            number=card.version,
            actor_id=actor.id,
            actor_name=actor.name,
            action=action,
            changes=_jsonable(changes),
            snapshot=after,
        )
    )
    await content_version.bump_municipal(
        session=session, municipality_id=card.municipality_id, kind=KIND
    )
    await changes_log.visibility(
        session=session,
        municipality_id=card.municipality_id,
        kind=KIND,
        resource_id=card.id,
        was_public=None if before is None else before.get("status") == CardStatus.published,
        is_public=card.status == CardStatus.published,
        revision=card.version,
        path=changes_log.resource_path(after["municipality"], "service-cards", card.id),
        # The domain verb where it says more than the feed's (archived, not unpublished).
        verb=action if action in ("published", "unpublished", "archived") else None,
    )
    await session.flush()
    return changes


async def _next_position(session: AsyncSession, municipality_id: uuid.UUID) -> int:
    highest = (
        await execute(
            session,
            sa_select(func.max(ServiceCard.position)).where(
                col(ServiceCard.municipality_id) == municipality_id
            ),
        )
    ).scalar_one_or_none()
    return 1 if highest is None else int(highest) + 1


async def create(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    actor: Actor,
    data: CardCreate,
    source: ServiceCard | None = None,
    action: str = "created",
) -> ServiceCard:
    """A new card with its sections and entries, and its first revision."""
    topic = await _topic(session, municipality_id, data.topic)
    if data.id is not None and await session.get(ServiceCard, data.id) is not None:
        raise Conflict("A card with this id exists already.", code="duplicate")
    card = ServiceCard(
        id=data.id or uuid.uuid4(),
        municipality_id=municipality_id,
        topic_id=topic.id,
        title=data.title,
        summary=data.summary,
        position=data.position
        if data.position is not None
        else await _next_position(session, municipality_id),
        status=data.status,
        personas=list(data.personas),
        source_card_id=source.id if source else None,
        source_version=source.version if source else None,
        # Written by a person just now: checked. Seeded or copied content is not
        # checked for this municipality until someone verifies it.
        verified_at=utcnow() if source is None and actor.id is not None else None,
    )
    _index(card, data.sections, None)
    session.add(card)
    await session.flush()
    await _write_sections(session, card, data.sections)
    await _sync_fts(session, card)
    await _record(session, card, actor, action, None)
    return card


async def update(
    *, session: AsyncSession, card: ServiceCard, actor: Actor, data: CardUpdate
) -> ServiceCard:
    """Apply the fields sent; a revision records exactly what changed."""
    before = await snapshot(session, card)
    if "topic" in data.model_fields_set and data.topic is not None:
        card.topic_id = (await _topic(session, card.municipality_id, data.topic)).id
    for name in ("title", "summary", "position"):
        if name in data.model_fields_set:
            setattr(card, name, getattr(data, name))
    if data.personas is not None:
        card.personas = list(data.personas)
    if data.sections is not None:
        await _write_sections(session, card, data.sections)
    _index(card, data.sections, before if data.sections is None else None)
    await _sync_fts(session, card)
    await _record(session, card, actor, "updated", before)
    return card


async def set_status(
    *, session: AsyncSession, card: ServiceCard, actor: Actor, status: CardStatus
) -> ServiceCard:
    before = await snapshot(session, card)
    card.status = status
    action = {"published": "published", "draft": "unpublished", "archived": "archived"}[status]
    await _record(session, card, actor, action, before)
    return card


async def verify(*, session: AsyncSession, card: ServiceCard, actor: Actor) -> ServiceCard:
    """Mark the card checked today (it drops off the stale list)."""
    before = await snapshot(session, card)
    card.verified_at = utcnow()
    await _record(session, card, actor, "verified", before)
    return card


async def remove(*, session: AsyncSession, card: ServiceCard) -> None:
    await _sync_fts(session, card, deleted=True)
    await execute(
        session,
        sa_update(ServiceCard)
        .where(col(ServiceCard.source_card_id) == card.id)
        .values(source_card_id=None),
    )
    await changes_log.visibility(
        session=session,
        municipality_id=card.municipality_id,
        kind=KIND,
        resource_id=card.id,
        was_public=card.status == CardStatus.published,
        is_public=None,
        revision=card.version,
        collection="service-cards",
    )
    await session.delete(card)
    await content_version.bump_municipal(
        session=session, municipality_id=card.municipality_id, kind=KIND
    )
    await session.flush()


async def reorder(
    *, session: AsyncSession, municipality_id: uuid.UUID, actor: Actor, card_ids: list[uuid.UUID]
) -> None:
    """Put the listed cards first, in this order; the others keep their relative order."""
    rows = list(
        await session.exec(
            select(ServiceCard)
            .where(col(ServiceCard.municipality_id) == municipality_id)
            .order_by(col(ServiceCard.position), col(ServiceCard.id))
        )
    )
    by_id = {card.id: card for card in rows}
    unknown = [str(i) for i in card_ids if i not in by_id]
    if unknown or len(set(card_ids)) != len(card_ids):
        raise ValidationFailed(
            "card_ids must list distinct cards of this municipality.",
            errors=[
                FieldProblem(
                    "body.card_ids", f"unknown or repeated: {', '.join(unknown) or 'repeats'}"
                )
            ],
        )
    ordered = [by_id[i] for i in card_ids] + [card for card in rows if card.id not in set(card_ids)]
    for position, card in enumerate(ordered, start=1):
        if card.position != position:
            before = await snapshot(session, card)
            card.position = position
            await _record(session, card, actor, "reordered", before)


# ---- history -----------------------------------------------------------------------------


async def revisions(*, session: AsyncSession, card: ServiceCard) -> list[ServiceCardRevision]:
    rows = await session.exec(
        select(ServiceCardRevision)
        .where(col(ServiceCardRevision.card_id) == card.id)
        .order_by(col(ServiceCardRevision.number).desc())
    )
    return list(rows)


async def revision(
    *, session: AsyncSession, card_id: uuid.UUID, number: int
) -> ServiceCardRevision:
    row = (
        await session.exec(
            select(ServiceCardRevision).where(
                col(ServiceCardRevision.card_id) == card_id,
                col(ServiceCardRevision.number) == number,
            )
        )
    ).first()
    if row is None:
        raise NotFound(f"No revision {number} of this card.")
    return row


def _card_input(document: Document) -> CardUpdate:
    """A snapshot turned back into an update (the ids keep entries' identities)."""
    return CardUpdate.model_validate(
        {
            "topic": document["topic"],
            "title": document["title"],
            "summary": document["summary"],
            "personas": document["personas"],
            "sections": [
                {
                    "id": s["id"],
                    "heading": s["heading"],
                    "entries": [
                        {key: value for key, value in e.items() if value not in (None, [])}
                        for e in s["entries"]
                    ],
                }
                for s in document["sections"]
            ],
        }
    )


async def restore(
    *, session: AsyncSession, card: ServiceCard, actor: Actor, number: int
) -> ServiceCard:
    """Bring back the content of revision `number`; the restore is itself a new revision."""
    old = await revision(session=session, card_id=card.id, number=number)
    before = await snapshot(session, card)
    data = _card_input(old.snapshot)
    historic = {s.id for s in data.sections or [] if s.id} | {
        e.id for s in data.sections or [] for e in s.entries if e.id
    }
    card.topic_id = (await _topic(session, card.municipality_id, data.topic or "")).id
    card.title = data.title or card.title
    card.summary = data.summary
    card.personas = list(data.personas or [])
    await _write_sections(session, card, data.sections or [], also_allowed=historic)
    _index(card, data.sections, None)
    await _sync_fts(session, card)
    await _record(session, card, actor, f"restored {number}", before)
    return card


# ---- copying between municipalities ---------------------------------------------------------


def _as_new(document: Document, status: CardStatus) -> CardCreate:
    """A source card's snapshot as a brand-new card (fresh ids: entries belong to one card)."""
    return CardCreate.model_validate(
        {
            "topic": document["topic"],
            "title": document["title"],
            "summary": document["summary"],
            "status": status,
            "personas": document["personas"],
            "sections": [
                {
                    "heading": s["heading"],
                    "entries": [
                        {
                            key: value
                            for key, value in e.items()
                            if key != "id" and value not in (None, [])
                        }
                        for e in s["entries"]
                    ],
                }
                for s in document["sections"]
            ],
        }
    )


async def _ensure_topic(
    session: AsyncSession, source_topic: Topic, target_municipality_id: uuid.UUID
) -> None:
    exists = (
        await session.exec(
            select(Topic).where(
                col(Topic.municipality_id) == target_municipality_id,
                col(Topic.key) == source_topic.key,
            )
        )
    ).first()
    if exists is None:
        session.add(
            Topic(
                municipality_id=target_municipality_id,
                key=source_topic.key,
                name=source_topic.name,
                position=source_topic.position,
            )
        )
        await session.flush()


async def copy(
    *,
    session: AsyncSession,
    source_municipality_id: uuid.UUID,
    target_municipality_id: uuid.UUID,
    actor: Actor,
    data: CopyIn,
) -> list[ServiceCard]:
    """Copy published cards of another municipality, remembering source and revision."""
    if source_municipality_id == target_municipality_id:
        raise ValidationFailed(
            "Copy from another municipality.",
            errors=[FieldProblem("body.source_municipality", "the same as the target")],
        )
    statement = select(ServiceCard).where(
        col(ServiceCard.municipality_id) == source_municipality_id,
        col(ServiceCard.status) == CardStatus.published,
    )
    if data.card_id is not None:
        statement = statement.where(col(ServiceCard.id) == data.card_id)
    if data.topic is not None:
        topic = await _topic(session, source_municipality_id, data.topic)
        statement = statement.where(col(ServiceCard.topic_id) == topic.id)
    sources = list(
        await session.exec(statement.order_by(col(ServiceCard.position), col(ServiceCard.id)))
    )
    if data.card_id is not None and not sources:
        raise NotFound("No such published card in the source municipality.")
    copies = []
    for source in sources:
        source_topic = await session.get(Topic, source.topic_id)
        assert source_topic is not None
        await _ensure_topic(session, source_topic, target_municipality_id)
        document = await snapshot(session, source)
        copies.append(
            await create(
                session=session,
                municipality_id=target_municipality_id,
                actor=actor,
                data=_as_new(document, data.status),
                source=source,
                action=f"copied from {document['municipality']}",
            )
        )
    return copies


async def source_diff(*, session: AsyncSession, card: ServiceCard) -> Document:
    """How the copy's source changed since the copy was made."""
    if card.source_version is None:
        return {"copied_from": None, "source_changed": False, "changes": []}
    if card.source_card_id is None:
        return {
            "copied_from": {"card_id": None, "revision": card.source_version},
            "source_changed": True,
            "source_deleted": True,
            "changes": [],
        }
    source = await session.get(ServiceCard, card.source_card_id)
    assert source is not None
    copied = await revision(session=session, card_id=source.id, number=card.source_version)
    current = await snapshot(session, source)
    return {
        "copied_from": {
            "card_id": str(source.id),
            "municipality": current["municipality"],
            "revision": card.source_version,
        },
        "current_revision": source.version,
        "source_changed": source.version > card.source_version,
        "source_deleted": False,
        "changes": diff(copied.snapshot, current) if source.version > card.source_version else [],
    }
