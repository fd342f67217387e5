"""Webhooks delivered end to end: changes made through the public API reach a real HTTP
receiver in this process, signed (verified with the `standardwebhooks` library), retried
with the same id, in order per resource, never lost when the worker dies mid-delivery,
and given up (the subscription disabled, the admins told) after about three days."""

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.core.config import Settings
from app.core.time import utcnow
from app.models.change import ChangeEvent
from app.models.outbox import OutboxEmail
from app.services import webhook_delivery, webhooks
from tests.conftest import Database, assert_problem
from tests.receiver import Received, Receiver, receiver_fixture  # noqa: F401
from tests.test_bookings import booking_body, guide_with_slots
from tests.test_landing import story
from tests.test_mailer import factory
from tests.test_service_cards import NEW_CARD

BASE = "/api/v1/municipalities/kemijarvi"
HOOKS = f"{BASE}/webhooks"
CARDS = f"{BASE}/service-cards"


class Worker:
    """`settle worker`'s webhook pass over the test's transaction, with a movable clock."""

    def __init__(self, connection: AsyncConnection, settings: Settings) -> None:
        self.factory = factory(connection)
        self.settings = settings

    async def run(self, now: datetime | None = None) -> int:
        return await webhook_delivery.deliver_due(
            session_factory=self.factory, settings=self.settings, now=now
        )


@pytest.fixture
def worker(connection: AsyncConnection, database: Database) -> Worker:
    return Worker(connection, database.settings)


async def subscribe(
    client: httpx.AsyncClient, auth: Any, receiver: Receiver, **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        HOOKS, json={"url": f"{receiver.url}/hooks", **fields}, headers=auth("kemijarvi-admin")
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def new_card(client: httpx.AsyncClient, auth: Any) -> dict[str, Any]:
    response = await client.post(CARDS, json=NEW_CARD, headers=auth("kemijarvi-editor"))
    assert response.status_code == 201, response.text
    card: dict[str, Any] = response.json()
    return card


async def publish(client: httpx.AsyncClient, auth: Any, card_id: str) -> None:
    response = await client.post(f"{CARDS}/{card_id}/publish", headers=auth("kemijarvi-editor"))
    assert response.status_code == 200, response.text


async def edit(client: httpx.AsyncClient, auth: Any, card_id: str, summary: str) -> None:
    etag = (await client.get(f"{CARDS}/{card_id}", headers=auth("kemijarvi-editor"))).headers[
        "etag"
    ]
    response = await client.patch(
        f"{CARDS}/{card_id}",
        json={"summary": {"fi": summary}},
        headers={**auth("kemijarvi-editor"), "If-Match": etag},
    )
    assert response.status_code == 200, response.text


def verified(request: Received, *secrets: str) -> dict[str, Any]:
    """The event, verified with the library a receiver uses; every secret must verify."""
    events = [Webhook(secret).verify(request.body, request.headers) for secret in secrets]
    assert all(event == events[0] for event in events)
    event: dict[str, Any] = events[0]
    return event


async def deliveries(
    client: httpx.AsyncClient, auth: Any, hook: dict[str, Any], **params: Any
) -> list[dict[str, Any]]:
    response = await client.get(
        f"{HOOKS}/{hook['id']}/deliveries", params=params, headers=auth("kemijarvi-admin")
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# ---- the happy path --------------------------------------------------------------------------


async def test_a_published_card_reaches_the_receiver_signed(
    client: httpx.AsyncClient, auth: Any, receiver: Receiver, worker: Worker
) -> None:
    hook = await subscribe(client, auth, receiver)
    card = await new_card(client, auth)  # a draft: the public saw nothing yet
    await publish(client, auth, card["id"])
    assert await worker.run() == 1

    (request,) = receiver.requests
    assert request.path == "/hooks"
    assert request.headers["content-type"] == "application/json"
    event = verified(request, hook["secret"])
    assert event["type"] == "service_card.published"
    assert event["data"]["municipality"] == "kemijarvi"
    assert event["data"]["kind"] == "service_card"
    assert event["data"]["id"] == card["id"]
    assert isinstance(event["data"]["revision"], int)
    assert event["data"]["url"].endswith(f"{CARDS}/{card['id']}")
    assert set(event) == {"type", "timestamp", "data"}
    assert datetime.fromisoformat(event["timestamp"]) <= utcnow()
    # The signature covers the body: one changed byte fails verification.
    with pytest.raises(WebhookVerificationError):
        Webhook(hook["secret"]).verify(
            request.body.replace(b"kemijarvi", b"kemijarvx"), request.headers
        )

    (logged,) = await deliveries(client, auth, hook)
    assert logged["webhook_id"] == request.headers["webhook-id"]
    assert logged["status"] == "delivered"
    assert logged["attempts"] == 1
    assert logged["last_status_code"] == 204
    assert [attempt["status_code"] for attempt in logged["log"]] == [204]
    assert await worker.run() == 0  # delivered once, not again


async def test_a_booking_says_slot_booked_and_nothing_about_the_mover(
    client: httpx.AsyncClient, auth: Any, receiver: Receiver, worker: Worker
) -> None:
    _guide, slots = await guide_with_slots(client, auth, count=1)
    hook = await subscribe(client, auth, receiver, events=["slot.booked"])
    body = booking_body(slots[0]["id"], name="Maija Muuttaja", email="maija@example.org")
    booked = await client.post(f"{BASE}/bookings", json=body)
    assert booked.status_code == 201, booked.text
    assert await worker.run() == 1

    (request,) = receiver.requests
    event = verified(request, hook["secret"])
    assert event["type"] == "slot.booked"
    assert event["data"]["kind"] == "slot"
    assert event["data"]["id"] == slots[0]["id"]
    for personal in (b"Maija", b"Muuttaja", b"maija@example.org", b"0401234567"):
        assert personal not in request.body
    assert booked.json()["id"].encode() not in request.body  # not even the booking's id


async def test_an_approved_story_and_only_the_chosen_events(
    client: httpx.AsyncClient, auth: Any, receiver: Receiver, worker: Worker
) -> None:
    hook = await subscribe(client, auth, receiver, events=["story.approved"])
    card = await new_card(client, auth)
    await publish(client, auth, card["id"])  # not subscribed to
    created = await client.post(
        f"{BASE}/stories", json=story(1, 3), headers=auth("kemijarvi-editor")
    )
    assert created.status_code == 201, created.text
    approved = await client.post(
        f"{BASE}/stories/{created.json()['id']}/approve", headers=auth("kemijarvi-comms")
    )
    assert approved.status_code == 200, approved.text
    assert await worker.run() == 1
    (request,) = receiver.requests
    event = verified(request, hook["secret"])
    assert (event["type"], event["data"]["id"]) == ("story.approved", created.json()["id"])


async def test_other_municipalities_changes_are_not_sent(
    client: httpx.AsyncClient, auth: Any, receiver: Receiver, worker: Worker
) -> None:
    await subscribe(client, auth, receiver)
    posio = "/api/v1/municipalities/posio/service-cards"
    card = (await client.post(posio, json=NEW_CARD, headers=auth("posio-editor"))).json()
    published = await client.post(f"{posio}/{card['id']}/publish", headers=auth("posio-editor"))
    assert published.status_code == 200, published.text
    assert await worker.run() == 0
    assert receiver.requests == []


async def test_a_refused_change_sends_nothing(
    client: httpx.AsyncClient, auth: Any, receiver: Receiver, worker: Worker
) -> None:
    await subscribe(client, auth, receiver)
    card = await new_card(client, auth)
    await publish(client, auth, card["id"])
    stale = await client.patch(
        f"{CARDS}/{card['id']}",
        json={"summary": {"fi": "Ei tallennu"}},
        headers={**auth("kemijarvi-editor"), "If-Match": '"stale"'},
    )
    assert_problem(stale, 412)
    assert await worker.run() == 1
    assert [verified_type(r) for r in receiver.requests] == ["service_card.published"]


def verified_type(request: Received) -> str:
    return str(orjson.loads(request.body)["type"])


def data_id(request: Received) -> str:
    return str(orjson.loads(request.body)["data"]["id"])


# ---- retries, order, ids -------------------------------------------------------------------


async def test_a_failed_attempt_is_retried_with_the_same_id_and_order_holds(
    client: httpx.AsyncClient, auth: Any, receiver: Receiver, worker: Worker
) -> None:
    hook = await subscribe(client, auth, receiver)
    card = await new_card(client, auth)
    other = await new_card(client, auth)
    await publish(client, auth, card["id"])
    await edit(client, auth, card["id"], "Toinen versio")
    await publish(client, auth, other["id"])
    receiver.fail_once_containing = card["id"].encode()  # the card's first attempt fails

    start = utcnow()
    assert await worker.run(now=start) == 1
    # The card's publish failed and its edit waits behind it; the other card did not wait.
    assert sorted((verified_type(r), data_id(r)) for r in receiver.requests) == sorted(
        [("service_card.published", card["id"]), ("service_card.published", other["id"])]
    )
    pending = await deliveries(client, auth, hook, status="pending")
    assert {item["event_type"] for item in pending} == {
        "service_card.published",
        "service_card.updated",
    }
    waiting = next(item for item in pending if item["event_type"] == "service_card.published")
    scraped = (await client.get("/metrics")).text
    assert "settle_webhook_deliveries_pending 2.0" in scraped
    assert "settle_webhook_oldest_pending_age_seconds 0.0" not in scraped
    assert waiting["attempts"] == 1
    assert waiting["last_status_code"] == 500
    assert waiting["log"][0]["error"] == "HTTP 500"

    # Not before its backoff (1 minute after the first failure).
    assert await worker.run(now=start + timedelta(seconds=30)) == 0
    assert await worker.run(now=start + timedelta(minutes=1, seconds=1)) == 1
    assert await worker.run(now=start + timedelta(minutes=1, seconds=2)) == 1
    mine = [r for r in receiver.requests if data_id(r) == card["id"]]
    assert [verified_type(r) for r in mine] == [
        "service_card.published",
        "service_card.published",
        "service_card.updated",
    ]
    # The retry is the same message: same id, same body, a fresh signature that verifies.
    assert mine[0].headers["webhook-id"] == mine[1].headers["webhook-id"]
    assert mine[0].body == mine[1].body
    assert mine[2].headers["webhook-id"] != mine[0].headers["webhook-id"]
    for request in receiver.requests:
        verified(request, hook["secret"])
    revisions = [orjson.loads(r.body)["data"]["revision"] for r in mine[1:]]
    assert revisions[0] < revisions[1]
    assert await deliveries(client, auth, hook, status="pending") == []
    assert "settle_webhook_deliveries_pending 0.0" in (await client.get("/metrics")).text


async def test_a_worker_killed_mid_delivery_loses_nothing(
    client: httpx.AsyncClient, auth: Any, receiver: Receiver, worker: Worker
) -> None:
    hook = await subscribe(client, auth, receiver)
    card = await new_card(client, auth)
    await publish(client, auth, card["id"])
    receiver.hold.set()  # the receiver takes the request and does not answer

    start = utcnow()
    task = asyncio.create_task(worker.run(now=start))
    while not receiver.requests:
        await asyncio.sleep(0.01)
    task.cancel()  # killed between claiming the row and recording the outcome
    with pytest.raises(asyncio.CancelledError):
        await task
    receiver.hold.clear()
    receiver.release.set()

    (pending,) = await deliveries(client, auth, hook)
    assert pending["status"] == "pending"
    assert pending["attempts"] == 0
    # Leased: another run leaves it alone until the lease runs out, then sends it again.
    assert await worker.run(now=start + timedelta(seconds=5)) == 0
    assert await worker.run(now=start + webhook_delivery.LEASE + timedelta(seconds=1)) == 1
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == pending["webhook_id"]
    assert first.body == second.body
    (done,) = await deliveries(client, auth, hook)
    assert done["status"] == "delivered"


async def test_after_three_days_of_failures_the_subscription_is_disabled_and_admins_told(
    client: httpx.AsyncClient,
    auth: Any,
    receiver: Receiver,
    worker: Worker,
    session: AsyncSession,
) -> None:
    hook = await subscribe(client, auth, receiver)
    card = await new_card(client, auth)
    await publish(client, auth, card["id"])
    receiver.default_status = 503
    receiver.response_body = b"down for maintenance " * 200  # 4 kB; 1 kB is kept

    first = moment = utcnow()
    for attempt in range(1, webhook_delivery.MAX_ATTEMPTS + 1):
        if attempt > 1:
            # Not a moment before its backoff; then at once.
            assert await worker.run(now=moment - timedelta(seconds=2)) == 0
            assert len(receiver.requests) == attempt - 1
        assert await worker.run(now=moment) == 0
        assert len(receiver.requests) == attempt
        last = moment
        moment += webhook_delivery.backoff(attempt) + timedelta(seconds=1)
    # From the first attempt to the last: about three days.
    assert timedelta(days=2, hours=18) < last - first < timedelta(days=3, hours=6)
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1

    current = (await client.get(f"{HOOKS}/{hook['id']}", headers=auth("kemijarvi-admin"))).json()
    assert "settle_webhook_subscriptions_disabled 1.0" in (await client.get("/metrics")).text
    assert current["enabled"] is False
    assert current["disabled_at"] is not None
    assert "503" in current["disabled_reason"]
    (failed,) = await deliveries(client, auth, hook)
    assert failed["status"] == "failed"
    assert failed["attempts"] == webhook_delivery.MAX_ATTEMPTS
    assert len(failed["log"]) == webhook_delivery.MAX_ATTEMPTS
    assert all(len(a["response_body"].encode()) <= 1024 for a in failed["log"])
    assert failed["log"][0]["response_body"].startswith("down for maintenance")

    emails = list(
        await session.exec(select(OutboxEmail).where(col(OutboxEmail.kind) == "webhook_disabled"))
    )
    assert [email.to_address for email in emails] == ["kemijarvi-admin@example.org"]
    assert hook["id"] in emails[0].body_text
    assert f"{receiver.url}/hooks" in emails[0].body_text

    # While disabled: nothing new is queued, and redelivery is refused.
    await edit(client, auth, card["id"], "Kolmas versio")
    assert len(await deliveries(client, auth, hook)) == 1
    redeliver = f"{HOOKS}/{hook['id']}/deliveries/{failed['id']}/redeliver"
    assert_problem(await client.post(redeliver, headers=auth("kemijarvi-admin")), 409)

    # Enabled again, the failed event is sent again by hand, with its id.
    etag = (await client.get(f"{HOOKS}/{hook['id']}", headers=auth("kemijarvi-admin"))).headers[
        "etag"
    ]
    enabled = await client.patch(
        f"{HOOKS}/{hook['id']}",
        json={"enabled": True},
        headers={**auth("kemijarvi-admin"), "If-Match": etag},
    )
    assert enabled.status_code == 200, enabled.text
    assert enabled.json()["enabled"] is True
    assert enabled.json()["disabled_reason"] is None
    receiver.default_status = 200
    again = await client.post(redeliver, headers=auth("kemijarvi-admin"))
    assert again.status_code == 202, again.text
    assert again.json()["status"] == "pending"
    assert await worker.run() == 1
    assert receiver.requests[-1].headers["webhook-id"] == failed["webhook_id"]
    (done,) = await deliveries(client, auth, hook)
    assert done["status"] == "delivered"


async def test_redirects_are_not_followed(
    client: httpx.AsyncClient, auth: Any, receiver: Receiver, worker: Worker
) -> None:
    hook = await subscribe(client, auth, receiver)
    receiver.redirect_to = f"{receiver.url}/elsewhere"
    card = await new_card(client, auth)
    await publish(client, auth, card["id"])
    assert await worker.run() == 0
    assert [r.path for r in receiver.requests] == ["/hooks"]
    (pending,) = await deliveries(client, auth, hook)
    assert pending["last_status_code"] == 302
    assert "redirects are not followed" in pending["last_error"]


async def test_a_slow_receiver_times_out(
    client: httpx.AsyncClient,
    auth: Any,
    receiver: Receiver,
    worker: Worker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert webhook_delivery.TIMEOUT == 10.0
    monkeypatch.setattr(webhook_delivery, "TIMEOUT", 0.2)  # the same path, sooner
    hook = await subscribe(client, auth, receiver)
    receiver.hold.set()  # never answers (until the test ends)
    card = await new_card(client, auth)
    await publish(client, auth, card["id"])
    assert await worker.run() == 0
    (pending,) = await deliveries(client, auth, hook)
    assert pending["status"] == "pending"
    assert pending["last_error"].startswith("timed out")


async def test_after_rotation_both_secrets_verify_for_a_day(
    client: httpx.AsyncClient, auth: Any, receiver: Receiver, worker: Worker
) -> None:
    hook = await subscribe(client, auth, receiver)
    rotated = (
        await client.post(f"{HOOKS}/{hook['id']}/rotate-secret", headers=auth("kemijarvi-admin"))
    ).json()
    card = await new_card(client, auth)
    await publish(client, auth, card["id"])
    assert await worker.run() == 1
    (request,) = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    verified(request, hook["secret"], rotated["secret"])


async def test_delivery_refuses_a_private_address_when_not_allowed(
    client: httpx.AsyncClient, auth: Any, receiver: Receiver, worker: Worker
) -> None:
    """Subscribed while allowed (or the name resolved publicly then): at delivery the
    address is checked again, and nothing is sent."""
    hook = await subscribe(client, auth, receiver)
    worker.settings = worker.settings.model_copy(update={"webhooks_allow_private_urls": False})
    card = await new_card(client, auth)
    await publish(client, auth, card["id"])
    assert await worker.run() == 0
    assert receiver.requests == []
    (pending,) = await deliveries(client, auth, hook)
    assert pending["last_error"].startswith("refused: 127.0.0.1")
    assert pending["last_status_code"] is None


async def test_the_log_is_purged_after_thirty_days_but_never_what_is_pending(
    client: httpx.AsyncClient,
    auth: Any,
    receiver: Receiver,
    worker: Worker,
    session: AsyncSession,
) -> None:
    hook = await subscribe(client, auth, receiver)
    delivered, waiting = await new_card(client, auth), await new_card(client, auth)
    await publish(client, auth, delivered["id"])
    await publish(client, auth, waiting["id"])
    receiver.fail_once_containing = waiting["id"].encode()
    assert await worker.run() == 1
    assert await webhooks.purge(session=session, now=utcnow() + timedelta(days=29)) == 0
    assert await webhooks.purge(session=session, now=utcnow() + timedelta(days=31)) == 1
    (left,) = await deliveries(client, auth, hook)
    assert (left["resource_id"], left["status"]) == (waiting["id"], "pending")


async def test_every_event_the_api_produces_is_a_documented_type(
    client: httpx.AsyncClient, auth: Any, session: AsyncSession
) -> None:
    """Subscriptions are validated against EVENT_TYPES and the OpenAPI lists it: a verb
    the change log starts using must be added there."""
    card = await new_card(client, auth)
    await publish(client, auth, card["id"])
    await edit(client, auth, card["id"], "Muutettu")
    for action in ("unpublish", "publish"):
        response = await client.post(
            f"{CARDS}/{card['id']}/{action}", headers=auth("kemijarvi-admin")
        )
        assert response.status_code == 200, response.text
    _guide, slots = await guide_with_slots(client, auth, count=2)
    booked = await client.post(f"{BASE}/bookings", json=booking_body(slots[0]["id"]))
    assert booked.status_code == 201, booked.text
    created = await client.post(
        f"{BASE}/stories", json=story(2, 4), headers=auth("kemijarvi-comms")
    )
    approve = await client.post(
        f"{BASE}/stories/{created.json()['id']}/approve", headers=auth("kemijarvi-comms")
    )
    assert approve.status_code == 200, approve.text
    produced = set(await session.exec(select(ChangeEvent.event).distinct()))
    assert {"service_card.published", "slot.booked", "story.approved"} <= produced
    assert produced <= set(webhooks.EVENT_TYPES)
    spec = (await client.get("/openapi.json")).json()
    assert set(spec["webhooks"]) == set(webhooks.EVENT_TYPES)


async def test_a_subscription_deleted_mid_delivery_is_simply_gone(
    client: httpx.AsyncClient, auth: Any, receiver: Receiver, worker: Worker
) -> None:
    hook = await subscribe(client, auth, receiver)
    card = await new_card(client, auth)
    await publish(client, auth, card["id"])
    receiver.hold.set()
    task = asyncio.create_task(worker.run())
    while not receiver.requests:
        await asyncio.sleep(0.01)
    one = f"{HOOKS}/{hook['id']}"
    etag = (await client.get(one, headers=auth("kemijarvi-admin"))).headers["etag"]
    gone = await client.delete(one, headers={**auth("kemijarvi-admin"), "If-Match": etag})
    assert gone.status_code == 204
    receiver.release.set()
    assert await task == 1  # answered 204; nothing left to record it on, and no error
    assert_problem(await client.get(f"{one}/deliveries", headers=auth("kemijarvi-admin")), 404)
    assert await worker.run(now=utcnow() + timedelta(hours=1)) == 0
