"""The mover landing page in one call, and its configuration, through the REST API."""

from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import assert_problem
from tests.test_bookings import booking_body
from tests.test_guides import make_guide, make_slot, next_week_at
from tests.test_personas import guide_body
from tests.test_service_cards import _municipality_with_cards

BASE = "/api/v1/municipalities/kemijarvi"
LANDING = f"{BASE}/landing"
CONFIG = f"{BASE}/landing-config"
SEED_TILES = [
    "homes-for-sale",
    "rentals",
    "plots",
    "building",
    "early-education",
    "school",
    "hobbies",
    "culture",
    "studies",
    "associations",
    "social-health",
    "tourism",
    "moving-services",
    "electricity-water-transport",
    "remote-work",
    "jobs",
    "premises",
    "companies",
]


TRAVEL_AGENCY = "#tuhannenjayhdentyönmatkatoimisto"
STORIES_TAG = "#tuhannenjayhdentyöntarinat"


def story(number: int, day: int, **changes: Any) -> dict[str, Any]:
    return {
        "title": f"Tarina {number}",
        "summary": f"Työtä ja elämää, osa {number}. #kemijärvi",
        "author": "Kemijärven kaupunki",
        "source_url": f"https://www.instagram.com/p/tarina{number}/",
        "platform": "instagram",
        "published_at": f"2026-05-{day:02d}T09:00:00+03:00",
        **changes,
    }


async def import_stories(
    client: httpx.AsyncClient, auth: Any, stories: list[dict[str, Any]], slug: str = "kemijarvi"
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/municipalities/{slug}/stories/import?status=approved",
        json=stories,
        headers=auth("platform"),
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_kemijarvis_landing_page_in_english_from_one_request(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(LANDING, params={"lang": "en"})
    assert response.status_code == 200, response.text
    assert response.headers["content-language"] == "en"
    assert response.headers["etag"]
    page = response.json()
    assert page["municipality"]["name"] == "Kemijärvi"
    assert page["introduction"]["title"] == "Kemijärvi. A naturally happy life."
    ways = {way["kind"]: way for way in page["contact_ways"]}
    assert list(ways)[:4] == ["live-meeting", "remote-meeting", "message", "phone"]
    assert ways["live-meeting"]["label"] == "Book a meeting in person"
    assert ways["live-meeting"]["available"] is False  # nobody has published a slot yet
    phone = ways["phone"]
    assert phone["number"] == "+358161234000"
    assert phone["hours"] == "Weekdays 9 am – 3 pm"
    assert phone["price"] == "A call costs the local network or mobile call rate."
    assert phone["href"] == "tel:+358161234000"
    assert ways["message"]["href"] == f"{BASE}/messages"
    assert [tile["key"] for tile in page["tiles"]] == SEED_TILES
    homes = page["tiles"][0]
    assert homes["label"] == "Homes for sale"
    assert homes["topics"] == [{"key": "home", "name": "Home and housing"}]
    assert homes["cards"][0]["title"] == "Naturally happy in a home of your own"
    assert "https://www.etuovi.com/myytavat-asunnot/kemijarvi" in [
        link["url"] for link in homes["links"]
    ]
    assert all(tile["cards"] or tile["links"] for tile in page["tiles"])
    assert page["service_promise"]["title"] == "An effortless move"
    assert len(page["personas"]) == 8
    assert page["personas"][2]["href"] == f"{BASE}/personas/remote-workers"
    assert page["map_links"][0]["url"] == "https://www.kemijarvi.fi"
    assert "#tuhannenjayhdentyönmatkatoimisto" in page["hashtags"]
    assert page["stories"] == []
    assert page["meta"] == {"language": "en", "fallback_fields": []}
    finnish = (await client.get(LANDING, headers={"Accept-Language": "fi-FI,fi;q=0.9"})).json()
    assert finnish["tiles"][0]["label"] == "Myytävät asunnot"
    assert finnish["contact_ways"][0]["label"] == "Varaa aika live-tapaamiseen"


async def test_meetings_say_whether_free_slots_exist_for_each_mode(
    client: httpx.AsyncClient, auth: Any
) -> None:
    guide = await make_guide(client, auth)
    slot = await make_slot(client, auth, guide["id"], next_week_at(10), modes=["remote"])
    ways = {w["kind"]: w for w in (await client.get(LANDING)).json()["contact_ways"]}
    assert ways["remote-meeting"]["available"] is True
    soonest = datetime.fromisoformat(ways["remote-meeting"]["next_free_slot"])
    assert soonest == datetime.fromisoformat(slot["starts_at"])
    assert ways["remote-meeting"]["href"] == f"{BASE}/slots?mode=remote"
    assert ways["live-meeting"]["available"] is False
    live = await client.post(
        f"{BASE}/guides/{guide['id']}/slots",
        json={
            "starts_at": next_week_at(13).isoformat(),
            "ends_at": (next_week_at(13) + timedelta(hours=1)).isoformat(),
            "modes": ["live"],
            "place": {"fi": "Kaupungintalo"},
        },
        headers=auth("kemijarvi-guide"),
    )
    assert live.status_code == 201, live.text
    ways = {w["kind"]: w for w in (await client.get(LANDING)).json()["contact_ways"]}
    assert ways["live-meeting"]["available"] is True


async def test_featured_guides_are_public_profiles_with_free_slots_first(
    client: httpx.AsyncClient, auth: Any
) -> None:
    for name in ("Aino A", "Bertta B", "Cecilia C"):
        await make_guide(client, auth, guide_body(name, ["housing"], ["fi"]))
    proposed = await make_guide(client, auth, guide_body("Ei Vielä", ["housing"], ["fi"]), False)
    busy = await make_guide(client, auth, guide_body("Ö Viimeinen", ["fishing"], ["fi"], own=True))
    await make_slot(client, auth, busy["id"], next_week_at(9))
    page = await client.get(LANDING, params={"lang": "en"})
    featured = page.json()["featured_guides"]
    assert [g["display_name"] for g in featured] == ["Ö Viimeinen", "Aino A", "Bertta B"]
    assert featured[0]["has_free_slots"] is True
    assert featured[0]["href"] == f"{BASE}/guides/{busy['id']}"
    assert proposed["id"] not in page.text
    assert "+358401112223" not in page.text  # private contact details never shown


async def test_the_three_newest_approved_stories_are_shown(
    client: httpx.AsyncClient, auth: Any
) -> None:
    """Only stories under the model's stories hashtags (both are seeded) fill the feed:
    a newer #visitlapland post does not."""
    settings = (await client.get(f"{BASE}/landing-config", headers=auth("kemijarvi-editor"))).json()
    assert settings["story_hashtags"] == [TRAVEL_AGENCY, STORIES_TAG]
    tags = [TRAVEL_AGENCY, STORIES_TAG]
    await import_stories(client, auth, [story(n, n, hashtags=[tags[n % 2]]) for n in range(1, 6)])
    await import_stories(client, auth, [story(7, 20, hashtags=["#visitlapland"])])
    pending = await client.post(
        f"{BASE}/stories",
        json=story(9, 28, hashtags=[TRAVEL_AGENCY]),
        headers=auth("kemijarvi-editor"),
    )
    assert pending.status_code == 201
    stories = (await client.get(LANDING)).json()["stories"]
    assert [s["title"] for s in stories] == ["Tarina 5", "Tarina 4", "Tarina 3"]
    assert stories[0]["author"] == "Kemijärven kaupunki"
    assert stories[0]["href"].startswith(f"{BASE}/stories/")
    assert "body" not in stories[0]


async def test_nothing_personal_is_on_the_landing_page(
    client: httpx.AsyncClient, auth: Any
) -> None:
    guide = await make_guide(client, auth)
    slot = await make_slot(client, auth, guide["id"], next_week_at(11))
    booked = await client.post(f"{BASE}/bookings", json=booking_body(slot["id"]))
    assert booked.status_code == 201, booked.text
    text = (await client.get(LANDING)).text
    for private in ("maija@example.org", "Maija Muuttaja", "+358401112223", "kemijarvi-guide@"):
        assert private not in text


async def test_landing_has_an_etag_and_answers_304(client: httpx.AsyncClient) -> None:
    first = await client.get(LANDING, params={"lang": "fi"})
    again = await client.get(
        LANDING, params={"lang": "fi"}, headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.headers["etag"] == first.headers["etag"]


async def test_unrelated_writes_keep_the_landing_warm_and_a_story_approval_refreshes_it(
    app: Any, client: httpx.AsyncClient, auth: Any, count_queries: Any
) -> None:
    app.state.cache.versions.ttl = 120  # this test is about writes, not the clock
    posio = "/api/v1/municipalities/posio"
    host = await client.post(
        f"{posio}/guides",
        json={"display_name": "Posion opas", "modes": ["remote"]},
        headers=auth("posio-admin"),
    )
    await client.post(f"{posio}/guides/{host.json()['id']}/activate", headers=auth("posio-admin"))
    slot = await client.post(
        f"{posio}/guides/{host.json()['id']}/slots",
        json={
            "starts_at": next_week_at(10).isoformat(),
            "ends_at": (next_week_at(10) + timedelta(hours=1)).isoformat(),
            "modes": ["remote"],
        },
        headers=auth("posio-admin"),
    )
    pending = await client.post(
        f"{BASE}/stories",
        json=story(1, 3, hashtags=[TRAVEL_AGENCY]),
        headers=auth("kemijarvi-comms"),
    )
    cold = await client.get(LANDING, params={"lang": "en"})
    assert cold.json()["stories"] == []
    with count_queries() as counter:
        warm = await client.get(LANDING, params={"lang": "en"})
    assert counter.count == 0, counter.statements
    assert warm.content == cold.content
    booked = await client.post(f"{posio}/bookings", json=booking_body(slot.json()["id"]))
    assert booked.status_code == 201, booked.text
    with count_queries() as counter:
        still = await client.get(LANDING, params={"lang": "en"})
    assert counter.count == 0, counter.statements
    assert still.headers["etag"] == cold.headers["etag"]
    approved = await client.post(
        f"{BASE}/stories/{pending.json()['id']}/approve", headers=auth("kemijarvi-comms")
    )
    assert approved.status_code == 200
    with count_queries() as counter:
        fresh = await client.get(LANDING, params={"lang": "en"})
    assert counter.count > 0
    assert fresh.headers["etag"] != cold.headers["etag"]
    assert [s["title"] for s in fresh.json()["stories"]] == ["Tarina 1"]
    assert (
        await client.get(
            LANDING, params={"lang": "en"}, headers={"If-None-Match": cold.headers["etag"]}
        )
    ).status_code == 200


async def test_the_landing_costs_the_same_queries_however_much_content(
    app: Any,
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: Any,
    count_queries: Any,
) -> None:
    await _municipality_with_cards(session, "pienikunta", "901", 2)
    await _municipality_with_cards(session, "isokunta", "902", 40)
    amounts = {"pienikunta": (1, 1), "isokunta": (12, 5)}
    counts = []
    for slug, (stories, guides) in amounts.items():
        base = f"/api/v1/municipalities/{slug}"
        await client.post(
            f"{base}/personas/copy",
            json={"source_municipality": "kemijarvi"},
            headers=auth("platform"),
        )
        await import_stories(client, auth, [story(n, n) for n in range(1, stories + 1)], slug)
        for number in range(guides):
            made = await client.post(
                f"{base}/guides",
                json={"display_name": f"Opas {number}", "modes": ["remote"]},
                headers=auth("platform"),
            )
            await client.post(
                f"{base}/guides/{made.json()['id']}/activate", headers=auth("platform")
            )
            await client.post(
                f"{base}/guides/{made.json()['id']}/slots",
                json={
                    "starts_at": next_week_at(8 + number).isoformat(),
                    "ends_at": (next_week_at(8 + number) + timedelta(hours=1)).isoformat(),
                    "modes": ["remote"],
                },
                headers=auth("platform"),
            )
        etag = (await client.get(f"{base}/landing-config", headers=auth("platform"))).headers[
            "etag"
        ]
        configured = await client.patch(
            f"{base}/landing-config",
            json={
                "introduction": {"title": {"fi": slug}},
                "tiles": [
                    {"key": "homes", "label": {"fi": "Kodit"}, "topics": ["home"]},
                    {
                        "key": "web",
                        "label": {"fi": "Verkossa"},
                        "links": [{"url": "https://www.suomi.fi"}],
                    },
                ],
            },
            headers={**auth("platform"), "If-Match": etag},
        )
        assert configured.status_code == 200, configured.text
        app.state.cache.clear()
        with count_queries() as counter:
            response = await client.get(f"{base}/landing", params={"lang": "en"})
        page = response.json()
        assert len(page["stories"]) == min(stories, 3)
        assert len(page["featured_guides"]) == min(guides, 3)
        assert len(page["tiles"][0]["cards"]) in (2, 40)
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


# ---- configuration ------------------------------------------------------------------------------


async def test_the_configuration_is_for_the_municipalitys_staff(
    client: httpx.AsyncClient, auth: Any
) -> None:
    assert_problem(await client.get(CONFIG), 401)
    assert_problem(await client.get(CONFIG, headers=auth("posio-editor")), 404)
    assert_problem(await client.get(CONFIG, headers=auth("kemijarvi-guide")), 403)
    config = await client.get(CONFIG, headers=auth("kemijarvi-editor"))
    assert config.status_code == 200
    body = config.json()
    assert body["revision"] == 1
    assert body["updated_by"] == "Settle"
    assert [tile["key"] for tile in body["tiles"]] == SEED_TILES
    assert body["featured_guides"] == 3
    assert_problem(
        await client.patch(
            CONFIG,
            json={"featured_guides": 1},
            headers={**auth("kemijarvi-editor"), "If-Match": config.headers["etag"]},
        ),
        403,
    )


async def test_comms_reorder_the_tiles_and_the_page_follows(
    client: httpx.AsyncClient, auth: Any
) -> None:
    config = await client.get(CONFIG, headers=auth("kemijarvi-comms"))
    tiles = list(reversed(config.json()["tiles"]))
    change = {"tiles": tiles, "featured_guides": 1, "contact_ways": ["phone", "message"]}
    assert_problem(await client.patch(CONFIG, json=change, headers=auth("kemijarvi-comms")), 428)
    saved = await client.patch(
        CONFIG, json=change, headers={**auth("kemijarvi-comms"), "If-Match": config.headers["etag"]}
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["revision"] == 2
    assert saved.json()["updated_items"] == ["tiles", "contact_ways", "featured_guides"]
    stale = await client.patch(
        CONFIG,
        json={"stories": 1},
        headers={**auth("kemijarvi-admin"), "If-Match": config.headers["etag"]},
    )
    assert_problem(stale, 412)
    page = (await client.get(LANDING, params={"lang": "en"})).json()
    assert [tile["key"] for tile in page["tiles"]] == list(reversed(SEED_TILES))
    assert [way["kind"] for way in page["contact_ways"]] == ["phone", "message"]
    history = (await client.get(f"{CONFIG}/revisions", headers=auth("kemijarvi-editor"))).json()
    assert [r["number"] for r in history] == [2, 1]
    assert history[0]["updated_by"] == "kemijarvi-comms"


async def test_bad_configuration_is_422_naming_the_field(
    client: httpx.AsyncClient, auth: Any
) -> None:
    headers = {
        **auth("kemijarvi-comms"),
        "If-Match": (await client.get(CONFIG, headers=auth("kemijarvi-comms"))).headers["etag"],
    }
    nowhere = await client.patch(
        CONFIG, json={"tiles": [{"key": "x", "label": {"fi": "X"}}]}, headers=headers
    )
    assert assert_problem(nowhere, 422)["errors"][0]["field"].startswith("body.tiles")
    twice = await client.patch(
        CONFIG,
        json={
            "tiles": [
                {"key": "x", "label": {"fi": "X"}, "topics": ["home"]},
                {"key": "x", "label": {"fi": "Y"}, "topics": ["work"]},
            ]
        },
        headers=headers,
    )
    assert "unique" in assert_problem(twice, 422)["errors"][0]["message"]
    assert_problem(await client.patch(CONFIG, json={"featured_guides": 50}, headers=headers), 422)
    assert_problem(
        await client.patch(
            CONFIG,
            json={"map_links": [{"label": {"fi": "Kartta"}, "url": "javascript:alert(1)"}]},
            headers=headers,
        ),
        422,
    )


async def test_a_municipality_without_configuration_gets_a_tile_per_topic(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/api/v1/municipalities/posio/landing", params={"lang": "en"})).json()
    assert page["introduction"] is None
    assert page["service_promise"] is None
    assert [tile["key"] for tile in page["tiles"]][:3] == ["home", "children", "work"]
    assert page["tiles"][-1]["cards"], "Posio has its copied checklist cards"
    assert len(page["personas"]) == 8
    assert [w["kind"] for w in page["contact_ways"]] == [
        "live-meeting",
        "remote-meeting",
        "message",
        "phone",
    ]


async def test_every_tile_is_described_and_housing_links_are_limited_to_the_town(
    client: httpx.AsyncClient,
) -> None:
    """The model's own notes on the tiles (seed p. 42): "Sähkö, vesi, liikenne" gives
    water, distances in km and drive times, and the nearest airports; housing links
    go straight to Kemijärvi's listings, not to the sites' front pages."""
    tiles = (await client.get(LANDING, params={"lang": "fi"})).json()["tiles"]
    assert len(tiles) == 18
    assert all(tile["description"] for tile in tiles)
    transport = next(t for t in tiles if t["key"] == "electricity-water-transport")
    for words in ("vesi", " km", " h", "lentoasema", "VR", "Matkahuol"):
        assert words in transport["description"], words
    housing = [
        link["url"]
        for t in tiles
        if t["key"] in ("homes-for-sale", "rentals")
        for link in t["links"]
    ]
    assert housing
    assert all(url.rstrip("/").endswith("/kemijarvi") for url in housing), housing
