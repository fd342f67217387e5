"""CORS: the municipal and partner sites listed in CORS_ORIGINS may call the API."""

import httpx


async def test_preflight_from_a_listed_site_is_allowed(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/api/v1/municipalities/kemijarvi",
        headers={
            "Origin": "https://www.kemijarvi.fi",
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, if-match, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://www.kemijarvi.fi"
    assert "PATCH" in response.headers["access-control-allow-methods"]
    assert "if-match" in response.headers["access-control-allow-headers"].lower()


async def test_preflight_from_an_unlisted_site_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/api/v1/municipalities",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_simple_request_exposes_etag_to_listed_sites(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/v1/municipalities/kemijarvi", headers={"Origin": "https://partner.example.org"}
    )
    assert response.headers["access-control-allow-origin"] == "https://partner.example.org"
    assert "etag" in response.headers["access-control-expose-headers"].lower()
