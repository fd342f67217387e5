"""The public read path: bodies served from memory while nothing changed.

Every write bumps a content version per (municipality, kind) in its own transaction.
A worker keeps the versions it has read for at most `cache_version_ttl_seconds`
(so another worker's write shows within that time) and forgets at once the ones
its own commits bumped. Serialized bodies are cached under (route, parameters,
language, versions): a warm hit or a 304 costs no database round trip at all.
"""

import hashlib
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.responses import Response

from app.core.errors import NotFound
from app.core.jsonenc import dumps
from app.models.content_version import GLOBAL_SCOPE
from app.models.municipality import Municipality
from app.services import content_version
from app.services.content_version import VersionKey

MUNICIPALITY_KIND = "municipality"
_DIRECTORY_KEY: VersionKey = (GLOBAL_SCOPE, MUNICIPALITY_KIND)


@dataclass(frozen=True)
class Body:
    """A serialized response body with its ETag and representation headers."""

    content: bytes
    etag: str
    headers: dict[str, str] = field(default_factory=dict)


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


def json_body(data: Any, *, etag: str, language: str | None = None) -> Body:
    headers = {"Content-Language": language} if language else {}
    return Body(content=dumps(data), etag=etag, headers=headers)


class VersionCache:
    """Content versions as last read from the database, trusted for `ttl` seconds."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[VersionKey, tuple[int, float]] = {}

    async def get(self, session: AsyncSession, keys: Iterable[VersionKey]) -> tuple[int, ...]:
        wanted = list(keys)
        now = time.monotonic()
        stale = [key for key in wanted if (e := self._entries.get(key)) is None or e[1] <= now]
        if stale:
            fresh = await content_version.read(session=session, keys=stale)
            expires = now + self.ttl
            for key, version in fresh.items():
                self._entries[key] = (version, expires)
        return tuple(self._entries[key][0] for key in wanted)

    def forget(self, keys: Iterable[VersionKey]) -> None:
        for key in keys:
            self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()


class BodyCache:
    """A bounded least-recently-used map of serialized bodies."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[Any, ...], Body] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> Body | None:
        body = self._entries.get(key)
        if body is not None:
            self._entries.move_to_end(key)
        return body

    def put(self, key: tuple[Any, ...], body: Body) -> None:
        self._entries[key] = body
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


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

        `build` runs only on a miss and gets an ETag derived from the cache key (the
        route, parameters, language and versions); a single resource may answer with
        its own revision's ETag instead, so that If-Match works across languages.
        """
        versions = await self.versions.get(session, depends_on)
        key = (request.url.path, str(request.query_params), language, versions)
        body = self.bodies.get(key) if cacheable else None
        if body is None:
            body = await build(make_etag(*key))
            if cacheable:
                self.bodies.put(key, body)
        headers = {
            "ETag": body.etag,
            "Vary": "Accept-Language, Authorization",
            "Cache-Control": "no-cache",
            **body.headers,
        }
        if etag_matches(request.headers.get("if-none-match"), body.etag):
            return Response(status_code=304, headers=headers)
        return Response(content=body.content, media_type="application/json", headers=headers)

    def committed(self, keys: Iterable[VersionKey]) -> None:
        """Called after a commit: this worker sees its own writes at once."""
        self.versions.forget(keys)
