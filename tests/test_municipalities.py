"""Municipalities through the public REST API: languages, pagination, caching, writes."""

from typing import Any

import httpx
import pytest

from tests.conftest import assert_problem

BASE = "/api/v1/municipalities"


async def test_list_is_public_and_paginated(client: httpx.AsyncClient) -> None:
    response = await client.get(BASE, params={"limit": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3
    assert [m["slug"] for m in body["items"]] == ["kemijarvi", "keminmaa"]
    assert body["next_cursor"]
    second = (await client.get(BASE, params={"limit": 2, "cursor": body["next_cursor"]})).json()
    assert [m["slug"] for m in second["items"]] == ["posio"]
    assert second["next_cursor"] is None


async def test_kemijarvi_in_english_has_content_language(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{BASE}/kemijarvi", params={"lang": "en"})
    assert response.status_code == 200
    assert response.headers["content-language"] == "en"
    body = response.json()
    assert body["code"] == "320"
    assert body["name"] == "Kemijärvi"
    assert body["contact"]["phone"]["hours"] == "Weekdays 9 am – 3 pm"
    assert body["contact"]["phone"]["number"].startswith("+358")
    assert "#kemijärvi" in body["hashtags"]
    assert body["meta"] == {"language": "en", "fallback_fields": []}


async def test_unsupported_language_is_422_listing_supported(client: httpx.AsyncClient) -> None:
    body = assert_problem(
        await client.get(f"{BASE}/kemijarvi", params={"lang": "xx"}), 422, "unsupported-language"
    )
    assert body["supported"] == ["fi", "sv", "en"]


async def test_swedish_falls_back_to_finnish_and_says_so(client: httpx.AsyncClient) -> None:
    body = (await client.get(f"{BASE}/keminmaa", params={"lang": "sv"})).json()
    assert body["contact"]["visiting_address"] == "Kunnantalo, 94400 Keminmaa"
    assert body["meta"]["fallback_fields"] == ["contact.visiting_address"]
    assert body["contact"]["phone"]["hours"] == "Vardagar kl. 9–15"


async def test_accept_language_is_used_when_lang_is_absent(client: httpx.AsyncClient) -> None:
    response = await client.get(
        f"{BASE}/kemijarvi", headers={"Accept-Language": "de-DE, en-GB;q=0.8, fi;q=0.5"}
    )
    assert response.headers["content-language"] == "en"
    assert response.json()["contact"]["visiting_address"] == "City Hall, 98100 Kemijärvi"


async def test_without_language_every_translation_is_returned(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{BASE}/kemijarvi")
    assert "content-language" not in response.headers
    assert response.json()["name"] == {"fi": "Kemijärvi", "sv": "Kemijärvi", "en": "Kemijärvi"}


async def test_unknown_municipality_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{BASE}/atlantis"), 404, "not-found")


async def test_garbage_cursor_is_422(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(BASE, params={"cursor": "not-a-cursor"}), 422, "invalid-cursor")


async def test_limit_over_100_is_422(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get(BASE, params={"limit": 101}), 422, "validation-failed")
    assert body["errors"][0]["field"] == "query.limit"


async def test_modified_since_filters_and_requires_an_offset(
    client: httpx.AsyncClient, auth: Any
) -> None:
    listed = (await client.get(BASE)).json()["items"]
    newest = max(m["updated_at"] for m in listed)
    assert (await client.get(BASE, params={"modified_since": newest})).json()["total"] >= 1
    assert (await client.get(BASE, params={"modified_since": "2999-01-01T00:00:00+00:00"})).json()[
        "total"
    ] == 0
    assert_problem(await client.get(BASE, params={"modified_since": "2024-01-01T00:00:00"}), 422)


async def test_if_none_match_gives_304(client: httpx.AsyncClient) -> None:
    first = await client.get(f"{BASE}/kemijarvi", params={"lang": "en"})
    etag = first.headers["etag"]
    again = await client.get(
        f"{BASE}/kemijarvi", params={"lang": "en"}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.headers["etag"] == etag
    assert again.content == b""
    listed = await client.get(BASE)
    assert (
        await client.get(BASE, headers={"If-None-Match": listed.headers["etag"]})
    ).status_code == 304


async def test_warm_read_and_304_touch_no_database(
    client: httpx.AsyncClient, count_queries: Any
) -> None:
    first = await client.get(f"{BASE}/kemijarvi", params={"lang": "en"})
    await client.get(BASE, params={"lang": "en"})
    with count_queries() as counter:
        warm = await client.get(f"{BASE}/kemijarvi", params={"lang": "en"})
        listed = await client.get(BASE, params={"lang": "en"})
        not_modified = await client.get(
            f"{BASE}/kemijarvi",
            params={"lang": "en"},
            headers={"If-None-Match": first.headers["etag"]},
        )
    assert (warm.status_code, listed.status_code, not_modified.status_code) == (200, 200, 304)
    assert counter.count == 0, counter.statements


async def test_a_write_invalidates_the_cached_read_at_once(
    client: httpx.AsyncClient, auth: Any
) -> None:
    before = await client.get(f"{BASE}/posio", params={"lang": "en"})
    listed = await client.get(BASE)
    response = await client.patch(
        f"{BASE}/posio",
        json={"hashtags": ["#posio", "#uusiposio"]},
        headers={**auth("platform"), "If-Match": before.headers["etag"]},
    )
    assert response.status_code == 200, response.text
    after = await client.get(f"{BASE}/posio", params={"lang": "en"})
    assert after.json()["hashtags"] == ["#posio", "#uusiposio"]
    assert after.headers["etag"] != before.headers["etag"]
    stale = await client.get(
        f"{BASE}/posio", params={"lang": "en"}, headers={"If-None-Match": before.headers["etag"]}
    )
    assert stale.status_code == 200
    assert (
        await client.get(BASE, headers={"If-None-Match": listed.headers["etag"]})
    ).status_code == 200


NEW = {
    "slug": "rovaniemi",
    "code": "698",
    "name": {"fi": "Rovaniemi", "en": "Rovaniemi"},
    "enabled_languages": ["fi", "en"],
    "contact": {
        "phone": {
            "number": "016 322 6000",
            "hours": {"fi": "Arkisin 9–15", "en": "Weekdays 9–15"},
            "price": {"fi": "Paikallisverkkomaksu", "en": "Local call rate"},
        },
        "email": "Kirjaamo@Rovaniemi.fi",
        "web_site": "https://www.rovaniemi.fi",
    },
    "hashtags": ["rovaniemi", "#Napapiiri"],
}


async def test_platform_admin_adds_a_municipality(client: httpx.AsyncClient, auth: Any) -> None:
    response = await client.post(BASE, json=NEW, headers=auth("platform"))
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"{BASE}/rovaniemi"
    body = response.json()
    assert body["contact"]["phone"]["number"] == "+358163226000"
    assert body["contact"]["email"] == "kirjaamo@rovaniemi.fi"
    assert body["hashtags"] == ["#rovaniemi", "#napapiiri"]
    listed = (await client.get(BASE)).json()
    assert listed["total"] == 4


@pytest.mark.parametrize("who", ["kemijarvi-admin", "kemijarvi-editor", "posio-admin"])
async def test_only_platform_admins_add_municipalities(
    client: httpx.AsyncClient, auth: Any, who: str
) -> None:
    assert_problem(await client.post(BASE, json=NEW, headers=auth(who)), 403, "forbidden")
    assert (await client.get(BASE)).json()["total"] == 3


async def test_anonymous_write_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post(BASE, json=NEW)
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "Rovaniemi"}, "body.name"),
        ({"name": {"en": "Rovaniemi"}}, "body.name.fi"),
        ({"name": {"fi": "Rovaniemi", "de": "Rovaniemi"}}, "body.name.de"),
        ({"name": {"fi": "x" * 501}}, "body.name.fi"),
        ({"code": "69"}, "body.code"),
        ({"slug": "Rova Niemi"}, "body.slug"),
        ({"enabled_languages": ["en"]}, "body.enabled_languages"),
        ({"enabled_languages": ["fi", "xx"]}, "body.enabled_languages"),
        ({"contact": {"web_site": "javascript:alert(1)"}}, "body.contact.web_site"),
        (
            {"contact": {"phone": {**NEW["contact"]["phone"], "number": "12345"}}},
            "body.contact.phone.number",
        ),
        ({"hashtags": ["#not a tag"]}, "body.hashtags[0]"),
        ({"surprise": True}, "body.surprise"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field_and_changes_nothing(
    client: httpx.AsyncClient, auth: Any, change: dict[str, Any], field: str
) -> None:
    body = assert_problem(
        await client.post(BASE, json={**NEW, **change}, headers=auth("platform")),
        422,
        "validation-failed",
    )
    assert any(error["field"].startswith(field) for error in body["errors"]), body["errors"]
    assert (await client.get(BASE)).json()["total"] == 3


async def test_plain_string_for_translations_says_what_is_expected(
    client: httpx.AsyncClient, auth: Any
) -> None:
    body = assert_problem(
        await client.post(BASE, json={**NEW, "name": "Rovaniemi"}, headers=auth("platform")), 422
    )
    assert "translations" in body["errors"][0]["message"]


async def test_duplicate_slug_or_code_is_409(client: httpx.AsyncClient, auth: Any) -> None:
    assert_problem(
        await client.post(BASE, json={**NEW, "slug": "posio"}, headers=auth("platform")),
        409,
        "duplicate",
    )
    assert_problem(
        await client.post(BASE, json={**NEW, "code": "614"}, headers=auth("platform")),
        409,
        "duplicate",
    )


async def test_update_needs_if_match(client: httpx.AsyncClient, auth: Any) -> None:
    patch = {"hashtags": ["#keminmaa"]}
    assert_problem(
        await client.patch(f"{BASE}/keminmaa", json=patch, headers=auth("platform")),
        428,
        "precondition-required",
    )
    assert_problem(
        await client.patch(
            f"{BASE}/keminmaa", json=patch, headers={**auth("platform"), "If-Match": '"stale"'}
        ),
        412,
        "precondition-failed",
    )


async def test_etag_read_in_one_language_updates_and_then_is_stale(
    client: httpx.AsyncClient, auth: Any
) -> None:
    etag = (await client.get(f"{BASE}/keminmaa", params={"lang": "sv"})).headers["etag"]
    headers = {**auth("platform"), "If-Match": etag}
    first = await client.patch(f"{BASE}/keminmaa", json={"hashtags": ["#a"]}, headers=headers)
    assert first.status_code == 200, first.text
    second = await client.patch(f"{BASE}/keminmaa", json={"hashtags": ["#b"]}, headers=headers)
    assert_problem(second, 412, "precondition-failed")
    assert (await client.get(f"{BASE}/keminmaa")).json()["hashtags"] == ["#a"]


async def test_explicit_null_for_a_required_field_is_422(
    client: httpx.AsyncClient, auth: Any
) -> None:
    etag = (await client.get(f"{BASE}/keminmaa")).headers["etag"]
    assert_problem(
        await client.patch(
            f"{BASE}/keminmaa", json={"name": None}, headers={**auth("platform"), "If-Match": etag}
        ),
        422,
    )
