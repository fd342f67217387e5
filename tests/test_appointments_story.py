"""The issue's story, end to end through the API and a real local SMTP server: find an
English-speaking guide who knows fishing, book a remote meeting, receive the
confirmation with a calendar file, reschedule and cancel through the link, ask a
question, order the info package — and erase it all. Plus the GraphQL door."""

from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from icalendar import Calendar
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from app.services import mailer
from tests.conftest import Database, assert_problem
from tests.smtp import SmtpServer
from tests.test_bookings import booking_body
from tests.test_graphql import gql
from tests.test_guides import GUIDE, make_guide, make_slot, next_week_at

BASE = "/api/v1/municipalities/kemijarvi"


def gql_input(slot_id: str, **changes: Any) -> dict[str, Any]:
    body = booking_body(slot_id, **changes)
    body["slotId"] = body.pop("slot_id")
    return body


def token_of(url: str) -> str:
    return parse_qs(urlparse(url).query)["token"][0]


def attachment(message: Any, suffix: str) -> Any:
    for part in message.iter_attachments():
        if (part.get_filename() or "").endswith(suffix):
            return part
    raise AssertionError(f"no {suffix} attachment")


async def test_the_movers_whole_story(
    app: Any,
    client: httpx.AsyncClient,
    auth: Any,
    database: Database,
    connection: AsyncConnection,
    smtp_server: SmtpServer,
) -> None:
    settings = database.settings.model_copy(update={"smtp_url": smtp_server.url})
    app.state.settings = settings

    def sessions() -> AsyncSession:
        return AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )

    async def deliver() -> None:
        await mailer.deliver_due(session_factory=sessions, settings=settings)

    guide = await make_guide(client, auth)
    await make_guide(
        client,
        auth,
        {"display_name": "Only Finnish", "languages": ["fi"], "expertise": ["fishing"]},
    )
    first, second = [await make_slot(client, auth, guide["id"], next_week_at(h)) for h in (10, 13)]
    found = (
        await client.get(
            f"{BASE}/guides", params={"language": "en", "expertise": "fishing", "lang": "en"}
        )
    ).json()
    assert [g["display_name"] for g in found["items"]] == [GUIDE["display_name"]]
    slots = (
        await client.get(
            f"{BASE}/slots", params={"guide": found["items"][0]["id"], "mode": "remote"}
        )
    ).json()
    assert [s["id"] for s in slots["items"]] == [first["id"], second["id"]]

    booked = await client.post(f"{BASE}/bookings", json=booking_body(first["id"]))
    assert booked.status_code == 201, booked.text
    booking = booked.json()
    confirmed = await client.post(
        f"{BASE}/bookings/{booking['id']}/confirm",
        json={"meeting_link": "https://teams.example.org/meet/42"},
        headers=auth("kemijarvi-guide"),
    )
    assert confirmed.status_code == 200
    await deliver()
    to_mover = [m for m in smtp_server.messages if m["To"] == "maija@example.org"]
    confirmation = to_mover[-1]
    text = confirmation.get_body(preferencelist=("plain",)).get_content()
    assert "Finnish time" in text
    assert "https://teams.example.org/meet/42" in text
    calendar = Calendar.from_ical(attachment(confirmation, ".ics").get_content())
    assert calendar.get("method") == "REQUEST"
    event = calendar.walk("VEVENT")[0]
    uid = str(event.get("uid"))

    token = token_of(booking["manage_url"])
    moved = await client.post(
        f"{BASE}/bookings/{booking['id']}/reschedule",
        params={"token": token},
        json={"slot_id": second["id"]},
    )
    assert moved.status_code == 200, moved.text
    token = token_of(moved.json()["manage_url"])
    assert (
        await client.post(f"{BASE}/bookings/{booking['id']}/cancel", params={"token": token})
    ).status_code == 200
    await deliver()
    cancel_mail = [m for m in smtp_server.messages if m["To"] == "maija@example.org"][-1]
    cancelled = Calendar.from_ical(attachment(cancel_mail, ".ics").get_content())
    assert cancelled.get("method") == "CANCEL"
    assert str(cancelled.walk("VEVENT")[0].get("uid")) == uid

    asked = await client.post(
        f"{BASE}/messages",
        json={
            "name": "Maija",
            "email": "maija@example.org",
            "topic": "fishing",
            "text": "Where can I fish?",
            "language": "en",
            "consent": True,
        },
    )
    assert asked.status_code == 201
    ordered = await client.post(
        f"{BASE}/info-package-requests",
        json={
            "email": "maija@example.org",
            "language": "en",
            "topics": ["rentals", "hobbies"],
            "consent": True,
        },
    )
    assert ordered.status_code == 201
    await deliver()
    package = [m for m in smtp_server.messages if m["To"] == "maija@example.org"][-1]
    assert package["List-Unsubscribe"]

    assert (
        await client.post(f"{BASE}/bookings/{booking['id']}/erase", params={"token": token})
    ).status_code == 204
    inbox = (await client.get(f"{BASE}/messages", headers=auth("kemijarvi-admin"))).json()
    for item in inbox["items"]:
        assert (
            await client.post(
                f"{BASE}/messages/{item['id']}/erase", headers=auth("kemijarvi-admin")
            )
        ).status_code == 204
    unsubscribe = package["List-Unsubscribe"].strip("<>")
    assert (
        await client.post(urlparse(unsubscribe).path, params={"token": token_of(unsubscribe)})
    ).status_code == 204
    assert_problem(
        await client.get(f"{BASE}/bookings/{booking['id']}", params={"token": token}), 404
    )
    staff = (
        await client.get(f"{BASE}/bookings/{booking['id']}", headers=auth("kemijarvi-admin"))
    ).json()
    assert (staff["name"], staff["email"], staff["phone"], staff["message"]) == (
        None,
        None,
        None,
        None,
    )
    inbox = (await client.get(f"{BASE}/messages", headers=auth("kemijarvi-admin"))).json()
    assert all(item["email"] is None and item["text"] is None for item in inbox["items"])


async def test_graphql_guides_slots_and_booking(client: httpx.AsyncClient, auth: Any) -> None:
    guide = await make_guide(client, auth)
    first, second = [await make_slot(client, auth, guide["id"], next_week_at(h)) for h in (10, 13)]
    listed = await gql(
        client,
        'query { guides(municipality: "kemijarvi", language: "en", expertise: "fishing") { total items { id displayName bio(lang: EN) publicContacts } } }',
    )
    guides = listed["data"]["guides"]
    assert guides["total"] == 1
    assert guides["items"][0]["bio"] == "I fish on Lake Kemijärvi all year."
    assert guides["items"][0]["publicContacts"] == ["email:aino@example.org"]
    page = 'query($after: String) { slots(municipality: "kemijarvi", mode: "remote", first: 1, after: $after) { total nextCursor items { id localStart utcOffset timeZone } } }'
    one = (await gql(client, page))["data"]["slots"]
    two = (await gql(client, page, after=one["nextCursor"]))["data"]["slots"]
    assert one["total"] == two["total"] == 2
    assert two["nextCursor"] is None
    assert [s["id"] for s in one["items"] + two["items"]] == [first["id"], second["id"]]
    create = """mutation($input: BookingInput!) { createBooking(municipality: "kemijarvi", input: $input) {
        id status manageUrl slot { id localStart } } }"""
    made = await gql(client, create, input=gql_input(first["id"]))
    booking = made["data"]["createBooking"]
    assert booking["status"] == "pending"
    again = await gql(client, create, input=gql_input(first["id"], email="x@example.org"))
    assert again["errors"][0]["extensions"]["code"] == "slot-taken"
    token = token_of(booking["manageUrl"])
    reschedule = """mutation($id: ID!, $token: String!, $slot: ID!) {
        rescheduleBooking(municipality: "kemijarvi", id: $id, token: $token, slotId: $slot) { status manageUrl slot { id } } }"""
    moved = await gql(client, reschedule, id=booking["id"], token=token, slot=second["id"])
    assert moved["data"]["rescheduleBooking"]["slot"]["id"] == second["id"]
    new_token = token_of(moved["data"]["rescheduleBooking"]["manageUrl"])
    cancel = 'mutation($id: ID!, $token: String!) { cancelBooking(municipality: "kemijarvi", id: $id, token: $token) { status } }'
    stale = await gql(client, cancel, id=booking["id"], token=token)
    assert stale["errors"][0]["extensions"]["code"] == "not-found"
    done = await gql(client, cancel, id=booking["id"], token=new_token)
    assert done["data"]["cancelBooking"]["status"] == "cancelled"
    no_consent = await gql(client, create, input=gql_input(second["id"], consent=False))
    assert no_consent["errors"][0]["extensions"]["code"] == "validation-failed"
    assert no_consent["errors"][0]["extensions"]["errors"][0]["field"] == "input.consent"
