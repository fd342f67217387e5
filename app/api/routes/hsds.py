"""Open Referral HSDS 3.0: a read-only export of each municipality's published service
cards, per language. Public and cached like the card list; the mapping and the id
scheme are in `app.services.hsds`."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from app.api.caching import MUNICIPALITY_KIND, Body, TenantRef, json_body
from app.api.deps import CacheDep, MunicipalityDep, SessionDep, SettingsDep
from app.api.schemas import problems
from app.core.i18n import LANGUAGES
from app.services import hsds
from app.services.content_version import VersionKey
from app.services.service_card import KIND as CARD_KIND

router = APIRouter(prefix="/municipalities/{slug}", tags=["hsds"])

HsdsLang = Annotated[
    str,
    Path(
        description="The export's language; texts missing in it fall back to Finnish.",
        json_schema_extra={"enum": list(LANGUAGES)},
    ),
]
PageNumber = Annotated[
    int,
    # Unbounded, a page number past 2**64 was a 500 when the encoder echoed it back.
    Query(ge=1, le=hsds.MAX_PAGE, description="Page number, from 1."),
]
PerPage = Annotated[
    int,
    Query(ge=1, le=hsds.MAX_PER_PAGE, description="Number of results in one page."),
]

_PAGE_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "An HSDS page: total_items, total_pages, page_number, size, "
        "first_page, last_page, empty and contents.",
        "content": {"application/json": {}},
    }
}


def _depends_on(municipality: TenantRef) -> list[VersionKey]:
    return [(municipality.scope, CARD_KIND), (municipality.scope, MUNICIPALITY_KIND)]


async def _serve(
    request: Request,
    session: SessionDep,
    cache: CacheDep,
    municipality: TenantRef,
    lang: str,
    make: Callable[[], Awaitable[dict[str, Any]]],
) -> Response:
    """`cache.serve` for an export resource. The language is part of the path, so the
    cache key needs no negotiated language (`language=None`), which also lets the
    fast lane answer anonymous repeats without routing."""

    async def build(etag: str) -> Body:
        return json_body(await make(), etag=etag, language=lang)

    return await cache.serve(
        request, session, depends_on=_depends_on(municipality), build=build, language=None
    )


@router.get(
    "/hsds/{lang}/",
    responses=problems(404, 422),
    summary="HSDS 3.0 export: API information",
)
async def hsds_root(
    lang: HsdsLang,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    settings: SettingsDep,
) -> Response:
    """The HSDS API root: `version` "3.0", `profile`, `openapi_url`, and where this
    municipality's services and organizations are, in this language."""
    lang = hsds.check_language(lang)
    base = settings.public_base_url.rstrip("/")
    openapi_path = request.app.openapi_url

    async def make() -> dict[str, Any]:
        row = await hsds.load_municipality(session=session, municipality_id=municipality.id)
        return hsds.root(
            row,
            lang,
            base_url=f"{base}{request.url.path}",
            openapi_url=f"{base}{openapi_path}" if openapi_path else None,
        )

    return await _serve(request, session, cache, municipality, lang, make)


@router.get(
    "/hsds/{lang}/services",
    responses=_PAGE_DOC | problems(404, 422),
    summary="HSDS 3.0 export: a page of services",
)
async def list_hsds_services(
    lang: HsdsLang,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    page: PageNumber = 1,
    per_page: PerPage = hsds.DEFAULT_PER_PAGE,
) -> Response:
    """Every provider and service on the municipality's published cards, in card
    order, as fully nested HSDS services. Checklist items and unpublished cards are
    not exported. A page past the last one is empty."""
    lang = hsds.check_language(lang)

    async def make() -> dict[str, Any]:
        export = await hsds.load_export(session=session, municipality_id=municipality.id, lang=lang)
        return hsds.page(export.services, page_number=page, per_page=per_page)

    return await _serve(request, session, cache, municipality, lang, make)


@router.get(
    "/hsds/{lang}/services/{service_id}",
    responses=problems(404, 422),
    summary="HSDS 3.0 export: one service",
)
async def get_hsds_service(
    lang: HsdsLang,
    service_id: Annotated[str, Path(description="The service's HSDS id (a UUID).")],
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
) -> Response:
    """One fully nested HSDS service; ids are stable across exports and languages."""
    lang = hsds.check_language(lang)

    async def make() -> dict[str, Any]:
        export = await hsds.load_export(session=session, municipality_id=municipality.id, lang=lang)
        return hsds.find_service(export, service_id)

    return await _serve(request, session, cache, municipality, lang, make)


@router.get(
    "/hsds/{lang}/organizations",
    responses=_PAGE_DOC | problems(404, 422),
    summary="HSDS 3.0 export: a page of organizations",
)
async def list_hsds_organizations(
    lang: HsdsLang,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    page: PageNumber = 1,
    per_page: PerPage = hsds.DEFAULT_PER_PAGE,
) -> Response:
    """The municipality first, then one organization per distinct provider on its
    published cards, in the order they first appear."""
    lang = hsds.check_language(lang)

    async def make() -> dict[str, Any]:
        export = await hsds.load_export(session=session, municipality_id=municipality.id, lang=lang)
        return hsds.page(export.organizations, page_number=page, per_page=per_page)

    return await _serve(request, session, cache, municipality, lang, make)
