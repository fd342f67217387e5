"""Webhook subscriptions over REST: who may manage them, the secret shown once, If-Match,
rotation, and the guard against URLs that reach private addresses."""

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core import netguard
from app.core.time import as_utc, utcnow
from app.main import create_app
from tests.conftest import TEST_SECRET, Database, assert_problem

HOOKS = "/api/v1/municipalities/kemijarvi/webhooks"
URL = "https://hooks.partner.example.org/settle"


async def subscribe(
    client: httpx.AsyncClient, auth: Any, url: str = URL, **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        HOOKS,
        json={"url": url, "description": "Partner site", **fields},
        headers=auth("kemijarvi-admin"),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    body["etag"] = response.headers["etag"]
    return body


async def test_an_admin_subscribes_and_sees_the_secret_once(
    client: httpx.AsyncClient, auth: Any
) -> None:
    created = await subscribe(client, auth)
    assert created["secret"].startswith("whsec_")
    assert created["events"] == []  # every event
    assert created["enabled"] is True
    assert created["municipality"] == "kemijarvi"

    one = await client.get(f"{HOOKS}/{created['id']}", headers=auth("kemijarvi-admin"))
    assert one.status_code == 200
    assert "secret" not in one.json()
    assert created["secret"] not in one.text
    assert one.headers["cache-control"] == "no-store"
    listed = await client.get(HOOKS, headers=auth("kemijarvi-admin"))
    assert [item["id"] for item in listed.json()["items"]] == [created["id"]]
    assert created["secret"] not in listed.text


async def test_events_are_checked_against_the_known_types(
    client: httpx.AsyncClient, auth: Any
) -> None:
    chosen = await subscribe(
        client, auth, events=["slot.booked", "service_card.published", "slot.booked"]
    )
    assert chosen["events"] == ["service_card.published", "slot.booked"]
    response = await client.post(
        HOOKS,
        json={"url": URL, "events": ["service_card.published", "card.eaten"]},
        headers=auth("kemijarvi-admin"),
    )
    body = assert_problem(response, 422, "validation-failed")
    assert [error["field"] for error in body["errors"]] == ["body.events[1]"]
    response = await client.post(
        HOOKS, json={"url": "ftp://example.org/x"}, headers=auth("kemijarvi-admin")
    )
    assert_problem(response, 422, "validation-failed")
    response = await client.post(
        HOOKS, json={"url": "https://user:pw@example.org/x"}, headers=auth("kemijarvi-admin")
    )
    assert_problem(response, 422, "validation-failed")


async def test_only_the_municipalitys_admins_manage_its_webhooks(
    client: httpx.AsyncClient, auth: Any
) -> None:
    created = await subscribe(client, auth)
    one = f"{HOOKS}/{created['id']}"
    body = {"url": URL}
    assert_problem(await client.post(HOOKS, json=body), 401)
    assert_problem(await client.get(HOOKS), 401)
    for who in ("kemijarvi-editor", "kemijarvi-comms"):
        assert_problem(await client.post(HOOKS, json=body, headers=auth(who)), 403)
        assert_problem(await client.get(HOOKS, headers=auth(who)), 403)
        assert_problem(await client.get(one, headers=auth(who)), 403)
    # Another municipality's admin: its writes are 403, its reads 404.
    assert_problem(await client.post(HOOKS, json=body, headers=auth("posio-admin")), 403)
    assert_problem(await client.get(HOOKS, headers=auth("posio-admin")), 404)
    assert_problem(await client.get(one, headers=auth("posio-admin")), 404)
    assert_problem(await client.get(f"{one}/deliveries", headers=auth("posio-admin")), 404)
    patched = await client.patch(
        one, json={"description": "x"}, headers={**auth("posio-admin"), "If-Match": created["etag"]}
    )
    assert_problem(patched, 403)
    deleted = await client.delete(one, headers={**auth("posio-admin"), "If-Match": created["etag"]})
    assert_problem(deleted, 403)
    rotated = await client.post(f"{one}/rotate-secret", headers=auth("posio-admin"))
    assert_problem(rotated, 403)
    # Posio's own list does not show it, and its id under Posio is not found.
    posio = "/api/v1/municipalities/posio/webhooks"
    assert (await client.get(posio, headers=auth("posio-admin"))).json()["total"] == 0
    assert_problem(await client.get(f"{posio}/{created['id']}", headers=auth("posio-admin")), 404)
    # The platform admin may.
    assert (await client.get(one, headers=auth("platform"))).status_code == 200


async def test_updates_need_the_current_etag(client: httpx.AsyncClient, auth: Any) -> None:
    created = await subscribe(client, auth)
    one = f"{HOOKS}/{created['id']}"
    change = {"description": "Kumppanin sivusto", "events": ["story.approved"]}
    assert_problem(await client.patch(one, json=change, headers=auth("kemijarvi-admin")), 428)
    stale = {**auth("kemijarvi-admin"), "If-Match": '"nope"'}
    assert_problem(await client.patch(one, json=change, headers=stale), 412)
    fresh = {**auth("kemijarvi-admin"), "If-Match": created["etag"]}
    updated = await client.patch(one, json=change, headers=fresh)
    assert updated.status_code == 200, updated.text
    assert updated.json()["events"] == ["story.approved"]
    assert updated.json()["description"] == "Kumppanin sivusto"
    assert updated.headers["etag"] != created["etag"]
    # The first ETag is spent now.
    assert_problem(await client.patch(one, json={"events": []}, headers=fresh), 412)
    assert_problem(await client.delete(one, headers=fresh), 412)
    assert_problem(await client.delete(one, headers=auth("kemijarvi-admin")), 428)
    gone = await client.delete(
        one, headers={**auth("kemijarvi-admin"), "If-Match": updated.headers["etag"]}
    )
    assert gone.status_code == 204
    assert_problem(await client.get(one, headers=auth("kemijarvi-admin")), 404)


async def test_rotating_gives_a_new_secret_and_keeps_the_old_for_a_day(
    client: httpx.AsyncClient, auth: Any
) -> None:
    created = await subscribe(client, auth)
    rotated = await client.post(
        f"{HOOKS}/{created['id']}/rotate-secret", headers=auth("kemijarvi-admin")
    )
    assert rotated.status_code == 200, rotated.text
    body = rotated.json()
    assert body["secret"].startswith("whsec_")
    assert body["secret"] != created["secret"]
    grace = as_utc(_parse(body["previous_secret_expires_at"])) - utcnow()
    assert timedelta(hours=23, minutes=59) < grace <= timedelta(hours=24)


def _parse(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)


# ---- private addresses -------------------------------------------------------------------


@pytest.fixture
async def strict_client(
    database: Database, connection: AsyncConnection
) -> AsyncIterator[httpx.AsyncClient]:
    """An app that refuses private webhook URLs, as production does by default."""
    settings = database.settings.model_copy(update={"webhooks_allow_private_urls": False})

    def session_factory() -> AsyncSession:
        return AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )

    app = create_app(settings, session_factory=session_factory)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.1.10/hook",
        "http://172.16.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
    ],
)
async def test_private_addresses_are_refused_when_not_allowed(
    strict_client: httpx.AsyncClient, auth: Any, url: str
) -> None:
    response = await strict_client.post(HOOKS, json={"url": url}, headers=auth("kemijarvi-admin"))
    body = assert_problem(response, 422, "validation-failed")
    assert body["errors"][0]["field"] == "body.url"
    assert body["errors"][0]["code"] == "address-not-public"


async def test_a_name_that_resolves_privately_is_refused(
    strict_client: httpx.AsyncClient, auth: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A public-looking name is resolved and its addresses checked: one private address
    among public ones is enough to refuse it."""

    async def resolve(host: str, port: int) -> list[str]:
        return {"mixed.example.org": ["93.184.215.14", "10.0.0.7"]}.get(host, [])

    monkeypatch.setattr(netguard, "system_resolve", resolve)
    response = await strict_client.post(
        HOOKS, json={"url": "https://mixed.example.org/hook"}, headers=auth("kemijarvi-admin")
    )
    body = assert_problem(response, 422)
    assert "10.0.0.7" in body["errors"][0]["message"]
    response = await strict_client.post(
        HOOKS, json={"url": "https://nowhere.example.org/hook"}, headers=auth("kemijarvi-admin")
    )
    assert_problem(response, 422)


async def test_production_refuses_private_addresses_and_plain_http_by_default(
    database: Database, connection: AsyncConnection, auth: Any
) -> None:
    settings = database.settings.model_copy(
        update={"environment": "production", "secret_key": TEST_SECRET}
    )
    assert settings.allow_private_webhook_urls is False
    assert database.settings.allow_private_webhook_urls is True  # test and development

    def session_factory() -> AsyncSession:
        return AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )

    app = create_app(settings, session_factory=session_factory)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        plain = await http.post(
            HOOKS, json={"url": "http://93.184.215.14/hook"}, headers=auth("kemijarvi-admin")
        )
        assert assert_problem(plain, 422)["errors"][0]["code"] == "https-required"
        private = await http.post(
            HOOKS, json={"url": "https://127.0.0.1/hook"}, headers=auth("kemijarvi-admin")
        )
        assert assert_problem(private, 422)["errors"][0]["code"] == "address-not-public"


async def test_pinning_resolves_once_and_connects_to_the_checked_address() -> None:
    """The rewritten URL names the checked address, and the name travels in Host (and
    SNI for https), so a second, different DNS answer cannot redirect the request."""
    answers = {"hooks.example.org": ["93.184.215.14"], "evil.example.org": ["127.0.0.1"]}
    calls: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return answers[host]

    pinned = await netguard.pin("https://hooks.example.org:8443/in?x=1", resolve=resolve)
    assert pinned.url == "https://93.184.215.14:8443/in?x=1"
    assert pinned.headers == {"Host": "hooks.example.org:8443"}
    assert pinned.extensions == {"sni_hostname": "hooks.example.org"}
    assert calls == ["hooks.example.org"]
    with pytest.raises(netguard.UnsafeAddress):
        await netguard.pin("http://evil.example.org/in", resolve=resolve)
    with pytest.raises(netguard.UnsafeAddress):
        await netguard.pin("http://[::ffff:10.0.0.1]/in", resolve=resolve)
