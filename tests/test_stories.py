"""Stories of work and life through the REST API: adding, importing, moderating and the
public feed."""

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from tests.conftest import assert_problem
from tests.test_landing import story

BASE = "/api/v1/municipalities/kemijarvi"
STORIES = f"{BASE}/stories"
IMPORT = f"{STORIES}/import"

CSV_GOOD = (
    "title,author,published_at,source_url,platform,hashtags,summary\n"
    "Marjastaja aamulla,Kemijärven kaupunki,2026-08-14T07:30:00+03:00,"
    "https://www.instagram.com/p/marja/,instagram,#kemijärvi #tuhannenjayhdentyönmatkatoimisto,"
    '"Hillasuolla ennen töitä, sitten etätöihin."\n'
    "Kalastajan työpäivä,Yrittäjien Itä-Lappi,2026-08-15,https://www.facebook.com/kala/1,"
    "facebook,KEMIJÄRVI,\n"
)


async def total(client: httpx.AsyncClient, auth: Any) -> int:
    listed = await client.get(STORIES, params={"status": "all"}, headers=auth("kemijarvi-comms"))
    count: int = listed.json()["total"]
    return count


async def test_a_staff_story_waits_for_moderation_then_is_public(
    client: httpx.AsyncClient, auth: Any
) -> None:
    body = story(1, 2, body="Työpäivä alkaa järveltä. #Kalastus ja #kemijärvi")
    created = await client.post(STORIES, json=body, headers=auth("kemijarvi-editor"))
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["status"] == "pending"
    assert item["created_by"] == "kemijarvi-editor"
    assert item["hashtags"] == ["#kemijärvi", "#kalastus"]
    assert created.headers["location"] == f"{STORIES}/{item['id']}"
    assert (await client.get(STORIES)).json()["total"] == 0
    assert_problem(await client.get(f"{STORIES}/{item['id']}"), 404)
    assert_problem(
        await client.post(f"{STORIES}/{item['id']}/approve", headers=auth("kemijarvi-editor")),
        403,
    )
    approved = await client.post(f"{STORIES}/{item['id']}/approve", headers=auth("kemijarvi-comms"))
    assert approved.status_code == 200
    assert approved.json()["moderated_by"] == "kemijarvi-comms"
    public = (await client.get(STORIES)).json()
    assert [s["title"] for s in public["items"]] == ["Tarina 1"]
    assert "status" not in public["items"][0]
    assert "created_by" not in public["items"][0]
    detail = await client.get(f"{STORIES}/{item['id']}")
    assert detail.status_code == 200
    assert (
        await client.get(
            f"{STORIES}/{item['id']}", headers={"If-None-Match": detail.headers["etag"]}
        )
    ).status_code == 304
    assert_problem(
        await client.post(f"{STORIES}/{item['id']}/approve", headers=auth("kemijarvi-comms")),
        409,
        "invalid-transition",
    )


async def test_who_may_add_publish_and_see_the_queue(client: httpx.AsyncClient, auth: Any) -> None:
    assert_problem(await client.post(STORIES, json=story(1, 2)), 401)
    assert_problem(await client.post(STORIES, json=story(1, 2), headers=auth("posio-admin")), 403)
    assert_problem(
        await client.post(STORIES, json=story(1, 2), headers=auth("kemijarvi-guide")), 403
    )
    assert_problem(
        await client.post(
            STORIES, json={**story(1, 2), "status": "approved"}, headers=auth("kemijarvi-editor")
        ),
        403,
    )
    published = await client.post(
        STORIES, json={**story(1, 2), "status": "approved"}, headers=auth("kemijarvi-admin")
    )
    assert published.json()["status"] == "approved"
    assert_problem(await client.get(STORIES, params={"status": "pending"}), 401)
    assert_problem(
        await client.get(STORIES, params={"status": "pending"}, headers=auth("posio-editor")), 404
    )
    assert_problem(
        await client.get(STORIES, params={"status": "pending"}, headers=auth("kemijarvi-guide")),
        403,
    )


async def test_rejecting_takes_a_story_down_and_the_reason_stays_with_staff(
    client: httpx.AsyncClient, auth: Any
) -> None:
    item = (
        await client.post(
            STORIES, json={**story(1, 2), "status": "approved"}, headers=auth("kemijarvi-comms")
        )
    ).json()
    rejected = await client.post(
        f"{STORIES}/{item['id']}/reject",
        json={"reason": "Kuvassa tunnistettava lapsi ilman lupaa"},
        headers=auth("kemijarvi-comms"),
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    assert (await client.get(STORIES)).json()["total"] == 0
    queue = await client.get(
        STORIES, params={"status": "rejected"}, headers=auth("kemijarvi-editor")
    )
    assert queue.json()["items"][0]["rejection_reason"] == "Kuvassa tunnistettava lapsi ilman lupaa"


async def test_editors_fix_pending_stories_with_if_match(
    client: httpx.AsyncClient, auth: Any
) -> None:
    item = (await client.post(STORIES, json=story(1, 2), headers=auth("kemijarvi-editor"))).json()
    url = f"{STORIES}/{item['id']}"
    etag = (await client.get(url, headers=auth("kemijarvi-editor"))).headers["etag"]
    assert_problem(
        await client.patch(url, json={"title": "Uusi"}, headers=auth("kemijarvi-editor")), 428
    )
    fixed = await client.patch(
        url, json={"title": "Uusi otsikko"}, headers={**auth("kemijarvi-editor"), "If-Match": etag}
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["revision"] == 2
    assert_problem(
        await client.patch(
            url, json={"title": "Taas"}, headers={**auth("kemijarvi-editor"), "If-Match": etag}
        ),
        412,
    )
    await client.post(f"{url}/approve", headers=auth("kemijarvi-comms"))
    etag = (await client.get(url)).headers["etag"]
    assert_problem(
        await client.patch(
            url, json={"title": "Taas"}, headers={**auth("kemijarvi-editor"), "If-Match": etag}
        ),
        403,
    )
    assert_problem(await client.delete(url, headers={**auth("kemijarvi-comms")}), 428)
    assert (
        await client.delete(url, headers={**auth("kemijarvi-comms"), "If-Match": etag})
    ).status_code == 204
    assert_problem(await client.get(url), 404)


async def test_the_same_source_url_twice_is_a_duplicate(
    client: httpx.AsyncClient, auth: Any
) -> None:
    first = await client.post(STORIES, json=story(1, 2), headers=auth("kemijarvi-comms"))
    again = story(2, 3, source_url="https://www.instagram.com/p/tarina1")  # no trailing slash
    problem = assert_problem(
        await client.post(STORIES, json=again, headers=auth("kemijarvi-comms")), 409, "duplicate"
    )
    assert problem["existing_id"] == first.json()["id"]
    elsewhere = await client.post(
        "/api/v1/municipalities/posio/stories", json=again, headers=auth("posio-admin")
    )
    assert elsewhere.status_code == 201


async def test_a_json_import_with_a_bad_row_is_rejected_whole(
    client: httpx.AsyncClient, auth: Any
) -> None:
    before = await total(client, auth)
    rows = [
        story(1, 2),
        {key: value for key, value in story(2, 3).items() if key != "title"},
        story(3, 4, published_at="2026-05-04T10:00:00"),
        story(4, 5, media_url="ftp://example.org/kuva.jpg"),
    ]
    response = await client.post(IMPORT, json=rows, headers=auth("kemijarvi-comms"))
    problem = assert_problem(response, 422, "import-rejected")
    fields = [error["field"] for error in problem["errors"]]
    assert fields == ["[1].title", "[2].published_at", "[3].media_url"]
    assert problem["problem_count"] == 3
    assert await total(client, auth) == before
    assert_problem(
        await client.post(IMPORT, json={"title": "x"}, headers=auth("kemijarvi-comms")),
        422,
        "import-rejected",
    )
    assert_problem(
        await client.post(
            IMPORT,
            content=b"[{]",
            headers={**auth("kemijarvi-comms"), "Content-Type": "application/json"},
        ),
        422,
        "import-rejected",
    )


async def test_a_csv_import_names_the_bad_lines(client: httpx.AsyncClient, auth: Any) -> None:
    bad = (
        "title,author,published_at,source_url\n"
        "Hyvä rivi,Kaupunki,2026-08-14T07:30:00+03:00,https://example.org/1\n"
        ",Kaupunki,2026-08-14T07:30:00+03:00,https://example.org/2\n"
        "Kolmas,Kaupunki,eilen,https://example.org/3\n"
        "Liikaa,Kaupunki,2026-08-14,https://example.org/4,ylimääräinen\n"
    )
    response = await client.post(
        IMPORT,
        content=bad.encode(),
        headers={**auth("kemijarvi-comms"), "Content-Type": "text/csv"},
    )
    problem = assert_problem(response, 422, "import-rejected")
    assert [error["field"] for error in problem["errors"]] == [
        "line 3, column title",
        "line 4, column published_at",
        "line 5",
    ]
    header = await client.post(
        IMPORT,
        content=b"otsikko,author\nx,y\n",
        headers={**auth("kemijarvi-comms"), "Content-Type": "text/csv"},
    )
    assert assert_problem(header, 422, "import-rejected")["errors"][0]["field"] == "line 1"
    assert await total(client, auth) == 0


async def test_a_csv_import_adds_posts_and_skips_known_ones(
    client: httpx.AsyncClient, auth: Any
) -> None:
    first = await client.post(
        IMPORT,
        content=CSV_GOOD.encode("utf-8-sig"),
        headers={**auth("kemijarvi-editor"), "Content-Type": "text/csv; charset=utf-8"},
    )
    assert first.status_code == 201, first.text
    result = first.json()
    assert result["imported"] == 2
    assert result["skipped"] == []
    marja = result["items"][0]
    assert marja["status"] == "pending"  # editors' imports wait for moderation
    assert marja["hashtags"] == ["#kemijärvi", "#tuhannenjayhdentyönmatkatoimisto"]
    assert marja["summary"] == "Hillasuolla ennen töitä, sitten etätöihin."
    midnight_in_helsinki = datetime(2026, 8, 14, 21, tzinfo=UTC)
    assert datetime.fromisoformat(result["items"][1]["published_at"]) == midnight_in_helsinki
    assert result["items"][1]["hashtags"] == ["#kemijärvi"]
    again = CSV_GOOD + (
        "Uusi tarina,Kaupunki,2026-08-16T10:00:00+03:00,https://example.org/uusi,web,,\n"
        "Sama uudestaan,Kaupunki,2026-08-16T10:00:00+03:00,https://example.org/uusi/,web,,\n"
    )
    second = await client.post(
        f"{IMPORT}?status=approved",
        content=again.encode(),
        headers={**auth("kemijarvi-comms"), "Content-Type": "text/csv"},
    )
    assert second.status_code == 201, second.text
    assert second.json()["imported"] == 1
    skipped = second.json()["skipped"]
    assert [(s["at"], s["reason"]) for s in skipped] == [
        ("line 2", "duplicate"),
        ("line 3", "duplicate"),
        ("line 5", "duplicate-in-file"),
    ]
    assert skipped[0]["existing_id"] == marja["id"]
    assert [s["title"] for s in (await client.get(STORIES)).json()["items"]] == ["Uusi tarina"]
    assert_problem(
        await client.post(
            f"{IMPORT}?status=approved",
            content=again.encode(),
            headers={**auth("kemijarvi-editor"), "Content-Type": "text/csv"},
        ),
        403,
    )
    assert_problem(
        await client.post(
            IMPORT,
            content=b"<xml/>",
            headers={**auth("kemijarvi-comms"), "Content-Type": "application/xml"},
        ),
        415,
    )


async def test_public_feed_is_newest_first_with_limit_and_hashtag(
    client: httpx.AsyncClient, auth: Any
) -> None:
    rows = [
        story(1, 1, hashtags=["#Kemijärvi"], summary=None),
        story(2, 9, hashtags=["#kemijarvi"], summary=None),
        story(3, 5, hashtags=["kemijärvi", "#työ"], summary=None),
        story(4, 7, summary="Ei tunnisteita."),
    ]
    imported = await client.post(
        f"{IMPORT}?status=approved", json=rows, headers=auth("kemijarvi-comms")
    )
    assert imported.status_code == 201, imported.text
    newest = (await client.get(STORIES, params={"limit": 3})).json()
    assert [s["title"] for s in newest["items"]] == ["Tarina 2", "Tarina 4", "Tarina 3"]
    assert newest["total"] == 4
    assert newest["next_cursor"]
    rest = (await client.get(STORIES, params={"limit": 3, "cursor": newest["next_cursor"]})).json()
    assert [s["title"] for s in rest["items"]] == ["Tarina 1"]
    for tag in ("#kemijärvi", "Kemijärvi", "#KEMIJÄRVI"):
        found = (await client.get(STORIES, params={"hashtag": tag})).json()
        assert [s["title"] for s in found["items"]] == ["Tarina 3", "Tarina 1"], tag
    encoded = (await client.get(f"{STORIES}?hashtag={quote('#kemijärvi')}")).json()
    assert encoded["total"] == 2
    plain = (await client.get(STORIES, params={"hashtag": "kemijarvi"})).json()
    assert [s["title"] for s in plain["items"]] == ["Tarina 2"]
    assert_problem(await client.get(STORIES, params={"hashtag": "#kemi järvi"}), 422)
    assert (await client.get("/api/v1/municipalities/posio/stories")).json()["total"] == 0
