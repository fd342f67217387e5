"""What an operator needs: /metrics, request ids, logs without secrets, the Docker image.

Metrics live in prometheus-client's process-wide registry, so every test compares a
scrape after its requests with one before them.
"""

import io
import json
import logging
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from app.api.observe import Observe
from app.core.logging import ACCESS_LOGGER, build_formatter, redact
from app.main import create_app
from app.seed.loader import seed
from tests.conftest import Database, assert_problem, make_settings
from tests.test_bookings import booking_body, guide_with_slots

ROOT = Path(__file__).resolve().parents[1]
PASSWORD_12 = "a long enough passphrase"
BASE = "/api/v1/municipalities/kemijarvi"
METRICS_TOKEN = "metrics-token-for-the-tests-0123456789"
HEX_ID = re.compile(r"[0-9a-f]{32}")


# ---- helpers ----------------------------------------------------------------------------


def value(exposition: str, sample: str, **labels: str) -> float:
    """The sum of the samples named `sample` whose labels include `labels`."""
    total = 0.0
    for family in text_string_to_metric_families(exposition):
        for item in family.samples:
            if item.name == sample and all(item.labels.get(k) == v for k, v in labels.items()):
                total += item.value
    return total


def label_values(exposition: str, label: str) -> set[str]:
    return {
        item.labels[label]
        for family in text_string_to_metric_families(exposition)
        for item in family.samples
        if label in item.labels
    }


async def scrape(client: httpx.AsyncClient, **headers: str) -> str:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


@pytest.fixture
def build(database: Database, connection: AsyncConnection) -> Any:
    """`build(**settings)` → an app on the test's transaction with those settings."""

    def session_factory() -> AsyncSession:
        return AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )

    def make(**overrides: Any) -> FastAPI:
        return create_app(make_settings(database.url, **overrides), session_factory=session_factory)

    return make


def http(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


class Lines:
    """Log lines written to a handler with the app's formatter, from `mark()` on."""

    def __init__(self, buffer: io.StringIO) -> None:
        self.buffer = buffer
        self.start = 0

    def mark(self) -> None:
        self.start = len(self.buffer.getvalue())

    def text(self) -> str:
        return self.buffer.getvalue()[self.start :]

    def lines(self) -> list[str]:
        return [line for line in self.text().splitlines() if line.strip()]


@pytest.fixture
def logs() -> Iterator[Any]:
    """`logs(json=True)` → the lines the app's formatter writes (as LOG_FORMAT says)."""
    root = logging.getLogger()
    access = logging.getLogger(ACCESS_LOGGER)
    handlers: list[logging.Handler] = []
    level = access.level

    def capture(json: bool = False) -> Lines:
        buffer = io.StringIO()
        handler = logging.StreamHandler(buffer)
        handler.setFormatter(build_formatter(json=json, colors=False))
        root.addHandler(handler)
        handlers.append(handler)
        return Lines(buffer)

    access.setLevel(logging.INFO)
    yield capture
    for handler in handlers:
        root.removeHandler(handler)
    access.setLevel(level)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# ---- metrics ----------------------------------------------------------------------------


async def test_requests_are_counted_by_route_template_status_and_method(
    client: httpx.AsyncClient,
) -> None:
    before = await scrape(client)
    stranger = uuid.uuid4().hex
    assert (await client.get(f"{BASE}")).status_code == 200  # built: a cache miss
    assert (await client.get(f"{BASE}")).status_code == 200  # warm: a cache hit
    assert (await client.get(f"/{stranger}/wp-login.php")).status_code == 404
    assert_problem(await client.get(f"{BASE}/service-cards", params={"cursor": "bad"}), 422)
    after = await scrape(client)

    def moved(sample: str, **labels: str) -> float:
        return value(after, sample, **labels) - value(before, sample, **labels)

    card = {"method": "GET", "route": "/api/v1/municipalities/{slug}", "status": "200"}
    assert moved("settle_http_requests_total", **card) == 2
    assert moved("settle_http_request_duration_seconds_count", **card) == 2
    assert moved("settle_http_request_duration_seconds_bucket", **card, le="+Inf") == 2
    bad = {"route": "/api/v1/municipalities/{slug}/service-cards", "status": "422"}
    assert moved("settle_http_requests_total", **bad) == 1
    assert moved("settle_http_requests_total", route="unmatched", status="404") == 1
    # Bounded labels: templates, never the raw paths asked for.
    routes = label_values(after, "route")
    assert not any("kemijarvi" in route or stranger in route for route in routes), routes
    # The warm second read was answered from memory (by the FastLane, or by the route
    # when the version TTL ran out in between on a slow machine).
    assert moved("settle_public_cache_hits_total") == 1
    assert moved("settle_public_cache_misses_total") == 1


async def test_a_fastlane_answer_is_counted_under_its_route_template(
    client: httpx.AsyncClient,
) -> None:
    await client.get(f"{BASE}/service-cards")
    before = await scrape(client)
    for _ in range(3):
        assert (await client.get(f"{BASE}/service-cards")).status_code == 200
    after = await scrape(client)
    template = {"route": "/api/v1/municipalities/{slug}/service-cards", "status": "200"}
    assert (
        value(after, "settle_http_requests_total", **template)
        - value(before, "settle_http_requests_total", **template)
        == 3
    )
    assert value(after, "settle_public_cache_hits_total") - value(
        before, "settle_public_cache_hits_total"
    ) == pytest.approx(3)


async def test_bookings_made_and_refused_and_the_outbox_are_measured(
    client: httpx.AsyncClient, auth: Any
) -> None:
    _, (slot, _) = await guide_with_slots(client, auth)
    before = await scrape(client)
    assert (await client.post(f"{BASE}/bookings", json=booking_body(slot["id"]))).status_code == 201
    taken = await client.post(
        f"{BASE}/bookings", json=booking_body(slot["id"], email="other@example.org")
    )
    assert_problem(taken, 409, "slot-taken")
    after = await scrape(client)

    def moved(sample: str, **labels: str) -> float:
        return value(after, sample, **labels) - value(before, sample, **labels)

    assert moved("settle_bookings_made_total") == 1
    assert moved("settle_bookings_refused_total", reason="slot-taken") == 1
    route = "/api/v1/municipalities/{slug}/bookings"
    assert moved("settle_http_requests_total", method="POST", route=route, status="201") == 1
    assert moved("settle_http_requests_total", method="POST", route=route, status="409") == 1
    # The confirmation to the mover (and the host's notice) wait in the outbox.
    assert moved("settle_outbox_pending") >= 1
    assert value(after, "settle_outbox_oldest_pending_age_seconds") >= 0


async def test_rate_limit_refusals_are_counted_by_limit(client: httpx.AsyncClient) -> None:
    before = await scrape(client)
    form = {"username": "nobody@example.org", "password": "wrong password"}
    statuses = [(await client.post("/api/v1/auth/token", data=form)).status_code for _ in range(6)]
    assert statuses[-1] == 429, statuses
    after = await scrape(client)
    refused = statuses.count(429)
    assert value(after, "settle_rate_limited_total") - value(
        before, "settle_rate_limited_total"
    ) == pytest.approx(refused)
    limits = label_values(after, "limit")
    assert any(name.startswith("login") for name in limits), limits
    assert value(
        after, "settle_http_requests_total", route="/api/v1/auth/token", status="429"
    ) - value(
        before, "settle_http_requests_total", route="/api/v1/auth/token", status="429"
    ) == pytest.approx(refused)


async def test_metrics_token_is_required_when_set(build: Any) -> None:
    async with http(build(metrics_token=METRICS_TOKEN)) as client:
        assert_problem(await client.get("/metrics"), 401, "unauthorized")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert_problem(wrong, 401, "unauthorized")
        assert wrong.headers["www-authenticate"].startswith("Bearer")
        basic = await client.get("/metrics", headers={"Authorization": f"Basic {METRICS_TOKEN}"})
        assert_problem(basic, 401, "unauthorized")
        text = await scrape(client, Authorization=f"Bearer {METRICS_TOKEN}")
        assert "settle_http_requests_total" in text


async def test_metrics_are_off_in_production_without_a_token(build: Any) -> None:
    async with http(build(environment="production")) as client:
        assert_problem(await client.get("/metrics"), 404, "not-found")


@pytest.mark.parametrize(
    ("environment", "token", "enabled", "mode"),
    [
        ("development", None, None, "open"),
        ("test", None, None, "open"),
        ("production", None, None, "off"),
        ("production", METRICS_TOKEN, None, "token"),
        ("production", None, True, "open"),  # on purpose: a port only the scraper reaches
        ("development", METRICS_TOKEN, None, "token"),
        ("development", None, False, "off"),
        ("production", METRICS_TOKEN, False, "off"),
        ("production", "", None, "off"),  # METRICS_TOKEN= (empty) is no token
    ],
)
def test_who_may_read_metrics(
    environment: str, token: str | None, enabled: bool | None, mode: str
) -> None:
    settings = make_settings(
        "sqlite+aiosqlite://",
        environment=environment,
        metrics_token=token,
        metrics_enabled=enabled,
    )
    assert settings.metrics_mode == mode


def test_metrics_are_not_in_the_openapi_document() -> None:
    # tests/test_contracts.py keeps this file equal to what the app generates.
    document = json.loads((ROOT / "openapi" / "openapi.json").read_text())
    assert "/metrics" not in document["paths"]


# ---- request ids ------------------------------------------------------------------------


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    made = await client.get("/healthz")
    assert HEX_ID.fullmatch(made.headers["x-request-id"])
    assert (await client.get("/healthz")).headers["x-request-id"] != made.headers["x-request-id"]

    given = await client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42:edge_1"})
    assert given.headers["x-request-id"] == "lb-7f3a.42:edge_1"
    for unsafe in ("a b", "x" * 129, "<script>", "id\u00e4"):
        replaced = await client.get("/healthz", headers={"X-Request-ID": unsafe.encode()})
        assert HEX_ID.fullmatch(replaced.headers["x-request-id"]), unsafe

    # Answers that never reach a route carry it too: the FastLane's, problems, refusals.
    await client.get(BASE)
    warm = await client.get(BASE, headers={"X-Request-ID": "warm-1"})
    assert warm.headers["x-request-id"] == "warm-1"
    missing = await client.get("/no/such/path", headers={"X-Request-ID": "lost-1"})
    assert_problem(missing, 404)
    assert missing.headers["x-request-id"] == "lost-1"
    nul = await client.get(f"{BASE}/personas/a%00b", headers={"X-Request-ID": "nul-1"})
    assert_problem(nul, 404)
    assert nul.headers["x-request-id"] == "nul-1"


async def test_a_500_carries_the_request_id_its_log_lines_have(app: FastAPI, logs: Any) -> None:
    async def boom() -> None:
        raise RuntimeError("kaboom")

    app.add_api_route("/boom", boom)
    captured = logs(json=True)
    async with http(app) as client:
        response = await client.get("/boom", headers={"X-Request-ID": "boom-1"})
    assert_problem(response, 500, "internal-error")
    assert response.headers["x-request-id"] == "boom-1"
    records = [json.loads(line) for line in captured.lines()]
    assert {record["logger"] for record in records} >= {"settle.errors", ACCESS_LOGGER}
    assert all(record["request_id"] == "boom-1" for record in records)
    error = next(record for record in records if record["logger"] == "settle.errors")
    assert "kaboom" in error["exception"]  # the traceback, inside one JSON line
    access = next(record for record in records if record["logger"] == ACCESS_LOGGER)
    assert access["status"] == 500
    assert access["path"] == "/boom"


async def test_browsers_may_read_and_send_the_request_id(client: httpx.AsyncClient) -> None:
    origin = "https://www.kemijarvi.fi"
    response = await client.get("/healthz", headers={"Origin": origin})
    exposed = response.headers["access-control-expose-headers"].lower()
    assert "x-request-id" in exposed
    preflight = await client.options(
        "/healthz",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-request-id",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["x-request-id"]


def test_request_id_and_observer_wrap_every_other_middleware(app: FastAPI) -> None:
    """The last `add_middleware` runs first: a middleware added after these two would
    answer (a 413, say) without a request id, a metric or an access line."""
    outermost = [entry.cls for entry in app.user_middleware[:2]]
    assert outermost == [CorrelationIdMiddleware, Observe]


# ---- logs -------------------------------------------------------------------------------


@pytest.mark.parametrize("json_lines", [False, True])
async def test_no_secret_reaches_the_log(
    client: httpx.AsyncClient, logs: Any, json_lines: bool
) -> None:
    captured = logs(json=json_lines)
    link = f"{BASE}/bookings/{uuid.uuid4()}"
    response = await client.get(link, params={"token": "s3cr3t-manage-token", "lang": "en"})
    assert_problem(response, 404)
    await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer s3cr3t.jwt.value"})
    text = captured.text()
    assert "s3cr3t" not in text
    assert "token=[redacted]&lang=en" in text
    logging.getLogger("settle.test").warning(
        "retrying with Authorization: Bearer s3cr3t-bearer and ?password=s3cr3t-pw",
        extra={"password": "s3cr3t-extra"},
    )
    assert "s3cr3t" not in captured.text()


async def test_json_lines_carry_the_request_id_and_the_access_fields(
    client: httpx.AsyncClient, logs: Any
) -> None:
    captured = logs(json=True)
    response = await client.get(f"{BASE}/service-cards", params={"limit": 2})
    records = [json.loads(line) for line in captured.lines()]  # each line is one object
    access = [record for record in records if record["logger"] == ACCESS_LOGGER]
    assert len(access) == 1
    line = access[0]
    assert line["request_id"] == response.headers["x-request-id"]
    assert line["method"] == "GET"
    assert line["path"] == "/api/v1/municipalities/kemijarvi/service-cards?limit=2"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float | int)
    assert line["client"]
    assert line["level"] == "info"
    assert line["message"] == f"GET {line['path']} 200"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", line["timestamp"])


async def test_text_lines_are_for_a_person(client: httpx.AsyncClient, logs: Any) -> None:
    captured = logs(json=False)
    response = await client.get("/healthz")
    (line,) = captured.lines()
    assert not line.startswith("{")
    assert "GET /healthz 200" in line
    assert f"request_id={response.headers['x-request-id']}" in line


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/api/v1/municipalities/nowhere", {}, 404),
        ("/nothing/here", {}, 404),
        ("/api/v1/auth/me", {"Authorization": "Bearer not.a.token"}, 401),
        ("/api/v1/auth/me", {}, 401),
        (f"{BASE}/service-cards?cursor=not-a-cursor", {}, 422),
        (f"{BASE}/service-cards?limit=-1", {}, 422),
    ],
)
async def test_an_expected_client_error_is_one_line_without_a_traceback(
    client: httpx.AsyncClient, logs: Any, path: str, headers: dict[str, str], status: int
) -> None:
    captured = logs(json=False)
    assert_problem(await client.get(path, headers=headers), status)
    lines = captured.lines()
    assert len(lines) == 1, lines
    assert f" {status} " in lines[0] + " "
    assert "Traceback" not in captured.text()


@pytest.mark.parametrize(
    "query",
    [
        "{ me { email } }",  # unauthorized
        '{ serviceCards(municipality: "nowhere") { total } }',  # not-found
        '{ serviceCards(municipality: "kemijarvi", first: -1) { total } }',  # validation
        "{ nosuchfield }",  # bad-request
    ],
)
async def test_an_expected_graphql_error_is_one_line_without_a_traceback(
    client: httpx.AsyncClient, logs: Any, query: str
) -> None:
    """Strawberry logs every error with its traceback by default; a client's mistake is
    one line besides the access line, saying which code."""
    captured = logs(json=False)
    response = await client.post("/graphql", json={"query": query})
    assert response.json()["errors"][0]["extensions"]["code"] != "internal-error"
    lines = [line for line in captured.lines() if "settle.access" not in line]
    assert len(lines) <= 1, lines
    assert "Traceback" not in captured.text()


def test_redaction_of_query_strings_and_bearer_tokens() -> None:
    assert redact("/x?token=abc&lang=fi") == "/x?token=[redacted]&lang=fi"
    assert redact("/x?lang=fi&access_token=abc") == "/x?lang=fi&access_token=[redacted]"
    assert redact("Authorization: Bearer eyJ.abc.def") == "Authorization: Bearer [redacted]"
    assert redact("/x?tokens=1&mytoken=2") == "/x?tokens=1&mytoken=2"


def test_settle_serve_logs_json_lines_with_its_own_redacted_access_log(
    database: Database, tmp_path: Path
) -> None:
    """The real server as the image runs it: uvicorn takes `log_config` from the app
    (in every worker) and its own unredacted access log stays off."""
    if database.dialect != "sqlite":
        pytest.skip("logging does not depend on the database: one run is enough")
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PROMETHEUS_", "DATABASE_", "LOG_", "ACCESS_", "METRICS_"))
    }
    env.update(
        DATABASE_URL=database.url,  # migrated and seeded for the session
        SECRET_KEY=database.settings.secret_key,
        HOST="127.0.0.1",
        PORT=str(port),
        WORKERS="1",
        ENVIRONMENT="development",
        LOG_FORMAT="json",
    )
    cli = [sys.executable, "-m", "app.cli"]
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        server = subprocess.Popen(
            [*cli, "serve"], env=env, cwd=tmp_path, stdout=stdout, stderr=stderr
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, err.read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        link = f"{base}{BASE}/bookings/{uuid.uuid4()}?token=s3cr3t-manage-token"
        response = httpx.get(link, headers={"X-Request-ID": "e2e-1"}, timeout=10)
        assert response.status_code == 404
        assert response.headers["x-request-id"] == "e2e-1"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    lines = [line for line in (out.read_text() + err.read_text()).splitlines() if line.strip()]
    assert lines
    records = [json.loads(line) for line in lines]  # nothing but JSON lines
    assert "s3cr3t" not in out.read_text() + err.read_text()
    assert any(record["logger"].startswith("uvicorn") for record in records)
    access = [r for r in records if r.get("request_id") == "e2e-1"]
    assert [r["logger"] for r in access] == [ACCESS_LOGGER], access
    assert access[0]["path"].endswith("?token=[redacted]")
    assert access[0]["status"] == 404
    assert not any(r["logger"] == "uvicorn.access" for r in records)


# ---- the Docker image -------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def runtime_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def runtime_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, rest in runtime_stage():
        if keyword == "ENV":
            for pair in shlex.split(rest):
                name, _, setting = pair.partition("=")
                env[name] = setting
    return env


def test_dockerfile_serves_with_the_access_log_on() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "--no-access-log" not in text
    (cmd,) = [rest for keyword, rest in runtime_stage() if keyword == "CMD"]
    argv = json.loads(cmd)
    assert argv[:2] == ["sh", "-c"]
    script = argv[2]
    assert "ACCESS_LOG=false" not in script
    assert "access_log" not in script.lower()
    assert (
        script.index("settle migrate")
        < script.index("settle seed")
        < script.index("exec settle serve")
    )
    assert "SEED_ON_START" in script
    assert runtime_env()["SEED_ON_START"] == "true"  # as `make run` does, unless told not to


def test_dockerfile_healthcheck_follows_port() -> None:
    (check,) = [rest for keyword, rest in runtime_stage() if keyword == "HEALTHCHECK"]
    command = check.split(" CMD ", 1)[1]
    assert not command.startswith("["), "exec form would not expand ${PORT}"
    assert "${PORT}" in command or "$PORT" in command
    assert "8000" not in command
    assert "/healthz" in command


def test_dockerfile_keeps_the_sqlite_file_in_a_volume_the_app_user_owns() -> None:
    stage = runtime_stage()
    env = runtime_env()
    volumes = [rest for keyword, rest in stage if keyword == "VOLUME"]
    assert volumes, "no VOLUME"
    declared = json.loads(volumes[0]) if volumes[0].startswith("[") else volumes[0].split()
    data_dir = declared[0]
    assert env["DATABASE_URL"] == f"sqlite+aiosqlite:///{data_dir}/settle.db"
    runs = " ".join(rest for keyword, rest in stage if keyword == "RUN")
    assert f"mkdir -p {data_dir}" in runs
    assert re.search(rf"chown (-R )?settle(:settle)? {re.escape(data_dir)}", runs)
    # Ownership set before the VOLUME line: later changes to a volume path are lost.
    keywords = [keyword for keyword, _ in stage]
    assert max(i for i, k in enumerate(keywords) if k == "RUN") < keywords.index("VOLUME")
    user = [rest for keyword, rest in stage if keyword == "USER"]
    assert user == ["settle"]


def test_dockerfile_documents_forwarded_allow_ips() -> None:
    comments = [
        line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("#")
    ]
    assert any("FORWARDED_ALLOW_IPS" in line for line in comments)


async def test_seed_on_start_creates_the_first_admin_once(
    session: AsyncSession, database: Database
) -> None:
    """The image seeds at every start: the first run makes the admin from the
    environment, every later one changes nothing."""
    settings = database.settings.model_copy(
        update={
            "first_admin_email": "first-admin@example.org",
            "first_admin_password": "correct horse battery staple",
        }
    )
    first = await seed(session=session, settings=settings)
    assert first.created == ["platform admin first-admin@example.org"]
    again = await seed(session=session, settings=settings)
    assert not again.changed, again


def test_dockerignore_keeps_local_state_out_of_the_build() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", "*.db*", ".venv"} <= set(ignored)


def test_seed_if_empty_keeps_what_staff_edited_and_still_makes_the_first_admin(
    database: Database, tmp_path: Path
) -> None:
    """The image runs `settle seed --if-empty` at every start: a restart must not bring a
    municipality's own fields back to the seed's values, yet FIRST_ADMIN_* still works."""
    if database.dialect != "sqlite":
        pytest.skip("the command does not depend on the database: one run is enough")
    import sqlite3

    path = tmp_path / "restart.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "FIRST_"))}
    env.update(DATABASE_URL=f"sqlite+aiosqlite:///{path}", ENVIRONMENT="development")
    cli = [sys.executable, "-m", "app.cli"]
    for command in (["migrate"], ["seed", "--if-empty"]):
        subprocess.run([*cli, *command], env=env, cwd=tmp_path, check=True, capture_output=True)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE municipality SET code = '999' WHERE slug = 'kemijarvi'")
    env.update(FIRST_ADMIN_EMAIL="restart-admin@example.org", FIRST_ADMIN_PASSWORD=PASSWORD_12)
    done = subprocess.run(
        [*cli, "seed", "--if-empty"], env=env, cwd=tmp_path, check=True, capture_output=True
    )
    assert b"created platform admin restart-admin@example.org" in done.stdout
    with sqlite3.connect(path) as db:
        (code,) = db.execute("SELECT code FROM municipality WHERE slug = 'kemijarvi'").fetchone()
        (admins,) = db.execute(
            "SELECT count(*) FROM user_account WHERE email = 'restart-admin@example.org'"
        ).fetchone()
    assert (code, admins) == ("999", 1)
