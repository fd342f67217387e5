"""Incremental sync: `?modified_since=` narrows every collection (API.md, Collections).

A collection that accepted the parameter but ignored it would hand a syncing client the
whole collection every time, or, worse, let it believe nothing had changed.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.test_bookings import MESSAGE, booking_body, guide_with_slots
from tests.test_landing import story

BASE = "/api/v1/municipalities/kemijarvi"
LONG_AGO = "2000-01-01T00:00:00Z"

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
    since_long_ago = await client.get(path, params={"modified_since": LONG_AGO}, headers=headers)
    assert since_long_ago.json()["total"] == everything["total"]
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    nothing = await client.get(path, params={"modified_since": later}, headers=headers)
    assert nothing.status_code == 200, nothing.text
    assert nothing.json()["total"] == 0
    assert nothing.json()["items"] == []
