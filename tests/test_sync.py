"""Incremental sync: `?modified_since=` narrows every collection (API.md, Collections).

A collection that accepted the parameter but ignored it would hand a syncing client the
whole collection every time, or, worse, let it believe nothing had changed.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import assert_problem
from tests.test_bookings import MESSAGE, booking_body, guide_with_slots
from tests.test_landing import story
from tests.test_service_cards import NEW_CARD

BASE = "/api/v1/municipalities/kemijarvi"
# Within the change log's retention (90 days by default); older is a 410 sync-expired.
LONG_AGO = (datetime.now(UTC) - timedelta(days=80)).isoformat()

# (path, who reads it: None for the public)
COLLECTIONS = [
    ("/api/v1/municipalities", None),
    (f"{BASE}/service-cards", None),
    (f"{BASE}/guides", None),
    (f"{BASE}/slots", None),
    (f"{BASE}/stories", None),
    (f"{BASE}/bookings", "kemijarvi-admin"),
    (f"{BASE}/messages", "kemijarvi-admin"),
    ("/api/v1/users", "kemijarvi-admin"),
]


@pytest.mark.parametrize(("path", "who"), COLLECTIONS)
async def test_modified_since_narrows_the_collection(
    client: httpx.AsyncClient, auth: Any, path: str, who: str | None
) -> None:
    _, (slot, _) = await guide_with_slots(client, auth)
    booked = await client.post(f"{BASE}/bookings", json=booking_body(slot["id"]))
    assert booked.status_code == 201, booked.text
    assert (await client.post(f"{BASE}/messages", json=MESSAGE)).status_code == 201
    added = await client.post(f"{BASE}/stories", json=story(1, 2), headers=auth("kemijarvi-editor"))
    approve = f"{BASE}/stories/{added.json()['id']}/approve"
    assert (await client.post(approve, headers=auth("kemijarvi-comms"))).status_code == 200

    headers = auth(who) if who else {}
    everything = (await client.get(path, headers=headers)).json()
    assert everything["total"] > 0, path  # something to narrow
    # Everything changed since long ago, plus tombstones of what left meanwhile.
    since_long_ago = await _read_all(client, path, LONG_AGO, headers=headers, limit=100)
    assert len(since_long_ago["changed"]) == everything["total"]
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    nothing = await client.get(path, params={"modified_since": later}, headers=headers)
    assert nothing.status_code == 200, nothing.text
    assert nothing.json()["total"] == 0
    assert nothing.json()["items"] == []


def _since() -> str:
    return datetime.now(UTC).isoformat()


async def _read_all(
    client: httpx.AsyncClient,
    path: str,
    since: str,
    *,
    headers: dict[str, str] | None = None,
    limit: int = 2,
    **params: Any,
) -> dict[str, Any]:
    """Every page of a `modified_since` read: the changed items and the tombstones."""
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {"modified_since": since, "limit": limit, **params}
    totals = set()
    while True:
        response = await client.get(path, params=query, headers=headers or {})
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["items"])
        totals.add(body["total"])
        if body["next_cursor"] is None:
            break
        query["cursor"] = body["next_cursor"]
    assert len(totals) == 1, totals  # every page counts the same whole
    assert totals.pop() == len(items)
    changed = {item["id"] for item in items if not item.get("deleted")}
    gone = {item["id"]: item for item in items if item.get("deleted")}
    assert len(changed) + len(gone) == len(items)  # nothing twice
    return {"changed": changed, "gone": gone}


async def test_cards_that_left_the_public_list_come_back_as_tombstones(
    client: httpx.AsyncClient, auth: Any
) -> None:
    editor = auth("kemijarvi-editor")
    cards = f"{BASE}/service-cards"

    async def new(status: str = "published") -> str:
        response = await client.post(cards, json={**NEW_CARD, "status": status}, headers=editor)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    unpublished, deleted, republished, kept, draft = [await new() for _ in range(4)] + [
        await new("draft")
    ]
    since = _since()
    await client.post(f"{cards}/{unpublished}/unpublish", headers=editor)
    etag = (await client.get(f"{cards}/{deleted}")).headers["etag"]
    gone = await client.delete(f"{cards}/{deleted}", headers={**editor, "If-Match": etag})
    assert gone.status_code == 204
    await client.post(f"{cards}/{republished}/unpublish", headers=editor)
    await client.post(f"{cards}/{republished}/publish", headers=editor)
    etag = (await client.get(f"{cards}/{draft}", headers=editor)).headers["etag"]
    await client.delete(f"{cards}/{draft}", headers={**editor, "If-Match": etag})

    read = await _read_all(client, cards, since)
    assert read["changed"] == {republished}
    assert set(read["gone"]) == {unpublished, deleted}  # the draft was never public
    stone = read["gone"][deleted]
    assert stone == {"id": deleted, "deleted": True, "deleted_at": stone["deleted_at"]}
    assert datetime.fromisoformat(stone["deleted_at"]) >= datetime.fromisoformat(since)
    assert kept not in read["gone"]
    # Without modified_since a collection has no tombstones.
    plain = (await client.get(cards, params={"limit": 100})).json()["items"]
    assert not any(item.get("deleted") for item in plain)


async def test_modified_since_older_than_the_retention_is_410_sync_expired(
    client: httpx.AsyncClient,
) -> None:
    too_old = (datetime.now(UTC) - timedelta(days=91)).isoformat()
    response = await client.get(f"{BASE}/service-cards", params={"modified_since": too_old})
    assert_problem(response, 410, "sync-expired")
