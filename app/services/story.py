"""Stories of work and life: adding, importing a batch of social-media posts (refused
whole when any row is bad), moderating, and the public feed."""

import csv
import io
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn

import orjson
from pydantic import ValidationError
from sqlalchemy import and_, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import execute, json_array_contains
from app.core.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from app.core.pagination import Page, as_moment, as_uuid, decode_cursor, encode_cursor
from app.core.time import utcnow
from app.models.story import (
    STORY_COLUMNS,
    Story,
    StoryCreate,
    StoryIn,
    StoryStatus,
    StoryUpdate,
    normalize_hashtag,
)
from app.services import changes, content_version
from app.services.service_card import Actor

KIND = "story"
API_BASE = "/api/v1/municipalities"
IMPORT_REJECTED = "import-rejected"
MAX_IMPORT_ROWS = 1000
MAX_PROBLEMS = 100
REQUIRED_COLUMNS = ("title", "author", "published_at")
Document = dict[str, Any]

# A hashtag in running text; not the fragment of a link (`…/page#part`).
_HASHTAG_IN_TEXT = re.compile(r"(?<![\w/&#])#(\w{1,100})")


def hashtag_query(value: str) -> str:
    """`?hashtag=Kemijärvi` or `#kemijärvi` → `#kemijärvi`; a 422 for anything else."""
    try:
        return normalize_hashtag(value)
    except ValueError as error:
        raise ValidationFailed(
            "Not a hashtag.", errors=[FieldProblem("query.hashtag", str(error))]
        ) from error


def _hashtags(item: StoryIn | Story) -> list[str]:
    """The tags given plus those written in the text, each once, in order."""
    tags = list(item.hashtags)
    for text in (item.title, item.summary, item.body):
        for found in _HASHTAG_IN_TEXT.findall(text or ""):
            tags.append(normalize_hashtag(found))
    return list(dict.fromkeys(tags))


# ---- documents ---------------------------------------------------------------------------


def document(story: Story, slug: str, *, staff: bool = False) -> Document:
    """The story as the public sees it; staff also see moderation."""
    data: Document = {
        "id": story.id,
        "municipality": slug,
        "title": story.title,
        "summary": story.summary,
        "body": story.body,
        "language": story.language,
        "media_url": story.media_url,
        "source_url": story.source_url,
        "platform": story.platform,
        "hashtags": list(story.hashtags),
        "author": story.author,
        "published_at": story.published_at,
        "demo": story.demo,
        "revision": story.version,
    }
    if staff:
        data |= {
            "status": story.status,
            "moderated_at": story.moderated_at,
            "moderated_by": story.moderated_by_name,
            "rejection_reason": story.rejection_reason,
            "created_by": story.created_by_name,
        }
    return data


def teaser(story: Story, slug: str) -> Document:
    """What the landing page shows of a story (the body is a click away)."""
    data = document(story, slug)
    for left_out in ("body", "revision", "municipality"):
        data.pop(left_out)
    data["href"] = f"{API_BASE}/{slug}/stories/{story.id}"
    return data


# ---- reading -----------------------------------------------------------------------------


def _filtered(
    municipality_id: uuid.UUID,
    statuses: Iterable[str],
    hashtag: str | None,
    modified_since: datetime | None,
    dialect: str,
) -> Any:
    statement = select(Story).where(
        col(Story.municipality_id) == municipality_id, col(Story.status).in_(list(statuses))
    )
    if hashtag is not None:
        statement = statement.where(json_array_contains(Story.hashtags, hashtag, dialect))
    if modified_since is not None:
        statement = statement.where(col(Story.updated_at) >= modified_since)
    return statement


async def list_page(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    statuses: Iterable[str] = (StoryStatus.approved,),
    hashtag: str | None = None,
    modified_since: datetime | None = None,
    limit: int,
    cursor: str | None = None,
) -> Page[Story]:
    """Stories newest first (by the time they were published), a keyset page at a time."""
    dialect = session.get_bind().dialect.name
    statement = _filtered(municipality_id, statuses, hashtag, modified_since, dialect)
    total = (
        await execute(session, sa_select(func.count()).select_from(statement.subquery()))
    ).scalar_one()
    after = decode_cursor("stories", cursor, as_moment, as_uuid)
    if after is not None:
        moment, last = after
        statement = statement.where(
            or_(
                col(Story.published_at) < moment,
                and_(col(Story.published_at) == moment, col(Story.id) < last),
            )
        )
    rows = list(
        await session.exec(
            statement.order_by(col(Story.published_at).desc(), col(Story.id).desc()).limit(
                limit + 1
            )
        )
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(
            "stories", [rows[-1].published_at.isoformat(), str(rows[-1].id)]
        )
    return Page(items=rows, next_cursor=next_cursor, total=total)


async def newest(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    slug: str,
    limit: int,
    hashtags: Sequence[str] = (),
) -> list[Document]:
    """The newest approved stories carrying one of `hashtags` (any, when none are
    given) as teasers, in one query."""
    if limit <= 0:
        return []
    dialect = session.get_bind().dialect.name
    statement = _filtered(municipality_id, (StoryStatus.approved,), None, None, dialect)
    if hashtags:
        statement = statement.where(
            or_(*[json_array_contains(Story.hashtags, tag, dialect) for tag in hashtags])
        )
    rows = await session.exec(
        statement.order_by(col(Story.published_at).desc(), col(Story.id).desc()).limit(limit)
    )
    return [teaser(story, slug) for story in rows]


async def get(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    story_id: uuid.UUID,
    for_update: bool = False,
) -> Story:
    """A story of this municipality, whatever its status (404 otherwise)."""
    statement = select(Story).where(
        col(Story.id) == story_id, col(Story.municipality_id) == municipality_id
    )
    if for_update:
        statement = statement.with_for_update()
    story = (await session.exec(statement)).first()
    if story is None:
        raise NotFound("No such story.")
    return story


# ---- writing -----------------------------------------------------------------------------


async def _bump(session: AsyncSession, municipality_id: uuid.UUID) -> None:
    await content_version.bump_municipal(
        session=session, municipality_id=municipality_id, kind=KIND
    )


async def _log(
    session: AsyncSession,
    story: Story,
    *,
    was_public: bool | None,
    is_public: bool | None,
    verb: str | None = None,
) -> None:
    """The public change a write made, for the change feed and tombstones."""
    await changes.visibility(
        session=session,
        municipality_id=story.municipality_id,
        kind=KIND,
        resource_id=story.id,
        was_public=was_public,
        is_public=is_public,
        revision=story.version,
        collection="stories",
        verb=verb,
    )


def _public(story: Story) -> bool:
    return story.status == StoryStatus.approved


async def _existing_sources(
    session: AsyncSession, municipality_id: uuid.UUID, urls: list[str]
) -> dict[str, uuid.UUID]:
    found: dict[str, uuid.UUID] = {}
    for start in range(0, len(urls), 500):
        rows = await execute(
            session,
            sa_select(col(Story.source_url), col(Story.id)).where(
                col(Story.municipality_id) == municipality_id,
                col(Story.source_url).in_(urls[start : start + 500]),
            ),
        )
        found |= dict(rows.all())
    return found


def _new_story(
    municipality_id: uuid.UUID, actor: Actor, item: StoryIn, status: StoryStatus
) -> Story:
    story = Story(
        municipality_id=municipality_id,
        **item.model_dump(exclude={"hashtags", "status"}),
        hashtags=_hashtags(item),
        status=status,
        created_by_name=actor.name,
    )
    if status == StoryStatus.approved:
        story.moderated_at = utcnow()
        story.moderated_by_name = actor.name
    return story


async def create(
    *, session: AsyncSession, municipality_id: uuid.UUID, actor: Actor, data: StoryCreate
) -> Story:
    """One story; the same source URL twice is a 409 `duplicate`."""
    if data.status == StoryStatus.rejected:
        raise ValidationFailed(
            "A new story is pending or approved.",
            errors=[FieldProblem("body.status", "pending or approved")],
        )
    if data.source_url:
        existing = await _existing_sources(session, municipality_id, [data.source_url])
        if existing:
            raise Conflict(
                "A story from this source URL exists already.",
                code="duplicate",
                extra={"existing_id": str(existing[data.source_url])},
            )
    story = _new_story(municipality_id, actor, data, data.status)
    session.add(story)
    await session.flush()
    await _bump(session, municipality_id)
    await _log(session, story, was_public=None, is_public=_public(story))
    return story


async def update(*, session: AsyncSession, story: Story, data: StoryUpdate) -> Story:
    """Change the fields sent; hashtags in the text are picked up again."""
    if data.source_url and data.source_url != story.source_url:
        existing = await _existing_sources(session, story.municipality_id, [data.source_url])
        if existing:
            raise Conflict("Another story has this source URL.", code="duplicate")
    was_public = _public(story)
    for name in data.model_fields_set:
        setattr(story, name, getattr(data, name))
    story.hashtags = _hashtags(story)
    story.version += 1
    story.updated_at = utcnow()
    session.add(story)
    await session.flush()
    await _bump(session, story.municipality_id)
    await _log(session, story, was_public=was_public, is_public=_public(story))
    return story


_MODERATION = {
    StoryStatus.approved: {StoryStatus.pending, StoryStatus.rejected},
    StoryStatus.rejected: {StoryStatus.pending, StoryStatus.approved},
}


async def moderate(
    *,
    session: AsyncSession,
    story: Story,
    actor: Actor,
    status: StoryStatus,
    reason: str | None = None,
) -> Story:
    """Approve (it becomes public) or reject (it is taken down); pending ↔ either."""
    if StoryStatus(story.status) not in _MODERATION[status]:
        raise Conflict(f"The story is {story.status} already.", code="invalid-transition")
    was_public = _public(story)
    story.status = status
    story.rejection_reason = reason if status == StoryStatus.rejected else None
    story.moderated_at = story.updated_at = utcnow()
    story.moderated_by_name = actor.name
    story.version += 1
    session.add(story)
    await session.flush()
    await _bump(session, story.municipality_id)
    verb = "approved" if status == StoryStatus.approved else "rejected"
    await _log(session, story, was_public=was_public, is_public=_public(story), verb=verb)
    return story


async def remove(*, session: AsyncSession, story: Story) -> None:
    """Delete a story; its source URL may then be imported again."""
    await _log(session, story, was_public=_public(story), is_public=None)
    await session.delete(story)
    await session.flush()
    await _bump(session, story.municipality_id)


# ---- importing -----------------------------------------------------------------------------


class _Problems:
    """Every problem of a file, raised together as one 422 `import-rejected`."""

    def __init__(self) -> None:
        self.items: list[FieldProblem] = []

    def add(self, where: str, message: str, code: str = "invalid") -> None:
        self.items.append(FieldProblem(where, message, code))

    def raise_if_any(self, what: str) -> None:
        if not self.items:
            return
        shown = self.items[:MAX_PROBLEMS]
        more = len(self.items) - len(shown)
        detail = f"The {what} was rejected whole; nothing was imported. Fix the rows in `errors`"
        detail += f" ({more} more not listed)." if more else "."
        raise ValidationFailed(
            detail, code=IMPORT_REJECTED, errors=shown, extra={"problem_count": len(self.items)}
        )

    def fail(self, what: str) -> NoReturn:
        self.raise_if_any(what)
        raise AssertionError("fail() needs a problem added first")


def _validate(item: Any, at: str, column_style: bool, problems: _Problems) -> StoryIn | None:
    try:
        return StoryIn.model_validate(item)
    except ValidationError as error:
        for problem in error.errors():
            location = [str(part) for part in problem.get("loc", ())]
            if column_style:
                where = f"{at}, column {location[0]}" if location else at
            else:
                where = at + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in location)
            problems.add(where, str(problem.get("msg")), str(problem.get("type")))
        return None


def parse_json(raw: bytes) -> list[tuple[str, StoryIn]]:
    """A JSON list of story objects; errors point at `[3].title`."""
    problems = _Problems()
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        problems.add("body", f"not JSON: {error}", "json")
        problems.fail("file")
    if not isinstance(data, list):
        problems.add("body", "send a JSON list of stories", "type")
    elif len(data) > MAX_IMPORT_ROWS:
        problems.add("body", f"at most {MAX_IMPORT_ROWS} stories per file", "too-long")
    elif not data:
        problems.add("body", "the list is empty", "empty")
    problems.raise_if_any("file")
    items = []
    for index, item in enumerate(data):
        at = f"[{index}]"
        if not isinstance(item, dict):
            problems.add(at, "each story is a JSON object", "type")
            continue
        story = _validate(item, at, False, problems)
        if story is not None:
            items.append((at, story))
    problems.raise_if_any("file")
    return items


def _split_tags(cell: str) -> list[str]:
    return [tag for tag in re.split(r"[\s,;]+", cell) if tag]


def parse_csv(raw: bytes) -> list[tuple[str, StoryIn]]:
    """UTF-8 CSV with a header line naming the columns (see STORY_COLUMNS, any order);
    errors point at `line 7` or `line 7, column published_at` (the header is line 1)."""
    problems = _Problems()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        problems.add(f"line {line}", "the file is not UTF-8", "encoding")
        problems.fail("file")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    items: list[tuple[str, StoryIn]] = []
    previous_end = 0
    count = 0
    try:
        for record in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in record]
                unknown = [name for name in header if name not in STORY_COLUMNS]
                missing = [name for name in REQUIRED_COLUMNS if name not in header]
                if unknown or missing or len(set(header)) != len(header):
                    problems.add(
                        f"line {start}",
                        "the header names each column once, from: "
                        f"{','.join(STORY_COLUMNS)} (title, author and published_at required)",
                        "header",
                    )
                    break
                continue
            count += 1
            if count > MAX_IMPORT_ROWS:
                problems.add(f"line {start}", f"at most {MAX_IMPORT_ROWS} stories", "too-long")
                break
            if len(record) != len(header):
                problems.add(
                    f"line {start}", f"expected {len(header)} columns, got {len(record)}", "shape"
                )
                continue
            cells: dict[str, Any] = {
                name: value.strip()
                for name, value in zip(header, record, strict=True)
                if value.strip()
            }
            if "hashtags" in cells:
                cells["hashtags"] = _split_tags(cells["hashtags"])
            story = _validate(cells, f"line {start}", True, problems)
            if story is not None:
                items.append((f"line {start}", story))
    except csv.Error as error:
        problems.add(f"line {reader.line_num}", f"not valid CSV: {error}", "syntax")
    if header is None and not problems.items:
        problems.add("line 1", "the file is empty; it needs the header line", "header")
    elif not items and not problems.items:
        problems.add("line 2", "no stories after the header", "empty")
    problems.raise_if_any("file")
    return items


@dataclass
class ImportOutcome:
    created: list[Story] = field(default_factory=list)
    skipped: list[Document] = field(default_factory=list)


async def import_stories(
    *,
    session: AsyncSession,
    municipality_id: uuid.UUID,
    actor: Actor,
    items: list[tuple[str, StoryIn]],
    status: StoryStatus,
) -> ImportOutcome:
    """Add every story of a validated file; one whose source URL is known (here or
    earlier in the file) is skipped and reported, not an error."""
    urls = list({item.source_url for _, item in items if item.source_url})
    existing = await _existing_sources(session, municipality_id, urls)
    outcome = ImportOutcome()
    seen: set[str] = set()
    for at, item in items:
        url = item.source_url
        if url is not None and (url in existing or url in seen):
            outcome.skipped.append(
                {
                    "at": at,
                    "source_url": url,
                    "reason": "duplicate" if url in existing else "duplicate-in-file",
                    "existing_id": existing.get(url),
                }
            )
            continue
        if url is not None:
            seen.add(url)
        story = _new_story(municipality_id, actor, item, status)
        session.add(story)
        outcome.created.append(story)
    if outcome.created:
        await session.flush()
        await _bump(session, municipality_id)
        for story in outcome.created:
            await _log(session, story, was_public=None, is_public=_public(story))
    return outcome


CSV_TEMPLATE = ",".join(STORY_COLUMNS) + "\n"
