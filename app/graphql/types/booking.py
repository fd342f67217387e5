"""GraphQL for guides, free slots and bookings: the same services and problem codes as REST."""

import uuid
from datetime import datetime
from typing import Annotated, Any

import strawberry
from pydantic import ValidationError
from strawberry.types import Info

from app.core.errors import NotFound, ValidationFailed, from_pydantic
from app.core.pagination import DEFAULT_LIMIT
from app.core.ratelimit import enforce
from app.graphql.paging import page_size
from app.graphql.types.common import Lang, Translations
from app.models.booking import BookingCreate
from app.models.guide import Guide as GuideModel
from app.models.guide import GuideStatus
from app.services import booking as booking_service
from app.services import guide as guide_service
from app.services.guide import GuideFilters


def _id(value: strawberry.ID, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as error:
        raise NotFound(f"No such {what}.") from error


@strawberry.type(description="A guide's public profile.")
class Guide:
    id: strawberry.ID
    kind: str
    display_name: str
    photo_url: str | None
    languages: list[str]
    expertise: list[str]
    modes: list[str]
    public_contacts: list[str] = strawberry.field(description="kind:value of public contacts")
    _bio: strawberry.Private[Any]

    @strawberry.field
    def bio(self, lang: Lang = Lang.FI) -> str | None:
        return None if self._bio is None else str(self._bio.get(lang.value))

    @strawberry.field
    def bio_i18n(self) -> Translations | None:
        return None if self._bio is None else Translations.from_model(self._bio)

    @classmethod
    def from_model(cls, guide: GuideModel) -> "Guide":
        return cls(
            id=strawberry.ID(str(guide.id)),
            kind=guide.kind,
            display_name=guide.display_name,
            photo_url=guide.photo_url,
            languages=list(guide.languages),
            expertise=list(guide.expertise),
            modes=list(guide.modes),
            public_contacts=[f"{c.kind}:{c.value}" for c in guide.contacts if c.public],
            _bio=guide.bio,
        )


@strawberry.type(description="A free slot, in UTC and in Europe/Helsinki local time.")
class Slot:
    id: strawberry.ID
    guide_id: strawberry.ID
    guide_name: str | None
    starts_at: datetime
    ends_at: datetime
    local_start: str
    local_end: str
    utc_offset: str
    time_zone: str
    modes: list[str]
    _place: strawberry.Private[dict[str, str] | None]

    @strawberry.field
    def place(self, lang: Lang = Lang.FI) -> str | None:
        if self._place is None:
            return None
        return self._place.get(lang.value) or self._place.get("fi")

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "Slot":
        return cls(
            id=strawberry.ID(str(doc["id"])),
            guide_id=strawberry.ID(str(doc["guide_id"])),
            guide_name=doc["guide_name"],
            starts_at=doc["starts_at"],
            ends_at=doc["ends_at"],
            local_start=doc["local_start"],
            local_end=doc["local_end"],
            utc_offset=doc["utc_offset"],
            time_zone=doc["time_zone"],
            modes=doc["modes"],
            _place=doc["place"],
        )


@strawberry.type(description="A booking as its mover sees it.")
class Booking:
    id: strawberry.ID
    status: str
    mode: str
    slot: Slot
    guide_name: str
    meeting_link: str | None
    manage_url: str | None = strawberry.field(
        description="Only when created or rescheduled: the secret link (also emailed)"
    )


def _booking(outcome: booking_service.Outcome) -> Booking:
    slot_doc = guide_service.slot_document(outcome.slot, outcome.guide)
    return Booking(
        id=strawberry.ID(str(outcome.booking.id)),
        status=outcome.booking.status,
        mode=outcome.booking.mode,
        slot=Slot.from_doc(slot_doc),
        guide_name=outcome.guide.display_name,
        meeting_link=outcome.booking.meeting_link,
        manage_url=outcome.manage_url,
    )


@strawberry.input
class BookingInput:
    slot_id: strawberry.ID
    mode: str
    name: str
    email: str
    consent: bool
    phone: str | None = None
    language: str = "fi"
    persona: str | None = None
    topics: list[str] | None = None
    message: str | None = None


async def _limit(info: Info, what: str, per_minute: int) -> None:
    request = info.context.request
    client = request.client.host if request.client else "unknown"
    await enforce(request.app.state.rate_limiter, f"{what}:{client}", limit=per_minute)


@strawberry.type
class GuideConnection:
    items: list[Guide]
    next_cursor: str | None
    total: int


@strawberry.type
class SlotConnection:
    items: list[Slot]
    next_cursor: str | None
    total: int


@strawberry.type
class BookingQueries:
    @strawberry.field(description="Active guides; filter by service language, expertise, mode.")
    async def guides(
        self,
        info: Info,
        municipality: str,
        language: str | None = None,
        expertise: str | None = None,
        mode: str | None = None,
        has_free_slots: bool = False,
        first: int = DEFAULT_LIMIT,
        after: str | None = None,
    ) -> GuideConnection:
        limit = page_size(first)
        ref = await info.context.cache.tenant(info.context.session, municipality)
        page = await guide_service.list_page(
            session=info.context.session,
            municipality_id=ref.id,
            filters=GuideFilters(
                language=language,
                expertise=expertise,
                mode=mode,
                has_free_slots=has_free_slots,
                statuses=(GuideStatus.active,),
            ),
            limit=limit,
            cursor=after,
        )
        return GuideConnection(
            items=[Guide.from_model(guide) for guide in page.items],
            next_cursor=page.next_cursor,
            total=page.total,
        )

    @strawberry.field(
        description="Free slots in a window (default: the coming 31 days, at most 92), "
        "soonest first, a page at a time."
    )
    async def slots(
        self,
        info: Info,
        municipality: str,
        guide: strawberry.ID | None = None,
        mode: str | None = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        first: int = DEFAULT_LIMIT,
        after: str | None = None,
    ) -> SlotConnection:
        limit = page_size(first)
        ref = await info.context.cache.tenant(info.context.session, municipality)
        start, end = guide_service.slot_window(from_, to)
        page = await guide_service.free_slot_page(
            session=info.context.session,
            municipality_id=ref.id,
            start=start,
            end=end,
            limit=limit,
            cursor=after,
            guide_id=_id(guide, "guide") if guide else None,
            mode=mode,
        )
        return SlotConnection(
            items=[Slot.from_doc(doc) for doc in page.items],
            next_cursor=page.next_cursor,
            total=page.total,
        )


@strawberry.type
class BookingMutations:
    @strawberry.mutation(description="Book a slot without an account (consent required).")
    async def create_booking(
        self,
        info: Info,
        municipality: str,
        input: BookingInput,
        idempotency_key: str | None = None,
    ) -> Booking:
        settings = info.context.settings
        await _limit(info, "booking", settings.public_post_limit_per_minute)
        ref = await info.context.cache.tenant(info.context.session, municipality)
        values = {k: v for k, v in vars(input).items() if v is not None}
        values["slot_id"] = str(input.slot_id)
        try:
            data = BookingCreate.model_validate(values)
        except ValidationError as error:
            raise from_pydantic(error, prefix="input") from error
        outcome = await booking_service.book(
            session=info.context.session,
            municipality_id=ref.id,
            slug=ref.slug,
            data=data,
            idempotency_key=idempotency_key,
            settings=settings,
        )
        return _booking(outcome)

    @strawberry.mutation(description="Cancel with the token from the manage link.")
    async def cancel_booking(
        self, info: Info, municipality: str, id: strawberry.ID, token: str
    ) -> Booking:
        settings = info.context.settings
        await _limit(info, "manage", settings.manage_link_limit_per_minute)
        ref = await info.context.cache.tenant(info.context.session, municipality)
        booking, slot, guide = await booking_service.by_token(
            session=info.context.session,
            municipality_id=ref.id,
            booking_id=_id(id, "booking"),
            token=token,
        )
        booking = await booking_service.cancel_and_notify(
            session=info.context.session, booking=booking, slot=slot, guide=guide, settings=settings
        )
        return _booking(booking_service.Outcome(booking, slot, guide))

    @strawberry.mutation(description="Move to another slot; the manage link rotates.")
    async def reschedule_booking(
        self,
        info: Info,
        municipality: str,
        id: strawberry.ID,
        token: str,
        slot_id: strawberry.ID,
        mode: str | None = None,
    ) -> Booking:
        settings = info.context.settings
        await _limit(info, "manage", settings.manage_link_limit_per_minute)
        ref = await info.context.cache.tenant(info.context.session, municipality)
        booking, _, _ = await booking_service.by_token(
            session=info.context.session,
            municipality_id=ref.id,
            booking_id=_id(id, "booking"),
            token=token,
        )
        if mode is not None and mode not in ("live", "remote", "phone"):
            raise ValidationFailed("mode must be live, remote or phone.")
        outcome = await booking_service.reschedule_and_notify(
            session=info.context.session,
            booking=booking,
            slug=ref.slug,
            slot_id=_id(slot_id, "slot"),
            mode=mode,
            settings=settings,
        )
        return _booking(outcome)
