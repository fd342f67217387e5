"""Annotated dependencies shared by the REST routers and the GraphQL context."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Depends, Header, Path, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel.ext.asyncio.session import AsyncSession

from app.api.caching import PublicCache, TenantRef, etag_matches, make_etag
from app.core.config import Settings
from app.core.db import begin_writing
from app.core.errors import NotFound, PreconditionFailed, PreconditionRequired, Unauthorized
from app.core.i18n import LANGUAGES, served_language
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from app.core.security import TOKEN_VERSION_CLAIM, InvalidToken, decode_access_token
from app.core.time import Instant
from app.services import auth as auth_service
from app.services.auth import Principal
from app.services.content_version import BUMPED_KEYS

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_cache(request: Request) -> PublicCache:
    cache: PublicCache = request.app.state.cache
    return cache


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: commit if the handler succeeded, else roll back.

    A warm cached read never touches the session, and an unused session opens no
    connection, so the cache path costs no database round trip.
    """
    session: AsyncSession = request.app.state.session_factory()
    try:
        if request.method not in SAFE_METHODS:
            await begin_writing(session)
        yield session
        if session.in_transaction():
            await session.commit()
            bumped = session.info.pop(BUMPED_KEYS, ())
            request.app.state.cache.committed(bumped)
            await request.app.state.freshness.committed(bumped)
    except BaseException:
        await session.rollback()
        raise
    finally:
        await session.close()


SettingsDep = Annotated[Settings, Depends(get_settings)]
CacheDep = Annotated[PublicCache, Depends(get_cache)]
# scope="function": the commit happens before the response is sent, so a client
# never sees a 2xx for a write that then failed to commit.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_optional_principal(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal | None:
    """The signed-in staff member, None for anonymous callers; a bad token is a 401."""
    if token is None:
        return None
    try:
        claims = decode_access_token(token, settings)
        user_id = uuid.UUID(str(claims["sub"]))
    except (InvalidToken, ValueError, KeyError) as exc:
        raise _invalid_token("The token is invalid or expired.") from exc
    principal = await auth_service.load_principal(
        session=session, user_id=user_id, token_version=claims[TOKEN_VERSION_CLAIM]
    )
    if principal is None:
        raise _invalid_token(
            "The token's account is unknown or disabled, or the token was revoked; sign in again."
        )
    return principal


def _invalid_token(detail: str) -> Unauthorized:
    return Unauthorized(
        detail, code="invalid-token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
    )


OptionalPrincipal = Annotated[Principal | None, Depends(get_optional_principal)]


async def get_principal(principal: OptionalPrincipal) -> Principal:
    if principal is None:
        raise Unauthorized("Sign in to do this.", headers={"WWW-Authenticate": "Bearer"})
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def get_language(
    request: Request,
    session: SessionDep,
    cache: CacheDep,
    lang: Annotated[
        Literal["fi", "sv", "en"] | None,
        Query(
            description="Return plain strings in this language (falls back to fi). Under "
            "a municipality, only its enabled languages are served: another one gets "
            "its default language; Content-Language says which was served."
        ),
    ] = None,
) -> str | None:
    """`?lang=` wins; otherwise Accept-Language; neither means every translation.
    Under /municipalities/{slug}, the best language that municipality enables."""
    accept = request.headers.get("accept-language")
    slug = request.path_params.get("slug")
    if (lang is None and not accept) or not isinstance(slug, str):
        return served_language(lang, accept)
    try:
        ref = await cache.tenant(session, slug)
    except NotFound:
        return served_language(lang, accept)  # the route answers 404
    return served_language(lang, accept, ref.enabled_languages, ref.default_language)


Lang = Annotated[str | None, Depends(get_language)]


async def get_municipality_ref(slug: str, session: SessionDep, cache: CacheDep) -> TenantRef:
    return await cache.tenant(session, slug)


MunicipalityDep = Annotated[TenantRef, Depends(get_municipality_ref)]


@dataclass(frozen=True)
class PageParams:
    """`?limit=`, `?cursor=` and `?modified_since=`, the same on every collection."""

    limit: int
    cursor: str | None
    modified_since: datetime | None


async def get_page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    modified_since: Annotated[
        Instant | None,
        Query(description="Only items changed at or after this RFC 3339 time."),
    ] = None,
) -> PageParams:
    # async: a plain function or class dependency would cost a thread-pool hop.
    return PageParams(limit=limit, cursor=cursor, modified_since=modified_since)


Paging = Annotated[PageParams, Depends(get_page_params)]

RevisionNumber = Annotated[
    int,
    # The column is an INTEGER: a larger number failed to bind on PostgreSQL (a 500).
    Path(ge=1, le=2**31 - 1, description="The revision's number, from 1."),
]


def resource_etag(kind: str, resource_id: object, version: int, language: str | None) -> str:
    """The ETag of one representation of one resource revision."""
    return make_etag(kind, str(resource_id), version, language)


IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The ETag you read; required on updates so no change is lost.",
    ),
]


def check_if_match(if_match: str | None, *, kind: str, resource_id: object, version: int) -> None:
    """428 without If-Match, 412 unless it names the current revision (in any language)."""
    if not if_match:
        raise PreconditionRequired("Send If-Match with the ETag you read before updating.")
    for language in (None, *LANGUAGES):
        if etag_matches(if_match, resource_etag(kind, resource_id, version, language)):
            return
    raise PreconditionFailed("The resource changed since you read it; reload and retry.")
