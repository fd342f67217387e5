"""Benchmark the public read path against `/healthz`, in one run, on one database.

Usage (from the project root):

    .venv/bin/python bench/run.py                      # SQLite, 1 worker, 300 × 30 cards
    .venv/bin/python bench/run.py --db postgresql --workers 2 --json bench.json
    .venv/bin/python bench/run.py --duration 3 --cold-samples 50 --endpoints municipalities.list
    .venv/bin/python bench/run.py --cards-per-municipality 0   # municipalities and slots
    .venv/bin/python bench/run.py --cards-per-municipality 0 --guides-per-municipality 0

The script builds a throwaway database (a temporary SQLite file, or a fresh PostgreSQL
database `settle_bench_<random>` created through `--pg-admin-url`), runs `settle migrate`
and `settle seed`, loads generated data DIRECTLY into the database through the app's own
service layer (in this process, before the server starts: 9 000 cards or 240 000 slots
through the REST API would take far longer; on PostgreSQL followed by `VACUUM ANALYZE`, as
autovacuum would),
starts `settle serve`, measures, and removes everything again,
also on errors and Ctrl-C. It needs `wrk` on PATH and the app importable (it is, with the
project's virtualenv).

Methodology. Absolute numbers depend on the machine and on whatever else it runs,
so most results are ratios to `/healthz` measured in the same run by the same tool:

* warm and 304: `wrk --latency` for `--duration` seconds per endpoint; the ratio is
  req/s ÷ `/healthz` req/s. `/healthz` runs first and again last; the baseline is the
  mean of both runs (both are printed, so drift shows). Targets: warm ≥ 0.7, 304 ≥ 0.9.
* cold ("first read after a write"): one keep-alive connection does, `--cold-samples`
  times, a write that changes the content (a PATCH; for the slot list a booking of its
  next free slot) and then the timed read. p50/p99 are of the
  reads only; the ratio is the read p50 ÷ the p50 of as many sequential `/healthz`
  requests on that same connection (how many times slower than a trivial request).
  A GET answering with the ETag of the previous read (or still offering the slot just
  booked), or a GraphQL answer without the text just written, is counted as stale.
* absolute targets, where the issue sets them: the service-card list's cold p50 ≤ 10 ms
  (PostgreSQL only) and the card search's p99 < 50 ms at 16 connections, once served
  from the public cache (anonymous) and once uncached (with a staff token, which skips it).
* GraphQL cold is compared with REST cold as throughput at one connection, 1/p50.
* bookings: a booking in another municipality must leave the slot list's cache warm
  (its ETag unchanged, wrk ratio ≥ 0.7), and 200 concurrent bookings of 50 slots must
  make exactly 50 bookings (counted in the database) and no 5xx.

The endpoint list (`ENDPOINTS`) and the data loaders (`LOADERS`, one per resource kind)
are meant to grow.
"""

import argparse
import asyncio
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as wall_time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import httpx
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import col

from app.core.db import SessionFactory, create_engine, create_session_factory, execute
from app.core.time import HELSINKI
from app.models.booking import Booking
from app.models.guide import Guide, GuideCreate, GuideStatus, SlotRuleCreate
from app.models.municipality import Municipality, MunicipalityCreate
from app.models.service_card import PERSONA_KEYS, CardCreate, ServiceCard, Topic, TopicIn
from app.seed.loader import read_data
from app.services import guide as guide_service
from app.services import municipality as municipality_service
from app.services import service_card as card_service

ROOT = Path(__file__).resolve().parents[1]
API = "/api/v1"
ADMIN_EMAIL = "bench@example.org"
MIN_RATIO, MAX_P50, MAX_P99 = "min_ratio", "max_p50_ms", "max_p99_ms"
# Yes/no checks (Result.passed): exactly `target` booked, or (SQLite) at most one a slot.
INVARIANT = "invariant"
WARM = (MIN_RATIO, 0.7)
NOT_MODIFIED = (MIN_RATIO, 0.9)
CARD_TARGET = "bench-0001"  # a generated municipality with --cards-per-municipality cards
SEARCH_CONNECTIONS = 16
WRK_TIMEOUT = 10  # seconds
SECTIONS_PER_CARD, ENTRIES_PER_SECTION = 2, 4
# Slots: read in one generated municipality, booked once elsewhere, raced in a third.
SLOT_TARGET, FOREIGN_TARGET, RACE_TARGET = CARD_TARGET, "bench-0002", "bench-0003"
SLOT_WINDOW = timedelta(days=31)
# One-hour slots, Europe/Helsinki wall clock: the i-th weekly slot of guide g is on
# WEEKDAYS[i % 5] at SLOT_HOURS[(i // 5 + g) % 8] (so a guide's slots never overlap, and
# guides start their days at different hours).
WEEKDAYS = (0, 2, 4, 1, 3)  # Monday, Wednesday, Friday, Tuesday, Thursday
SLOT_HOURS = (9, 11, 14, 16, 8, 10, 13, 15)
MAX_SLOTS_PER_WEEK = len(WEEKDAYS) * len(SLOT_HOURS)
RACE_SLOTS, RACE_ATTEMPTS, RACE_POOL = 50, 4, 100  # 4 attempts per slot, httpx pool size
FOREIGN_SEQUENTIAL = 50  # warm reads on one connection before the booking elsewhere


def next_monday(today: date) -> date:
    """The Monday after `today` (a week on when today is a Monday)."""
    return today + timedelta(days=7 - today.weekday())


# Fixed once per run: the loader lays slots out from it and the slot reads ask for it.
FIRST_MONDAY = next_monday(datetime.now(HELSINKI).date())
SLOTS_FROM = datetime.combine(FIRST_MONDAY, wall_time(0), tzinfo=HELSINKI)
SLOTS_TO = SLOTS_FROM + SLOT_WINDOW  # wall-clock arithmetic: the offset follows the date


def slots_path(slug: str, cursor: str | None = None) -> str:
    """The public free-slot list of `slug` for the benchmark window, the largest page the
    API gives (100; offsets quoted: a raw `+` in a query string is a space)."""
    window = f"from={quote(SLOTS_FROM.isoformat())}&to={quote(SLOTS_TO.isoformat())}"
    page = f"&cursor={cursor}" if cursor else ""
    return f"{API}/municipalities/{slug}/slots?{window}&limit=100{page}"


Target = tuple[str, float]  # (MIN_RATIO / MAX_P50 / MAX_P99, value)


@dataclass(frozen=True)
class Endpoint:
    """One public read. `cold_write` ("municipality:<slug>", "service-card:<slug>" or
    "booking:<slug>") names what is written before each cold read (a PATCH, or a POST of a
    booking of a free slot); None: no cold measurement."""

    name: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = True  # also measure If-None-Match → 304
    cold_write: str | None = None
    method: str = "GET"
    body: str | None = None  # request body (POST)
    staff: bool = False  # send the platform admin's token: skips the public cache
    connections: int | None = None  # wrk -c for this endpoint (default --connections)
    warm_mode: str = "warm"
    warm_target: Target | None = WARM
    cold_target: Target | None = None  # besides the latency multiple; PostgreSQL only
    cold_versus: str | None = None  # compare cold 1/p50 with this endpoint's cold row
    needs_cards: bool = False
    needs_guides: bool = False


GRAPHQL_LIST = """query($m: String!, $first: Int) {
  serviceCards(municipality: $m, first: $first) {
    total nextCursor
    items { id topic revision updatedBy lastUpdated title(lang: EN) summary(lang: EN)
      sections { heading(lang: EN) entries { id kind name(lang: EN) description(lang: EN)
        email languages when address(lang: EN) openingHours(lang: EN)
        links { url label(lang: EN) } phones { number price(lang: EN) } } } }
  }
}"""
GRAPHQL_BODY = json.dumps({"query": GRAPHQL_LIST, "variables": {"m": CARD_TARGET, "first": 20}})
CARDS = f"{API}/municipalities/{CARD_TARGET}/service-cards"
SEARCH = f"{API}/municipalities/kemijarvi/service-cards?q={quote('päiväkodit')}"
SEARCH_TARGET: Target = (MAX_P99, 50.0)

BASELINE = Endpoint("healthz", "/healthz", conditional=False)
ENDPOINTS: list[Endpoint] = [
    # Every municipality write bumps the global version the list depends on.
    Endpoint(
        "municipalities.list", f"{API}/municipalities?lang=en", cold_write="municipality:kemijarvi"
    ),
    Endpoint(
        "municipalities.detail",
        f"{API}/municipalities/kemijarvi?lang=en",
        cold_write="municipality:kemijarvi",
    ),
    Endpoint(
        "service-cards.list",
        f"{CARDS}?lang=en&limit=20",
        cold_write=f"service-card:{CARD_TARGET}",
        cold_target=(MAX_P50, 10.0),
        needs_cards=True,
    ),
    Endpoint(
        "service-cards.graphql",
        "/graphql",
        headers={"Content-Type": "application/json"},
        method="POST",
        body=GRAPHQL_BODY,
        conditional=False,
        cold_write=f"service-card:{CARD_TARGET}",
        warm_target=None,
        cold_versus="service-cards.list",
        needs_cards=True,
    ),
    Endpoint(
        "service-cards.search",
        SEARCH,
        conditional=False,
        connections=SEARCH_CONNECTIONS,
        warm_mode="cached",
        warm_target=SEARCH_TARGET,
    ),
    Endpoint(
        "service-cards.search-staff",
        SEARCH,
        conditional=False,
        staff=True,
        connections=SEARCH_CONNECTIONS,
        warm_mode="uncached (staff)",
        warm_target=SEARCH_TARGET,
    ),
    # Each cold write books the next free slot of the list (a POST, no account needed).
    Endpoint(
        "slots.list",
        slots_path(SLOT_TARGET),
        cold_write=f"booking:{SLOT_TARGET}",
        cold_target=(MAX_P50, 10.0),
        needs_guides=True,
    ),
    # The landing page shows the municipality's hashtags, so the same PATCH makes it cold.
    Endpoint(
        "landing",
        f"{API}/municipalities/kemijarvi/landing?lang=en",
        cold_write="municipality:kemijarvi",
        cold_target=(MAX_P50, 15.0),
    ),
]
# Measurements that are not one endpoint's warm/304/cold (see foreign_booking_run and
# booking_race); selectable with --endpoints like the others.
FOREIGN_BOOKING = "slots.after-booking-elsewhere"
BOOKING_RACE = "bookings.concurrent"
SPECIAL = (FOREIGN_BOOKING, BOOKING_RACE)


@dataclass
class Result:
    endpoint: str
    mode: str  # baseline / warm / 304 / cold / sequential / cached / uncached (staff)
    rps: float | None
    p50_ms: float
    p99_ms: float
    ratio: float | None = None  # see ratio_of
    ratio_of: str = "healthz"  # healthz (req/s ÷), healthz-latency (p50 ×), rest-cold (1/p50 ÷)
    target: float | None = None
    target_kind: str = MIN_RATIO  # ratio ≥ target, p50 ≤ target ms, p99 < target ms
    errors: int = 0
    connections: int | None = None  # wrk -c; None for the one-connection cold runs
    note: str = ""
    passed: bool | None = None  # INVARIANT rows: the check; False also fails a ratio row

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        if self.target_kind == INVARIANT:
            return "PASS" if self.passed else "MISS"
        if self.passed is False:
            return "MISS"
        if self.target_kind == MAX_P50:
            met = self.p50_ms <= self.target
        elif self.target_kind == MAX_P99:
            met = self.p99_ms < self.target
        else:
            met = self.ratio is not None and self.ratio >= self.target
        return "PASS" if met and not self.errors else "MISS"

    def aim(self, target: Target | None) -> None:
        if target is not None:
            self.target_kind, self.target = target


# --- wrk ---------------------------------------------------------------------------------

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def to_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if match is None:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return float(match[1]) * _UNITS_MS[match[2]]


def parse_wrk(output: str) -> tuple[float, float, float, int]:
    """Requests/sec, p50 ms, p99 ms and the error count from `wrk --latency` output."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    if not (rps and p50 and p99):
        raise RuntimeError(f"could not parse wrk output:\n{output}")
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return float(rps[1]), to_ms(p50[1]), to_ms(p99[1]), errors


def wrk_script(method: str, body: str) -> str:
    """A wrk Lua script sending `body` with `method` (a long bracket needs no escaping)."""
    level = "=" * 3
    while f"]{level}]" in body:
        level += "="
    return (
        f'wrk.method = "{method}"\n'
        f"wrk.body = [{level}[{body}]{level}]\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
    )


def settle_down(url: str, quick_ms: float = 5.0, limit_s: float = 10.0) -> None:
    """Wait until the server answers `/healthz` quickly twice in a row: when wrk stops, the
    server still works off the requests it had accepted (32 GraphQL pages are ~0.3 s),
    and the next run's first requests would queue behind them and count as its p99."""
    parts = urlsplit(url)
    probe = f"{parts.scheme}://{parts.netloc}{BASELINE.path}"
    deadline = time.monotonic() + limit_s
    quick = 0
    with httpx.Client(timeout=limit_s) as client:
        while quick < 2 and time.monotonic() < deadline:
            started = time.perf_counter()
            client.get(probe)
            quick = quick + 1 if (time.perf_counter() - started) * 1000 < quick_ms else 0


def run_wrk(
    args: argparse.Namespace,
    url: str,
    headers: dict[str, str],
    name: str,
    mode: str,
    *,
    connections: int | None = None,
    method: str = "GET",
    body: str | None = None,
) -> Result:
    connections = connections or args.connections
    threads = min(args.threads, connections)
    settle_down(url)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{args.duration}s"]
    command += ["--timeout", f"{WRK_TIMEOUT}s"]  # slow endpoints: latencies, not socket errors
    for header, value in headers.items():
        command += ["-H", f"{header}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if method != "GET" or body is not None:
            script.write(wrk_script(method, body or ""))
            script.flush()
            command += ["-s", script.name]
        done = subprocess.run([*command, "--latency", url], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    rps, p50, p99, errors = parse_wrk(done.stdout)
    return Result(name, mode, rps, p50, p99, errors=errors, connections=connections)


# --- database and server -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _pg_execute(admin_url: str, sql: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _pg_exists(admin_url: str, name: str) -> bool:
    connection = await asyncpg.connect(admin_url)
    try:
        return bool(await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await connection.close()


@contextmanager
def database(args: argparse.Namespace) -> Iterator[str]:
    """A fresh, empty database; yields its SQLAlchemy URL and removes it afterwards."""
    if args.db == "sqlite":
        directory = tempfile.mkdtemp(prefix="settle-bench-")
        try:
            yield f"sqlite+aiosqlite:///{directory}/bench.db"
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        return
    parts = urlsplit(args.pg_admin_url)
    if args.keep_database:
        # Profiling one change after another: load the data once, reuse it afterwards (the
        # loaders only top up what is missing; each run books a few hundred slots).
        name = args.keep_database
        if not asyncio.run(_pg_exists(args.pg_admin_url, name)):
            asyncio.run(_pg_execute(args.pg_admin_url, f'CREATE DATABASE "{name}"'))
        print(f"keeping database {name} (drop it with: dropdb -h 127.0.0.1 -U postgres {name})")
        yield urlunsplit(parts._replace(scheme="postgresql+asyncpg", path=f"/{name}"))
        return
    name = f"settle_bench_{secrets.token_hex(4)}"
    asyncio.run(_pg_execute(args.pg_admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield urlunsplit(parts._replace(scheme="postgresql+asyncpg", path=f"/{name}"))
    finally:
        sql = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        asyncio.run(_pg_execute(args.pg_admin_url, sql))
        print(f"dropped database {name}")


def settle_command(*arguments: str) -> list[str]:
    """`settle` from this interpreter's virtualenv when there is one, else from PATH."""
    executable = Path(sys.executable).with_name("settle")
    return [str(executable) if executable.exists() else "settle", *arguments]


def settle(*arguments: str, env: dict[str, str]) -> None:
    command = settle_command(*arguments)
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


@contextmanager
def server(env: dict[str, str], workers: int, port: int) -> Iterator[str]:
    """`settle serve` in its own process group; yields its base URL once /readyz is 200."""
    command = settle_command("serve", "--no-access-log", "--host", "127.0.0.1")
    command += ["--port", str(port), "--workers", str(workers)]
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"the server did not become ready:\n{log.read()[-3000:]}")
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
            yield base
        finally:
            stop(process)


def stop(process: subprocess.Popen[str]) -> None:
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue


# --- data: generated content ---------------------------------------------------------------


def municipality_body(number: int, code: str) -> dict[str, Any]:
    """A generated municipality about as large as a seeded one."""
    name = f"Penkkilä {number}"
    return {
        "slug": f"bench-{number:04d}",
        "code": code,
        "name": {"fi": name, "sv": f"Bänkby {number}", "en": f"Benchtown {number}"},
        "default_language": "fi",
        "enabled_languages": ["fi", "en", "sv"] if number % 3 == 0 else ["fi", "en"],
        "contact": {
            "phone": {
                "number": f"+358 40 123 4{code}",
                "hours": {"fi": "Arkisin klo 9–15", "en": "Weekdays 9 am – 3 pm"},
                "price": {"fi": "Matkapuhelinmaksu.", "en": "The mobile call rate."},
            },
            "email": f"kirjaamo{number}@bench.example.org",
            "visiting_address": {"fi": f"Kunnantalo, 99{code} {name}"},
            "web_site": f"https://bench-{number:04d}.example.org",
        },
        "hashtags": [f"#bench{number}", "#penkkilä", "#tuhannenjayhdentyönmatkatoimisto"],
    }


# topic → (Finnish title, English title, Finnish summary, English summary), five per topic.
CARD_TEXTS: dict[str, list[tuple[str, str, str, str]]] = {
    "home": [
        (
            "Vuokra-asunnot",
            "Rental homes",
            "Vuokrataloyhtiöllä ja yksityisillä vuokranantajilla on kerrostalo- ja "
            "rivitaloasuntoja. Hakemuksen voi jättää jo ennen muuttoa.",
            "The housing company and private landlords let flats and terraced houses. "
            "You can apply before you move.",
        ),
        (
            "Oma koti ja tontit",
            "Buying a home and building plots",
            "Myytävät kodit, vapaat tontit ja rakentamisen luvat yhdellä kortilla. "
            "Kysy tonteista kunnan maankäytöstä.",
            "Homes for sale, free plots and building permits on one card. "
            "Ask the land use office about plots.",
        ),
        (
            "Uuden kodin sopimukset",
            "Contracts for your new home",
            "Sähkö, vesi, laajakaista ja kotivakuutus kannattaa sopia ennen muuttopäivää. "
            "Näin koti on valmis, kun muuttokuorma saapuu.",
            "Arrange electricity, water, broadband and home insurance before moving day. "
            "Then the home is ready when the van arrives.",
        ),
        (
            "Mökistä vakituinen koti",
            "From holiday home to permanent home",
            "Vapaa-ajan asunnon muuttaminen vakituiseksi vaatii usein käyttötarkoituksen "
            "muutoksen. Rakennusvalvonta neuvoo.",
            "Turning a cottage into a permanent home often needs a change-of-use permit. "
            "Building control can advise.",
        ),
        (
            "Asumisen tuet",
            "Housing allowances",
            "Kela maksaa yleistä asumistukea pienituloisille ruokakunnille. "
            "Tarkista oikeutesi jo ennen muuttoa.",
            "Kela pays general housing allowance to low-income households. "
            "Check whether you qualify before you move.",
        ),
    ],
    "children": [
        (
            "Varhaiskasvatus ja päiväkodit",
            "Early childhood education and day care",
            "Kunnan päiväkodit ja perhepäivähoito ottavat lapsia koko vuoden. "
            "Hae paikkaa neljä kuukautta ennen tarvetta.",
            "The municipal day care centres and family day care take children all year. "
            "Apply four months before you need a place.",
        ),
        (
            "Esiopetus ja koulut",
            "Pre-primary education and schools",
            "Jokainen lapsi saa paikan lähikoulusta, ja koulukuljetus järjestetään pitkille "
            "matkoille. Ilmoita muuttavasta oppilaasta koulutoimistoon.",
            "Every child gets a place at the nearest school, and school transport is arranged "
            "for long journeys. Tell the education office about a pupil who is moving.",
        ),
        (
            "Neuvola ja lasten terveys",
            "Child health clinic",
            "Neuvola seuraa lapsen kasvua ja tukee vanhemmuutta. "
            "Ilmoittaudu neuvolaan heti muuton jälkeen.",
            "The clinic follows your child's growth and supports parents. "
            "Register with the clinic right after you move.",
        ),
        (
            "Harrastukset lapsille ja nuorille",
            "Hobbies for children and young people",
            "Urheiluseurat, musiikkiopisto ja nuorisotalo tarjoavat tekemistä joka päivälle. "
            "Moni harrastus on maksuton.",
            "Sports clubs, the music school and the youth centre offer something every day. "
            "Many hobbies are free.",
        ),
        (
            "Perheiden tuki",
            "Support for families",
            "Perhetyö, kotipalvelu ja perheneuvola auttavat arjen haasteissa. "
            "Apua saa ilman lähetettä.",
            "Family work, home help and family counselling help with everyday challenges. "
            "No referral is needed.",
        ),
    ],
    "work": [
        (
            "Avoimet työpaikat",
            "Open jobs",
            "Kunnassa on pulaa hoitajista, opettajista ja rakentajista. "
            "Katso paikalliset työpaikat ja kerro osaamisestasi.",
            "The municipality is short of nurses, teachers and builders. "
            "See the local vacancies and tell us about your skills.",
        ),
        (
            "Etätyö ja työtilat",
            "Remote work and co-working",
            "Valokuituyhteys kattaa keskustan ja useimmat kylät. "
            "Etätyötilasta saa työpisteen päiväksi tai kuukaudeksi.",
            "Fibre covers the centre and most villages. "
            "The co-working space rents desks by the day or month.",
        ),
        (
            "Työllisyyspalvelut",
            "Employment services",
            "Työllisyyspalvelut auttavat työnhaussa, koulutuksessa ja urasuunnittelussa. "
            "Ilmoittaudu työnhakijaksi verkossa.",
            "Employment services help with job seeking, training and career planning. "
            "Register as a jobseeker online.",
        ),
        (
            "Puolison työllistyminen",
            "Work for a spouse",
            "Kun perhe muuttaa työn perässä, kunta auttaa myös puolisoa löytämään töitä. "
            "Ota yhteyttä jo ennen muuttoa.",
            "When a family moves for a job, the municipality helps the spouse find work too. "
            "Get in touch before you move.",
        ),
        (
            "Kesätyöt ja harjoittelu",
            "Summer jobs and internships",
            "Kunta ja paikalliset yritykset palkkaavat nuoria kesäksi. Haku alkaa helmikuussa.",
            "The municipality and local firms hire young people for the summer. "
            "Applications open in February.",
        ),
    ],
    "entrepreneurs": [
        (
            "Yrityksen perustaminen",
            "Starting a business",
            "Elinkeinoyhtiö auttaa liiketoimintasuunnitelmassa ja luvissa. Neuvonta on maksutonta.",
            "The business development company helps with your plan and permits. "
            "The advice is free.",
        ),
        (
            "Yritystilat ja tontit",
            "Business premises and plots",
            "Vapaita toimisto-, liike- ja tuotantotiloja on keskustassa ja teollisuusalueella. "
            "Kysy myös yritystonteista.",
            "Office, retail and production premises are free in the centre and on the "
            "industrial estate. Ask about business plots too.",
        ),
        (
            "Rahoitus ja avustukset",
            "Funding and grants",
            "Starttiraha, kehittämisavustukset ja maaseuturahoitus tukevat alkuvaihetta. "
            "Hae tuki ennen kuin aloitat.",
            "The start-up grant, development grants and rural funding help you start. "
            "Apply before you begin trading.",
        ),
        (
            "Yrittäjäverkostot",
            "Entrepreneur networks",
            "Yrittäjäyhdistys ja matkailuyhdistys tuovat yrittäjät yhteen. "
            "Uudet jäsenet ovat tervetulleita.",
            "The entrepreneurs' and tourism associations bring businesses together. "
            "New members are welcome.",
        ),
        (
            "Yrityskaupat ja sukupolvenvaihdokset",
            "Business transfers",
            "Moni kannattava yritys etsii jatkajaa. Yrityspörssistä löydät myytävät yritykset.",
            "Many profitable businesses are looking for a successor. "
            "The business exchange lists those for sale.",
        ),
    ],
    "social-health": [
        (
            "Terveysasema",
            "Health centre",
            "Terveysasema hoitaa äkilliset sairaudet, pitkäaikaissairaudet ja rokotukset. "
            "Ajanvaraus on auki arkiaamuisin.",
            "The health centre treats sudden and long-term illnesses and gives vaccinations. "
            "Appointments are booked on weekday mornings.",
        ),
        (
            "Hammashoito",
            "Dental care",
            "Hammashoitola hoitaa kaikenikäisiä. "
            "Kiireettömän ajan voi varata puhelimitse tai verkossa.",
            "The dental clinic treats patients of all ages. "
            "Book a non-urgent appointment by phone or online.",
        ),
        (
            "Ikäihmisten palvelut",
            "Services for older people",
            "Kotihoito, palveluasuminen ja päivätoiminta tukevat kotona asumista. "
            "Palveluohjaaja neuvoo tuissa.",
            "Home care, sheltered housing and day activities help older people live at home. "
            "A service adviser explains the allowances.",
        ),
        (
            "Mielenterveys- ja päihdepalvelut",
            "Mental health and substance abuse services",
            "Matalan kynnyksen vastaanotolle pääsee ilman lähetettä. "
            "Kiireellisissä tilanteissa soita päivystykseen.",
            "You can visit the walk-in clinic without a referral. "
            "In an emergency, call the on-call service.",
        ),
        (
            "Sosiaalipalvelut",
            "Social services",
            "Sosiaalityö auttaa toimeentulon, asumisen ja arjen ongelmissa. "
            "Ota yhteyttä sosiaalipäivystykseen.",
            "Social work helps with income, housing and everyday problems. "
            "Contact the social services duty desk.",
        ),
    ],
    "leisure": [
        (
            "Liikuntapaikat",
            "Sports facilities",
            "Uimahalli, kuntosali, ladut ja valaistut kuntoradat ovat kaikkien käytössä. "
            "Ladut ajetaan lumitilanteen mukaan.",
            "The swimming hall, gym, ski tracks and lit trails are open to all. "
            "The tracks are groomed whenever there is snow.",
        ),
        (
            "Kirjasto",
            "Library",
            "Kirjastosta lainaat kirjojen lisäksi pelejä, työkaluja ja urheiluvälineitä. "
            "Omatoimikirjasto on auki joka päivä.",
            "Besides books, the library lends games, tools and sports equipment. "
            "The self-service library is open every day.",
        ),
        (
            "Kansalaisopisto",
            "Adult education centre",
            "Kansalaisopisto järjestää kieli-, käsityö-, musiikki- ja liikuntakursseja. "
            "Syyskauden ilmoittautuminen alkaa elokuussa.",
            "The adult education centre runs courses in languages, crafts, music and sport. "
            "Registration for the autumn opens in August.",
        ),
        (
            "Luontoreitit ja retkeily",
            "Nature trails and hiking",
            "Merkityt reitit, laavut ja tulipaikat ovat kävelymatkan päässä keskustasta. "
            "Luontokeskus antaa reittikartat.",
            "Marked trails, lean-to shelters and campfire sites are a walk from the centre. "
            "The nature centre hands out trail maps.",
        ),
        (
            "Tapahtumat ja kulttuuri",
            "Events and culture",
            "Kesäteatteri, konsertit ja kylätapahtumat kokoavat asukkaat yhteen. "
            "Tapahtumakalenteri päivittyy viikoittain.",
            "Summer theatre, concerts and village events bring residents together. "
            "The events calendar is updated weekly.",
        ),
    ],
    "moving-checklist": [
        (
            "Ennen muuttoa",
            "Before the move",
            "Muuttoilmoitus, sopimukset ja koulupaikat kannattaa hoitaa kuukautta ennen. "
            "Tämä lista auttaa muistamaan kaiken.",
            "Notify your move and arrange contracts and school places a month ahead. "
            "This list helps you remember everything.",
        ),
        (
            "Muuttopäivänä",
            "On moving day",
            "Lue mittarit, tarkista avaimet ja vakuutukset. "
            "Pieni valmistelu säästää paljon vaivaa.",
            "Read the meters and check the keys and insurance. "
            "A little preparation saves a lot of trouble.",
        ),
        (
            "Muuton jälkeen",
            "After the move",
            "Ilmoittaudu terveysasemalle ja neuvolaan ja tutustu naapurustoon. "
            "Kunta kutsuu uudet asukkaat tapaamiseen.",
            "Register with the health centre and the clinic and get to know the neighbours. "
            "The municipality invites new residents to meet.",
        ),
        (
            "Ulkomailta muuttavalle",
            "Moving from abroad",
            "Rekisteröidy Digi- ja väestötietovirastossa ja hae Kela-turvaa. Varaa aika etukäteen.",
            "Register with the Digital and Population Data Services Agency and apply for "
            "Kela cover. Book an appointment in advance.",
        ),
        (
            "Opiskelijan muutto",
            "Moving as a student",
            "Hae opiskelija-asuntoa ajoissa ja tee muuttoilmoitus. "
            "Kotikunta ratkaisee, missä saat terveyspalvelut.",
            "Apply for student housing early and notify your move. "
            "Your municipality of residence decides where you get health care.",
        ),
    ],
}

# (kind, Finnish name, English name, Finnish description, English description, when)
EntryText = tuple[str, str, str, str, str, str | None]

# topic → (heading in Finnish and English, four entries)
TOPIC_SECTIONS: dict[str, tuple[tuple[str, str], list[EntryText]]] = {
    "home": (
        ("Asunnot ja rakentaminen", "Homes and building"),
        [
            (
                "provider",
                "Vuokrataloyhtiö",
                "Municipal housing company",
                "Vuokrataloyhtiö välittää kerrostalo- ja rivitaloasuntoja eri puolilta kuntaa. "
                "Asuntohakemus on voimassa kolme kuukautta.",
                "The housing company lets flats and terraced houses across the municipality. "
                "A housing application is valid for three months.",
                None,
            ),
            (
                "service",
                "Tonttipalvelut",
                "Building plots",
                "Kunnalla on vapaita omakotitalotontteja taajamassa ja järven rannalla. "
                "Tontin voi varata puoleksi vuodeksi.",
                "The municipality has free plots for detached houses in the centre and by the "
                "lake. You can reserve a plot for six months.",
                None,
            ),
            (
                "service",
                "Rakennusvalvonta",
                "Building control",
                "Rakennusvalvonta neuvoo luvissa, piirustuksissa ja katselmuksissa. "
                "Varaa aika hyvissä ajoin ennen rakentamista.",
                "Building control advises on permits, drawings and inspections. "
                "Book an appointment well before you start building.",
                None,
            ),
            (
                "provider",
                "Kiinteistönvälittäjät",
                "Estate agents",
                "Paikalliset välittäjät myyvät omakotitaloja, rivitaloasuntoja ja mökkejä. "
                "Kohteet löytyvät myös valtakunnallisista palveluista.",
                "Local agents sell detached houses, terraced flats and cottages. "
                "The homes are also listed on the national property portals.",
                None,
            ),
        ],
    ),
    "children": (
        ("Päivähoito ja koulu", "Day care and school"),
        [
            (
                "service",
                "Kunnalliset päiväkodit",
                "Municipal day care centres",
                "Päiväkodit tarjoavat varhaiskasvatusta 1–5-vuotiaille arkisin kello 6–18. "
                "Paikkaa haetaan sähköisesti neljä kuukautta ennen tarvetta.",
                "The day care centres provide early childhood education for children aged 1 to "
                "5 on weekdays from 6 am to 6 pm. Apply online four months ahead.",
                None,
            ),
            (
                "service",
                "Perhepäivähoito",
                "Family day care",
                "Perhepäivähoitaja hoitaa pientä lapsiryhmää omassa kodissaan. "
                "Paikkaa haetaan samalla hakemuksella kuin päiväkotipaikkaa.",
                "A family day carer looks after a small group of children at home. "
                "You apply with the same form as for a day care centre.",
                None,
            ),
            (
                "service",
                "Esiopetus ja koulut",
                "Pre-primary education and schools",
                "Esiopetus alkaa vuotta ennen oppivelvollisuutta, ja koulupaikka osoitetaan "
                "lähikoulusta. Ilmoita muuttavasta koululaisesta koulutoimistoon.",
                "Pre-primary education starts a year before compulsory school, and pupils go to "
                "the nearest school. Tell the education office about a pupil who is moving.",
                None,
            ),
            (
                "provider",
                "Lastenneuvola",
                "Child health clinic",
                "Neuvola seuraa lapsen kasvua ja kehitystä ja tukee koko perhettä. "
                "Ilmoittaudu neuvolaan, kun olet muuttanut kuntaan.",
                "The clinic follows the child's growth and development and supports the whole "
                "family. Register with the clinic once you have moved here.",
                None,
            ),
        ],
    ),
    "work": (
        ("Töitä ja työtiloja", "Jobs and workspaces"),
        [
            (
                "service",
                "Työllisyyspalvelut",
                "Employment services",
                "Työllisyyspalvelut auttavat työnhaussa, koulutuksessa ja urasuunnittelussa. "
                "Ilmoittaudu työnhakijaksi verkossa ennen muuttoa.",
                "Employment services help with job seeking, training and career planning. "
                "Register as a jobseeker online before you move.",
                None,
            ),
            (
                "provider",
                "Etätyötila",
                "Co-working space",
                "Keskustan etätyötilassa on nopea yhteys, neuvotteluhuone ja kahvia. "
                "Päivä- ja kuukausikortteja myydään kirjastossa.",
                "The co-working space in the centre has a fast connection, a meeting room and "
                "coffee. Day and month passes are sold at the library.",
                None,
            ),
            (
                "service",
                "Rekrytointipalvelu",
                "Recruitment service",
                "Kunta välittää paikallisten työnantajien avoimia paikkoja. "
                "Kerro osaamisestasi, niin etsimme sopivia tehtäviä.",
                "The municipality passes on local employers' vacancies. "
                "Tell us about your skills and we will look for suitable jobs.",
                None,
            ),
            (
                "provider",
                "Paikalliset työnantajat",
                "Local employers",
                "Suurimpia työnantajia ovat kunta, hyvinvointialue, matkailu ja teollisuus. "
                "Moni rekrytoi myös ulkomailta muuttavia.",
                "The largest employers are the municipality, the wellbeing services county, "
                "tourism and industry. Many also recruit people moving from abroad.",
                None,
            ),
        ],
    ),
    "entrepreneurs": (
        ("Yrittäjän palvelut", "Services for entrepreneurs"),
        [
            (
                "service",
                "Yritysneuvonta",
                "Business advice",
                "Neuvojat auttavat liiketoimintasuunnitelmassa, rahoituksessa ja luvissa. "
                "Neuvonta on maksutonta.",
                "Advisers help with business plans, funding and permits. "
                "The advice is free of charge.",
                None,
            ),
            (
                "service",
                "Toimitilat",
                "Business premises",
                "Vapaita toimisto-, liike- ja tuotantotiloja on keskustassa ja "
                "teollisuusalueella. Kysy myös yritystonteista.",
                "Office, retail and production premises are available in the centre and on the "
                "industrial estate. Ask about business plots as well.",
                None,
            ),
            (
                "service",
                "Starttiraha",
                "Start-up grant",
                "Starttiraha turvaa toimeentulon yrityksen alkuvaiheessa. "
                "Haku tehdään ennen toiminnan aloittamista.",
                "The start-up grant secures your income in the first months of a new business. "
                "Apply before you start trading.",
                None,
            ),
            (
                "provider",
                "Yrittäjäyhdistys",
                "Entrepreneurs' association",
                "Yhdistys järjestää aamukahveja, koulutuksia ja verkostoitumistapahtumia. "
                "Uudet jäsenet ovat tervetulleita.",
                "The association holds breakfast meetings, training and networking events. "
                "New members are welcome.",
                None,
            ),
        ],
    ),
    "social-health": (
        ("Terveys ja hyvinvointi", "Health and wellbeing"),
        [
            (
                "provider",
                "Terveysasema",
                "Health centre",
                "Terveysasemalla hoidetaan äkilliset sairaudet, pitkäaikaissairaudet ja "
                "rokotukset. Soita ajanvaraukseen arkisin aamulla.",
                "The health centre treats sudden illnesses and long-term conditions and gives "
                "vaccinations. Call for an appointment on weekday mornings.",
                None,
            ),
            (
                "provider",
                "Hammashoitola",
                "Dental clinic",
                "Hammashoitola hoitaa kaikenikäisiä. "
                "Kiireettömän ajan voi varata puhelimitse tai verkossa.",
                "The dental clinic treats patients of all ages. "
                "You can book a non-urgent appointment by phone or online.",
                None,
            ),
            (
                "service",
                "Kotihoito",
                "Home care",
                "Kotihoito auttaa arjessa kotona, ja palveluohjaaja neuvoo tukien ja asumisen "
                "vaihtoehdoissa. Ota yhteyttä jo ennen muuttoa.",
                "Home care helps with everyday life at home, and a service adviser explains the "
                "allowances and housing options. Get in touch before you move.",
                None,
            ),
            (
                "service",
                "Mielenterveyspalvelut",
                "Mental health services",
                "Matalan kynnyksen vastaanotolle pääsee ilman lähetettä. "
                "Kiireellisissä tilanteissa soita päivystykseen.",
                "You can visit the walk-in mental health clinic without a referral. "
                "In an emergency, call the on-call service.",
                None,
            ),
        ],
    ),
    "leisure": (
        ("Vapaa-ajan paikat", "Places for your free time"),
        [
            (
                "provider",
                "Kirjasto",
                "Library",
                "Kirjastosta lainaat kirjojen lisäksi pelejä, työkaluja ja urheiluvälineitä. "
                "Omatoimikirjasto on auki joka päivä.",
                "Besides books, the library lends games, tools and sports equipment. "
                "The self-service library is open every day.",
                None,
            ),
            (
                "service",
                "Liikuntapaikat",
                "Sports facilities",
                "Uimahalli, kuntosali, latuverkosto ja valaistut kuntoradat ovat kaikkien "
                "käytössä. Ladut ajetaan lumitilanteen mukaan.",
                "The swimming hall, gym, ski tracks and lit jogging trails are open to everyone. "
                "The tracks are groomed whenever there is snow.",
                None,
            ),
            (
                "service",
                "Kansalaisopisto",
                "Adult education centre",
                "Kansalaisopisto järjestää kieli-, käsityö-, musiikki- ja liikuntakursseja. "
                "Ilmoittautuminen syyskauden kursseille alkaa elokuussa.",
                "The adult education centre runs courses in languages, crafts, music and sport. "
                "Registration for the autumn courses opens in August.",
                None,
            ),
            (
                "provider",
                "Luontokeskus",
                "Nature centre",
                "Luontokeskus neuvoo retkeilyreiteissä, kalastusluvissa ja tulipaikoissa. "
                "Reittikartat saa mukaan maksutta.",
                "The nature centre advises on hiking trails, fishing permits and campfire "
                "sites. Trail maps are free to take.",
                None,
            ),
        ],
    ),
    "moving-checklist": (
        ("Muistilista", "Checklist"),
        [
            (
                "checklist",
                "Tee muuttoilmoitus",
                "Notify your move",
                "Muuttoilmoitus Postille ja Digi- ja väestötietovirastolle hoituu samalla "
                "kertaa. Ilmoita viimeistään viikon kuluessa muutosta.",
                "One notice of move reaches both Posti and the Digital and Population Data "
                "Services Agency. Notify at the latest within a week of moving.",
                "before",
            ),
            (
                "checklist",
                "Siirrä sähkö- ja nettisopimus",
                "Move your electricity and internet contracts",
                "Sähkösopimus ja laajakaista siirtyvät uuteen osoitteeseen yhdellä "
                "ilmoituksella. Tee se kaksi viikkoa ennen muuttoa.",
                "Electricity and broadband move to the new address with one notice. "
                "Do it two weeks before you move.",
                "before",
            ),
            (
                "checklist",
                "Tarkista kotivakuutus",
                "Check your home insurance",
                "Kotivakuutuksen pitää olla voimassa uudessa kodissa muuttopäivästä alkaen. "
                "Muista myös muuttokuorman vakuutus.",
                "Your home insurance must cover the new home from moving day. "
                "Remember to insure the moving load as well.",
                "during",
            ),
            (
                "checklist",
                "Ilmoittaudu terveysasemalle",
                "Register with the health centre",
                "Kun kotikunta on vaihtunut, ilmoittaudu oman alueesi terveysasemalle. "
                "Pyydä potilastiedot siirtymään vanhasta kunnasta.",
                "Once your municipality of residence has changed, register with your local "
                "health centre. Ask for your records to be moved from the old one.",
                "after",
            ),
        ],
    ),
}

GENERAL_HEADING = ("Asiointi ja muistilista", "Errands and checklist")
GENERAL_ENTRIES: list[EntryText] = [
    (
        "provider",
        "Kunnan palvelupiste",
        "Municipal service point",
        "Palvelupisteessä saat neuvoja kaikissa kunnan palveluissa ja apua sähköiseen "
        "asiointiin. Samassa paikassa toimii Kelan yhteispalvelu.",
        "The service point advises on all municipal services and helps with online forms. "
        "Kela's joint service desk is in the same place.",
        None,
    ),
    (
        "service",
        "Digi- ja väestötietovirasto",
        "Digital and Population Data Services Agency",
        "Virasto rekisteröi kotikunnan ja ulkomaalaisten henkilötiedot. "
        "Ulkomailta muuttavan kannattaa varata aika etukäteen.",
        "The agency registers your municipality of residence and foreign nationals' personal "
        "data. If you move from abroad, book an appointment in advance.",
        None,
    ),
    (
        "service",
        "Kela",
        "Kela",
        "Kela hoitaa perhe-etuudet, asumistuen ja sairausvakuutuksen. "
        "Ilmoita Kelalle uusi osoite ja muuttuneet tulot.",
        "Kela handles family benefits, housing allowance and health insurance. "
        "Tell Kela your new address and any change in income.",
        None,
    ),
    (
        "service",
        "Jätehuolto",
        "Waste management",
        "Omakotitalon jäteastian tyhjennykset tilataan alueen jäteyhtiöltä. "
        "Kierrätyspisteet löytyvät kauppojen pihoilta.",
        "For a detached house, order bin emptying from the regional waste company. "
        "Recycling points are in the shop car parks.",
        None,
    ),
    (
        "checklist",
        "Varaa muuttoauto tai muuttofirma",
        "Book a van or a removal company",
        "Muuttoautot ja muuttofirmat varataan kesäisin nopeasti. "
        "Varaa kuljetus kuukautta etukäteen.",
        "Vans and removal companies get booked up quickly in summer. "
        "Book your transport a month ahead.",
        "before",
    ),
    (
        "checklist",
        "Lue sähkö- ja vesimittarit",
        "Read the electricity and water meters",
        "Kirjaa mittarilukemat sekä vanhassa että uudessa kodissa muuttopäivänä. "
        "Näin laskutus menee oikein.",
        "Note the meter readings in both the old and the new home on moving day. "
        "That keeps the bills right.",
        "during",
    ),
    (
        "checklist",
        "Tarkista kotikunta",
        "Check your municipality of residence",
        "Kotikunta määrää, minkä kunnan palveluita käytät. "
        "Se rekisteröidään muuttoilmoituksen perusteella.",
        "Your municipality of residence decides which municipal services you use. "
        "It is registered from your notice of move.",
        "after",
    ),
    (
        "checklist",
        "Tutustu lähiympäristöön",
        "Get to know your neighbourhood",
        "Lähde kävelylle, käy kirjastossa ja tule uusien asukkaiden iltaan. "
        "Kunta kutsuu uudet asukkaat tapaamiseen kahdesti vuodessa.",
        "Go for a walk, visit the library and come to the new residents' evening. "
        "The municipality invites new residents twice a year.",
        "after",
    ),
]
NATIONAL_LINKS = [
    ("https://www.suomi.fi", "Suomi.fi"),
    ("https://www.posti.fi/muuttoilmoitus", "Posti"),
    ("https://www.kela.fi", "Kela"),
    ("https://dvv.fi", "DVV"),
]


def entry_body(text: EntryText, municipality: Municipality, serial: int) -> dict[str, Any]:
    """One entry: a provider or service has a link, a phone with its price, an e-mail,
    an address and opening hours; a checklist item a national link and `when`."""
    kind, name_fi, name_en, description_fi, description_en, when = text
    body: dict[str, Any] = {
        "kind": kind,
        "name": {"fi": name_fi, "en": name_en},
        "description": {"fi": description_fi, "en": description_en},
    }
    if kind == "checklist":
        url, label = NATIONAL_LINKS[serial % len(NATIONAL_LINKS)]
        return body | {"when": when, "links": [{"url": url, "label": {"fi": label}}]}
    site = f"https://www.{municipality.slug}.example.org"
    return body | {
        "links": [
            {
                "url": f"{site}/palvelut/{serial}",
                "label": {"fi": "Lisätietoja verkossa", "en": "More information online"},
            }
        ],
        "phones": [
            {
                "number": f"+358 40 {municipality.code} {serial % 10_000:04d}",
                "price": {
                    "fi": "Puhelun hinta: matkapuhelinmaksu.",
                    "en": "Call charge: the mobile call rate.",
                },
            }
        ],
        "email": f"palvelut{serial % 100}@{municipality.slug}.example.org",
        "address": {"fi": f"Keskuskatu {serial % 40 + 1}, {municipality.name.fi}"},
        "opening_hours": {"fi": "Ma–pe klo 9–15", "en": "Mon–Fri 9 am – 3 pm"},
        "languages": ["fi", "en", "sv"] if serial % 3 == 0 else ["fi", "en"],
    }


def card_body(topics: list[str], municipality: Municipality, number: int) -> dict[str, Any]:
    """The `number`th generated card of a municipality: 2 sections × 4 entries."""
    topic = topics[number % len(topics)]
    cycle, index = divmod(number // len(topics), 5)
    title_fi, title_en, summary_fi, summary_en = CARD_TEXTS[topic][index]
    suffix = f" {cycle + 1}" if cycle else ""
    heading, entries = TOPIC_SECTIONS[topic]
    general = [GENERAL_ENTRIES[(number + k) % len(GENERAL_ENTRIES)] for k in range(4)]
    serial = number * SECTIONS_PER_CARD * ENTRIES_PER_SECTION
    sections = []
    for s, (head, texts) in enumerate(
        [(heading, entries[index % 4 :] + entries[: index % 4]), (GENERAL_HEADING, general)]
    ):
        section_texts = texts[:ENTRIES_PER_SECTION]
        sections.append(
            {
                "heading": {"fi": head[0], "en": head[1]},
                "entries": [
                    entry_body(t, municipality, serial + s * ENTRIES_PER_SECTION + e)
                    for e, t in enumerate(section_texts)
                ],
            }
        )
    personas = [PERSONA_KEYS[(number + k) % len(PERSONA_KEYS)] for k in range(1 + number % 3)]
    return {
        "topic": topic,
        "title": {"fi": title_fi + suffix, "en": title_en + suffix},
        "summary": {"fi": summary_fi, "en": summary_en},
        "status": "published",
        "personas": personas,
        "sections": sections,
    }


# --- data: loaders, one per resource kind, straight into the database ---------------------

Loader = Callable[[SessionFactory, argparse.Namespace], Awaitable[int]]


async def load_municipalities(factory: SessionFactory, args: argparse.Namespace) -> int:
    """Add generated municipalities until there are `--municipalities`; returns how many."""
    async with factory() as session:
        used = set((await execute(session, sa_select(Municipality.code))).scalars())
        codes = iter(code for code in (f"{n:03d}" for n in range(1, 1000)) if code not in used)
        missing = max(0, args.municipalities - len(used))
        for number in range(1, missing + 1):
            data = MunicipalityCreate.model_validate(municipality_body(number, next(codes)))
            await municipality_service.create(session=session, data=data)
        await session.commit()
    return missing


async def load_service_cards(factory: SessionFactory, args: argparse.Namespace) -> int:
    """Top every municipality up to `--cards-per-municipality` published cards (the seeded
    ones keep theirs), through `service_card.create`: search columns, the SQLite FTS table,
    revisions and content versions stay as the app writes them. One transaction per
    municipality."""
    per_municipality = args.cards_per_municipality
    if per_municipality == 0:
        return 0
    seed_topics = read_data("kemijarvi/service_cards.yaml")["topics"]
    async with factory() as session:
        municipalities = list(
            (await execute(session, sa_select(Municipality).order_by(Municipality.slug))).scalars()
        )
        counted = await execute(
            session,
            sa_select(
                ServiceCard.municipality_id, func.count(), func.max(ServiceCard.position)
            ).group_by(ServiceCard.municipality_id),
        )
        existing = {row[0]: (row[1], row[2] or 0) for row in counted}
    added = 0
    started = time.perf_counter()
    for done, municipality in enumerate(municipalities, start=1):
        count, highest = existing.get(municipality.id, (0, 0))
        if count >= per_municipality:
            continue
        async with factory() as session:
            known = set(
                (
                    await execute(
                        session,
                        sa_select(Topic.key).where(Topic.municipality_id == municipality.id),
                    )
                ).scalars()
            )
            for position, item in enumerate(seed_topics, start=1):
                if item["key"] not in known:
                    topic = TopicIn(key=item["key"], name=item["name"], position=position)
                    await card_service.create_topic(
                        session=session, municipality_id=municipality.id, data=topic
                    )
            topics = [item["key"] for item in seed_topics]
            for number in range(count, per_municipality):
                body = card_body(topics, municipality, number)
                body["position"] = highest + 1 + number - count
                await card_service.create(
                    session=session,
                    municipality_id=municipality.id,
                    actor=card_service.SYSTEM,
                    data=CardCreate.model_validate(body),
                )
                added += 1
            await session.commit()
        if done % 50 == 0 or done == len(municipalities):
            elapsed = time.perf_counter() - started
            print(
                f"  service cards: {done}/{len(municipalities)} municipalities, "
                f"{added} cards, {elapsed:.1f} s",
                flush=True,
            )
    return added


# Guides: a first name per guide number, languages, expertise and meeting modes in turn.
GUIDE_NAMES = ("Aino", "Eero", "Helmi", "Juho", "Kaisa", "Lauri", "Minna", "Oskari", "Pirjo")
GUIDE_LANGUAGES = (["fi", "en"], ["fi", "sv", "en"], ["fi"], ["fi", "en", "de"], ["fi", "se"])
GUIDE_EXPERTISE = (
    ["housing", "fishing"],
    ["remote-work", "schools"],
    ["entrepreneurship"],
    ["day-care", "hobbies", "nature"],
    ["jobs", "building-plots"],
)
GUIDE_MODES = (["live", "remote"], ["remote", "phone"], ["live", "remote", "phone"], ["phone"])


def guide_body(municipality: Municipality, number: int) -> dict[str, Any]:
    """The `number`th generated guide of a municipality; every fifth a representative."""
    first = GUIDE_NAMES[number % len(GUIDE_NAMES)]
    town = municipality.name.fi
    return {
        "display_name": f"{first} {town} {number + 1}",
        "kind": "representative" if number % 5 == 4 else "volunteer",
        "bio": {
            "fi": f"Muutin itse paikkakunnalle {town} ja kerron mielelläni, millaista täällä on.",
            "en": f"I moved to {town} myself and am happy to tell you what life here is like.",
        },
        "languages": GUIDE_LANGUAGES[number % len(GUIDE_LANGUAGES)],
        "expertise": GUIDE_EXPERTISE[number % len(GUIDE_EXPERTISE)],
        "modes": GUIDE_MODES[number % len(GUIDE_MODES)],
        "contacts": [
            {
                "kind": "email",
                "value": f"opas{number + 1}@{municipality.slug}.example.org",
                "public": number % 2 == 0,
            }
        ],
    }


def slot_rules(
    municipality: Municipality, number: int, modes: list[str], args: argparse.Namespace
) -> list[SlotRuleCreate]:
    """`--slots-per-week` weekly one-hour rules of the `number`th guide (see WEEKDAYS),
    valid for `--slot-weeks` weeks from FIRST_MONDAY."""
    place = {"fi": f"Kunnantalo, {municipality.name.fi}", "en": "Town hall"}
    until = FIRST_MONDAY + timedelta(weeks=args.slot_weeks, days=-1)
    return [
        SlotRuleCreate.model_validate(
            {
                "weekday": weekday,
                "local_start": wall_time(hour),
                "duration_minutes": 60,
                "modes": modes,
                "place": place if "live" in modes else None,
                "valid_from": FIRST_MONDAY,
                "valid_until": until,
            }
        )
        for weekday, hour in (
            (WEEKDAYS[i % len(WEEKDAYS)], SLOT_HOURS[(i // len(WEEKDAYS) + number) % 8])
            for i in range(args.slots_per_week)
        )
    ]


async def load_guides(factory: SessionFactory, args: argparse.Namespace) -> int:
    """Top every municipality up to `--guides-per-municipality` active guides, each with
    weekly rules expanded into `--slot-weeks` weeks of slots, through `guide.create`,
    `guide.set_status(active)` and `guide.add_rule` (so the overlap guard, the rule rows and
    the content versions are as the app writes them). One transaction per municipality.
    Returns the number of slots; the guides are counted in `args.guides_added`."""
    per_municipality = args.guides_per_municipality
    args.guides_added = 0
    if per_municipality == 0:
        return 0
    async with factory() as session:
        municipalities = list(
            (await execute(session, sa_select(Municipality).order_by(Municipality.slug))).scalars()
        )
        counted = await execute(
            session,
            sa_select(col(Guide.municipality_id), func.count()).group_by(
                col(Guide.municipality_id)
            ),
        )
        existing = {row[0]: row[1] for row in counted}
    slots = 0
    started = time.perf_counter()
    for done, municipality in enumerate(municipalities, start=1):
        count = existing.get(municipality.id, 0)
        if count < per_municipality:
            async with factory() as session:
                for number in range(count, per_municipality):
                    data = GuideCreate.model_validate(guide_body(municipality, number))
                    guide = await guide_service.create(
                        session=session, municipality_id=municipality.id, data=data
                    )
                    await guide_service.set_status(
                        session=session, guide=guide, status=GuideStatus.active
                    )
                    for rule in slot_rules(municipality, number, list(guide.modes), args):
                        expansion = await guide_service.add_rule(
                            session=session, guide=guide, data=rule, weeks=args.slot_weeks
                        )
                        slots += len(expansion.created)
                    args.guides_added += 1
                await session.commit()
        if done % 50 == 0 or done == len(municipalities):
            elapsed = time.perf_counter() - started
            print(
                f"  guides: {done}/{len(municipalities)} municipalities, "
                f"{args.guides_added} guides, {slots} slots, {elapsed:.1f} s",
                flush=True,
            )
    return slots


LOADERS: list[tuple[str, Loader]] = [
    ("municipalities", load_municipalities),
    ("service cards", load_service_cards),
    ("slots", load_guides),
]


async def _load_all(database_url: str, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    engine = create_engine(database_url)
    factory = create_session_factory(engine)
    timings: dict[str, dict[str, float]] = {}
    try:
        for kind, load in LOADERS:
            started = time.perf_counter()
            added = await load(factory, args)
            seconds = time.perf_counter() - started
            timings[kind] = {"added": added, "seconds": round(seconds, 2)}
            per = f" ({seconds / added * 1000:.1f} ms each)" if added else ""
            if load is load_guides:
                timings[kind]["guides"] = args.guides_added
                per += f" for {args.guides_added} guides"
            print(f"loaded {added} {kind} in {seconds:.1f} s{per}", flush=True)
        if engine.dialect.name == "postgresql":
            # A live database has planner statistics (autovacuum); a freshly bulk-loaded one
            # has none until autovacuum gets to it (never, where it is off), and without
            # them PostgreSQL scans all entries to list 20 cards.
            started = time.perf_counter()
            async with engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.exec_driver_sql("VACUUM ANALYZE")
            seconds = time.perf_counter() - started
            timings["vacuum analyze"] = {"added": 0, "seconds": round(seconds, 2)}
            print(f"VACUUM ANALYZE in {seconds:.1f} s", flush=True)
    finally:
        await engine.dispose()
    return timings


def load_data(database_url: str, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Every generated data set, in dependency order, before the server starts."""
    return asyncio.run(_load_all(database_url, args))


def login(client: httpx.Client, email: str, password: str) -> dict[str, str]:
    response = client.post(f"{API}/auth/token", data={"username": email, "password": password})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


# --- measurements --------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def from_timings(name: str, mode: str, timings: list[float], note: str = "") -> Result:
    return Result(name, mode, None, percentile(timings, 50), percentile(timings, 99), note=note)


def headers_of(endpoint: Endpoint, auth: dict[str, str]) -> dict[str, str]:
    return {**endpoint.headers, **(auth if endpoint.staff else {})}


def request(client: httpx.Client, endpoint: Endpoint, headers: dict[str, str]) -> httpx.Response:
    return client.request(endpoint.method, endpoint.path, content=endpoint.body, headers=headers)


def graphql_items(response: httpx.Response) -> list[dict[str, Any]]:
    body = response.raise_for_status().json()
    if body.get("errors"):
        raise RuntimeError(f"GraphQL answered errors: {body['errors']}")
    items: list[dict[str, Any]] = body["data"]["serviceCards"]["items"]
    return items


def warm_runs(
    args: argparse.Namespace, client: httpx.Client, auth: dict[str, str], endpoint: Endpoint
) -> list[Result]:
    url = f"{client.base_url}{endpoint.path}"
    headers = headers_of(endpoint, auth)
    first = request(client, endpoint, headers)
    if first.status_code != 200:
        raise RuntimeError(f"{endpoint.name}: {endpoint.path} answered {first.status_code}")
    size = f"{len(first.content) / 1000:.0f} kB"
    if endpoint.path == "/graphql":
        size = f"{len(graphql_items(first))} cards, {size}"
    elif isinstance(listed := first.json(), dict) and "items" in listed:
        size = f"{len(listed['items'])} of {listed.get('total')} items, {size}"
    warm = run_wrk(
        args,
        url,
        headers,
        endpoint.name,
        endpoint.warm_mode,
        connections=endpoint.connections,
        method=endpoint.method,
        body=endpoint.body,
    )
    warm.aim(endpoint.warm_target)
    warm.note = size
    results = [warm]
    if endpoint.conditional:
        headers = {**headers, "If-None-Match": first.headers["etag"]}
        check = request(client, endpoint, headers).status_code
        not_modified = run_wrk(
            args, url, headers, endpoint.name, "304", connections=endpoint.connections
        )
        not_modified.aim(NOT_MODIFIED)
        if check != 304:
            not_modified.note = f"If-None-Match answered {check}, not 304"
        results.append(not_modified)
    return results


Writer = Callable[[int], str]  # does write i, returns the text the next read must show


def municipality_writer(client: httpx.Client, auth: dict[str, str], slug: str) -> Writer:
    """PATCH the municipality's hashtags, alternating between two sets."""
    target = f"{API}/municipalities/{slug}"
    current = client.get(target).raise_for_status()
    state = {"etag": current.headers["etag"]}
    hashtags = [tag for tag in current.json()["hashtags"] if not tag.startswith("#benchcold")]

    def write(i: int) -> str:
        tag = f"#benchcold_{'ab'[i % 2]}"
        patch = client.patch(
            target, json={"hashtags": [*hashtags, tag]}, headers={**auth, "If-Match": state["etag"]}
        )
        state["etag"] = patch.raise_for_status().headers["etag"]
        return tag

    return write


def service_card_writer(client: httpx.Client, auth: dict[str, str], slug: str) -> Writer:
    """PATCH the summary of the first card of the municipality's list, alternating."""
    cards = f"{API}/municipalities/{slug}/service-cards"
    listed = client.get(cards, params={"limit": 1}).raise_for_status().json()["items"]
    if not listed:
        raise RuntimeError(f"{slug} has no published service cards to write to")
    target = f"{cards}/{listed[0]['id']}"
    current = client.get(target).raise_for_status()
    state = {"etag": current.headers["etag"]}
    summary = current.json()["summary"]
    base_fi = re.sub(r" Päivitetty [AB]\.$", "", summary["fi"])
    base_en = re.sub(r" Revised [AB]\.$", "", summary["en"])

    def write(i: int) -> str:
        variant = "AB"[i % 2]
        en = f"{base_en} Revised {variant}."
        body = {"summary": {"fi": f"{base_fi} Päivitetty {variant}.", "en": en}}
        patch = client.patch(target, json=body, headers={**auth, "If-Match": state["etag"]})
        state["etag"] = patch.raise_for_status().headers["etag"]
        return en

    return write


def booking_body(slot: dict[str, Any], email: str) -> dict[str, Any]:
    """A mover's booking of `slot` (an item of the public slot list), as in the tests."""
    modes = slot["modes"]
    return {
        "slot_id": slot["id"],
        "mode": "remote" if "remote" in modes else modes[0],
        "name": "Maija Muuttaja",
        "email": email,
        "phone": "0401234567",
        "language": "en",
        "topics": ["housing"],
        "message": "We are thinking of moving in spring.",
        "consent": True,
    }


def free_slots(client: httpx.Client, slug: str) -> list[dict[str, Any]]:
    """The free slots of `slug` in the benchmark window, soonest first (every page)."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get(slots_path(slug, cursor)).raise_for_status().json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def book(client: httpx.Client, slug: str, slot: dict[str, Any], email: str) -> httpx.Response:
    return client.post(f"{API}/municipalities/{slug}/bookings", json=booking_body(slot, email))


def booking_writer(client: httpx.Client, auth: dict[str, str], slug: str) -> Writer:
    """Book the i-th free slot of the window (each booking takes one: a new one every time);
    the next read must no longer offer it."""
    slots = free_slots(client, slug)

    def write(i: int) -> str:
        if i >= len(slots):
            raise RuntimeError(f"{slug} has only {len(slots)} free slots for {i + 1} bookings")
        response = book(client, slug, slots[i], f"cold{i}@bench.example.org")
        if response.status_code != 201:
            raise RuntimeError(f"booking {slots[i]['id']} answered {response.status_code}")
        return str(slots[i]["id"])

    return write


WRITERS: dict[str, Callable[[httpx.Client, dict[str, str], str], Writer]] = {
    "municipality": municipality_writer,
    "service-card": service_card_writer,
    "booking": booking_writer,
}


def cold_run(client: httpx.Client, auth: dict[str, str], endpoint: Endpoint, n: int) -> Result:
    """Write (changing the content), then time the next read; n times on one connection."""
    assert endpoint.cold_write is not None
    kind, slug = endpoint.cold_write.split(":", 1)
    write = WRITERS[kind](client, auth, slug)
    headers = headers_of(endpoint, auth)
    previous = request(client, endpoint, headers).raise_for_status().headers.get("etag")
    timings: list[float] = []
    writes: list[float] = []
    stale = 0
    for i in range(n):
        started = time.perf_counter()
        written = write(i)
        writes.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        response = request(client, endpoint, headers)
        timings.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        etag = response.headers.get("etag")
        if etag is None:  # GraphQL: no ETag, look for the text just written
            stale += all(item.get("summary") != written for item in graphql_items(response))
        elif kind == "booking":  # the slot just booked must be gone
            offered = {item["id"] for item in response.json()["items"]}
            stale += etag == previous or written in offered
        else:
            stale += etag == previous
        previous = etag
    what = {"booking": "POST booking"}.get(kind, "PATCH")
    note = f"{what} p50 {percentile(writes, 50):.1f} ms"
    return from_timings(
        endpoint.name, "cold", timings, f"{stale} of {n} stale; {note}" if stale else note
    )


def sequential_healthz(client: httpx.Client, n: int) -> Result:
    timings: list[float] = []
    for _ in range(n):
        started = time.perf_counter()
        client.get(BASELINE.path).raise_for_status()
        timings.append((time.perf_counter() - started) * 1000)
    return from_timings(BASELINE.name, "sequential", timings)


def timed_get(client: httpx.Client, path: str) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = client.get(path)
    return response.raise_for_status(), (time.perf_counter() - started) * 1000


@dataclass
class ForeignCheck:
    """The reads of SLOT_TARGET's slot list right after a booking in FOREIGN_TARGET."""

    first_ms: float
    second_ms: float
    warm_p50: float  # sequential warm reads on the same connection, before the booking
    unchanged: bool  # the first read kept the ETag: same content versions, cached body

    def note(self, cold_p50: float | None) -> str:
        """Served from cache? The ETag says whether the versions moved (they must not); the
        latency whether the body was rebuilt. A read right after a heavy request, or one
        that re-reads the versions (their 1 s TTL ran out), takes a few ms more than warm
        but far less than the cold p50 of a rebuild."""
        if not self.unchanged:
            how = "INVALIDATED"
        elif self.first_ms <= 2 * self.warm_p50 + 1:
            how = "from cache"
        elif cold_p50 is not None and self.first_ms < cold_p50 / 2:
            how = f"from cache (cold p50 {cold_p50:.1f} ms)"
        else:
            how = "as slow as cold: rebuilt?"
        return (
            f"1st read after: {self.first_ms:.2f} ms, ETag "
            f"{'unchanged' if self.unchanged else 'CHANGED'} → {how}; 2nd read "
            f"{self.second_ms:.2f} ms; 1-conn warm p50 {self.warm_p50:.2f} ms"
        )


def foreign_booking_run(
    args: argparse.Namespace, client: httpx.Client
) -> tuple[Result, ForeignCheck]:
    """A booking in FOREIGN_TARGET must leave SLOT_TARGET's cached slot list alone: the
    first read after it keeps its ETag (same content versions, so the cached body), and
    wrk finds the list as warm as before."""
    path = slots_path(SLOT_TARGET)
    etag = timed_get(client, path)[0].headers["etag"]  # built now if it was not cached
    warm = [timed_get(client, path)[1] for _ in range(FOREIGN_SEQUENTIAL)]
    slot = free_slots(client, FOREIGN_TARGET)[0]
    booked = book(client, FOREIGN_TARGET, slot, "elsewhere@bench.example.org")
    if booked.status_code != 201:
        raise RuntimeError(f"the booking in {FOREIGN_TARGET} answered {booked.status_code}")
    first, first_ms = timed_get(client, path)
    second_ms = timed_get(client, path)[1]
    check = ForeignCheck(first_ms, second_ms, percentile(warm, 50), first.headers["etag"] == etag)
    result = run_wrk(args, f"{client.base_url}{path}", {}, FOREIGN_BOOKING, "warm")
    result.aim(WARM)
    result.passed = check.unchanged
    result.note = check.note(None)
    return result, check


Outcome = tuple[int | None, str, float]  # status (None: no answer), problem code, ms


async def _race(base: str, slug: str, slots: list[dict[str, Any]]) -> tuple[list[Outcome], float]:
    """RACE_ATTEMPTS bookings of every slot, all at once (the attempts on one slot next to
    each other), on a pool of RACE_POOL connections."""
    limits = httpx.Limits(max_connections=RACE_POOL, max_keepalive_connections=RACE_POOL)
    url = f"{API}/municipalities/{slug}/bookings"
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:

        async def attempt(slot: dict[str, Any], email: str) -> Outcome:
            started = time.perf_counter()
            try:
                response = await client.post(url, json=booking_body(slot, email))
            except httpx.HTTPError as error:
                return None, type(error).__name__, (time.perf_counter() - started) * 1000
            elapsed = (time.perf_counter() - started) * 1000
            code = ""
            if response.status_code >= 400:
                try:
                    code = str(response.json().get("code", ""))
                except ValueError:
                    code = "not JSON"
            return response.status_code, code, elapsed

        started = time.perf_counter()
        outcomes = await asyncio.gather(
            *(
                attempt(slot, f"race{k}.{i}@bench.example.org")
                for i, slot in enumerate(slots)
                for k in range(RACE_ATTEMPTS)
            )
        )
        return list(outcomes), time.perf_counter() - started


async def _bookings_per_slot(database_url: str, slot_ids: list[str]) -> dict[str, int]:
    """Straight from the database: how many bookings (of any status) each slot has."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                sa_select(col(Booking.slot_id), func.count())
                .where(col(Booking.slot_id).in_([uuid.UUID(s) for s in slot_ids]))
                .group_by(col(Booking.slot_id))
            )
            return {str(slot_id): count for slot_id, count in rows}
    finally:
        await engine.dispose()


def booking_race(args: argparse.Namespace, client: httpx.Client, database_url: str) -> Result:
    """RACE_SLOTS free slots of RACE_TARGET, RACE_ATTEMPTS concurrent bookings of each
    (different emails): exactly one booking per slot, the rest 409 `slot-taken`, no 5xx,
    on either database (SQLite's writers queue for the lock: BEGIN IMMEDIATE)."""
    slots = free_slots(client, RACE_TARGET)[:RACE_SLOTS]
    if len(slots) < RACE_SLOTS:
        raise RuntimeError(f"{RACE_TARGET} has only {len(slots)} free slots")
    outcomes, elapsed = asyncio.run(_race(str(client.base_url), RACE_TARGET, slots))
    per_slot = asyncio.run(_bookings_per_slot(database_url, [str(s["id"]) for s in slots]))
    created = sum(status == 201 for status, _, _ in outcomes)
    taken = sum(status == 409 and code == "slot-taken" for status, code, _ in outcomes)
    busy = sum(status == 503 and code == "busy" for status, code, _ in outcomes)
    others: dict[str, int] = {}
    for status, code, _ in outcomes:
        if status not in (201, 409, 503) or code not in ("", "slot-taken", "busy"):
            label = f"{status or 'no answer'} {code}".strip()
            others[label] = others.get(label, 0) + 1
    server_errors = sum(status is None or status >= 500 for status, _, _ in outcomes)
    booked = sum(per_slot.values())
    at_most_one = all(n == 1 for n in per_slot.values())
    kind, passed = INVARIANT, at_most_one and len(per_slot) == RACE_SLOTS and not server_errors
    timings = [ms for _, _, ms in outcomes]
    result = Result(
        BOOKING_RACE,
        f"{len(outcomes)} on {RACE_SLOTS} slots",
        created / elapsed,
        percentile(timings, 50),
        percentile(timings, 99),
        connections=RACE_POOL,
        target=RACE_SLOTS,
        target_kind=kind,
        passed=passed and booked == created,
    )
    other = ", ".join(f"{label} ×{n}" for label, n in sorted(others.items())) or "0"
    result.note = (
        f"201 ×{created}, 409 slot-taken ×{taken}, 503 busy ×{busy}, other {other}; "
        f"in the database {booked} bookings on {len(per_slot)} of {RACE_SLOTS} slots "
        f"(at most {max(per_slot.values(), default=0)} a slot); {elapsed:.2f} s, "
        f"{len(outcomes) / elapsed:.0f} attempts/s"
    )
    return result


# --- report --------------------------------------------------------------------------------


def ratio_cell(r: Result) -> str:
    if r.ratio is None:
        return ""
    if r.ratio_of == "healthz-latency":
        return f"lat ×{r.ratio:.1f}"
    if r.ratio_of == "rest-cold":
        return f"{r.ratio:.2f} REST"
    return f"{r.ratio:.2f}"


def target_cell(r: Result) -> str:
    if r.target is None:
        return ""
    if r.target_kind == MAX_P50:
        return f"p50 ≤ {r.target:g} ms"
    if r.target_kind == MAX_P99:
        return f"p99 < {r.target:g} ms"
    if r.target_kind == INVARIANT:
        return f"{r.target:g} booked"
    return f"≥ {r.target:.2f}"


def print_table(results: list[Result]) -> None:
    width = max(len("endpoint"), *(len(r.endpoint) for r in results))
    line = (
        f"{{:<{width}}}  {{:<16}} {{:>3}} {{:>6}} {{:>7}} {{:>7}}  {{:<10}} {{:<12}} {{:<4}}  {{}}"
    )
    header = ("endpoint", "mode", "-c", "req/s", "p50 ms", "p99 ms", "ratio", "target", "", "")
    print(line.format(*header).rstrip())
    print("-" * (width + 90))
    for r in results:
        note = "; ".join(filter(None, [r.note, f"{r.errors} errors" if r.errors else ""]))
        rps = "-" if r.rps is None else f"{r.rps:.0f}"
        connections = "1" if r.connections is None else str(r.connections)
        cells = (r.endpoint, r.mode, connections, rps, f"{r.p50_ms:.2f}", f"{r.p99_ms:.2f}")
        print(line.format(*cells, ratio_cell(r), target_cell(r), r.verdict, note).rstrip())


NOTES = """\
-c      wrk connections (-t{threads}, {duration} s per run); 1 = the cold runs, sequential
        requests on one keep-alive connection of one client.
ratio   warm, 304, cached, uncached, GraphQL warm: req/s ÷ mean /healthz req/s (at -c{conn};
        the search rows run at -c{search}, so their ratio is only indicative).
        cold "lat ×": read p50 ÷ p50 of sequential /healthz on the same connection.
        GraphQL cold "REST": its throughput at one connection, 1/p50, ÷ the REST list's
        1/p50 (= REST p50 ÷ GraphQL p50); target ≥ 0.60.
target  warm ≥ 0.70 and 304 ≥ 0.90 of /healthz; service-cards.list cold p50 ≤ 10 ms
        (absolute, PostgreSQL only: on SQLite printed without a verdict); search p99 < 50 ms
        at -c{search}, "cached" anonymous (served by the public cache after the first hit)
        and "uncached (staff)" with the platform admin's token (Authorization skips FastLane
        and the body cache: every request searches the database). GraphQL has no response
        cache: its warm row runs the resolvers every time (no target set).
        slots.list cold p50 ≤ 10 ms too (PostgreSQL only); its write is a booking of the
        next free slot of the list, so the read after it must drop that slot.
        {foreign} ≥ 0.70 and the first read after one booking in {foreign_slug}
        keeps the ETag of {slot_slug}'s list (a booking elsewhere must not invalidate it).
        "from cache": that read took ≤ 2 × the one-connection warm p50 + 1 ms, or less than
        half the list's cold p50 (a few ms: right after a heavy request, or re-reading the
        versions once their 1 s TTL ran out; rebuilding the body takes the cold time).
        {race}: {attempts} bookings at once ({per} per slot, different emails) on
        {slots} free slots of {race_slug}, httpx pool of {pool}: exactly one booking per
        slot in the database (counted there), the others 409 slot-taken, no 5xx (SQLite
        too: its writers queue for the write lock).
        req/s = bookings made per second; p50/p99 = latency of all {attempts} requests.
stale   a cold read that still showed the content from before the write."""


def header(args: argparse.Namespace) -> list[str]:
    """What was measured on what: printed first, and again above the table."""
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    cards = args.municipalities * args.cards_per_municipality
    entries = SECTIONS_PER_CARD * ENTRIES_PER_SECTION
    guides = args.municipalities * args.guides_per_municipality
    per_guide = args.slot_weeks * args.slots_per_week
    load = f"{os.getloadavg()[0]:.2f} (1 min)"
    if getattr(args, "load_average", None):  # others' work on this machine skews absolutes
        load = f"{args.load_average[0]:.2f} at start, {args.load_average[1]:.2f} at end (1 min)"
    lines = [
        f"database:     {args.db}, {args.workers} worker(s)",
        f"data:         {args.municipalities} municipalities × {args.cards_per_municipality} "
        f"cards × {entries} entries ({SECTIONS_PER_CARD} sections × {ENTRIES_PER_SECTION}) = "
        f"{cards} cards, {cards * entries} entries",
        f"              {args.guides_per_municipality} active guides × {args.slot_weeks} weeks "
        f"× {args.slots_per_week} one-hour slots a week = {guides} guides, "
        f"{guides * per_guide} slots (from Monday {FIRST_MONDAY}, Europe/Helsinki)",
        f"reads:        cards of {CARD_TARGET} (?lang=en&limit=20, REST and GraphQL); "
        "search in kemijarvi, q=päiväkodit",
        f"              slots of {SLOT_TARGET} from {SLOTS_FROM.isoformat()} "
        f"to {SLOTS_TO.isoformat()}; a booking elsewhere in {FOREIGN_TARGET}, "
        f"concurrent ones in {RACE_TARGET}",
        "loading:      straight into the database through the service layer, before serving",
        f"wrk:          -t{args.threads} -c{args.connections} -d{args.duration}s --latency "
        f"(search: -c{SEARCH_CONNECTIONS}); cold: {args.cold_samples} samples on one connection",
        f"CPUs:         {cpus} (usable {usable}); load average {load}",
    ]
    if not args.guides_per_municipality:  # no guides: neither the data nor the slot reads
        lines = [line for line in lines if "guides ×" not in line and "slots of" not in line]
    loaded: dict[str, dict[str, float]] | None = getattr(args, "loaded", None)
    if loaded:
        parts = []
        for kind, item in loaded.items():
            added, seconds = int(item["added"]), item["seconds"]
            each = f", {seconds / added * 1000:.1f} ms each" if added else ""
            if "guides" in item and added:
                each += f" ({int(item['guides'])} guides)"
            parts.append(
                f"{kind} {added} in {seconds:.1f} s{each}" if added else f"{kind} {seconds:.1f} s"
            )
        lines.append(f"loaded:       {'; '.join(parts)}")
    return lines


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--municipalities", type=int, default=300)
    parser.add_argument(
        "--cards-per-municipality",
        type=int,
        default=30,
        help="published service cards per municipality, 2 sections × 4 entries each "
        "(0: no cards, and no service-card list/GraphQL measurements)",
    )
    parser.add_argument(
        "--guides-per-municipality",
        type=int,
        default=20,
        help="active guides per municipality, each with weekly slots (0: no guides, and no "
        "slot/booking measurements)",
    )
    parser.add_argument("--slot-weeks", type=int, default=8, help="weeks of slots from next Monday")
    parser.add_argument(
        "--slots-per-week",
        type=int,
        default=5,
        help="one-hour slots per guide and week, Monday to Friday (5: one every working day; "
        "15: three; 3: Monday, Wednesday, Friday); loading costs ~2 ms a slot",
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cold-samples", type=int, default=200)
    known = ", ".join([*(e.name for e in ENDPOINTS), *SPECIAL])
    parser.add_argument("--endpoints", help=f"comma-separated subset of: {known}")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--keep-database",
        metavar="NAME",
        help="PostgreSQL only: use (and create and load, the first time) this database and "
        "keep it afterwards, so the next run skips loading; for profiling, not for reports",
    )
    args = parser.parse_args(argv)
    args.selected, args.special = ENDPOINTS, list(SPECIAL)
    if args.endpoints:
        names = [name.strip() for name in args.endpoints.split(",") if name.strip()]
        unknown = set(names) - {e.name for e in ENDPOINTS} - set(SPECIAL)
        if unknown:
            parser.error(f"unknown endpoints {', '.join(sorted(unknown))}; known: {known}")
        args.selected = [e for e in ENDPOINTS if e.name in names]
        args.special = [name for name in SPECIAL if name in names]
    if not args.cards_per_municipality:
        args.selected = [e for e in args.selected if not e.needs_cards]
    if not args.guides_per_municipality:
        args.selected = [e for e in args.selected if not e.needs_guides]
        args.special = []
    if not 0 < args.municipalities <= 1000:
        parser.error("--municipalities: codes are 3 digits, so between 1 and 1000")
    if args.cards_per_municipality and args.municipalities < 4:
        parser.error(f"service cards are read from {CARD_TARGET}: --municipalities must be ≥ 4")
    if not 0 <= args.cards_per_municipality <= 1000:
        parser.error("--cards-per-municipality must be between 0 and 1000")
    if args.guides_per_municipality and args.municipalities < 6:
        parser.error(
            f"slots are read and booked in bench-0001 to {RACE_TARGET}: "
            "--municipalities must be ≥ 6"
        )
    if not 0 <= args.guides_per_municipality <= 500:
        parser.error("--guides-per-municipality must be between 0 and 500")
    if not 1 <= args.slot_weeks <= 52:
        parser.error("--slot-weeks must be between 1 and 52 (a weekly rule covers ≤ a year)")
    if not 1 <= args.slots_per_week <= MAX_SLOTS_PER_WEEK:
        parser.error(f"--slots-per-week must be between 1 and {MAX_SLOTS_PER_WEEK}")
    if min(args.workers, args.duration, args.threads, args.cold_samples) < 1:
        parser.error("--workers, --duration, --threads and --cold-samples must be positive")
    if args.keep_database and (args.db != "postgresql" or not args.keep_database.isidentifier()):
        parser.error("--keep-database needs --db postgresql and a plain name (letters, _, digits)")
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads")
    return args


def benchmark(args: argparse.Namespace, stack: ExitStack) -> list[Result]:
    database_url = stack.enter_context(database(args))
    # A kept database keeps its platform admin, so its password must be the same next time.
    password = secrets.token_urlsafe(15)[:20]
    if args.keep_database:
        password = f"bench-{args.keep_database}-admin"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ENVIRONMENT": "production",
        "LOG_SQL": "false",
        # Every booking is a public POST, rate-limited per client address (20/min).
        "PUBLIC_POST_LIMIT_PER_MINUTE": "1000000",
    }
    settle("migrate", env=env)
    settle("seed", env={**env, "FIRST_ADMIN_EMAIL": ADMIN_EMAIL, "FIRST_ADMIN_PASSWORD": password})
    args.loaded = load_data(database_url, args)
    base = stack.enter_context(server(env, args.workers, free_port()))
    client = stack.enter_context(httpx.Client(base_url=base, timeout=30))
    auth = login(client, ADMIN_EMAIL, password)

    print("measuring (wrk) ...", flush=True)
    healthz = f"{base}{BASELINE.path}"
    first = run_wrk(args, healthz, {}, BASELINE.name, "baseline (first)")
    measured = [r for e in args.selected for r in warm_runs(args, client, auth, e)]
    foreign = None
    if FOREIGN_BOOKING in args.special:
        foreign_result, foreign = foreign_booking_run(args, client)
        measured.append(foreign_result)
    last = run_wrk(args, healthz, {}, BASELINE.name, "baseline (last)")
    baseline_rps = statistics.mean([first.rps or 0.0, last.rps or 0.0])
    for r in (first, last, *measured):
        r.ratio = (r.rps or 0.0) / baseline_rps
    print(f"/healthz: {first.rps:.0f} req/s first, {last.rps:.0f} last, mean {baseline_rps:.0f}")

    print(f"measuring cold reads ({args.cold_samples} samples each) ...", flush=True)
    cold_endpoints = [e for e in args.selected if e.cold_write]
    cold = {e.name: cold_run(client, auth, e, args.cold_samples) for e in cold_endpoints}
    sequential = sequential_healthz(client, args.cold_samples)
    for endpoint in cold_endpoints:
        r = cold[endpoint.name]
        r.ratio, r.ratio_of = r.p50_ms / sequential.p50_ms, "healthz-latency"
        if endpoint.cold_target is not None:
            if args.db == "postgresql":
                r.aim(endpoint.cold_target)
            else:
                limit = f"target p50 ≤ {endpoint.cold_target[1]:g} ms is for PostgreSQL"
                r.note = "; ".join(filter(None, [r.note, limit]))
        versus = cold.get(endpoint.cold_versus or "")
        if versus is not None:
            r.ratio, r.ratio_of = versus.p50_ms / r.p50_ms, "rest-cold"
            r.aim((MIN_RATIO, 0.6))
            throughput = f"1/p50 {1000 / r.p50_ms:.0f}/s vs REST {1000 / versus.p50_ms:.0f}/s"
            r.note = "; ".join(filter(None, [throughput, r.note]))
    if foreign is not None:  # judge its first read against the slot list's cold reads
        slots_cold = cold.get("slots.list")
        foreign_result.note = foreign.note(slots_cold.p50_ms if slots_cold else None)
    extra = []
    if BOOKING_RACE in args.special:
        attempts = RACE_SLOTS * RACE_ATTEMPTS
        print(f"racing {attempts} bookings on {RACE_SLOTS} slots ...", flush=True)
        extra.append(booking_race(args, client, database_url))
    return [first, *measured, last, sequential, *cold.values(), *extra]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is missing: install it with `apt-get install -y wrk` (Debian/Ubuntu)")
        return 2

    def interrupted(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started in background
    print("\n".join(header(args)), flush=True)
    load_before = os.getloadavg()
    with ExitStack() as stack:
        try:
            results = benchmark(args, stack)
        except KeyboardInterrupt:
            print("interrupted; cleaning up", file=sys.stderr)
            return 130
    args.load_average = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
    print()
    print("\n".join(header(args)))
    print()
    print_table(results)
    print()
    options = {"threads": args.threads, "duration": args.duration, "conn": args.connections}
    slots: dict[str, object] = {"slot_slug": SLOT_TARGET, "foreign_slug": FOREIGN_TARGET}
    slots |= {"race_slug": RACE_TARGET, "race": BOOKING_RACE, "foreign": FOREIGN_BOOKING}
    slots |= {"attempts": RACE_SLOTS * RACE_ATTEMPTS, "per": RACE_ATTEMPTS, "slots": RACE_SLOTS}
    print(NOTES.format(**options, **slots, pool=RACE_POOL, search=SEARCH_CONNECTIONS))
    if args.json:
        names: tuple[str, ...] = ("db", "workers", "municipalities", "threads")
        names += ("cards_per_municipality", "guides_per_municipality", "slot_weeks")
        names += ("slots_per_week",)
        payload = {name: getattr(args, name) for name in (*names, "connections", "duration")}
        payload |= {"cold_samples": args.cold_samples, "cpus": os.cpu_count()}
        payload |= {"load_average": args.load_average, "loaded": args.loaded}
        payload |= {"results": [{**asdict(r), "verdict": r.verdict} for r in results]}
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
