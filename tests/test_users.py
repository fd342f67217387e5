"""Staff accounts through /api/v1/users: who may create, see, change and disable whom."""

from typing import Any

import httpx
import pytest

from tests.conftest import ACCOUNTS, PASSWORD, Database, assert_problem

USERS = "/api/v1/users"


def new_user(email: str, *roles: tuple[str, str | None]) -> dict[str, Any]:
    return {
        "email": email,
        "display_name": "Uusi Käyttäjä",
        "password": "a long enough password",
        "roles": [{"role": role, "municipality": slug} for role, slug in roles],
    }


async def test_platform_admin_creates_any_account(client: httpx.AsyncClient, auth: Any) -> None:
    body = new_user("boss@example.org", ("platform_admin", None))
    response = await client.post(USERS, json=body, headers=auth("platform"))
    assert response.status_code == 201, response.text
    assert response.json()["roles"] == [{"role": "platform_admin", "municipality": None}]
    assert "password" not in response.text
    assert "password_hash" not in response.text


async def test_municipality_admin_creates_an_editor_at_home(
    client: httpx.AsyncClient, auth: Any
) -> None:
    body = new_user("New.Editor@Example.org", ("editor", "kemijarvi"), ("comms", "kemijarvi"))
    response = await client.post(USERS, json=body, headers=auth("kemijarvi-admin"))
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["email"] == "new.editor@example.org"
    assert {r["role"] for r in created["roles"]} == {"editor", "comms"}
    token = await client.post(
        "/api/v1/auth/token",
        data={"username": "new.editor@example.org", "password": "a long enough password"},
    )
    assert token.status_code == 200


@pytest.mark.parametrize(
    "roles",
    [
        [("platform_admin", None)],
        [("editor", "posio")],
        [("editor", "kemijarvi"), ("editor", "posio")],
    ],
)
async def test_municipality_admin_cannot_grant_above_or_outside(
    client: httpx.AsyncClient, auth: Any, roles: list[tuple[str, str | None]]
) -> None:
    response = await client.post(
        USERS, json=new_user("x@example.org", *roles), headers=auth("kemijarvi-admin")
    )
    assert_problem(response, 403, "forbidden")
    listed = await client.get(USERS, headers=auth("platform"))
    assert "x@example.org" not in [u["email"] for u in listed.json()["items"]]


@pytest.mark.parametrize("who", ["kemijarvi-editor", "kemijarvi-comms", "kemijarvi-guide"])
async def test_staff_below_admin_manage_no_accounts(
    client: httpx.AsyncClient, auth: Any, who: str
) -> None:
    response = await client.post(
        USERS, json=new_user("x@example.org", ("editor", "kemijarvi")), headers=auth(who)
    )
    assert_problem(response, 403, "forbidden")
    assert_problem(await client.get(USERS, headers=auth(who)), 403, "forbidden")


async def test_bad_account_input_is_422(client: httpx.AsyncClient, auth: Any) -> None:
    short = {**new_user("y@example.org", ("editor", "kemijarvi")), "password": "short"}
    body = assert_problem(await client.post(USERS, json=short, headers=auth("platform")), 422)
    assert body["errors"][0]["field"] == "body.password"
    no_town = new_user("y@example.org", ("editor", None))
    body = assert_problem(await client.post(USERS, json=no_town, headers=auth("platform")), 422)
    assert body["errors"][0]["field"] == "body.roles[0].municipality"
    unknown = new_user("y@example.org", ("editor", "atlantis"))
    assert_problem(await client.post(USERS, json=unknown, headers=auth("platform")), 422)
    bad_role = new_user("y@example.org", ("mayor", "kemijarvi"))
    assert_problem(await client.post(USERS, json=bad_role, headers=auth("platform")), 422)


async def test_duplicate_email_is_409(client: httpx.AsyncClient, auth: Any) -> None:
    body = new_user("Kemijarvi-Editor@example.org", ("editor", "kemijarvi"))
    assert_problem(await client.post(USERS, json=body, headers=auth("platform")), 409, "duplicate")


async def test_lists_are_scoped_to_the_admins_municipality(
    client: httpx.AsyncClient, auth: Any
) -> None:
    everyone = (await client.get(USERS, headers=auth("platform"))).json()
    # Counted from the seeded accounts, so adding one for a new role breaks nothing here.
    assert everyone["total"] == len(ACCOUNTS)
    kemijarvi = (await client.get(USERS, headers=auth("kemijarvi-admin"))).json()
    emails = {u["email"] for u in kemijarvi["items"]}
    assert emails == {email for email, (_, slug) in ACCOUNTS.items() if slug == "kemijarvi"}
    assert "kemijarvi-guide@example.org" in emails
    posio = (
        await client.get(USERS, params={"municipality": "posio"}, headers=auth("platform"))
    ).json()
    assert {u["email"] for u in posio["items"]} == {
        "posio-admin@example.org",
        "posio-editor@example.org",
    }


async def test_another_municipalitys_account_is_404(
    client: httpx.AsyncClient, auth: Any, database: Database
) -> None:
    editor_id = database.users["kemijarvi-editor@example.org"]
    assert_problem(
        await client.get(f"{USERS}/{editor_id}", headers=auth("posio-admin")), 404, "not-found"
    )
    assert (await client.get(f"{USERS}/{editor_id}", headers=auth("kemijarvi-admin"))).is_success


async def test_admin_disables_an_account_and_its_token_stops_working(
    client: httpx.AsyncClient, auth: Any, database: Database
) -> None:
    guide_id = database.users["kemijarvi-guide@example.org"]
    guide_token = auth("kemijarvi-guide")
    assert (await client.get("/api/v1/auth/me", headers=guide_token)).status_code == 200
    read = await client.get(f"{USERS}/{guide_id}", headers=auth("kemijarvi-admin"))
    response = await client.patch(
        f"{USERS}/{guide_id}",
        json={"is_active": False},
        headers={**auth("kemijarvi-admin"), "If-Match": read.headers["etag"]},
    )
    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is False
    assert_problem(await client.get("/api/v1/auth/me", headers=guide_token), 401, "invalid-token")
    sign_in = await client.post(
        "/api/v1/auth/token",
        data={"username": "kemijarvi-guide@example.org", "password": PASSWORD},
    )
    assert_problem(sign_in, 401, "invalid-credentials")


async def test_posio_admin_cannot_disable_a_kemijarvi_account(
    client: httpx.AsyncClient, auth: Any, database: Database
) -> None:
    editor_id = database.users["kemijarvi-editor@example.org"]
    response = await client.patch(
        f"{USERS}/{editor_id}",
        json={"is_active": False},
        headers={**auth("posio-admin"), "If-Match": '"x"'},
    )
    assert_problem(response, 404, "not-found")


async def test_account_update_needs_a_current_if_match(
    client: httpx.AsyncClient, auth: Any, database: Database
) -> None:
    editor_id = database.users["kemijarvi-editor@example.org"]
    url = f"{USERS}/{editor_id}"
    assert_problem(
        await client.patch(url, json={"display_name": "E"}, headers=auth("kemijarvi-admin")),
        428,
    )
    etag = (await client.get(url, headers=auth("kemijarvi-admin"))).headers["etag"]
    headers = {**auth("kemijarvi-admin"), "If-Match": etag}
    assert (await client.patch(url, json={"display_name": "Eeva"}, headers=headers)).is_success
    assert_problem(await client.patch(url, json={"display_name": "Eemeli"}, headers=headers), 412)


async def test_nobody_disables_themselves(
    client: httpx.AsyncClient, auth: Any, database: Database
) -> None:
    admin_id = database.users["kemijarvi-admin@example.org"]
    url = f"{USERS}/{admin_id}"
    etag = (await client.get(url, headers=auth("kemijarvi-admin"))).headers["etag"]
    response = await client.patch(
        url, json={"is_active": False}, headers={**auth("kemijarvi-admin"), "If-Match": etag}
    )
    assert_problem(response, 409, "conflict")
