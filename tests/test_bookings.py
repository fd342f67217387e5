"""Bookings without accounts: race-proof booking, the manage link, the host's side,
messages, the info package, and erasure — all through the API."""

import asyncio
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import create_session_factory, execute
from app.core.i18n import I18nText
from app.core.time import utcnow
from app.main import create_app
from app.models.booking import Booking, InfoPackageRequest
from app.models.outbox import OutboxEmail
from app.services.privacy import purge
from tests.conftest import Database, assert_problem
from tests.test_guides import GUIDE, make_guide, make_slot, next_week_at

BASE = "/api/v1/municipalities/kemijarvi"


def booking_body(slot_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "slot_id": slot_id,
        "mode": "remote",
        "name": "Maija Muuttaja",
        "email": "maija@example.org",
        "phone": "0401234567",
        "language": "en",
        "persona": "remote-workers",
        "topics": ["housing", "fishing"],
        "message": "We are thinking of moving in spring.",
        "consent": True,
        **changes,
    }


async def guide_with_slots(
    client: httpx.AsyncClient, auth: Any, count: int = 2
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    guide = await make_guide(client, auth)
    slots = [
        await make_slot(client, auth, guide["id"], next_week_at(9 + 2 * i)) for i in range(count)
    ]
    return guide, slots


def token_of(manage_url: str) -> str:
    return parse_qs(urlparse(manage_url).query)["token"][0]


async def outbox(session: AsyncSession, kind_prefix: str = "") -> list[OutboxEmail]:
    rows = await session.exec(select(OutboxEmail).order_by(col(OutboxEmail.created_at)))  # type: ignore[call-overload]
    return [row for (row,) in rows if row.dedupe_key.startswith(kind_prefix)]


async def test_book_view_reschedule_cancel_through_the_link(
    client: httpx.AsyncClient, auth: Any, session: AsyncSession
) -> None:
    guide, (slot, other) = await guide_with_slots(client, auth)
    created = await client.post(f"{BASE}/bookings", json=booking_body(slot["id"]))
    assert created.status_code == 201, created.text
    booking = created.json()
    assert booking["status"] == "pending"
    assert booking["slot"]["id"] == slot["id"]
    assert booking["guide"]["display_name"] == GUIDE["display_name"]
    assert booking["phone"] == "+358401234567"
    token = token_of(booking["manage_url"])
    url = f"{BASE}/bookings/{booking['id']}"
    viewed = await client.get(url, params={"token": token})
    assert viewed.json()["status"] == "pending"
    assert_problem(await client.get(url, params={"token": token + "x"}), 404)
    assert_problem(await client.get(url, params={"token": "A" * 43}), 404)
    emails = await outbox(session, f"booking:{booking['id']}")
    assert {e.to_address for e in emails} >= {"maija@example.org"}
    # the slot is no longer offered
    offered = (await client.get(f"{BASE}/slots", params={"guide": guide["id"]})).json()
    assert [s["id"] for s in offered["items"]] == [other["id"]]
    moved = await client.post(
        f"{url}/reschedule", params={"token": token}, json={"slot_id": other["id"]}
    )
    assert moved.status_code == 200, moved.text
    new_token = token_of(moved.json()["manage_url"])
    assert new_token != token
    assert_problem(await client.get(url, params={"token": token}), 404)
    assert moved.json()["slot"]["id"] == other["id"]
    offered = (await client.get(f"{BASE}/slots", params={"guide": guide["id"]})).json()
    assert [s["id"] for s in offered["items"]] == [slot["id"]]
    cancelled = await client.post(f"{url}/cancel", params={"token": new_token})
    assert cancelled.json()["status"] == "cancelled"
    assert_problem(await client.post(f"{url}/cancel", params={"token": new_token}), 409)
    assert (await client.get(f"{BASE}/slots", params={"guide": guide["id"]})).json()["total"] == 2
    ics = await client.get(f"{url}.ics", params={"token": new_token})
    assert ics.headers["content-type"].startswith("text/calendar")
    assert b"METHOD:CANCEL" in ics.content


async def test_second_booking_of_the_same_slot_is_409(
    client: httpx.AsyncClient, auth: Any, session: AsyncSession
) -> None:
    _, (slot, _) = await guide_with_slots(client, auth)
    assert (await client.post(f"{BASE}/bookings", json=booking_body(slot["id"]))).status_code == 201
    second = await client.post(
        f"{BASE}/bookings", json=booking_body(slot["id"], email="other@example.org")
    )
    assert_problem(second, 409, "slot-taken")
    count = await session.exec(
        select(func.count())
        .select_from(Booking)
        .where(col(Booking.slot_id) == uuid.UUID(slot["id"]))
    )  # type: ignore[call-overload]
    assert count.one()[0] == 1


async def test_idempotency_key_returns_the_same_booking(
    client: httpx.AsyncClient, auth: Any
) -> None:
    _, (slot, _) = await guide_with_slots(client, auth)
    headers = {"Idempotency-Key": "retry-me-1"}
    first = await client.post(f"{BASE}/bookings", json=booking_body(slot["id"]), headers=headers)
    again = await client.post(f"{BASE}/bookings", json=booking_body(slot["id"]), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["manage_url"] is None
    different = await client.post(
        f"{BASE}/bookings", json=booking_body(slot["id"], name="Someone Else"), headers=headers
    )
    assert_problem(different, 422, "idempotency-key-reused")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"consent": False}, "body.consent"),
        ({"consent": None}, "body.consent"),
        ({"email": "not-an-email"}, "body.email"),
        ({"mode": "live"}, "body.mode"),
        ({"persona": "aliens"}, "body.persona"),
        ({"phone": "123"}, "body.phone"),
        ({"name": ""}, "body.name"),
        ({"language": "de"}, "body.language"),
    ],
)
async def test_bad_booking_input_is_422_and_books_nothing(
    client: httpx.AsyncClient, auth: Any, change: dict[str, Any], field: str
) -> None:
    guide, (slot, _) = await guide_with_slots(client, auth)
    body = assert_problem(
        await client.post(f"{BASE}/bookings", json=booking_body(slot["id"], **change)), 422
    )
    assert any(e["field"].startswith(field) for e in body["errors"]), body
    assert (await client.get(f"{BASE}/slots", params={"guide": guide["id"]})).json()["total"] == 2


async def test_unknown_slot_is_422_and_past_slot_409(client: httpx.AsyncClient, auth: Any) -> None:
    assert_problem(await client.post(f"{BASE}/bookings", json=booking_body(str(uuid.uuid4()))), 422)
    guide = await make_guide(client, auth)
    past = await make_slot(client, auth, guide["id"], next_week_at(10, days=-3))
    assert_problem(
        await client.post(f"{BASE}/bookings", json=booking_body(past["id"])),
        409,
        "slot-unavailable",
    )


async def test_the_host_confirms_with_a_link_and_admins_see_all(
    client: httpx.AsyncClient, auth: Any, session: AsyncSession
) -> None:
    _, (slot, _) = await guide_with_slots(client, auth)
    booking = (await client.post(f"{BASE}/bookings", json=booking_body(slot["id"]))).json()
    url = f"{BASE}/bookings/{booking['id']}"
    confirmed = await client.post(
        f"{url}/confirm",
        json={"meeting_link": "https://teams.example.org/meet/123"},
        headers=auth("kemijarvi-guide"),
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["meeting_link"] == "https://teams.example.org/meet/123"
    viewed = (await client.get(url, params={"token": token_of(booking["manage_url"])})).json()
    assert viewed["meeting_link"] == "https://teams.example.org/meet/123"
    assert (await client.get(f"{BASE}/bookings", headers=auth("kemijarvi-guide"))).json()[
        "total"
    ] == 1
    assert (await client.get(f"{BASE}/bookings", headers=auth("kemijarvi-admin"))).json()[
        "total"
    ] == 1
    assert_problem(await client.get(f"{BASE}/bookings", headers=auth("posio-admin")), 404)
    assert_problem(await client.get(f"{BASE}/bookings", headers=auth("kemijarvi-editor")), 403)
    assert_problem(await client.get(f"{BASE}/bookings"), 401)
    assert_problem(await client.post(f"{url}/decline", headers=auth("kemijarvi-guide")), 409)
    kinds = [e.kind for e in await outbox(session, f"booking:{booking['id']}")]
    assert "confirmed" in " ".join(kinds)


async def test_get_never_changes_state(client: httpx.AsyncClient, auth: Any) -> None:
    _, (slot, _) = await guide_with_slots(client, auth)
    booking = (await client.post(f"{BASE}/bookings", json=booking_body(slot["id"]))).json()
    url = f"{BASE}/bookings/{booking['id']}"
    token = token_of(booking["manage_url"])
    for path in (f"{url}/cancel", f"{url}/erase", f"{url}/reschedule"):
        assert (await client.get(path, params={"token": token})).status_code in (404, 405)
    assert (await client.get(url, params={"token": token})).json()["status"] == "pending"


async def test_the_mover_erases_their_booking(
    client: httpx.AsyncClient, auth: Any, session: AsyncSession
) -> None:
    guide, (slot, _) = await guide_with_slots(client, auth)
    booking = (await client.post(f"{BASE}/bookings", json=booking_body(slot["id"]))).json()
    url = f"{BASE}/bookings/{booking['id']}"
    token = token_of(booking["manage_url"])
    assert (await client.post(f"{url}/erase", params={"token": token})).status_code == 204
    assert_problem(await client.get(url, params={"token": token}), 404)
    row = await session.get(Booking, uuid.UUID(booking["id"]))
    assert row is not None
    await session.refresh(row)
    assert (row.name, row.email, row.phone, row.message) == (None, None, None, None)
    assert row.status == "cancelled"
    assert (await client.get(f"{BASE}/slots", params={"guide": guide["id"]})).json()["total"] == 2
    staff = (await client.get(url, headers=auth("kemijarvi-admin"))).json()
    assert staff["erased"] is True
    assert staff["email"] is None


async def test_staff_erase_on_request_and_purge_after_a_year(
    client: httpx.AsyncClient, auth: Any, session: AsyncSession
) -> None:
    _, (slot, other) = await guide_with_slots(client, auth)
    first = (await client.post(f"{BASE}/bookings", json=booking_body(slot["id"]))).json()
    second = (
        await client.post(f"{BASE}/bookings", json=booking_body(other["id"], email="b@example.org"))
    ).json()
    assert_problem(
        await client.post(f"{BASE}/bookings/{first['id']}/erase", headers=auth("kemijarvi-guide")),
        403,
    )
    assert (
        await client.post(f"{BASE}/bookings/{first['id']}/erase", headers=auth("kemijarvi-admin"))
    ).status_code == 204
    await client.post(
        f"{BASE}/messages",
        json={
            "name": "A",
            "email": "a@example.org",
            "topic": "housing",
            "text": "Hi",
            "consent": True,
        },
    )
    report = await purge(session=session, inactive_since=utcnow() + timedelta(days=1))
    assert report.bookings == 1  # the other one was already erased
    assert report.messages >= 1
    row = await session.get(Booking, uuid.UUID(second["id"]))
    assert row is not None
    await session.refresh(row)
    assert row.email is None


async def test_nothing_personal_on_public_endpoints(client: httpx.AsyncClient, auth: Any) -> None:
    guide, (slot, _) = await guide_with_slots(client, auth)
    await client.post(f"{BASE}/bookings", json=booking_body(slot["id"]))
    for path in (
        f"{BASE}/slots",
        f"{BASE}/guides",
        f"{BASE}/guides/{guide['id']}",
        f"{BASE}/service-cards",
    ):
        text = (await client.get(path)).text
        assert "maija" not in text.lower(), path
        assert "+358401234567" not in text, path


async def test_public_posts_are_rate_limited(client: httpx.AsyncClient, database: Database) -> None:
    body = {
        "name": "A",
        "email": "a@example.org",
        "topic": "housing",
        "text": "Hi",
        "consent": True,
    }
    limit = database.settings.public_post_limit_per_minute
    statuses = [
        (await client.post(f"{BASE}/messages", json=body)).status_code for _ in range(limit)
    ]
    assert set(statuses) == {201}
    limited = await client.post(f"{BASE}/messages", json=body)
    assert_problem(limited, 429, "rate-limited")
    assert int(limited.headers["retry-after"]) >= 1


MESSAGE = {
    "name": "Maija",
    "email": "maija@example.org",
    "topic": "housing",
    "text": "Is there a rental flat?",
    "language": "en",
    "consent": True,
}


async def test_ask_by_message_and_get_a_reply(
    client: httpx.AsyncClient, auth: Any, session: AsyncSession
) -> None:
    body = dict(MESSAGE)
    created = await client.post(f"{BASE}/messages", json=body)
    assert created.status_code == 201
    assert "maija" not in created.text.lower()
    assert_problem(await client.post(f"{BASE}/messages", json={**body, "consent": False}), 422)
    assert_problem(await client.get(f"{BASE}/messages"), 401)
    assert_problem(await client.get(f"{BASE}/messages", headers=auth("posio-admin")), 404)
    inbox = (
        await client.get(
            f"{BASE}/messages", params={"status": "open"}, headers=auth("kemijarvi-comms")
        )
    ).json()
    assert inbox["total"] == 1
    message_id = inbox["items"][0]["id"]
    replied = await client.post(
        f"{BASE}/messages/{message_id}/reply",
        json={"reply": "Yes: see Kemijärven Vuokratalot."},
        headers=auth("kemijarvi-comms"),
    )
    assert replied.status_code == 200, replied.text
    assert replied.json()["status"] == "answered"
    emails = await outbox(session, f"message:{message_id}")
    assert [e.to_address for e in emails] == ["maija@example.org"]
    assert "Vuokratalot" in emails[0].body_text


async def test_order_the_info_package_and_unsubscribe(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    body = {
        "email": "maija@example.org",
        "language": "en",
        "topics": ["rentals", "daycare"],
        "consent": True,
    }
    created = await client.post(f"{BASE}/info-package-requests", json=body)
    assert created.status_code == 201, created.text
    request_id = created.json()["id"]
    (email,) = await outbox(session, f"info-package:{request_id}")
    assert email.to_address == "maija@example.org"
    assert "Kemijärven Vuokratalot" in (email.body_html or "")
    assert "Luonnostaan onnelliset lapset" not in (email.body_html or "")  # English titles
    unsubscribe = email.headers["List-Unsubscribe"].strip("<>")
    token = token_of(unsubscribe)
    path = f"{BASE}/info-package-requests/{request_id}/unsubscribe"
    assert (await client.post(path, params={"token": token})).status_code == 204
    assert_problem(await client.post(path, params={"token": token}), 404)
    row = await session.get(InfoPackageRequest, uuid.UUID(request_id))
    assert row is not None
    await session.refresh(row)
    assert row.email is None
    assert_problem(
        await client.post(
            f"{BASE}/info-package-requests", json={**body, "topics": ["space-travel"]}
        ),
        422,
    )
    assert_problem(
        await client.post(f"{BASE}/info-package-requests", json={**body, "consent": False}), 422
    )


async def test_twenty_concurrent_bookings_of_one_slot_make_one(database: Database) -> None:
    """The race, for real: twenty transactions at once, each on its own connection. On
    PostgreSQL the partial unique index decides; on SQLite writers queue for the write
    lock (BEGIN IMMEDIATE) and each later one finds the slot taken: no "database is
    locked" 503s either way."""
    started = utcnow()
    app: Any = create_app(
        database.settings, session_factory=create_session_factory(database.engine)
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    admin = {"Authorization": ""}
    from tests.conftest import bearer

    admin = bearer(database, "kemijarvi-admin@example.org")
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        guide = (
            await client.post(
                f"{BASE}/guides",
                json={**GUIDE, "user_email": None, "display_name": "Race"},
                headers=admin,
            )
        ).json()
        await client.post(f"{BASE}/guides/{guide['id']}/activate", headers=admin)
        start = next_week_at(12, days=9)
        slot = (
            await client.post(
                f"{BASE}/guides/{guide['id']}/slots",
                json={
                    "starts_at": start.isoformat(),
                    "ends_at": (start + timedelta(hours=1)).isoformat(),
                    "modes": ["remote"],
                },
                headers=admin,
            )
        ).json()
        app.state.settings = database.settings.model_copy(
            update={"public_post_limit_per_minute": 1000}
        )
        responses = await asyncio.gather(
            *[
                client.post(
                    f"{BASE}/bookings", json=booking_body(slot["id"], email=f"m{i}@example.org")
                )
                for i in range(20)
            ]
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19, [
        r.text for r in responses if r.status_code not in (201, 409)
    ]
    assert all(r.json()["code"] == "slot-taken" for r in responses if r.status_code == 409)
    async with AsyncSession(database.engine) as check:
        count = await check.exec(
            select(func.count())
            .select_from(Booking)
            .where(col(Booking.slot_id) == uuid.UUID(slot["id"]))
        )  # type: ignore[call-overload]
        assert count.one()[0] == 1
        # leave the shared database as it was
        from sqlalchemy import delete

        from app.models.guide import Guide, Slot

        await execute(check, delete(OutboxEmail).where(col(OutboxEmail.created_at) >= started))
        await execute(check, delete(Booking).where(col(Booking.slot_id) == uuid.UUID(slot["id"])))
        await execute(check, delete(Slot).where(col(Slot.guide_id) == uuid.UUID(guide["id"])))
        await execute(check, delete(Guide).where(col(Guide.id) == uuid.UUID(guide["id"])))
        await check.commit()


async def test_the_hosts_calendar_feed_is_behind_a_signed_url(
    client: httpx.AsyncClient, auth: Any
) -> None:
    from icalendar import Calendar

    guide, (slot, _) = await guide_with_slots(client, auth)
    booking = (await client.post(f"{BASE}/bookings", json=booking_body(slot["id"]))).json()
    assert_problem(
        await client.get(f"{BASE}/guides/{guide['id']}/calendar-link", headers=auth("posio-admin")),
        403,
    )
    link = (
        await client.get(
            f"{BASE}/guides/{guide['id']}/calendar-link", headers=auth("kemijarvi-guide")
        )
    ).json()["url"]
    parsed = urlparse(link)
    feed = await client.get(parsed.path, params={"token": token_of(link)})
    assert feed.headers["content-type"].startswith("text/calendar")
    (event,) = Calendar.from_ical(feed.content).walk("VEVENT")
    assert str(event.get("uid")) == f"booking-{booking['id']}@settle"
    assert "Maija Muuttaja" in str(event.get("summary"))
    assert_problem(await client.get(parsed.path, params={"token": "0" * 40}), 404)


async def test_settle_purge_command_anonymises_old_data(
    database: Database,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The operator's command, on a database of its own (the suite's is shared)."""
    if database.dialect != "sqlite":
        pytest.skip("the command itself is database-neutral; one run proves it")
    from app import cli
    from app.core.config import get_settings
    from app.core.db import create_engine
    from app.core.migrate import upgrade
    from app.models.booking import Message
    from app.models.municipality import Municipality

    url = f"sqlite+aiosqlite:///{tmp_path}/purge.db"
    settings = database.settings.model_copy(update={"database_url": url})
    await asyncio.to_thread(upgrade, settings)
    engine = create_engine(url)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        town = Municipality(slug="testi", code="999", name=I18nText(fi="Testi"))
        session.add(town)
        await session.flush()
        session.add(
            Message(
                municipality_id=town.id,
                name="Old",
                email="old@example.org",
                topic="x",
                text="hi",
                consent_at=utcnow(),
                last_activity_at=utcnow() - timedelta(days=400),
            )
        )
        session.add(
            Message(
                municipality_id=town.id,
                name="New",
                email="new@example.org",
                topic="x",
                text="hi",
                consent_at=utcnow(),
            )
        )
        await session.commit()
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        assert await asyncio.to_thread(cli.main, ["purge"]) == 0
    finally:
        get_settings.cache_clear()
    assert "1 messages" in capsys.readouterr().out
    async with AsyncSession(engine) as session:
        emails = sorted(str(m.email) for m in (await session.exec(select(Message))).scalars())  # type: ignore[call-overload]
    assert emails == ["None", "new@example.org"]
    await engine.dispose()


async def test_moving_to_another_guide_tells_both_hosts(
    client: httpx.AsyncClient, auth: Any, session: AsyncSession
) -> None:
    """The host a meeting leaves learns their time is free again; the new host gets it
    as a new request (it is pending again), not as "your meeting moved"."""
    first, (slot, _) = await guide_with_slots(client, auth)
    second_body = {
        **GUIDE,
        "display_name": "Eero Erämies",
        "user_email": None,
        "contacts": [{"kind": "email", "value": "eero@example.org", "public": False}],
    }
    second = await make_guide(client, auth, second_body)
    start = next_week_at(15)
    other = await client.post(
        f"{BASE}/guides/{second['id']}/slots",
        json={
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
            "modes": ["remote"],
        },
        headers=auth("kemijarvi-admin"),
    )
    assert other.status_code == 201, other.text
    booking = (await client.post(f"{BASE}/bookings", json=booking_body(slot["id"]))).json()
    moved = await client.post(
        f"{BASE}/bookings/{booking['id']}/reschedule",
        params={"token": token_of(booking["manage_url"])},
        json={"slot_id": other.json()["id"]},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["guide"]["display_name"] == "Eero Erämies"
    notices = {
        (e.to_address, e.kind): e
        for e in await outbox(session, f"booking:{booking['id']}")
        if e.kind.endswith("_host")
    }
    left = notices[("kemijarvi-guide@example.org", "booking_handed_over_host")]
    assert "toisen oppaan" in left.body_text
    assert "Eero" not in left.body_text  # the old host is told their time, not the new one
    new = notices[("eero@example.org", "booking_received_host")]
    assert "Vahvista" in new.body_text
    assert not any(kind == "booking_rescheduled_host" for _, kind in notices)


async def test_a_slot_with_a_cancelled_booking_stays_as_its_record(
    client: httpx.AsyncClient, auth: Any
) -> None:
    """Deleting it was a foreign-key failure: a 500."""
    _, (slot, _) = await guide_with_slots(client, auth)
    booking = (await client.post(f"{BASE}/bookings", json=booking_body(slot["id"]))).json()
    token = token_of(booking["manage_url"])
    cancel = await client.post(f"{BASE}/bookings/{booking['id']}/cancel", params={"token": token})
    assert cancel.status_code == 200, cancel.text
    url = f"{BASE}/slots/{slot['id']}"
    refused = await client.delete(url, headers=auth("kemijarvi-admin"))
    assert_problem(refused, 409, "slot-booked")


async def test_the_feeds_url_of_a_slot_answers_while_it_is_free(
    client: httpx.AsyncClient, auth: Any
) -> None:
    _, (slot, _) = await guide_with_slots(client, auth)
    feed = (await client.get(f"{BASE}/changes", params={"limit": 100})).json()
    urls = [item["url"] for item in feed["items"] if item["id"] == slot["id"]]
    assert urls
    path = urls[-1].split("://", 1)[-1].split("/", 1)[-1]
    free = await client.get(f"/{path}", params={"lang": "en"})
    assert free.status_code == 200, free.text
    assert free.json()["id"] == slot["id"]
    assert free.json()["starts_at"] == slot["starts_at"]
    booked = await client.post(f"{BASE}/bookings", json=booking_body(slot["id"]))
    assert booked.status_code == 201, booked.text
    assert_problem(await client.get(f"/{path}"), 404)
