"""Onboarding from a starter kit: Posio, onboarded from Kemijärvi in one call, has a
landing page, and its readiness report lists what it must still fix."""

from typing import Any

import httpx

from tests.conftest import assert_problem

BASE = "/api/v1/municipalities"


async def test_posio_onboarded_from_kemijarvi_in_one_call(
    client: httpx.AsyncClient, auth: Any
) -> None:
    before = (await client.get(f"{BASE}/posio/landing")).json()
    assert before["service_promise"] is None
    response = await client.post(
        f"{BASE}/posio/onboard",
        json={"from_municipality": "kemijarvi"},
        headers=auth("posio-admin"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    copied = body["copied"]
    assert copied["cards"] >= 8  # two neutral ones were copied by the seed already
    assert (copied["promise"], copied["journey"], copied["landing"]) == (1, 1, 1)
    assert copied["comms-plan"] == 1
    assert body["review"]
    assert all(item["resource"].startswith(f"{BASE}/posio/") for item in body["review"])

    again = await client.post(
        f"{BASE}/posio/onboard",
        json={"from_municipality": "kemijarvi"},
        headers=auth("posio-admin"),
    )
    assert set(again.json()["copied"].values()) == {0}

    landing = (await client.get(f"{BASE}/posio/landing", params={"lang": "fi"})).json()
    assert len(landing["tiles"]) == 18
    assert landing["service_promise"] is not None
    assert landing["introduction"]["title"].startswith("Posio.")
    assert "Kemijärvi" not in landing["introduction"]["title"]

    readiness = (await client.get(f"{BASE}/posio/readiness", headers=auth("posio-admin"))).json()
    assert "placeholder-phone" in {i["code"] for i in readiness["blocking"]}
    assert "names-another-municipality" in {i["code"] for i in readiness["advisory"]}
    drafts = (
        await client.get(
            f"{BASE}/posio/service-cards",
            params={"status": "draft", "limit": 100},
            headers=auth("posio-editor"),
        )
    ).json()
    assert drafts["total"] == copied["cards"]


async def test_only_the_targets_admin_onboards_and_parts_are_checked(
    client: httpx.AsyncClient, auth: Any
) -> None:
    url = f"{BASE}/posio/onboard"
    body = {"from_municipality": "kemijarvi", "parts": ["promise"]}
    assert_problem(await client.post(url, json=body, headers=auth("posio-editor")), 403)
    refused = await client.post(url, json=body, headers=auth("kemijarvi-admin"))
    assert refused.status_code in (403, 404)
    bad = await client.post(
        url, json={"from_municipality": "kemijarvi", "parts": ["moon"]}, headers=auth("posio-admin")
    )
    assert_problem(bad, 422)
    only = await client.post(url, json=body, headers=auth("posio-admin"))
    assert only.json()["copied"] == {"promise": 1}


async def test_settle_onboard_command(
    database: Any, tmp_path: Any, monkeypatch: Any, capsys: Any
) -> None:
    """The same from the command line, on a database of its own."""
    import asyncio

    import pytest

    if database.dialect != "sqlite":
        pytest.skip("the command is database-neutral; one run proves it")
    from app import cli
    from app.core.config import get_settings

    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/onboard.db")
    monkeypatch.setenv("ENVIRONMENT", "test")
    get_settings.cache_clear()
    try:
        assert await asyncio.to_thread(cli.main, ["migrate"]) == 0
        assert await asyncio.to_thread(cli.main, ["seed"]) == 0
        capsys.readouterr()
        assert await asyncio.to_thread(cli.main, ["onboard", "keminmaa"]) == 0
        out = capsys.readouterr().out
        assert "Onboarded keminmaa from kemijarvi: cards" in out
        assert "landing 1" in out
        assert await asyncio.to_thread(cli.main, ["onboard", "keminmaa"]) == 0
        assert "landing 0" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()


async def test_the_communication_plan_arrives_as_this_years_draft(
    client: httpx.AsyncClient, auth: Any
) -> None:
    """The starter kit's plan: Kemijärvi's newest, as version 1 of this year's plan for
    Posio, a draft for its own board, with Kemijärvi's name replaced in its texts."""
    from app.core.time import HELSINKI, utcnow

    year = utcnow().astimezone(HELSINKI).year
    response = await client.post(
        f"{BASE}/posio/onboard",
        json={"from_municipality": "kemijarvi", "parts": ["comms-plan"]},
        headers=auth("posio-admin"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["copied"] == {"comms-plan": 1}
    plans = (await client.get(f"{BASE}/posio/comms-plans", headers=auth("posio-admin"))).json()[
        "items"
    ]
    (plan,) = plans
    assert (plan["year"], plan["status"], plan["version"]) == (year, "draft", 1)
    source = (
        await client.get(f"{BASE}/kemijarvi/comms-plans", headers=auth("kemijarvi-admin"))
    ).json()["items"]
    newest = max(source, key=lambda item: (item["year"], item["version"]))
    detail = (
        await client.get(f"{BASE}/posio/comms-plans/{plan['id']}", headers=auth("posio-admin"))
    ).json()
    source_detail = (
        await client.get(
            f"{BASE}/kemijarvi/comms-plans/{newest['id']}", headers=auth("kemijarvi-admin")
        )
    ).json()
    assert len(detail["rows"]) == len(source_detail["rows"]) > 0
    assert "Kemijärvi" not in str(detail["title"])
    again = await client.post(
        f"{BASE}/posio/onboard",
        json={"from_municipality": "kemijarvi", "parts": ["comms-plan"]},
        headers=auth("posio-admin"),
    )
    assert again.json()["copied"] == {"comms-plan": 0}


async def test_the_cli_knows_every_onboarding_part() -> None:
    """The command's choices and the API's parts are one list (the CLI keeps its imports
    light, so it writes them out)."""
    from typing import get_args

    from app.cli import build_parser
    from app.models.municipality import OnboardPart
    from app.services.onboarding import PARTS

    parser = build_parser()
    arguments = parser.parse_args(["onboard", "posio", "--parts", *PARTS])
    assert arguments.parts == list(PARTS) == list(get_args(OnboardPart))


async def test_the_fund_rules_arrive_as_a_draft_round_nobody_else_sees(
    client: httpx.AsyncClient, auth: Any
) -> None:
    from app.services.fund import today

    response = await client.post(
        f"{BASE}/posio/onboard",
        json={"from_municipality": "kemijarvi", "parts": ["fund"]},
        headers=auth("posio-admin"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["copied"] == {"fund": 1}
    rounds = f"{BASE}/posio/fund/rounds"
    staff = (await client.get(rounds, headers=auth("posio-editor"))).json()
    (copy,) = staff["items"]
    source = (await client.get(f"{BASE}/kemijarvi/fund/rounds")).json()["items"][0]
    assert copy["draft"] is True
    assert copy["rules"] == source["rules"]
    opens = copy["schedule"]["ideas_open_from"]
    assert opens > today().isoformat()
    assert opens[4:] == source["schedule"]["ideas_open_from"][4:]
    assert copy["hashtags"] == ["#posio"]
    assert "Kemijärvi" not in str(copy["call"])
    assert {"field": "rules.budget", "reason": "amount"}.items() <= next(
        item for item in body["review"] if item["reason"] == "amount"
    ).items()
    # The public, and GraphQL, see no round, and nobody can send ideas to it.
    assert (await client.get(rounds)).json()["items"] == []
    year = copy["year"]
    assert (await client.get(f"{rounds}/{year}")).status_code == 404
    graphql = await client.post(
        "/graphql",
        json={"query": f'{{ fundRound(municipality: "posio", year: {year}) {{ year }} }}'},
    )
    assert graphql.json()["data"]["fundRound"] is None
    # Publishing it is a PATCH by an admin; then everyone sees it.
    current = await client.get(f"{rounds}/{year}", headers=auth("posio-admin"))
    published = await client.patch(
        f"{rounds}/{year}",
        json={"draft": False},
        headers=auth("posio-admin") | {"If-Match": current.headers["etag"]},
    )
    assert published.status_code == 200, published.text
    assert published.json()["draft"] is False
    assert [r["year"] for r in (await client.get(rounds)).json()["items"]] == [year]
    again = await client.post(
        f"{BASE}/posio/onboard",
        json={"from_municipality": "kemijarvi", "parts": ["fund"]},
        headers=auth("posio-admin"),
    )
    assert again.json()["copied"] == {"fund": 0}


async def test_the_roadmap_template_arrives_as_draft_phases_starting_next_year(
    client: httpx.AsyncClient, auth: Any
) -> None:
    from app.services.fund import today

    response = await client.post(
        f"{BASE}/posio/onboard",
        json={"from_municipality": "kemijarvi", "parts": ["roadmap"]},
        headers=auth("posio-admin"),
    )
    assert response.status_code == 200, response.text
    source = (await client.get(f"{BASE}/kemijarvi/roadmap", params={"lang": "en"})).json()
    assert response.json()["copied"] == {"roadmap": source["total"]}
    url = f"{BASE}/posio/roadmap"
    assert (await client.get(url)).json()["items"] == []
    phases = (await client.get(url, params={"lang": "en"}, headers=auth("posio-editor"))).json()
    assert phases["total"] == source["total"] > 0
    first, first_source = phases["items"][0], source["items"][0]
    shift = today().year + 1 - int(first_source["starts_on"][:4])
    assert first["starts_on"] == f"{today().year + 1}{first_source['starts_on'][4:]}"
    assert first["key"] == first_source["key"].replace(
        first_source["starts_on"][:4], str(int(first_source["starts_on"][:4]) + shift)
    )
    assert first["draft"] is True
    assert first["status"] == "planned"
    assert first["outcome"] is None
    assert all(pilot["status"] == "planned" for p in phases["items"] for pilot in p["pilots"])
    assert (await client.get(f"{url}/phases/{first['id']}")).status_code == 404
    assert (
        await client.get(f"{url}/phases/{first['id']}", headers=auth("posio-editor"))
    ).status_code == 200
    again = await client.post(
        f"{BASE}/posio/onboard",
        json={"from_municipality": "kemijarvi", "parts": ["roadmap"]},
        headers=auth("posio-admin"),
    )
    assert again.json()["copied"] == {"roadmap": 0}


async def test_links_to_the_source_are_adapted_and_flagged(
    client: httpx.AsyncClient, auth: Any
) -> None:
    response = await client.post(
        f"{BASE}/posio/onboard",
        json={"from_municipality": "kemijarvi", "parts": ["landing"]},
        headers=auth("posio-admin"),
    )
    assert response.status_code == 200, response.text
    links = [item for item in response.json()["review"] if item["reason"] == "link"]
    assert links
    assert all(item["resource"] == f"{BASE}/posio/landing-config" for item in links)
    config = (await client.get(f"{BASE}/posio/landing-config", headers=auth("posio-admin"))).json()
    urls = [link["url"] for tile in config["tiles"] for link in tile["links"]]
    assert "https://www.vuokraovi.com/vuokra-asunnot/posio" in urls
    assert "https://www.kemijarvi.fi" not in urls
    assert "https://www.posio.fi" in urls
    assert not any(url.endswith("/kemijarvi") for url in urls)
    # A site named after the source is kept for a person to replace, and flagged.
    flagged = {item["field"] for item in links}
    visit = next(
        f"tiles[{t}].links[{n}].url"
        for t, tile in enumerate(config["tiles"])
        for n, link in enumerate(tile["links"])
        if "visitkemijarvi" in link["url"]
    )
    assert visit in flagged
