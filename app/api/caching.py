"""The public read path: bodies served from memory while nothing changed.

Every write bumps a content version per (municipality, kind) in its own transaction.
A worker keeps the versions it has read for at most `cache_version_ttl_seconds`
(so another worker's write shows within that time) and forgets at once the ones
its own commits bumped. Serialized bodies are cached per (route, parameters,
language) together with the versions they were built from.

Two ways in:
- `PublicCache.serve`, called by a route: reads the versions (from memory, or one
  query when they expired), reuses the body if it was built from the same versions,
  otherwise builds it. This is the "cold" path after a write.
- `FastLane`, an ASGI middleware in front of FastAPI: for an anonymous GET whose
  body is cached and whose versions are still fresh in memory, it answers (200 or
  304) without routing, dependencies or a database session. This is the warm path
  the performance targets are about.
"""

import asyncio
import hashlib
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core import metrics
from app.core.errors import NotFound
from app.core.i18n import check_language, served_language
from app.core.jsonenc import dumps
from app.models.content_version import GLOBAL_SCOPE
from app.models.municipality import Municipality
from app.services import content_version
from app.services.content_version import VersionKey
from app.services.municipality import DIRECTORY_KIND
from app.services.municipality import KIND as MUNICIPALITY_KIND

_DIRECTORY_KEY: VersionKey = (GLOBAL_SCOPE, DIRECTORY_KIND)
_FASTLANE_HITS = metrics.CACHE_HITS.labels("fastlane")
_ROUTE_HITS = metrics.CACHE_HITS.labels("route")
__all__ = ["MUNICIPALITY_KIND", "Body", "FastLane", "PublicCache", "TenantRef"]
VARY = "Accept-Language, Authorization"


@dataclass(frozen=True)
class Body:
    """A serialized response body with its ETag and representation headers."""

    content: bytes
    etag: str
    headers: dict[str, str] = field(default_factory=dict)
    # Wall-clock time (epoch seconds) after which the body is stale even if no write
    # happened: e.g. a list of free slots stops being true when the first one starts.
    valid_until: float | None = None

    def expired(self) -> bool:
        return self.valid_until is not None and time.time() >= self.valid_until


@dataclass(frozen=True)
class Entry:
    """A cached body and the content versions it was built from."""

    depends_on: tuple[VersionKey, ...]
    versions: tuple[int, ...]
    body: Body


@dataclass(frozen=True)
class TenantRef:
    """What the read path needs to know of a municipality without loading it."""

    id: uuid.UUID
    slug: str
    default_language: str
    enabled_languages: tuple[str, ...]

    @property
    def scope(self) -> str:
        return str(self.id)


def make_etag(*parts: object) -> str:
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest()
    return f'"{digest}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Weak comparison (RFC 9110 §13.1.2), as If-None-Match requires."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in if_none_match.split(","))


def json_body(
    data: Any, *, etag: str, language: str | None = None, valid_until: float | None = None
) -> Body:
    headers = {"Content-Language": language} if language else {}
    return Body(content=dumps(data), etag=etag, headers=headers, valid_until=valid_until)


def request_key(path: str, query_string: bytes | str, language: str | None) -> tuple[Any, ...]:
    """The cache key of a public GET: parameter order does not matter."""
    if isinstance(query_string, bytes):
        query_string = query_string.decode("latin-1")
    params = tuple(sorted(parse_qsl(query_string, keep_blank_values=True)))
    return (path, params, language)


class VersionCache:
    """Content versions as last read from the database, trusted for `ttl` seconds.

    Refreshes are single-flight (one query however many requests find a key
    expired at once), and a refresh that started before this worker's own commit
    is not trusted afterwards (the generation check), so a worker always sees its
    own writes at once.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[VersionKey, tuple[int, float]] = {}
        self._generation = 0
        self._inflight: dict[tuple[VersionKey, ...], asyncio.Future[dict[VersionKey, int]]] = {}

    def peek(self, keys: Iterable[VersionKey]) -> tuple[int, ...] | None:
        """The versions when all are fresh in memory, else None (no database)."""
        now = time.monotonic()
        found = []
        for key in keys:
            entry = self._entries.get(key)
            if entry is None or entry[1] <= now:
                return None
            found.append(entry[0])
        return tuple(found)

    async def get(self, session: AsyncSession, keys: Iterable[VersionKey]) -> tuple[int, ...]:
        wanted = list(keys)
        now = time.monotonic()
        stale = tuple(k for k in wanted if (e := self._entries.get(k)) is None or e[1] <= now)
        fresh: dict[VersionKey, int] = {}
        if stale:
            fresh = await self._refresh(session, stale)
        return tuple(fresh[k] if k in fresh else self._entries[k][0] for k in wanted)

    async def _refresh(
        self, session: AsyncSession, keys: tuple[VersionKey, ...]
    ) -> dict[VersionKey, int]:
        pending = self._inflight.get(keys)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[dict[VersionKey, int]] = asyncio.get_running_loop().create_future()
        self._inflight[keys] = future
        generation = self._generation
        try:
            fresh = await content_version.read(session=session, keys=keys)
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: waiters re-raise it, nobody logs it twice
            raise
        finally:
            self._inflight.pop(keys, None)
        if generation == self._generation:
            expires = time.monotonic() + self.ttl
            for key, version in fresh.items():
                self._entries[key] = (version, expires)
        future.set_result(fresh)
        return fresh

    def forget(self, keys: Iterable[VersionKey]) -> None:
        keys = list(keys)
        if keys:
            self._generation += 1
        for key in keys:
            self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
        self._generation += 1


class BodyCache:
    """A bounded least-recently-used map of request key → cached entry."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[Any, ...], Entry] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> Entry | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: tuple[Any, ...], entry: Entry) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


def _headers(body: Body) -> dict[str, str]:
    return {"ETag": body.etag, "Vary": VARY, "Cache-Control": "no-cache", **body.headers}


class PublicCache:
    """Per-process read cache shared by every public GET (one per app instance)."""

    def __init__(self, *, ttl: float, max_entries: int) -> None:
        self.versions = VersionCache(ttl)
        self.bodies = BodyCache(max_entries)
        self._directory: dict[str, TenantRef] = {}
        self._directory_version = -1

    def clear(self) -> None:
        self.versions.clear()
        self.bodies.clear()
        self._directory = {}
        self._directory_version = -1

    async def tenant(self, session: AsyncSession, slug: str) -> TenantRef:
        """Resolve a slug from memory; reload the directory when municipalities changed."""
        (version,) = await self.versions.get(session, [_DIRECTORY_KEY])
        if version != self._directory_version:
            rows = await session.exec(
                select(
                    Municipality.id,
                    Municipality.slug,
                    Municipality.default_language,
                    Municipality.enabled_languages,
                ).order_by(col(Municipality.slug))
            )
            self._directory = {
                row_slug: TenantRef(mid, row_slug, default, tuple(enabled))
                for mid, row_slug, default, enabled in rows
            }
            self._directory_version = version
        ref = self._directory.get(slug)
        if ref is None:
            raise NotFound(f"No municipality '{slug}'.")
        return ref

    async def serve(
        self,
        request: Request,
        session: AsyncSession,
        *,
        depends_on: list[VersionKey],
        build: Callable[[str], Awaitable[Body]],
        language: str | None,
        cacheable: bool = True,
    ) -> Response:
        """Answer a public GET from memory when the content it depends on is unchanged.

        `build` runs only on a miss and gets an ETag derived from the request and the
        versions; a single resource may answer with its own revision's ETag instead,
        so that If-Match works across languages.
        """
        versions = await self.versions.get(session, depends_on)
        key = request_key(request.url.path, request.scope.get("query_string", b""), language)
        entry = self.bodies.get(key) if cacheable else None
        if entry is not None and entry.versions == versions and not entry.body.expired():
            body = entry.body
            _ROUTE_HITS.inc()
        else:
            body = await build(make_etag(*key, versions))
            if cacheable:
                self.bodies.put(key, Entry(tuple(depends_on), versions, body))
                metrics.CACHE_MISSES.inc()
        headers = _headers(body)
        if etag_matches(request.headers.get("if-none-match"), body.etag):
            return Response(status_code=304, headers=headers)
        return Response(content=body.content, media_type="application/json", headers=headers)

    def known_tenant(self, slug: str) -> TenantRef | None:
        """The municipality from memory, only while the directory is known current."""
        if self.versions.peek([_DIRECTORY_KEY]) != (self._directory_version,):
            return None
        return self._directory.get(slug)

    def lookup(self, path: str, query_string: bytes, language: str | None) -> Body | None:
        """A cached body that is current by the versions in memory (no database)."""
        entry = self.bodies.get(request_key(path, query_string, language))
        if entry is None:
            return None
        if self.versions.peek(entry.depends_on) != entry.versions or entry.body.expired():
            return None
        return entry.body

    def committed(self, keys: Iterable[VersionKey]) -> None:
        """Called after a commit: this worker sees its own writes at once."""
        self.versions.forget(keys)


MUNICIPALITY_PATH = ("", "api", "v1", "municipalities")


def _language(cache: PublicCache, scope: Scope, query_string: bytes) -> tuple[bool, str | None]:
    """The response language the route would pick (`app.api.deps.get_language`, the
    same rule), or (False, None) when unsure."""
    explicit = None
    for name, value in parse_qsl(query_string.decode("latin-1")):
        if name == "lang":
            try:
                explicit = check_language(value)
            except ValueError:
                return False, None
            break
    accept = None
    for name, value in scope["headers"]:
        if name == b"accept-language":
            accept = value.decode("latin-1")
            break
    if explicit is None and not accept:
        return True, None
    segments = scope["path"].split("/")
    if len(segments) > 4 and tuple(segments[:4]) == MUNICIPALITY_PATH and segments[4]:
        tenant = cache.known_tenant(segments[4])
        if tenant is None:
            return False, None
        return True, served_language(
            explicit, accept, tenant.enabled_languages, tenant.default_language
        )
    return True, served_language(explicit, accept)


class FastLane:
    """Answer anonymous GETs from the public cache before FastAPI routes them."""

    def __init__(self, app: ASGIApp, cache: PublicCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        if_none_match = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                await self.app(scope, receive, send)
                return
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
        query_string: bytes = scope.get("query_string", b"")
        known, language = _language(self.cache, scope, query_string)
        body = self.cache.lookup(scope["path"], query_string, language) if known else None
        if body is None:
            await self.app(scope, receive, send)
            return
        _FASTLANE_HITS.inc()
        headers = _headers(body)
        if etag_matches(if_none_match, body.etag):
            status, content = 304, b""
        else:
            status, content = 200, body.content
            headers.setdefault("Content-Type", "application/json")
            headers["Content-Length"] = str(len(content))
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else content}
        )
