"""Ask by message ("Kysy viestillä") and the info package, and their staff side."""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, status
from starlette.responses import Response

from app.api.caching import Body, json_body
from app.api.deps import (
    CacheDep,
    CurrentPrincipal,
    Lang,
    MunicipalityDep,
    Paging,
    SessionDep,
    SettingsDep,
)
from app.api.routes.bookings import limit_manage_link, limit_public_post
from app.api.schemas import problems, send
from app.core.i18n import localize_document
from app.models.booking import InfoPackageCreate, MessageCreate, MessageReply
from app.models.municipality import Municipality
from app.models.user import Role
from app.services import handbook as handbook_service
from app.services import info_package as info_package_service
from app.services import landing as landing_service
from app.services import message as message_service
from app.services import notify
from app.services.auth import require_read, require_write
from app.services.landing import KIND as LANDING_KIND

router = APIRouter(prefix="/municipalities/{slug}", tags=["messages"])
INBOX = (Role.municipality_admin, Role.comms, Role.editor)


@router.post(
    "/messages",
    status_code=status.HTTP_201_CREATED,
    responses=problems(422, 429),
    summary="Ask by message",
)
async def create_message(
    data: MessageCreate,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """A question to the municipality; the answer comes by email in the mover's language."""
    await limit_public_post(request, settings, "message")
    message = await message_service.create(
        session=session, municipality_id=municipality.id, data=data
    )
    body = {"id": message.id, "status": message.status, "topic": message.topic}
    return send(
        json_body(body, etag=f'"m-{message.id.hex[:12]}"'), 201, {"Cache-Control": "no-store"}
    )


@router.get("/messages", responses=problems(401, 403, 404), summary="The message inbox (staff)")
async def list_messages(
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    paging: Paging,
    status_: Annotated[Literal["open", "answered"] | None, Query(alias="status")] = None,
) -> Response:
    require_read(principal, municipality.id, *INBOX)
    page = await message_service.inbox(
        session=session,
        municipality_id=municipality.id,
        status=status_,
        limit=paging.limit,
        cursor=paging.cursor,
        modified_since=paging.modified_since,
    )
    data: dict[str, object] = {
        "items": [message_service.staff_view(m) for m in page.items],
        "next_cursor": page.next_cursor,
        "total": page.total,
        "meta": {"language": None, "fallback_fields": []},
    }
    return send(
        json_body(data, etag=f'"inbox-{page.total}"'), headers={"Cache-Control": "no-store"}
    )


@router.post(
    "/messages/{message_id}/reply",
    responses=problems(401, 403, 404, 409, 422),
    summary="Answer a message by email",
)
async def reply_message(
    message_id: uuid.UUID,
    data: MessageReply,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
) -> Response:
    require_read(principal, municipality.id, *INBOX)
    message = await message_service.get(
        session=session, municipality_id=municipality.id, message_id=message_id
    )
    message = await message_service.reply(
        session=session, message=message, text=data.reply, author=principal.user.display_name
    )
    row = await session.get(Municipality, municipality.id)
    assert row is not None
    await notify.message_reply(
        session=session, message=message, municipality=row, settings=settings
    )
    return send(json_body(message_service.staff_view(message), etag=f'"m-{message.version}"'))


@router.post(
    "/messages/{message_id}/erase",
    status_code=204,
    responses=problems(401, 403, 404),
    summary="Erase a mover's message (staff, on request)",
)
async def erase_message(
    message_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    require_write(principal, municipality.id, Role.municipality_admin)
    message = await message_service.get(
        session=session, municipality_id=municipality.id, message_id=message_id
    )
    await message_service.erase(session=session, message=message)
    return Response(status_code=204)


# ---- the info package ------------------------------------------------------------------------


@router.get(
    "/info-package",
    responses=problems(404, 422),
    summary="The info package's name and the topics a mover can choose",
    tags=["info-package"],
)
async def get_info_package(
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    cache: CacheDep,
    lang: Lang,
) -> Response:
    """What the order form shows: the package's name in this municipality ("Minustako
    kemijärveläinen?") and the model's 18 topics with their labels in fi, en and sv, so
    no front end hard-codes them. Send the keys as `topics` when ordering."""

    async def build(etag: str) -> Body:
        config = await landing_service.get_config(session=session, municipality_id=municipality.id)
        document = info_package_service.topics_document(config)
        localized = localize_document(document, lang, frozenset({"name", "label"}))
        data = localized.data | {"meta": localized.meta()}
        return json_body(data, etag=etag, language=lang)

    depends = [(municipality.scope, LANDING_KIND)]
    return await cache.serve(request, session, depends_on=depends, build=build, language=lang)


@router.post(
    "/info-package-requests",
    status_code=status.HTTP_201_CREATED,
    responses=problems(422, 429),
    summary="Order the info package by email",
    tags=["info-package"],
)
async def create_info_package_request(
    data: InfoPackageCreate,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """ "Minustako kemijärveläinen?": the mover picks topics and gets the handbook of those
    topics by email, in their language, with an unsubscribe link."""
    await limit_public_post(request, settings, "info-package")
    info, token = await info_package_service.create(
        session=session, municipality_id=municipality.id, data=data
    )
    row = await session.get(Municipality, municipality.id)
    assert row is not None
    topics = info_package_service.card_topics(info.topics)
    personas = info_package_service.card_personas(info.topics)
    config = await landing_service.get_config(session=session, municipality_id=row.id)
    name = row.name.as_dict()
    html = await handbook_service.compile_handbook(
        session=session,
        municipality_id=row.id,
        municipality_name=name,
        lang=info.language,
        topics=topics,
        fmt="html",
        topics_field="body.topics",
        strict_topics=False,
        personas=personas,
    )
    text = await handbook_service.compile_handbook(
        session=session,
        municipality_id=row.id,
        municipality_name=name,
        lang=info.language,
        topics=topics,
        fmt="md",
        topics_field="body.topics",
        strict_topics=False,
        personas=personas,
    )
    await notify.info_package(
        session=session,
        request=info,
        municipality=row,
        handbook_html=html,
        handbook_text=text,
        unsubscribe_url=notify.unsubscribe_url(settings, municipality.slug, info.id, token),
        settings=settings,
        package_name=info_package_service.package_name(config),
    )
    body = {"id": info.id, "language": info.language, "topics": info.topics, "status": "sent"}
    return send(json_body(body, etag=f'"i-{info.id.hex[:12]}"'), 201, {"Cache-Control": "no-store"})


@router.post(
    "/info-package-requests/{request_id}/unsubscribe",
    status_code=204,
    responses=problems(404, 429),
    summary="Unsubscribe (the link in the email; one click)",
    tags=["info-package"],
)
async def unsubscribe_info_package(
    request_id: uuid.UUID,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str, Query(max_length=200)],
) -> Response:
    """RFC 8058 one-click unsubscribe: a POST (a GET never changes anything). The email
    address is forgotten at once."""
    await limit_manage_link(request, settings)
    info = await info_package_service.by_token(
        session=session, municipality_id=municipality.id, request_id=request_id, token=token
    )
    await info_package_service.unsubscribe(session=session, request=info)
    return Response(status_code=204)


@router.post(
    "/info-package-requests/{request_id}/erase",
    status_code=204,
    responses=problems(401, 403, 404),
    summary="Erase an info-package request (staff, on request)",
    tags=["info-package"],
)
async def erase_info_package_request(
    request_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> Response:
    require_write(principal, municipality.id, Role.municipality_admin)
    info = await info_package_service.get(
        session=session, municipality_id=municipality.id, request_id=request_id
    )
    info_package_service.erase_personal_data(info)
    await session.flush()
    return Response(status_code=204)
