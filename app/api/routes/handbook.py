"""The mover's handbook: a municipality's published service cards as one document."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.api.caching import MUNICIPALITY_KIND, Body, json_body, make_etag
from app.api.deps import CacheDep, Lang, MunicipalityDep, SessionDep
from app.api.schemas import problems, send
from app.services import handbook as handbook_service
from app.services import landing as landing_service
from app.services import municipality as municipality_service
from app.services import persona as persona_service
from app.services import poster as poster_service
from app.services.handbook import MEDIA_TYPES, Format
from app.services.landing import KIND as LANDING_KIND
from app.services.persona import PROMISE_KIND
from app.services.service_card import KIND as CARD_KIND

router = APIRouter(prefix="/municipalities/{slug}", tags=["handbook"])

_EXTENSIONS: dict[Format, str] = {"html": "html", "md": "md"}


def parse_topics(topics: str | None) -> list[str] | None:
    """`home,children` → ["home", "children"]; blank or absent means every card."""
    if topics is None:
        return None
    return handbook_service.normalise_topics(topics.split(","))


@router.get(
    "/handbook",
    summary="Compile the mover's handbook",
    response_class=Response,
    responses={
        **problems(404, 422),
        200: {
            "description": "The handbook as a printable HTML page or as Markdown.",
            "content": {"text/html": {}, "text/markdown": {}},
        },
    },
)
async def get_handbook(
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    lang: Lang,
    topics: Annotated[
        str | None,
        Query(
            max_length=1000,
            description="Only cards of these topic keys, comma-separated (default: every card).",
            examples=["home,children"],
        ),
    ] = None,
    fmt: Annotated[
        Format,
        Query(alias="format", description="`html` (printable page) or `md` (Markdown)."),
    ] = "html",
) -> Response:
    """The municipality's published service cards compiled into one document, in the
    municipality's card order: a title, a table of contents, and every card with its
    sections, entries (links, phone numbers with the price of the call, email,
    address, opening hours, service languages, checklist timing) and its
    last-updated line.

    Without `lang` or Accept-Language the handbook is in the municipality's default
    language; missing translations fall back to Finnish. Public and cached like the
    card list: it has an ETag, answers 304 to If-None-Match and changes as soon as a
    card does.
    """
    language = lang or municipality.default_language
    keys = parse_topics(topics)

    async def build(etag: str) -> Body:
        row = await municipality_service.get_by_id(session=session, municipality_id=municipality.id)
        document = await handbook_service.compile_handbook(
            session=session,
            municipality_id=municipality.id,
            municipality_name=row.name.as_dict(),
            lang=language,
            topics=keys,
            fmt=fmt,
            topics_field="query.topics",
        )
        filename = f"{municipality.slug}-handbook-{language}.{_EXTENSIONS[fmt]}"
        headers = {
            "Content-Type": MEDIA_TYPES[fmt],
            "Content-Language": language,
            "Content-Disposition": f'inline; filename="{filename}"',
        }
        if fmt == "html":
            # Defence in depth beside autoescaping: the page needs nothing but its
            # own inline stylesheet, so nothing else may load or run.
            headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
        return Body(content=document.encode("utf-8"), etag=etag, headers=headers)

    # The title carries the municipality's name, so a renamed municipality rebuilds too.
    return await cache.serve(
        request,
        session,
        depends_on=[(municipality.scope, CARD_KIND), (municipality.scope, MUNICIPALITY_KIND)],
        build=build,
        language=lang,
    )


@router.get(
    "/poster",
    summary="The mover's wall poster (huoneentaulu)",
    response_class=Response,
    responses={
        **problems(404, 422),
        200: {"description": "One printable HTML page.", "content": {"text/html": {}}},
    },
    tags=["poster"],
)
async def get_poster(
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    lang: Lang,
) -> Response:
    """The service promise and how to reach the services on one A4 page with print
    CSS, in any language the municipality enables (its default without one), with the
    operating model's three roles and what each is responsible for."""
    language = lang or municipality.default_language

    async def build(etag: str) -> Body:
        row = await municipality_service.get_by_id(session=session, municipality_id=municipality.id)
        promise = await persona_service.get_promise(
            session=session, municipality_id=municipality.id
        )
        config = await landing_service.get_config(session=session, municipality_id=municipality.id)
        page = poster_service.render(
            municipality=row, promise=promise, config=config, lang=language
        )
        headers = {
            "Content-Type": "text/html; charset=utf-8",
            "Content-Language": language,
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        }
        return Body(content=page.encode("utf-8"), etag=etag, headers=headers)

    return await cache.serve(
        request,
        session,
        depends_on=[
            (municipality.scope, MUNICIPALITY_KIND),
            (municipality.scope, PROMISE_KIND),
            (municipality.scope, LANDING_KIND),
        ],
        build=build,
        language=lang,
    )


@router.get(
    "/operating-model/roles",
    responses=problems(404, 422),
    summary="The operating model's roles and what each is responsible for",
    tags=["poster"],
)
async def get_roles(municipality: MunicipalityDep, lang: Lang) -> Response:
    """The swimlanes of the general operating model: settlement services,
    communication and leadership, with their responsibilities."""
    data = {"items": poster_service.roles(lang), "meta": {"language": lang}}
    return send(json_body(data, etag=make_etag("roles", lang), language=lang))
