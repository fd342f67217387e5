"""A municipality is served in the languages it enables, and every response says which
one it is in: Kemijärvi (fi, en) never answers "sv" over Finnish text, Keminmaa (fi, en,
sv) has its topic names and persona taglines in Swedish."""

from typing import Any

import httpx

BASE = "/api/v1/municipalities"


async def test_a_language_the_municipality_does_not_enable_gets_its_default_and_says_so(
    client: httpx.AsyncClient, count_queries: Any
) -> None:
    landing = f"{BASE}/kemijarvi/landing"
    swedish = await client.get(landing, params={"lang": "sv"})
    assert swedish.status_code == 200, swedish.text
    assert swedish.headers["content-language"] == "fi"
    assert swedish.json()["meta"] == {"language": "fi", "fallback_fields": []}
    # Accept-Language: the best enabled one (English before the default).
    preferred = await client.get(landing, headers={"Accept-Language": "sv-FI, en;q=0.5"})
    assert preferred.headers["content-language"] == "en"
    assert preferred.json()["meta"]["language"] == "en"
    # The fast lane picks the same language as the route (the body is cached under it).
    with count_queries() as counter:
        warm = await client.get(landing, headers={"Accept-Language": "sv-FI, en;q=0.5"})
    assert counter.count == 0, counter.statements
    assert warm.headers["content-language"] == "en"
    assert warm.content == preferred.content
    with count_queries() as counter:
        warm_sv = await client.get(landing, params={"lang": "sv"})
    assert warm_sv.headers["content-language"] == "fi"
    # Outside a municipality every language is served.
    directory = await client.get(BASE, params={"lang": "sv"})
    assert directory.headers["content-language"] == "sv"


async def test_enabling_a_language_serves_it_at_once(client: httpx.AsyncClient, auth: Any) -> None:
    url = f"{BASE}/kemijarvi"
    before = await client.get(url, params={"lang": "sv"})
    assert before.headers["content-language"] == "fi"
    enabled = await client.patch(
        url,
        json={"enabled_languages": ["fi", "en", "sv"]},
        headers={**auth("platform"), "If-Match": before.headers["etag"]},
    )
    assert enabled.status_code == 200, enabled.text
    after = await client.get(url, params={"lang": "sv"})
    assert after.headers["content-language"] == "sv"


async def test_keminmaa_is_seeded_in_swedish(client: httpx.AsyncClient) -> None:
    landing = await client.get(f"{BASE}/keminmaa/landing", params={"lang": "sv"})
    assert landing.headers["content-language"] == "sv"
    body = landing.json()
    fallbacks = body["meta"]["fallback_fields"]
    assert not [f for f in fallbacks if f.startswith("personas") or ".topics" in f], fallbacks
    names = {t["key"]: t["name"] for tile in body["tiles"] for t in tile["topics"]}
    assert names["home"] == "Hem och boende"
    assert body["personas"][0]["tagline"].startswith("En ")
