"""Staff sign-in and bearer tokens: every way a token can be wrong is a 401 problem."""

import base64
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from jose import jwt

from app.core.security import create_access_token
from tests.conftest import PASSWORD, TEST_SECRET, Database, assert_problem

ME = "/api/v1/auth/me"


async def test_sign_in_returns_a_jwt_with_the_standard_claims(
    client: httpx.AsyncClient, database: Database
) -> None:
    response = await client.post(
        "/api/v1/auth/token",
        data={"username": "Kemijarvi-Editor@example.org", "password": PASSWORD},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert response.headers["cache-control"] == "no-store"
    claims = jwt.get_unverified_claims(body["access_token"])
    assert set(claims) >= {"sub", "exp", "iat", "iss", "aud"}
    assert claims["sub"] == str(database.users["kemijarvi-editor@example.org"])
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS256"
    me = await client.get(ME, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["roles"] == [{"role": "editor", "municipality": "kemijarvi"}]
    assert me.json()["email"] == "kemijarvi-editor@example.org"


async def test_wrong_password_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/token",
        data={"username": "kemijarvi-editor@example.org", "password": "wrong password!"},
    )
    assert_problem(response, 401, "invalid-credentials")


async def test_unknown_email_is_the_same_401(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/token", data={"username": "nobody@example.org", "password": PASSWORD}
    )
    assert_problem(response, 401, "invalid-credentials")


async def test_repeated_failed_sign_ins_are_rate_limited(client: httpx.AsyncClient) -> None:
    form = {"username": "posio-editor@example.org", "password": "not the password"}
    statuses = [(await client.post("/api/v1/auth/token", data=form)).status_code for _ in range(5)]
    assert statuses == [401] * 5
    limited = await client.post("/api/v1/auth/token", data=form)
    assert_problem(limited, 429, "rate-limited")
    assert int(limited.headers["retry-after"]) >= 1


async def test_me_without_a_token_is_401(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(ME), 401, "unauthorized")


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(database: Database, email: str, **changes: Any) -> dict[str, Any]:
    token, _ = create_access_token(str(database.users[email]), database.settings)
    claims: dict[str, Any] = jwt.get_unverified_claims(token)
    claims.update(changes)
    return claims


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(
            lambda db: create_access_token(
                str(db.users["platform@example.org"]),
                db.settings,
                expires_in=timedelta(seconds=-10),
            )[0],
            id="expired",
        ),
        pytest.param(
            lambda db: (
                create_access_token(str(db.users["platform@example.org"]), db.settings)[0][:-4]
                + "AAAA"
            ),
            id="tampered-signature",
        ),
        pytest.param(
            lambda db: jwt.encode(
                _claims(db, "platform@example.org"), "another-secret", algorithm="HS256"
            ),
            id="wrong-key",
        ),
        pytest.param(
            lambda db: (
                _b64({"alg": "none", "typ": "JWT"})
                + "."
                + _b64(_claims(db, "platform@example.org"))
                + "."
            ),
            id="alg-none",
        ),
        pytest.param(
            lambda db: jwt.encode(
                _claims(db, "platform@example.org", aud="someone-else"),
                TEST_SECRET,
                algorithm="HS256",
            ),
            id="wrong-audience",
        ),
        pytest.param(
            lambda db: jwt.encode(
                _claims(db, "platform@example.org", iss="evil"), TEST_SECRET, algorithm="HS256"
            ),
            id="wrong-issuer",
        ),
        pytest.param(
            lambda db: jwt.encode(
                _claims(db, "platform@example.org"), TEST_SECRET, algorithm="HS512"
            ),
            id="other-algorithm",
        ),
        pytest.param(
            lambda db: jwt.encode(
                _claims(db, "platform@example.org", sub="00000000-0000-0000-0000-000000000000"),
                TEST_SECRET,
                algorithm="HS256",
            ),
            id="unknown-user",
        ),
        pytest.param(lambda db: "not.a.jwt", id="garbage"),
    ],
)
async def test_bad_tokens_are_401(
    client: httpx.AsyncClient, database: Database, make_token: Any
) -> None:
    response = await client.get(ME, headers={"Authorization": f"Bearer {make_token(database)}"})
    assert_problem(response, 401, "invalid-token")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_bad_token_on_a_public_endpoint_is_also_401(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/municipalities", json={}, headers={"Authorization": "Bearer nonsense"}
    )
    assert_problem(response, 401, "invalid-token")
