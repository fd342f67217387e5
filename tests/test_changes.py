"""The change log: every public change is one row, in commit order per municipality."""

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.i18n import I18nText
from app.core.pagination import encode_cursor
from app.models.change import ChangeEvent
from app.models.municipality import Municipality
from app.services import changes
from tests.conftest import Database, assert_problem
from tests.test_bookings import booking_body, guide_with_slots
from tests.test_landing import story
from tests.test_service_cards import NEW_CARD


@pytest.fixture
async def town(database: Database) -> AsyncIterator[uuid.UUID]:
    """A municipality of its own, committed (the racing writers need their own
    transactions) and removed with its change log afterwards."""
    code = f"{random.randrange(1000):03d}"
    async with AsyncSession(database.engine, expire_on_commit=False) as session:
        row = Municipality(slug=f"race-{uuid.uuid4().hex[:8]}", code=code, name=I18nText(fi="Kisa"))
        session.add(row)
        await session.commit()
    yield row.id
    async with AsyncSession(database.engine) as session:
        await session.exec(delete(Municipality).where(col(Municipality.id) == row.id))  # type: ignore[call-overload]
        await session.commit()


async def _record(session: AsyncSession, town: uuid.UUID, action: str = "updated") -> ChangeEvent:
    card = uuid.uuid4()
    return await changes.record(
        session=session,
        municipality_id=town,
        kind="service_card",
        resource_id=card,
        action=action,
        event=f"service_card.{action}",
        revision=1,
        path=f"/api/v1/municipalities/race/service-cards/{card}",
    )


async def test_a_recorded_change_commits_with_its_transaction_or_not_at_all(
    database: Database, town: uuid.UUID
) -> None:
    async with AsyncSession(database.engine, expire_on_commit=False) as session:
        kept = await _record(session, town, "published")
        await session.commit()
    async with AsyncSession(database.engine, expire_on_commit=False) as session:
        await _record(session, town, "deleted")
        await session.rollback()
    async with AsyncSession(database.engine) as session:
        rows = (
            await session.exec(select(ChangeEvent).where(ChangeEvent.municipality_id == town))
        ).all()
    assert [(row.seq, row.action, row.event) for row in rows] == [
        (kept.seq, "published", "service_card.published")
    ]
    assert rows[0].occurred_at.tzinfo is not None


async def test_racing_writers_commit_in_seq_order_so_a_tailing_reader_misses_nothing(
    database: Database, town: uuid.UUID
) -> None:
    """Writers record a change, then dawdle before committing, while a reader keeps
    reading `seq > last seen` as the feed does. Had a later seq committed before an
    earlier one, the reader would have moved past the earlier one and never seen it."""
    done = asyncio.Event()
    seen: list[int] = []

    async def writer(count: int) -> None:
        for _ in range(count):
            async with AsyncSession(database.engine, expire_on_commit=False) as session:
                await _record(session, town)
                await asyncio.sleep(random.uniform(0, 0.01))
                await session.commit()

    async def reader() -> None:
        while True:
            finished = done.is_set()
            async with AsyncSession(database.engine) as session:
                statement = (
                    select(ChangeEvent.seq)
                    .where(ChangeEvent.municipality_id == town)
                    .where(col(ChangeEvent.seq) > (seen[-1] if seen else 0))
                    .order_by(col(ChangeEvent.seq))
                )
                seen.extend(seq for seq in (await session.exec(statement)).all() if seq)
            if finished:
                return
            await asyncio.sleep(0)

    tail = asyncio.create_task(reader())
    await asyncio.gather(*(writer(15) for _ in range(6)))
    done.set()
    await tail
    async with AsyncSession(database.engine) as session:
        everything = (
            await session.exec(
                select(ChangeEvent.seq)
                .where(ChangeEvent.municipality_id == town)
                .order_by(col(ChangeEvent.seq))
            )
        ).all()
    assert len(everything) == 90
    assert seen == everything


async def test_purge_deletes_only_the_log_beyond_retention_and_a_days_grace(
    database: Database, town: uuid.UUID
) -> None:
    async with AsyncSession(database.engine, expire_on_commit=False) as session:
        ages = {}
        for days in (200, 92, 90.5, 1):
            change = await _record(session, town)
            change.occurred_at = datetime.now(UTC) - timedelta(days=days)
            session.add(change)
            ages[change.seq] = days
        await session.commit()
        assert await changes.purge(session=session, retention_days=90) >= 2
        await session.commit()
        kept = (
            await session.exec(select(ChangeEvent.seq).where(ChangeEvent.municipality_id == town))
        ).all()
    assert sorted(ages[seq] for seq in kept) == [1, 90.5]


# ---- the feed, through the API -------------------------------------------------------------

BASE = "/api/v1/municipalities/kemijarvi"
FEED = f"{BASE}/changes"


async def _head(client: httpx.AsyncClient) -> str:
    """The feed's current end, as a client that read it all holds it."""
    query: dict[str, Any] = {"limit": 100}
    while True:
        body = (await client.get(FEED, params=query)).json()
        if body["next_cursor"] is None:
            return str(body["resume_cursor"])
        query["after"] = body["next_cursor"]


async def _follow(client: httpx.AsyncClient, after: str, limit: int = 100) -> tuple[list[Any], str]:
    """Every change after `after`, page by page; and where to resume."""
    items: list[Any] = []
    query: dict[str, Any] = {"after": after, "limit": limit}
    while True:
        response = await client.get(FEED, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["items"])
        if body["next_cursor"] is None:
            return items, body["resume_cursor"]
        query["after"] = body["next_cursor"]


async def test_the_feed_lists_public_changes_in_order_with_their_urls(
    client: httpx.AsyncClient, auth: Any
) -> None:
    editor = auth("kemijarvi-editor")
    cards = f"{BASE}/service-cards"
    start = await _head(client)
    card = (
        await client.post(cards, json={**NEW_CARD, "status": "published"}, headers=editor)
    ).json()
    draft = (await client.post(cards, json=NEW_CARD, headers=editor)).json()
    etag = (await client.get(f"{cards}/{card['id']}")).headers["etag"]
    patched = await client.patch(
        f"{cards}/{card['id']}",
        json={"title": {"fi": "Uusi nimi"}},
        headers={**editor, "If-Match": etag},
    )
    assert patched.status_code == 200, patched.text
    await client.post(f"{cards}/{card['id']}/unpublish", headers=editor)
    _, (slot, _) = await guide_with_slots(client, auth)
    booked = await client.post(f"{BASE}/bookings", json=booking_body(slot["id"]))
    assert booked.status_code == 201

    items, _ = await _follow(client, start)
    assert draft["id"] not in {item["id"] for item in items}  # never public
    mine = [item for item in items if item["id"] == card["id"]]
    assert [(i["action"], i["event"], i["revision"]) for i in mine] == [
        ("created", "service_card.created", 1),
        ("updated", "service_card.updated", 2),
        ("unpublished", "service_card.unpublished", 3),
    ]
    assert mine[0]["url"] == f"http://127.0.0.1:8000{cards}/{card['id']}"
    assert datetime.fromisoformat(mine[0]["occurred_at"]).tzinfo is not None
    slot_events = [item["event"] for item in items if item["id"] == slot["id"]]
    assert slot_events == ["slot.created", "slot.booked"]
    assert {item["kind"] for item in items} >= {"service_card", "guide", "slot"}
    # Nothing about the mover, ever: the booking is not a public resource.
    assert booked.json()["id"] not in {item["id"] for item in items}


async def test_pages_resume_exactly_and_an_unchanged_feed_is_304(
    client: httpx.AsyncClient, auth: Any
) -> None:
    editor = auth("kemijarvi-comms")  # comms publish (approve) stories
    start = await _head(client)
    made = []
    for number in range(5):
        response = await client.post(
            f"{BASE}/stories", json={**story(900 + number, 3), "status": "approved"}, headers=editor
        )
        assert response.status_code == 201, response.text
        made.append(response.json()["id"])
        if number == 2:
            # A reader that stops midway and comes back later misses nothing.
            first_part, resume = await _follow(client, start, limit=2)
    rest, end = await _follow(client, resume, limit=2)
    ids = [item["id"] for item in first_part + rest]
    assert ids == made  # each once, in order
    polled = await client.get(FEED, params={"after": end})
    assert polled.json()["items"] == []
    assert polled.json()["resume_cursor"] == end
    again = await client.get(
        FEED, params={"after": end}, headers={"If-None-Match": polled.headers["etag"]}
    )
    assert again.status_code == 304


async def test_a_bad_or_foreign_feed_cursor_is_422_and_an_expired_one_410(
    client: httpx.AsyncClient,
) -> None:
    assert_problem(await client.get(FEED, params={"after": "nonsense"}), 422, "invalid-cursor")
    posio = (await client.get("/api/v1/municipalities/posio/changes")).json()["resume_cursor"]
    assert_problem(await client.get(FEED, params={"after": posio}), 422, "invalid-cursor")
    cards = (await client.get(f"{BASE}/service-cards", params={"limit": 1})).json()["next_cursor"]
    assert_problem(await client.get(FEED, params={"after": cards}), 422, "invalid-cursor")
    municipality_id = (await client.get(BASE)).json()["id"]
    long_ago = (datetime.now(UTC) - timedelta(days=91)).isoformat()
    # A cursor as the feed made it 91 days ago (the retention is 90).
    old = encode_cursor(f"changes:{municipality_id}", [1, long_ago])
    assert_problem(await client.get(FEED, params={"after": old}), 410, "sync-expired")


async def test_graphql_reads_the_same_feed(client: httpx.AsyncClient, auth: Any) -> None:
    start = await _head(client)
    added = await client.post(
        f"{BASE}/stories",
        json={**story(950, 4), "status": "approved"},
        headers=auth("kemijarvi-comms"),
    )
    assert added.status_code == 201, added.text
    rest, _ = await _follow(client, start)
    query = """query($after: String) { changes(municipality: "kemijarvi", after: $after, first: 10) {
        items { kind id action event revision occurredAt url } nextCursor resumeCursor total } }"""
    response = await client.post("/graphql", json={"query": query, "variables": {"after": start}})
    data = response.json()["data"]["changes"]
    assert [item["id"] for item in data["items"]] == [item["id"] for item in rest]
    assert data["items"][-1] | {"occurredAt": None} == {
        "kind": "story",
        "id": added.json()["id"],
        "action": "created",
        "event": "story.created",
        "revision": 1,
        "occurredAt": None,
        "url": rest[-1]["url"],
    }
    assert data["nextCursor"] is None
    assert data["total"] == len(rest)
    bad = await client.post("/graphql", json={"query": query, "variables": {"after": "x"}})
    assert bad.json()["errors"][0]["extensions"]["code"] == "invalid-cursor"
