"""Sign-in hardening: a password change or a disable revokes the account's tokens, one
address cannot spray a password over many emails, and X-Forwarded-For is believed only
from the proxies in FORWARDED_ALLOW_IPS, so nobody picks their own rate-limit bucket."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from jose import jwt
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import Settings
from app.core.security import create_access_token
from app.main import create_app
from tests.conftest import PASSWORD, Database, assert_problem, make_settings

TOKEN = "/api/v1/auth/token"
ME = "/api/v1/auth/me"
USERS = "/api/v1/users"
NEW_PASSWORD = "a brand new password, long enough"


def build_app(database: Database, connection: AsyncConnection, **overrides: Any) -> Any:
    """The app with some settings changed, inside the test's transaction."""

    def session_factory() -> AsyncSession:
        return AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )

    settings = make_settings(database.url, **overrides)
    return create_app(settings, session_factory=session_factory)


@asynccontextmanager
async def client_from(app: Any, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose TCP peer address (what the server sees) is `address`."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    response = await client.post(TOKEN, data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def graphql_me_code(client: httpx.AsyncClient, token: str) -> str:
    """The problem code GraphQL answers `{ me { email } }` with: a bad token is refused
    before the query runs (a 401 problem, like REST), or reported in extensions.code."""
    response = await client.post(
        "/graphql", json={"query": "{ me { email } }"}, headers=bearer(token)
    )
    body: dict[str, Any] = response.json()
    if response.headers["content-type"].startswith("application/problem+json"):
        assert response.status_code == 401
        code: str = body["code"]
        return code
    code = body["errors"][0]["extensions"]["code"]
    return code


async def patch_user(
    client: httpx.AsyncClient, user_id: Any, body: dict[str, Any], headers: dict[str, str]
) -> httpx.Response:
    read = await client.get(f"{USERS}/{user_id}", headers=headers)
    assert read.status_code == 200, read.text
    return await client.patch(
        f"{USERS}/{user_id}", json=body, headers={**headers, "If-Match": read.headers["etag"]}
    )


# 1. A password change, a reset or a disable revokes every token issued before it.


async def test_admin_password_reset_revokes_the_old_tokens(
    client: httpx.AsyncClient, auth: Any, database: Database
) -> None:
    email = "kemijarvi-editor@example.org"
    old = await sign_in(client, email)
    assert (await client.get(ME, headers=bearer(old))).status_code == 200
    response = await patch_user(
        client, database.users[email], {"password": NEW_PASSWORD}, auth("kemijarvi-admin")
    )
    assert response.status_code == 200, response.text

    refused = assert_problem(await client.get(ME, headers=bearer(old)), 401, "invalid-token")
    assert "password" not in refused["detail"].lower()
    assert await graphql_me_code(client, old) == "invalid-token"
    assert_problem(
        await client.post(TOKEN, data={"username": email, "password": PASSWORD}),
        401,
        "invalid-credentials",
    )
    new = await sign_in(client, email, NEW_PASSWORD)
    assert (await client.get(ME, headers=bearer(new))).json()["email"] == email
    graphql = await client.post("/graphql", json={"query": "{ me { email } }"}, headers=bearer(new))
    assert graphql.json()["data"]["me"]["email"] == email


async def test_changing_ones_own_password_revokes_ones_own_old_tokens(
    client: httpx.AsyncClient, database: Database
) -> None:
    email = "posio-admin@example.org"
    old = await sign_in(client, email)
    response = await patch_user(
        client, database.users[email], {"password": NEW_PASSWORD}, bearer(old)
    )
    assert response.status_code == 200, response.text
    assert_problem(await client.get(ME, headers=bearer(old)), 401, "invalid-token")
    new = await sign_in(client, email, NEW_PASSWORD)
    assert (await client.get(ME, headers=bearer(new))).status_code == 200


async def test_a_disabled_account_stays_signed_out_after_it_is_enabled_again(
    client: httpx.AsyncClient, auth: Any, database: Database
) -> None:
    email = "kemijarvi-guide@example.org"
    old = await sign_in(client, email)
    admin = auth("kemijarvi-admin")
    disabled = await patch_user(client, database.users[email], {"is_active": False}, admin)
    assert disabled.status_code == 200, disabled.text
    assert_problem(await client.get(ME, headers=bearer(old)), 401, "invalid-token")
    assert await graphql_me_code(client, old) == "invalid-token"

    enabled = await patch_user(client, database.users[email], {"is_active": True}, admin)
    assert enabled.status_code == 200, enabled.text
    # Disabling is how an admin throws someone out: the old token must not come back.
    assert_problem(await client.get(ME, headers=bearer(old)), 401, "invalid-token")
    new = await sign_in(client, email)
    assert (await client.get(ME, headers=bearer(new))).status_code == 200


async def test_renaming_or_re_roling_keeps_the_tokens(
    client: httpx.AsyncClient, auth: Any, database: Database
) -> None:
    """Roles are read afresh on every request, so only a password change or a disable
    needs to sign anyone out."""
    email = "kemijarvi-comms@example.org"
    token = await sign_in(client, email)
    body = {"display_name": "Viestijä", "roles": [{"role": "editor", "municipality": "kemijarvi"}]}
    response = await patch_user(client, database.users[email], body, auth("kemijarvi-admin"))
    assert response.status_code == 200, response.text
    me = await client.get(ME, headers=bearer(token))
    assert me.status_code == 200, me.text
    assert me.json()["roles"] == [{"role": "editor", "municipality": "kemijarvi"}]


async def test_a_token_without_a_token_version_is_refused(
    client: httpx.AsyncClient, database: Database
) -> None:
    """Every token names the account's token version; one that does not (made before
    revocation existed, or forged without it) cannot be checked, so it is refused."""

    token, _ = create_access_token(str(database.users["platform@example.org"]), database.settings)
    claims = jwt.get_unverified_claims(token)
    assert isinstance(claims.pop("token_version"), int)
    stripped = jwt.encode(claims, database.settings.secret_key, algorithm="HS256")
    assert_problem(await client.get(ME, headers=bearer(stripped)), 401, "invalid-token")


# 2. One address cannot spray a password across many emails.


async def test_one_password_sprayed_over_forty_emails_is_refused_per_address(
    client: httpx.AsyncClient, database: Database
) -> None:
    limit = database.settings.login_rate_limit_per_address_per_minute
    assert limit == 30
    assert limit > database.settings.login_rate_limit_per_minute
    statuses = []
    for number in range(40):
        form = {"username": f"victim{number}@example.org", "password": "Summer2026!"}
        statuses.append((await client.post(TOKEN, data=form)).status_code)
    assert statuses == [401] * limit + [429] * (40 - limit)
    limited = await client.post(TOKEN, data={"username": "victim40@example.org", "password": "x"})
    assert_problem(limited, 429, "rate-limited")
    assert 1 <= int(limited.headers["retry-after"]) <= 60


async def test_the_address_limit_leaves_other_addresses_alone(
    database: Database, connection: AsyncConnection
) -> None:
    app = build_app(database, connection, login_rate_limit_per_address_per_minute=3)
    async with client_from(app, "192.0.2.10") as sprayer, client_from(app, "192.0.2.20") as staff:
        for number in range(3):
            form = {"username": f"victim{number}@example.org", "password": "Summer2026!"}
            assert (await sprayer.post(TOKEN, data=form)).status_code == 401
        assert_problem(
            await sprayer.post(TOKEN, data={"username": "platform@example.org", "password": "x"}),
            429,
            "rate-limited",
        )
        await sign_in(staff, "platform@example.org")


def test_the_per_address_limit_is_a_setting() -> None:
    assert Settings(_env_file=None).login_rate_limit_per_address_per_minute == 30  # type: ignore[call-arg]
    settings = Settings(_env_file=None, login_rate_limit_per_address_per_minute=50)  # type: ignore[call-arg]
    assert settings.login_rate_limit_per_address_per_minute == 50


# 3. X-Forwarded-For is believed only from FORWARDED_ALLOW_IPS.


async def spoofed_attempts(client: httpx.AsyncClient, count: int) -> list[int]:
    """`count` wrong passwords for one email, each claiming another client address."""
    form = {"username": "kemijarvi-editor@example.org", "password": "not the password"}
    return [
        (
            await client.post(TOKEN, data=form, headers={"X-Forwarded-For": f"203.0.113.{n}"})
        ).status_code
        for n in range(1, count + 1)
    ]


async def test_by_default_x_forwarded_for_from_localhost_is_ignored(
    database: Database, connection: AsyncConnection
) -> None:
    app = build_app(database, connection)
    assert app.state.settings.forwarded_allow_ips == []
    async with client_from(app, "127.0.0.1") as client:
        statuses = await spoofed_attempts(client, 15)
    limit = database.settings.login_rate_limit_per_minute
    assert statuses == [401] * limit + [429] * (15 - limit)


async def test_a_trusted_proxy_s_forwarded_address_is_the_client(
    database: Database, connection: AsyncConnection
) -> None:
    app = build_app(database, connection, forwarded_allow_ips="127.0.0.1")
    limit = database.settings.login_rate_limit_per_minute
    form = {"username": "kemijarvi-editor@example.org", "password": "not the password"}
    behind = {"X-Forwarded-For": "198.51.100.7"}
    async with client_from(app, "127.0.0.1") as proxy:
        # Each forwarded address is its own client, with its own attempts …
        assert await spoofed_attempts(proxy, 3) == [401] * 3
        statuses = [(await proxy.post(TOKEN, data=form, headers=behind)).status_code]
        statuses += [
            (await proxy.post(TOKEN, data=form, headers=behind)).status_code for _ in range(limit)
        ]
        assert statuses == [401] * limit + [429]
        # … and the proxy's own address is not the bucket any more.
        assert (await proxy.post(TOKEN, data=form)).status_code == 401
    # A peer that is not the trusted proxy cannot claim an address.
    async with client_from(app, "192.0.2.99") as outsider:
        statuses = await spoofed_attempts(outsider, limit + 1)
    assert statuses == [401] * limit + [429]


async def test_the_proxy_s_own_entry_is_skipped_in_a_forwarded_chain(
    database: Database, connection: AsyncConnection
) -> None:
    """The client is the right-most address no trusted proxy added: a value the client
    put in front of the chain itself is not believed."""
    app = build_app(database, connection, forwarded_allow_ips="10.0.0.0/8")
    limit = database.settings.login_rate_limit_per_minute
    form = {"username": "kemijarvi-editor@example.org", "password": "not the password"}
    async with client_from(app, "10.1.2.3") as proxy:
        statuses = [
            (
                await proxy.post(
                    TOKEN, data=form, headers={"X-Forwarded-For": f"203.0.113.{n}, 198.51.100.7"}
                )
            ).status_code
            for n in range(limit + 1)
        ]
    assert statuses == [401] * limit + [429]


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("", []),
        ("127.0.0.1", ["127.0.0.1"]),
        (" 10.0.0.0/8 , ::1,192.168.1.5 ", ["10.0.0.0/8", "::1", "192.168.1.5"]),
        ("*", ["*"]),
    ],
)
def test_forwarded_allow_ips_parses_addresses_and_networks(raw: str, parsed: list[str]) -> None:
    assert Settings(_env_file=None, forwarded_allow_ips=raw).forwarded_allow_ips == parsed  # type: ignore[call-arg]


@pytest.mark.parametrize("raw", ["proxy.internal", "10.0.0.1/8", "300.1.1.1", "*,10.0.0.1"])
def test_forwarded_allow_ips_refuses_what_would_silently_trust_nobody(raw: str) -> None:
    """uvicorn turns a mistyped entry into a literal that never matches; refuse it at
    start-up instead, so a misconfigured proxy is noticed."""
    with pytest.raises(ValidationError):
        Settings(_env_file=None, forwarded_allow_ips=raw)  # type: ignore[call-arg]


def test_the_default_trusts_no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    assert Settings(_env_file=None).forwarded_allow_ips == []  # type: ignore[call-arg]


def test_settle_serve_leaves_forwarded_headers_to_the_app(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """uvicorn's own proxy handling (on by default, trusting 127.0.0.1, or whatever its
    FORWARDED_ALLOW_IPS says) is off: the app applies the setting itself."""
    import uvicorn

    from app.cli import build_parser, uvicorn_options

    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")  # read by uvicorn when not told otherwise
    settings = Settings(_env_file=None, forwarded_allow_ips="10.0.0.0/8", workers=3)  # type: ignore[call-arg]
    options = uvicorn_options(build_parser().parse_args(["serve", "--port", "8123"]), settings)
    assert options["proxy_headers"] is False
    assert options["app"] == "app.main:create_app"
    assert options["factory"] is True
    assert (options["host"], options["port"], options["workers"]) == ("127.0.0.1", 8123, 3)
    assert options["access_log"] is False  # the app writes its own, redacted
    config = uvicorn.Config(**{**options, "log_config": None})
    assert config.proxy_headers is False
    assert "*" not in config.forwarded_allow_ips


async def test_spoofed_addresses_get_no_fresh_attempts_under_settle_serve(
    database: Database, connection: AsyncConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app wrapped exactly as uvicorn wraps it with `settle serve`'s options, a
    local proxy passing X-Forwarded-For through: 15 spoofed addresses, one bucket."""
    import uvicorn

    from app.cli import build_parser, uvicorn_options

    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    app = build_app(database, connection)
    options = uvicorn_options(build_parser().parse_args(["serve"]), app.state.settings)
    config = uvicorn.Config(**{**options, "app": app, "factory": False, "log_config": None})
    config.load()
    async with client_from(config.loaded_app, "127.0.0.1") as client:
        statuses = await spoofed_attempts(client, 15)
    limit = database.settings.login_rate_limit_per_minute
    assert statuses == [401] * limit + [429] * (15 - limit)


@pytest.mark.parametrize("field", ["username", "password"])
async def test_sign_in_fields_are_bounded(client: httpx.AsyncClient, field: str) -> None:
    """The username went into a rate-limit key unbounded (a 1 MB one grew the limiter's
    store by a megabyte a request)."""
    form = {"username": "someone@example.org", "password": "x" * 20, field: "a" * 5000}
    response = await client.post("/api/v1/auth/token", data=form)
    problem = assert_problem(response, 422, "validation-failed")
    assert problem["errors"][0]["field"] == f"body.{field}"
