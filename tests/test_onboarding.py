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
