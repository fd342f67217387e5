"""Bookings without accounts (the mover's manage link) and the host's side."""

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, status
from starlette.responses import Response

from app.api.caching import json_body
from app.api.deps import (
    CurrentPrincipal,
    MunicipalityDep,
    OptionalPrincipal,
    Paging,
    SessionDep,
    SettingsDep,
)
from app.api.schemas import problems, send
from app.core.config import Settings
from app.core.errors import Forbidden, NotFound, Unauthorized
from app.core.ratelimit import enforce
from app.models.booking import Booking, BookingCreate, HostDecision, RescheduleIn
from app.models.guide import Guide, Slot
from app.models.municipality import Municipality
from app.models.user import Role
from app.services import booking as booking_service
from app.services import guide as guide_service
from app.services import notify
from app.services.auth import Principal, require_read
from app.services.booking import public_view, staff_view

router = APIRouter(prefix="/municipalities/{slug}", tags=["bookings"])

Token = Annotated[str | None, Query(max_length=200, description="The secret from the manage link")]


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def limit_public_post(request: Request, settings: Settings, what: str) -> None:
    """Public POSTs are rate-limited per client address (shared through Redis if set)."""
    await enforce(
        request.app.state.rate_limiter,
        f"{what}:{client_of(request)}",
        limit=settings.public_post_limit_per_minute,
    )


async def limit_manage_link(request: Request, settings: Settings) -> None:
    """Guessing manage tokens gets slow fast."""
    await enforce(
        request.app.state.rate_limiter,
        f"manage:{client_of(request)}",
        limit=settings.manage_link_limit_per_minute,
    )


def _view(booking: Booking, slot: Slot, guide: Guide, *, staff: bool = False) -> dict[str, object]:
    slot_doc = guide_service.slot_document(slot, guide)
    return staff_view(booking, slot_doc, guide) if staff else public_view(booking, slot_doc, guide)


def _etag(booking: Booking) -> str:
    return f'"b-{booking.id.hex[:12]}-{booking.ics_sequence}-{booking.status}"'


async def _municipality(session: SessionDep, ref_id: uuid.UUID) -> Municipality:
    municipality = await session.get(Municipality, ref_id)
    assert municipality is not None
    return municipality


@router.post(
    "/bookings",
    status_code=status.HTTP_201_CREATED,
    responses=problems(409, 422, 429),
    summary="Book a meeting (no account needed)",
)
async def create_booking(
    data: BookingCreate,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    settings: SettingsDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            description="Retrying with the same key returns the same booking",
        ),
    ] = None,
) -> Response:
    """Book a slot with a guide or a municipal representative. The response carries a
    secret manage link (it is also emailed) for viewing, cancelling, rescheduling and
    erasing. If someone else got the slot first: 409 `slot-taken`.

    A retry with the same Idempotency-Key returns the same booking (without the manage
    link, which is only ever shown once and sent by email)."""
    await limit_public_post(request, settings, "booking")
    outcome = await booking_service.book(
        session=session,
        municipality_id=municipality.id,
        slug=municipality.slug,
        data=data,
        idempotency_key=idempotency_key,
        settings=settings,
    )
    booking, slot, guide = outcome.booking, outcome.slot, outcome.guide
    body = _view(booking, slot, guide) | {
        "manage_url": outcome.manage_url,
        "manage_url_expires_at": booking_service.expiry_of(slot) if outcome.manage_url else None,
    }
    headers = {
        "Location": f"/api/v1/municipalities/{municipality.slug}/bookings/{booking.id}",
        "Cache-Control": "no-store",
    }
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    return send(json_body(body, etag=_etag(booking)), 201, headers)


# ---- the mover's manage link -------------------------------------------------------------------


async def _managed(
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    settings: Settings,
    booking_id: uuid.UUID,
    token: str | None,
) -> tuple[Booking, Slot, Guide]:
    await limit_manage_link(request, settings)
    if not token:
        raise NotFound("No such booking, or the link has expired.")
    return await booking_service.by_token(
        session=session, municipality_id=municipality.id, booking_id=booking_id, token=token
    )


@router.get(
    "/bookings/{booking_id}.ics",
    responses=problems(404, 429),
    summary="A booking as a calendar file (manage link)",
)
async def booking_ics(
    booking_id: uuid.UUID,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    settings: SettingsDep,
    token: Token = None,
) -> Response:
    booking, slot, guide = await _managed(
        request, municipality, session, settings, booking_id, token
    )
    cancelled = booking.status in ("cancelled", "declined")
    location = booking.meeting_link or (slot.place.get(booking.language) if slot.place else "")
    content, _ = notify.build_ics(
        booking=booking,
        slot=slot,
        guide=guide,
        municipality=await _municipality(session, municipality.id),
        event="cancelled" if cancelled else "confirmed",
        location=location,
        description=f"{guide.display_name}",
        settings=settings,
    )
    return Response(
        content=content,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="booking.ics"',
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/bookings/{booking_id}",
    responses=problems(401, 404, 429),
    summary="View a booking (manage link or staff)",
)
async def get_booking(
    booking_id: uuid.UUID,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
    token: Token = None,
) -> Response:
    """With `?token=` from the manage link: the mover's view. Never changes anything
    (mail scanners fetch links). Without a token: staff (the host or an admin)."""
    if token is not None:
        booking, slot, guide = await _managed(
            request, municipality, session, settings, booking_id, token
        )
        return send(
            json_body(_view(booking, slot, guide), etag=_etag(booking)),
            headers={"Cache-Control": "no-store"},
        )
    if principal is None:
        raise Unauthorized("Open the link from your confirmation email, or sign in.")
    booking, slot, guide = await booking_service.for_host(
        session=session, municipality_id=municipality.id, booking_id=booking_id, principal=principal
    )
    return send(json_body(_view(booking, slot, guide, staff=True), etag=_etag(booking)))


@router.post(
    "/bookings/{booking_id}/cancel",
    responses=problems(404, 409, 429),
    summary="Cancel a booking (manage link)",
)
async def cancel_booking(
    booking_id: uuid.UUID,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    settings: SettingsDep,
    token: Token = None,
) -> Response:
    booking, slot, guide = await _managed(
        request, municipality, session, settings, booking_id, token
    )
    booking = await booking_service.cancel_and_notify(
        session=session, booking=booking, slot=slot, guide=guide, settings=settings
    )
    return send(json_body(_view(booking, slot, guide), etag=_etag(booking)))


@router.post(
    "/bookings/{booking_id}/reschedule",
    responses=problems(404, 409, 422, 429),
    summary="Move a booking to another slot (manage link)",
)
async def reschedule_booking(
    booking_id: uuid.UUID,
    data: RescheduleIn,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    settings: SettingsDep,
    token: Token = None,
) -> Response:
    """Atomic: the new slot is taken in the same statement that frees the old one; if
    it is taken, 409 `slot-taken` and nothing changes. The link rotates: the response
    (and the email) carry the new one; the old one stops working."""
    booking, _, _ = await _managed(request, municipality, session, settings, booking_id, token)
    outcome = await booking_service.reschedule_and_notify(
        session=session,
        booking=booking,
        slug=municipality.slug,
        slot_id=data.slot_id,
        mode=data.mode,
        settings=settings,
    )
    booking, slot, guide = outcome.booking, outcome.slot, outcome.guide
    body = _view(booking, slot, guide) | {
        "manage_url": outcome.manage_url,
        "manage_url_expires_at": booking_service.expiry_of(slot),
    }
    return send(json_body(body, etag=_etag(booking)), headers={"Cache-Control": "no-store"})


@router.post(
    "/bookings/{booking_id}/erase",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404, 429),
    summary="Erase a mover's personal data from a booking",
)
async def erase_booking(
    booking_id: uuid.UUID,
    request: Request,
    municipality: MunicipalityDep,
    session: SessionDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
    token: Token = None,
) -> Response:
    """By the mover (manage link) or by an admin on request. An active booking is
    cancelled (the host is told); name, email, phone and message are gone for good."""
    if token is not None:
        booking, slot, guide = await _managed(
            request, municipality, session, settings, booking_id, token
        )
    elif principal is not None:
        require_read(principal, municipality.id)
        if not principal.has_role(municipality.id, Role.municipality_admin):
            raise Forbidden("Only an admin erases a mover's data.")
        booking, slot, guide = await booking_service.for_host(
            session=session,
            municipality_id=municipality.id,
            booking_id=booking_id,
            principal=principal,
        )
    else:
        raise Unauthorized("Open the link from your confirmation email, or sign in.")
    await booking_service.erase_and_notify(
        session=session, booking=booking, slot=slot, guide=guide, settings=settings
    )
    return Response(status_code=204)


# ---- the host's side -----------------------------------------------------------------------------


@router.get("/bookings", responses=problems(401, 403, 404), summary="Bookings (staff)")
async def list_bookings(
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    paging: Paging,
    status_: Annotated[
        Literal["pending", "confirmed", "declined", "cancelled"] | None, Query(alias="status")
    ] = None,
) -> Response:
    """An admin sees all of the municipality's bookings; a guide their own."""
    require_read(principal, municipality.id)
    page = await booking_service.list_for_staff(
        session=session,
        municipality_id=municipality.id,
        principal=principal,
        limit=paging.limit,
        cursor=paging.cursor,
        status=status_,
        modified_since=paging.modified_since,
    )
    items = [_view(b, s, g, staff=True) for b, s, g in page.items]
    data: dict[str, object] = {
        "items": items,
        "next_cursor": page.next_cursor,
        "total": page.total,
        "meta": {"language": None, "fallback_fields": []},
    }
    return send(
        json_body(data, etag=f'"bookings-{page.total}"'), headers={"Cache-Control": "no-store"}
    )


async def _decide(
    booking_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: Principal,
    settings: Settings,
    confirm: bool,
    data: HostDecision,
) -> Response:
    require_read(principal, municipality.id)
    booking, slot, guide = await booking_service.for_host(
        session=session, municipality_id=municipality.id, booking_id=booking_id, principal=principal
    )
    booking = await booking_service.decide_and_notify(
        session=session,
        booking=booking,
        slot=slot,
        guide=guide,
        confirm=confirm,
        meeting_link=data.meeting_link,
        settings=settings,
    )
    return send(json_body(_view(booking, slot, guide, staff=True), etag=_etag(booking)))


@router.post(
    "/bookings/{booking_id}/confirm",
    responses=problems(401, 404, 409, 422),
    summary="Confirm a booking (host)",
)
async def confirm_booking(
    booking_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    data: HostDecision | None = None,
) -> Response:
    """The host confirms, adding the remote-meeting link for a remote booking."""
    return await _decide(
        booking_id, municipality, session, principal, settings, True, data or HostDecision()
    )


@router.post(
    "/bookings/{booking_id}/decline",
    responses=problems(401, 404, 409, 422),
    summary="Decline a booking (host)",
)
async def decline_booking(
    booking_id: uuid.UUID,
    municipality: MunicipalityDep,
    session: SessionDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    data: HostDecision | None = None,
) -> Response:
    return await _decide(
        booking_id, municipality, session, principal, settings, False, data or HostDecision()
    )
