"""The readiness report: what blocks a municipality from going live and what it should
still look at, each item with a code, a message in the asked language and a pointer."""

from typing import Any

import httpx

from tests.conftest import assert_problem

BASE = "/api/v1/municipalities"


def codes(items: list[dict[str, Any]]) -> set[str]:
    return {item["code"] for item in items}


async def test_posio_is_not_ready_and_says_what_to_fix(
    client: httpx.AsyncClient, auth: Any
) -> None:
    response = await client.get(
        f"{BASE}/posio/readiness", params={"lang": "en"}, headers=auth("posio-admin")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ready"] is False
    blocking = codes(body["blocking"])
    assert {"placeholder-phone", "no-service-promise", "empty-tile"} <= blocking
    phone = next(i for i in body["blocking"] if i["code"] == "placeholder-phone")
    assert phone["pointer"] == {
        "resource": "/api/v1/municipalities/posio",
        "field": "contact.phone.number",
    }
    assert phone["message"].startswith("The phone number +358")
    assert {"no-active-guide", "no-story-hashtag"} <= codes(body["advisory"])
    assert "names-another-municipality" not in codes(body["advisory"])
    finnish = (await client.get(f"{BASE}/posio/readiness", headers=auth("posio-admin"))).json()
    assert finnish["blocking"][0]["message"] != body["blocking"][0]["message"]


async def test_keminmaa_misses_swedish_translations(client: httpx.AsyncClient, auth: Any) -> None:
    body = (await client.get(f"{BASE}/keminmaa/readiness", headers=auth("platform"))).json()
    missing = [i for i in body["blocking"] if i["code"] == "missing-translations"]
    assert missing
    assert "ruotsi" in missing[0]["message"]


async def test_kemijarvi_blocks_only_on_what_is_really_missing(
    client: httpx.AsyncClient, auth: Any
) -> None:
    body = (
        await client.get(f"{BASE}/kemijarvi/readiness", headers=auth("kemijarvi-editor"))
    ).json()
    assert codes(body["blocking"]) == {"placeholder-phone"}
    assert "empty-tile-description" not in codes(body["advisory"])
    assert "no-story-hashtag" not in codes(body["advisory"])


async def test_readiness_is_for_the_municipalitys_staff(
    client: httpx.AsyncClient, auth: Any
) -> None:
    assert_problem(await client.get(f"{BASE}/posio/readiness"), 401)
    assert_problem(
        await client.get(f"{BASE}/posio/readiness", headers=auth("kemijarvi-admin")), 404
    )


async def test_a_copied_text_naming_the_source_municipality_is_flagged(
    client: httpx.AsyncClient, auth: Any
) -> None:
    copied = await client.post(
        f"{BASE}/posio/service-cards/copy",
        json={"source_municipality": "kemijarvi", "topic": "home", "status": "published"},
        headers=auth("posio-admin"),
    )
    assert copied.status_code in (200, 201), copied.text
    body = (await client.get(f"{BASE}/posio/readiness", headers=auth("posio-admin"))).json()
    named = [i for i in body["advisory"] if i["code"] == "names-another-municipality"]
    assert named
    assert "/posio/service-cards/" in named[0]["pointer"]["resource"]
    assert "Kemijärvi" in named[0]["message"]


async def test_the_same_report_in_graphql(client: httpx.AsyncClient, auth: Any) -> None:
    query = """{ readiness(municipality: "posio", lang: EN) {
        ready blocking { code message pointer { resource field } } advisory { code } } }"""
    response = await client.post("/graphql", json={"query": query}, headers=auth("posio-admin"))
    data = response.json()["data"]["readiness"]
    rest = (
        await client.get(
            f"{BASE}/posio/readiness", params={"lang": "en"}, headers=auth("posio-admin")
        )
    ).json()
    assert data["ready"] is False
    assert data["blocking"] == rest["blocking"]
    anonymous = await client.post("/graphql", json={"query": query})
    assert anonymous.json()["data"] is None


async def test_a_real_number_clears_the_placeholder(client: httpx.AsyncClient, auth: Any) -> None:
    url = f"{BASE}/posio"
    current = await client.get(url)
    contact = current.json()["contact"]
    assert contact["phone"]["placeholder"] is True  # marked so in the seed
    contact["phone"] |= {"number": "+358 40 765 4321", "placeholder": False}
    changed = await client.patch(
        url,
        json={"contact": contact},
        headers={**auth("platform"), "If-Match": current.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    body = (await client.get(f"{url}/readiness", headers=auth("posio-admin"))).json()
    assert "placeholder-phone" not in {i["code"] for i in body["blocking"]}


async def test_the_landing_page_shows_staff_a_go_live_banner(
    client: httpx.AsyncClient, auth: Any
) -> None:
    url = f"{BASE}/posio/landing"
    public = await client.get(url, params={"lang": "en"})
    assert public.status_code == 200, public.text
    assert public.json().get("go_live") is None
    staff = await client.get(url, params={"lang": "en"}, headers=auth("posio-editor"))
    assert staff.status_code == 200, staff.text
    banner = staff.json()["go_live"]
    report = (
        await client.get(
            f"{BASE}/posio/readiness", params={"lang": "en"}, headers=auth("posio-editor")
        )
    ).json()
    assert banner["ready"] is False
    assert banner["blocking"] == len(report["blocking"]) > 0
    assert banner["advisory"] == len(report["advisory"])
    assert banner["message"].startswith("Not ready to go live yet")
    assert banner["href"] == "/api/v1/municipalities/posio/readiness"
    assert staff.headers["etag"] != public.headers["etag"]
    # The anonymous page, asked again, is not the staff one (no shared cache entry), and
    # another municipality's staff see no banner.
    again = await client.get(url, params={"lang": "en"})
    assert again.json().get("go_live") is None
    other = await client.get(url, params={"lang": "en"}, headers=auth("kemijarvi-editor"))
    assert other.json().get("go_live") is None
