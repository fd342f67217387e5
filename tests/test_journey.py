"""The mover's journey and its configuration, through the REST API."""

from typing import Any

import httpx

from tests.conftest import assert_problem
from tests.test_guides import make_guide, make_slot, next_week_at

BASE = "/api/v1/municipalities/kemijarvi"
JOURNEY = f"{BASE}/journey"
CONFIG = f"{BASE}/journey-config"
STAGES = ["awareness", "exploring", "decision", "moving", "settled", "living-here"]


async def test_kemijarvis_journey_offers_something_at_every_stage(
    client: httpx.AsyncClient, auth: Any
) -> None:
    guide = await make_guide(client, auth)
    await make_slot(client, auth, guide["id"], next_week_at(10))
    response = await client.get(JOURNEY, params={"lang": "en"})
    assert response.status_code == 200, response.text
    assert response.headers["etag"]
    journey = response.json()
    assert journey["introduction"]["title"] == "The mover's journey"
    stages = {stage["key"]: stage for stage in journey["stages"]}
    assert list(stages) == STAGES
    assert [stage["position"] for stage in journey["stages"]] == [1, 2, 3, 4, 5, 6]
    assert stages["awareness"]["title"] == "The first spark"
    assert [w["kind"] for w in stages["awareness"]["contact_ways"]] == ["info-package"]
    decision = stages["decision"]
    assert [w["kind"] for w in decision["contact_ways"]] == [
        "live-meeting",
        "remote-meeting",
        "phone",
    ]
    assert decision["contact_ways"][1]["available"] is True  # the guide's remote slot
    assert [g["display_name"] for g in decision["guides"]] == ["Aino Kalastaja"]
    assert decision["guides"][0]["has_free_slots"] is True
    assert "+358401112223" not in response.text
    moving = stages["moving"]
    assert moving["checklist"], moving
    assert {item["when"] for item in moving["checklist"]} == {"before", "during"}
    whens = [item["when"] for item in moving["checklist"]]
    assert whens == sorted(whens, key=["before", "during"].index)
    assert moving["checklist"][0]["name"] == "Report your change of address"
    assert {item["when"] for item in stages["settled"]["checklist"]} == {"after"}
    assert {card["topic"] for card in stages["exploring"]["cards"]} == {
        "home",
        "work",
        "children",
        "social-health",
    }
    assert stages["living-here"]["guides"] == []


async def test_a_municipality_that_wrote_no_journey_gets_the_stages(
    client: httpx.AsyncClient,
) -> None:
    journey = (
        await client.get("/api/v1/municipalities/posio/journey", params={"lang": "en"})
    ).json()
    assert [stage["key"] for stage in journey["stages"]] == STAGES
    assert journey["stages"][3]["title"] == "Moving"
    assert journey["stages"][3]["description"] is None
    assert journey["stages"][3]["checklist"], "Posio's copied checklist cards show up"
    assert journey["introduction"] is None


async def test_journey_has_an_etag_and_answers_304(client: httpx.AsyncClient) -> None:
    first = await client.get(JOURNEY)
    assert (
        await client.get(JOURNEY, headers={"If-None-Match": first.headers["etag"]})
    ).status_code == 304


async def test_comms_rewrite_a_stage_with_if_match_and_history(
    client: httpx.AsyncClient, auth: Any
) -> None:
    assert_problem(await client.get(CONFIG), 401)
    assert_problem(await client.get(CONFIG, headers=auth("posio-admin")), 404)
    config = await client.get(CONFIG, headers=auth("kemijarvi-comms"))
    assert config.status_code == 200
    assert config.json()["revision"] == 1
    stages = config.json()["stages"]
    stages[3]["description"] = {"fi": "Muuttopäivän muistilista.", "en": "The moving-day list."}
    stages[3]["checklist"] = ["before"]
    assert_problem(
        await client.patch(CONFIG, json={"stages": stages}, headers=auth("kemijarvi-comms")), 428
    )
    assert_problem(
        await client.patch(
            CONFIG,
            json={"stages": stages},
            headers={**auth("kemijarvi-editor"), "If-Match": config.headers["etag"]},
        ),
        403,
    )
    saved = await client.patch(
        CONFIG,
        json={"stages": stages},
        headers={**auth("kemijarvi-comms"), "If-Match": config.headers["etag"]},
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["revision"] == 2
    assert saved.json()["updated_items"] == ["stages.moving"]
    moving = (await client.get(JOURNEY, params={"lang": "en"})).json()["stages"][3]
    assert moving["description"] == "The moving-day list."
    assert {item["when"] for item in moving["checklist"]} == {"before"}
    history = (await client.get(f"{CONFIG}/revisions", headers=auth("kemijarvi-editor"))).json()
    assert [r["number"] for r in history] == [2, 1]
    assert history[0]["changes"][0]["field"] == "stages"
    stale = await client.patch(
        CONFIG,
        json={"introduction": None},
        headers={**auth("kemijarvi-comms"), "If-Match": config.headers["etag"]},
    )
    assert_problem(stale, 412)


async def test_the_six_stages_are_sent_once_each_in_order(
    client: httpx.AsyncClient, auth: Any
) -> None:
    config = await client.get(CONFIG, headers=auth("kemijarvi-admin"))
    stages = config.json()["stages"]
    headers = {**auth("kemijarvi-admin"), "If-Match": config.headers["etag"]}
    swapped = [stages[1], stages[0], *stages[2:]]
    problem = assert_problem(
        await client.patch(CONFIG, json={"stages": swapped}, headers=headers), 422
    )
    assert problem["errors"][0]["field"] == "body.stages"
    assert_problem(await client.patch(CONFIG, json={"stages": stages[:5]}, headers=headers), 422)
    wrong = [*stages[:5], {**stages[5], "contact_ways": ["carrier-pigeon"]}]
    assert_problem(await client.patch(CONFIG, json={"stages": wrong}, headers=headers), 422)


async def test_the_first_save_of_a_default_journey_uses_the_revision_0_etag(
    client: httpx.AsyncClient, auth: Any
) -> None:
    url = "/api/v1/municipalities/posio/journey-config"
    config = await client.get(url, headers=auth("posio-admin"))
    assert config.json()["revision"] == 0
    saved = await client.patch(
        url,
        json={"introduction": {"title": {"fi": "Muuttajan polku Posiolle"}}},
        headers={**auth("posio-admin"), "If-Match": config.headers["etag"]},
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["revision"] == 1
    assert [stage["key"] for stage in saved.json()["stages"]] == STAGES
