"""Guides and availability through the API: the directory, profiles, terms, slots, DST."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.core.time import HELSINKI
from tests.conftest import assert_problem

GUIDES = "/api/v1/municipalities/kemijarvi/guides"
SLOTS = "/api/v1/municipalities/kemijarvi/slots"

GUIDE = {
    "display_name": "Aino Kalastaja",
    "bio": {
        "fi": "Kalastan Kemijärvellä ympäri vuoden.",
        "en": "I fish on Lake Kemijärvi all year.",
    },
    "languages": ["fi", "EN"],
    "expertise": ["fishing", "housing"],
    "modes": ["live", "remote"],
    "contacts": [
        {"kind": "email", "value": "aino@example.org", "public": True},
        {"kind": "phone", "value": "+358401112223", "public": False},
    ],
    "user_email": "kemijarvi-guide@example.org",
}


async def make_guide(
    client: httpx.AsyncClient, auth: Any, body: dict[str, Any] | None = None, activate: bool = True
) -> dict[str, Any]:
    response = await client.post(GUIDES, json=body or GUIDE, headers=auth("kemijarvi-admin"))
    assert response.status_code == 201, response.text
    guide: dict[str, Any] = response.json()
    if activate:
        activated = await client.post(
            f"{GUIDES}/{guide['id']}/activate", headers=auth("kemijarvi-admin")
        )
        assert activated.status_code == 200, activated.text
        guide = activated.json()
    return guide


def next_week_at(hour: int, days: int = 7) -> datetime:
    day = (datetime.now(HELSINKI) + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour, tzinfo=HELSINKI)


async def make_slot(
    client: httpx.AsyncClient,
    auth: Any,
    guide_id: str,
    start: datetime,
    modes: list[str] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
        "modes": modes or ["remote", "phone"],
    }
    response = await client.post(
        f"{GUIDES}/{guide_id}/slots", json=body, headers=auth("kemijarvi-guide")
    )
    assert response.status_code == 201, response.text
    slot: dict[str, Any] = response.json()
    return slot


async def test_directory_shows_public_fields_and_filters(
    client: httpx.AsyncClient, auth: Any
) -> None:
    guide = await make_guide(client, auth)
    await make_guide(
        client,
        auth,
        {
            "display_name": "Pekka Puhelin",
            "languages": ["fi"],
            "expertise": ["hunting"],
            "modes": ["phone"],
        },
    )
    listed = (await client.get(GUIDES, params={"lang": "en"})).json()
    assert listed["total"] == 2
    aino = next(g for g in listed["items"] if g["id"] == guide["id"])
    assert aino["bio"] == "I fish on Lake Kemijärvi all year."
    assert aino["contacts"] == [{"kind": "email", "value": "aino@example.org"}]
    assert "+358401112223" not in str(listed)
    assert "user_id" not in aino
    found = (await client.get(GUIDES, params={"language": "en", "expertise": "fishing"})).json()
    assert [g["display_name"] for g in found["items"]] == ["Aino Kalastaja"]
    by_mode = (await client.get(GUIDES, params={"mode": "phone"})).json()
    assert [g["display_name"] for g in by_mode["items"]] == ["Pekka Puhelin"]
    assert (await client.get(GUIDES, params={"has_free_slots": "true"})).json()["total"] == 0
    await make_slot(client, auth, guide["id"], next_week_at(10))
    free = (await client.get(GUIDES, params={"has_free_slots": "true"})).json()
    assert [g["display_name"] for g in free["items"]] == ["Aino Kalastaja"]


async def test_proposed_guides_are_not_public(client: httpx.AsyncClient, auth: Any) -> None:
    guide = await make_guide(client, auth, activate=False)
    assert guide["status"] == "proposed"
    assert (await client.get(GUIDES)).json()["total"] == 0
    assert_problem(await client.get(f"{GUIDES}/{guide['id']}"), 404)
    staff = (await client.get(GUIDES, headers=auth("kemijarvi-editor"))).json()
    assert staff["total"] == 1
    assert staff["items"][0]["contacts"][1]["value"] == "+358401112223"


async def test_a_guide_edits_only_their_own_profile(client: httpx.AsyncClient, auth: Any) -> None:
    own = await make_guide(client, auth)
    other = await make_guide(client, auth, {"display_name": "Toinen Opas"})
    url = f"{GUIDES}/{own['id']}"
    etag = (await client.get(url, headers=auth("kemijarvi-guide"))).headers["etag"]
    edited = await client.patch(
        url,
        json={"expertise": ["fishing", "textiles"]},
        headers={**auth("kemijarvi-guide"), "If-Match": etag},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["expertise"] == ["fishing", "textiles"]
    etag = edited.headers["etag"]
    assert_problem(
        await client.patch(
            url,
            json={"term_end": "2030-01-01"},
            headers={**auth("kemijarvi-guide"), "If-Match": etag},
        ),
        403,
    )
    other_etag = (await client.get(f"{GUIDES}/{other['id']}")).headers["etag"]
    assert_problem(
        await client.patch(
            f"{GUIDES}/{other['id']}",
            json={"display_name": "X"},
            headers={**auth("kemijarvi-guide"), "If-Match": other_etag},
        ),
        403,
    )
    assert_problem(await client.post(GUIDES, json=GUIDE, headers=auth("kemijarvi-guide")), 403)
    assert_problem(await client.post(GUIDES, json=GUIDE, headers=auth("posio-admin")), 403)


async def test_term_and_successor(client: httpx.AsyncClient, auth: Any) -> None:
    guide = await make_guide(client, auth)
    assert guide["status"] == "active"
    staff_view = (
        await client.get(f"{GUIDES}/{guide['id']}", headers=auth("kemijarvi-admin"))
    ).json()
    start, end = staff_view["term_start"], staff_view["term_end"]
    assert (datetime.fromisoformat(end) - datetime.fromisoformat(start)).days == 365
    successor = await make_guide(client, auth, {"display_name": "Seuraaja"}, activate=False)
    nominated = await client.post(
        f"{GUIDES}/{guide['id']}/successor",
        json={"successor_id": successor["id"]},
        headers=auth("kemijarvi-guide"),
    )
    assert nominated.status_code == 200, nominated.text
    assert_problem(
        await client.post(
            f"{GUIDES}/{guide['id']}/successor/confirm", headers=auth("kemijarvi-guide")
        ),
        403,
    )
    confirmed = await client.post(
        f"{GUIDES}/{guide['id']}/successor/confirm", headers=auth("kemijarvi-admin")
    )
    assert confirmed.status_code == 200, confirmed.text
    # The successor's term starts when this one ends, a year from now: not active yet.
    assert confirmed.json()["status"] == "upcoming"
    assert confirmed.json()["term_start"] == end
    assert_problem(
        await client.post(f"{GUIDES}/{successor['id']}/activate", headers=auth("kemijarvi-admin")),
        409,
    )


async def test_slots_of_one_host_never_overlap(client: httpx.AsyncClient, auth: Any) -> None:
    guide = await make_guide(client, auth)
    start = next_week_at(10)
    await make_slot(client, auth, guide["id"], start)
    overlapping = {
        "starts_at": (start + timedelta(minutes=30)).isoformat(),
        "ends_at": (start + timedelta(minutes=90)).isoformat(),
        "modes": ["phone"],
    }
    response = await client.post(
        f"{GUIDES}/{guide['id']}/slots", json=overlapping, headers=auth("kemijarvi-guide")
    )
    assert_problem(response, 409, "slot-overlap")
    adjacent = await make_slot(client, auth, guide["id"], start + timedelta(hours=1))
    assert adjacent["local_start"].endswith("11:00")
    listed = (await client.get(SLOTS, params={"guide": guide["id"]})).json()
    assert listed["total"] == 2


async def test_slot_input_is_checked(client: httpx.AsyncClient, auth: Any) -> None:
    guide = await make_guide(client, auth)
    url = f"{GUIDES}/{guide['id']}/slots"
    start = next_week_at(10)
    for body in (
        {"starts_at": "2027-01-01T10:00:00", "ends_at": "2027-01-01T11:00:00", "modes": ["phone"]},
        {"starts_at": start.isoformat(), "ends_at": start.isoformat(), "modes": ["phone"]},
        {
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
            "modes": ["live"],
        },
        {
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
            "modes": ["teleport"],
        },
    ):
        assert_problem(await client.post(url, json=body, headers=auth("kemijarvi-guide")), 422)
    assert (await client.get(SLOTS)).json()["total"] == 0


async def test_public_slots_say_local_time_and_offset(client: httpx.AsyncClient, auth: Any) -> None:
    guide = await make_guide(client, auth)
    start = next_week_at(10)
    await make_slot(client, auth, guide["id"], start)
    body = (await client.get(SLOTS, params={"mode": "remote"})).json()
    assert body["time_zone"] == "Europe/Helsinki"
    (slot,) = body["items"]
    assert slot["local_start"] == start.replace(tzinfo=None).isoformat(timespec="minutes")
    assert slot["utc_offset"] in ("+02:00", "+03:00")
    assert datetime.fromisoformat(slot["starts_at"]) == start
    assert (await client.get(SLOTS, params={"mode": "live"})).json()["total"] == 0
    assert_problem(await client.get(SLOTS, params={"from": "2027-01-01T00:00:00"}), 422)
    assert_problem(
        await client.get(
            SLOTS, params={"from": "2027-01-01T00:00:00Z", "to": "2027-12-01T00:00:00Z"}
        ),
        422,
    )


def _rule(weekday: int, local: str, start: str, end: str, **extra: Any) -> dict[str, Any]:
    return {
        "weekday": weekday,
        "local_start": local,
        "duration_minutes": 45,
        "modes": ["phone"],
        "valid_from": start,
        "valid_until": end,
        **extra,
    }


async def test_spring_forward_nonexistent_time_is_skipped_or_shifted(
    client: httpx.AsyncClient, auth: Any
) -> None:
    guide = await make_guide(client, auth)
    url = f"{GUIDES}/{guide['id']}/slot-rules"
    skipped = (
        await client.post(
            url, json=_rule(6, "03:30", "2026-03-22", "2026-04-05"), headers=auth("kemijarvi-guide")
        )
    ).json()
    assert skipped["skipped"] == [{"date": "2026-03-29", "reason": "nonexistent-local-time"}]
    assert [s["local_start"] for s in skipped["created"]] == [
        "2026-03-22T03:30",
        "2026-04-05T03:30",
    ]
    other = await make_guide(client, auth, {"display_name": "Toinen"})
    shifted = await client.post(
        f"{GUIDES}/{other['id']}/slot-rules",
        json=_rule(6, "03:30", "2026-03-29", "2026-03-29", on_nonexistent_time="shift"),
        headers=auth("kemijarvi-admin"),
    )
    (slot,) = shifted.json()["created"]
    assert slot["local_start"] == "2026-03-29T04:30"
    assert slot["utc_offset"] == "+03:00"
    assert shifted.json()["shifted"] == [{"date": "2026-03-29", "reason": "nonexistent-local-time"}]


async def test_fall_back_ambiguous_time_takes_the_first_occurrence(
    client: httpx.AsyncClient, auth: Any
) -> None:
    guide = await make_guide(client, auth)
    response = await client.post(
        f"{GUIDES}/{guide['id']}/slot-rules",
        json=_rule(6, "03:30", "2026-10-25", "2026-10-25"),
        headers=auth("kemijarvi-guide"),
    )
    (slot,) = response.json()["created"]
    assert slot["local_start"] == "2026-10-25T03:30"
    assert slot["utc_offset"] == "+03:00"  # summer time: the first 03:30 of the night
    assert datetime.fromisoformat(slot["starts_at"]) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end"), [("2026-03-22", "2026-04-05"), ("2026-10-18", "2026-11-01")]
)
async def test_weekly_slots_keep_their_wall_clock_time_across_the_change(
    client: httpx.AsyncClient, auth: Any, start: str, end: str
) -> None:
    guide = await make_guide(client, auth)
    response = await client.post(
        f"{GUIDES}/{guide['id']}/slot-rules",
        json=_rule(6, "10:00", start, end),
        headers=auth("kemijarvi-guide"),
    )
    created = response.json()["created"]
    assert len(created) == 3
    assert {s["local_start"][-5:] for s in created} == {"10:00"}
    offsets = [s["utc_offset"] for s in created]
    assert offsets[0] != offsets[-1]  # the clocks changed in between, the meetings did not


async def test_slots_come_a_page_at_a_time(client: httpx.AsyncClient, auth: Any) -> None:
    """Lists page as API.md says (`limit`, opaque `cursor`, `total`): a month of a busy
    municipality is hundreds of slots."""
    guide = await make_guide(client, auth)
    starts = [next_week_at(10, days=day) for day in range(1, 8)]
    for start in starts:
        await make_slot(client, auth, guide["id"], start)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(SLOTS, params=params)).json()
        assert page["total"] == 7
        assert len(page["items"]) <= 3
        seen += [slot["starts_at"] for slot in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert [datetime.fromisoformat(s) for s in seen] == starts
    everything = (await client.get(SLOTS, params={"limit": 100})).json()
    assert everything["next_cursor"] is None
    assert len(everything["items"]) == 7
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (await client.get(SLOTS, params={"modified_since": later})).json()["total"] == 0
    assert_problem(await client.get(SLOTS, params={"limit": 101}), 422)


@pytest.mark.parametrize(
    ("path", "key"),
    [
        (SLOTS, ["not a time", "x"]),
        (SLOTS, ["2026-01-01T10:00:00", "0b7c2d0e-54c5-4bd8-9d40-2d7a9f0b6a11"]),  # no offset
        ("/api/v1/municipalities/kemijarvi/service-cards?q=koti", [-5]),
        ("/api/v1/municipalities/kemijarvi/service-cards", ["1", "not-a-uuid"]),
        ("/api/v1/municipalities", [7]),
    ],
)
async def test_a_hand_made_cursor_is_a_422_not_a_500(
    client: httpx.AsyncClient, path: str, key: list[Any]
) -> None:
    """Cursors are opaque but not secret: one decoded, edited and re-encoded must be
    refused like any other bad input, never reach the query."""
    from app.core.pagination import encode_cursor

    collection = {
        SLOTS: "slots",
        "/api/v1/municipalities": "municipalities",
    }.get(path, "service-card-search" if "q=" in path else "service-cards")
    cursor = encode_cursor(collection, key)
    separator = "&" if "?" in path else "?"
    response = await client.get(f"{path}{separator}cursor={cursor}")
    assert_problem(response, 422, "invalid-cursor")
