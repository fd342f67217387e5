"""The mover's wall poster (huoneentaulu) and the operating model's roles."""

import httpx

BASE = "/api/v1/municipalities"


async def test_the_poster_is_one_printable_page_in_each_enabled_language(
    client: httpx.AsyncClient,
) -> None:
    finnish = await client.get(f"{BASE}/kemijarvi/poster")
    assert finnish.status_code == 200, finnish.text
    assert finnish.headers["content-type"] == "text/html; charset=utf-8"
    assert finnish.headers["content-language"] == "fi"
    page = finnish.text
    assert "@page" in page
    assert "@media print" in page
    assert "Mutkaton muutto" in page  # the service promise
    assert "+358 16 1234000" in page
    assert "kirjaamo@kemijarvi.fi" in page
    assert "Minustako kemijärveläinen?" in page
    for role in ("Asettautumispalvelut", "Viestintä", "Johtaminen"):
        assert role in page
    assert "<script" not in page
    english = await client.get(f"{BASE}/kemijarvi/poster", params={"lang": "en"})
    assert english.headers["content-language"] == "en"
    assert "An effortless move" in english.text
    assert "How to reach us" in english.text
    swedish = await client.get(f"{BASE}/keminmaa/poster", params={"lang": "sv"})
    assert swedish.headers["content-language"] == "sv"
    assert "Så når du oss" in swedish.text
    again = await client.get(
        f"{BASE}/kemijarvi/poster", headers={"If-None-Match": finnish.headers["etag"]}
    )
    assert again.status_code == 304


async def test_the_operating_model_roles(client: httpx.AsyncClient) -> None:
    roles = (
        await client.get(f"{BASE}/kemijarvi/operating-model/roles", params={"lang": "en"})
    ).json()["items"]
    assert [r["key"] for r in roles] == ["settlement-services", "communication", "leadership"]
    assert all(r["responsibilities"] for r in roles)
    assert roles[2]["name"] == "Leadership"
