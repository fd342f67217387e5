"""This API side by side with Directus 12 (the peer headless CMS), in one run.

Usage (from the project root; needs npm/Node ≥ 20, wrk, and the project's virtualenv):

    .venv/bin/python bench/peer_directus.py                       # 30 × 30 cards, quick
    .venv/bin/python bench/peer_directus.py --municipalities 300  # the issue's 9 000 cards
    .venv/bin/python bench/peer_directus.py --reinstall --json peer.json

Directus is installed with `npm install directus@12` into a cache folder outside the
project (`--directus-dir`, default ~/.cache/settle-bench/directus-12; `--reinstall` wipes
it first), bootstrapped on a temporary SQLite file with a temporary admin, given two
collections through its REST API (`cards`, and `card_entries` with a many-to-one `card`
and the one-to-many alias `entries` on cards), and loaded with the SAME generated cards as
bench/run.py (its `card_body`, one entry row per generated entry; localised texts are
JSON fields). Cards are POSTed in batches (an array, entries nested), and the loading time
is reported. Reads are anonymous: the Public policy gets read access to both collections,
as this API's warm REST path is anonymous too.

Measured with bench/run.py's wrk settings (`run_wrk`: same -t/-c/-d, --latency):
Directus `/server/ping` (its trivial baseline), the list of 20 cards of bench-0001 with
their entries (`/items/cards?...&fields=*,entries.*`) without its cache, then, after a
restart with CACHE_ENABLED=true CACHE_STORE=memory, the same list cached. This API is
measured in the same run through bench/run.py's own machinery (its throwaway database,
loaders and `settle serve`): warm REST list, REST 304, REST list with a staff token
(uncached: Authorization skips the caches), first read after a write (one connection,
p50), and the GraphQL list of the same 20 cards with entries. The goals of issue 14:
warm ≥ 10 × Directus cached; uncached and first-read-after-write ≥ 2 × Directus uncached
(the first-read row as 1/p50 at one connection against Directus' uncached 1/p50 measured
the same way); GraphQL warm ≥ 10 × Directus cached.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402  (bench/run.py, next to this file)

from app.models.municipality import Municipality, MunicipalityCreate  # noqa: E402
from app.seed.loader import read_data  # noqa: E402

DEFAULT_DIR = Path.home() / ".cache" / "settle-bench" / "directus-12"
DIRECTUS_VERSION = "12.4.0"  # 12.4.1 needs @directus/app 18.0.1, not on the registry yet
ADMIN_EMAIL = "bench@example.org"
BATCH = 50  # cards per POST (each with its 8 entries nested)
LIST = (
    "/items/cards?limit=20&sort=position&filter[municipality][_eq]="
    f"{run.CARD_TARGET}&fields=*,entries.*"
)


@dataclass
class Row:
    system: str
    what: str
    rps: float | None
    p50_ms: float
    p99_ms: float
    connections: int | None
    errors: int = 0
    ratio: str = ""
    goal: str = ""
    verdict: str = ""


# --- Directus --------------------------------------------------------------------------


def install(directory: Path, reinstall: bool, version: str) -> Path:
    """`npm install directus@<version>` into `directory` (once); returns the `directus` binary."""
    binary = directory / "node_modules" / ".bin" / "directus"
    if reinstall and directory.exists():
        shutil.rmtree(directory)
    if binary.exists():
        return binary
    directory.mkdir(parents=True, exist_ok=True)
    package = directory / "package.json"
    if not package.exists():
        package.write_text('{"name": "settle-bench-directus", "private": true}\n')
    print(f"installing directus@{version} into {directory} ...", flush=True)
    command = ["npm", "install", "--no-audit", "--no-fund", f"directus@{version}"]
    subprocess.run(command, cwd=directory, check=True, capture_output=True, text=True)
    return binary


def directus_env(folder: Path, port: int, password: str, cache: bool) -> dict[str, str]:
    env = {
        **os.environ,
        "DB_CLIENT": "sqlite3",
        "DB_FILENAME": str(folder / "directus.db"),
        "ADMIN_EMAIL": ADMIN_EMAIL,
        "ADMIN_PASSWORD": password,
        "KEY": "settle-bench",
        "SECRET": secrets.token_urlsafe(32),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "warn",
        "TELEMETRY": "false",
        "RATE_LIMITER_ENABLED": "false",
        "MAX_BATCH_MUTATION": "100000",
        "STORAGE_LOCAL_ROOT": str(folder / "uploads"),
        "EXTENSIONS_PATH": str(folder / "extensions"),
        "CACHE_ENABLED": "true" if cache else "false",
        "NODE_NO_WARNINGS": "1",
    }
    if cache:
        env |= {"CACHE_STORE": "memory", "CACHE_TTL": "30m", "CACHE_AUTO_PURGE": "true"}
    return env


@contextmanager
def directus(binary: Path, env: dict[str, str]) -> Iterator[str]:
    """`directus start` in its own process group; yields its URL once /server/ping answers."""
    base = env["PUBLIC_URL"]
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [str(binary), "start"],
            env=env,
            cwd=binary.parents[2],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"Directus did not start:\n{log.read()[-3000:]}")
                try:
                    if httpx.get(f"{base}/server/ping", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.5)
            yield base
        finally:
            run.stop(process)


def field(name: str, kind: str, **schema: Any) -> dict[str, Any]:
    return {"field": name, "type": kind, "meta": {}, "schema": schema}


PRIMARY = {
    "field": "id",
    "type": "integer",
    "meta": {"hidden": True, "readonly": True},
    "schema": {"is_primary_key": True, "has_auto_increment": True},
}
CARD_FIELDS = [
    field("municipality", "string", is_indexed=True),
    field("position", "integer"),
    field("topic", "string"),
    field("status", "string"),
    field("title", "json"),
    field("summary", "json"),
    field("personas", "json"),
]
ENTRY_FIELDS = [
    field("section", "integer"),
    field("position", "integer"),
    field("heading", "json"),
    field("kind", "string"),
    field("name", "json"),
    field("description", "json"),
    field("when", "string"),
    field("email", "string"),
    field("languages", "json"),
    field("links", "json"),
    field("phones", "json"),
    field("address", "json"),
    field("opening_hours", "json"),
]


def create_schema(client: httpx.Client) -> None:
    """Collections, the m2o `card_entries.card` with its o2m alias `cards.entries`, and
    anonymous read access through the Public policy."""
    for name, fields in (("cards", CARD_FIELDS), ("card_entries", ENTRY_FIELDS)):
        body = {"collection": name, "meta": {}, "schema": {}, "fields": [PRIMARY, *fields]}
        client.post("/collections", json=body).raise_for_status()
    card = field("card", "integer", is_indexed=True)
    card["meta"] = {"special": ["m2o"], "interface": "select-dropdown-m2o"}
    client.post("/fields/card_entries", json=card).raise_for_status()
    relation = {
        "collection": "card_entries",
        "field": "card",
        "related_collection": "cards",
        "meta": {"one_field": "entries", "sort_field": "position"},
        "schema": {"on_delete": "CASCADE"},
    }
    client.post("/relations", json=relation).raise_for_status()
    alias = {"field": "entries", "type": "alias", "meta": {"special": ["o2m"]}}
    client.post("/fields/cards", json=alias).raise_for_status()
    policies = client.get("/policies", params={"fields": "id,name"}).raise_for_status()
    public = [p["id"] for p in policies.json()["data"] if "public" in p["name"].lower()]
    if len(public) != 1:
        raise RuntimeError(f"cannot tell the Public policy among {policies.json()['data']}")
    for collection in ("cards", "card_entries"):
        permission = {
            "policy": public[0],
            "collection": collection,
            "action": "read",
            "fields": ["*"],
            "permissions": {},
        }
        client.post("/permissions", json=permission).raise_for_status()


def generated_cards(municipalities: int, per_municipality: int) -> Iterator[dict[str, Any]]:
    """bench/run.py's cards (`card_body`) for bench-0001 … bench-<municipalities>, codes
    assigned as its loader does (skipping the seeded ones); the same number of cards as
    bench/run.py loads (it also tops the 3 seeded municipalities up to the same count)."""
    used = {str(item["code"]) for item in read_data("municipalities.yaml")}
    codes = iter(code for code in (f"{n:03d}" for n in range(1, 1000)) if code not in used)
    topics = [item["key"] for item in read_data("kemijarvi/service_cards.yaml")["topics"]]
    for number in range(1, municipalities + 1):
        created = MunicipalityCreate.model_validate(run.municipality_body(number, next(codes)))
        municipality = cast(Municipality, created)
        for position in range(per_municipality):
            body = run.card_body(topics, municipality, position)
            entries = []
            for s, section in enumerate(body["sections"]):
                for e, entry in enumerate(section["entries"]):
                    row = {"section": s, "position": e, "heading": section["heading"], **entry}
                    entries.append(row)
            yield {
                "municipality": created.slug,
                "position": position + 1,
                "topic": body["topic"],
                "status": body["status"],
                "title": body["title"],
                "summary": body["summary"],
                "personas": body["personas"],
                "entries": entries,
            }


def load_cards(client: httpx.Client, args: argparse.Namespace) -> dict[str, float]:
    started = time.perf_counter()
    batch: list[dict[str, Any]] = []
    cards = entries = 0
    total = args.municipalities * args.cards_per_municipality
    for card in generated_cards(args.municipalities, args.cards_per_municipality):
        batch.append(card)
        entries += len(card["entries"])
        if len(batch) == BATCH:
            client.post("/items/cards", json=batch, params={"fields": "id"}).raise_for_status()
            cards += len(batch)
            batch = []
            if cards % 1000 == 0:
                elapsed = time.perf_counter() - started
                print(f"  directus: {cards}/{total} cards, {elapsed:.1f} s", flush=True)
    if batch:
        client.post("/items/cards", json=batch, params={"fields": "id"}).raise_for_status()
        cards += len(batch)
    seconds = time.perf_counter() - started
    print(f"  directus: {cards} cards, {entries} entries in {seconds:.1f} s", flush=True)
    return {"cards": cards, "entries": entries, "seconds": round(seconds, 1)}


def one_connection(base: str, path: str, n: int) -> run.Result:
    """p50/p99 of n sequential GETs on one keep-alive connection."""
    timings: list[float] = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(n):
            started = time.perf_counter()
            client.get(path).raise_for_status()
            timings.append((time.perf_counter() - started) * 1000)
    return run.from_timings("directus", "sequential", timings)


def measure_directus(args: argparse.Namespace, stack: ExitStack) -> dict[str, Any]:
    binary = install(args.directus_dir, args.reinstall, args.directus_version)
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="settle-directus-")))
    password = secrets.token_urlsafe(15)
    port = run.free_port()
    env = directus_env(folder, port, password, cache=False)
    print("bootstrapping Directus on SQLite ...", flush=True)
    done = subprocess.run(
        [str(binary), "bootstrap"], env=env, cwd=args.directus_dir, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"directus bootstrap failed:\n{done.stdout}{done.stderr}")
    version = json.loads((binary.parents[1] / "directus" / "package.json").read_text())["version"]
    out: dict[str, Any] = {"version": version}
    with directus(binary, env) as base:
        with httpx.Client(base_url=base, timeout=600) as client:
            login = client.post("/auth/login", json={"email": ADMIN_EMAIL, "password": password})
            token = login.raise_for_status().json()["data"]["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            create_schema(client)
            out["loaded"] = load_cards(client, args)
            listed = httpx.get(f"{base}{LIST}").raise_for_status().json()["data"]
            if len(listed) != 20 or len(listed[0]["entries"]) != 8:
                raise RuntimeError(f"unexpected anonymous list: {len(listed)} cards")
        print("measuring Directus (wrk) ...", flush=True)
        out["ping"] = run_wrk(args, f"{base}/server/ping", "ping")
        out["uncached"] = run_wrk(args, f"{base}{LIST}", "list uncached")
        out["uncached-1c"] = one_connection(base, LIST, args.cold_samples)
    with directus(binary, directus_env(folder, port, password, cache=True)) as base:
        httpx.get(f"{base}{LIST}").raise_for_status()  # fill the cache
        out["cached"] = run_wrk(args, f"{base}{LIST}", "list cached")
    return out


def run_wrk(args: argparse.Namespace, url: str, what: str) -> run.Result:
    """bench/run.py's wrk run (its settle-down probe of /healthz gets Directus' quick 404)."""
    return run.run_wrk(args, url, {}, "directus", what)


# --- this API, through bench/run.py -------------------------------------------------------


def measure_settle(args: argparse.Namespace, stack: ExitStack) -> dict[str, run.Result]:
    settle_args = run.parse_args(
        [
            "--db",
            args.db,
            "--municipalities",
            str(args.municipalities),
            "--cards-per-municipality",
            str(args.cards_per_municipality),
            "--guides-per-municipality",
            "0",
            "--duration",
            str(args.duration),
            "--connections",
            str(args.connections),
            "--threads",
            str(args.threads),
            "--cold-samples",
            str(args.cold_samples),
        ]
    )
    database_url = stack.enter_context(run.database(settle_args))
    password = secrets.token_urlsafe(15)[:20]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ENVIRONMENT": "production",
        "LOG_SQL": "false",
    }
    run.settle("migrate", env=env)
    seed_env = {**env, "FIRST_ADMIN_EMAIL": run.ADMIN_EMAIL, "FIRST_ADMIN_PASSWORD": password}
    run.settle("seed", env=seed_env)
    run.load_data(database_url, settle_args)
    base = stack.enter_context(run.server(env, 1, run.free_port()))
    client = stack.enter_context(httpx.Client(base_url=base, timeout=30))
    auth = run.login(client, run.ADMIN_EMAIL, password)
    endpoints = {e.name: e for e in run.ENDPOINTS}
    rest, graphql = endpoints["service-cards.list"], endpoints["service-cards.graphql"]
    print("measuring this API (wrk) ...", flush=True)
    out: dict[str, run.Result] = {}
    out["healthz"] = run.run_wrk(settle_args, f"{base}/healthz", {}, "settle", "healthz")
    for r in run.warm_runs(settle_args, client, auth, rest):
        out[f"rest {r.mode}"] = r
    staff = run.headers_of(rest, auth) | auth
    out["rest uncached"] = run.run_wrk(settle_args, f"{base}{rest.path}", staff, "settle", "")
    for r in run.warm_runs(settle_args, client, auth, graphql):
        out[f"graphql {r.mode}"] = r
    out["rest cold"] = run.cold_run(client, auth, rest, args.cold_samples)
    return out


# --- table --------------------------------------------------------------------------------


def goal(row: Row, value: float, versus: float, times: float) -> None:
    ratio = value / versus
    row.ratio = f"{ratio:.1f} ×"
    row.goal = f"≥ {times:g} ×"
    row.verdict = "PASS" if ratio >= times and not row.errors else "MISS"


def table(peer: dict[str, Any], ours: dict[str, run.Result]) -> list[Row]:
    def row(system: str, what: str, r: run.Result) -> Row:
        return Row(system, what, r.rps, r.p50_ms, r.p99_ms, r.connections, r.errors)

    ping, uncached, cached = peer["ping"], peer["uncached"], peer["cached"]
    uncached_1c = peer["uncached-1c"]
    rows = [
        row("directus", "/server/ping", ping),
        row("directus", "list, no cache", uncached),
        row("directus", "list, no cache, 1 conn", uncached_1c),
        row("directus", "list, memory cache", cached),
        row("settle", "/healthz", ours["healthz"]),
    ]
    warm = row("settle", "REST list warm", ours["rest warm"])
    goal(warm, warm.rps or 0, cached.rps, 10)
    rows.append(warm)
    if "rest 304" in ours:
        rows.append(row("settle", "REST list 304", ours["rest 304"]))
        rows[-1].ratio = f"{(rows[-1].rps or 0) / cached.rps:.1f} ×"
    staff = row("settle", "REST list uncached (staff)", ours["rest uncached"])
    goal(staff, staff.rps or 0, uncached.rps, 2)
    rows.append(staff)
    cold = row("settle", "REST first read after write", ours["rest cold"])
    goal(cold, uncached_1c.p50_ms, cold.p50_ms, 2)  # 1/p50 ÷ Directus' 1/p50
    rows.append(cold)
    graphql = row("settle", "GraphQL list warm", ours["graphql warm"])
    goal(graphql, graphql.rps or 0, cached.rps, 10)
    rows.append(graphql)
    return rows


def print_table(rows: list[Row]) -> None:
    line = "{:<9} {:<28} {:>3} {:>7} {:>8} {:>8}  {:<8} {:<6} {}"
    print(line.format("system", "read", "-c", "req/s", "p50 ms", "p99 ms", "ratio", "goal", ""))
    print("-" * 90)
    for r in rows:
        rps = "-" if r.rps is None else f"{r.rps:.0f}"
        connections = "1" if r.connections is None else str(r.connections)
        cells = (r.system, r.what, connections, rps, f"{r.p50_ms:.2f}", f"{r.p99_ms:.2f}")
        note = f"{r.errors} errors" if r.errors else ""
        print(line.format(*cells, r.ratio, r.goal, f"{r.verdict} {note}".strip()).rstrip())


NOTES = """\
ratio   REST warm, 304 and GraphQL warm: req/s ÷ Directus cached req/s; REST uncached:
        req/s ÷ Directus uncached req/s (all at -c{conn}); first read after a write (a
        PATCH of a card of {slug}, then the timed read, one connection, {n} samples):
        Directus' uncached p50 on one connection ÷ our p50 (1/p50 ÷ 1/p50).
reads   the same 20 cards of {slug} with their 8 entries each; Directus anonymous
        (Public policy, read on both collections), fields=*,entries.*."""


# --- main ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--municipalities", type=int, default=30, help="300 = the issue's 9 000 cards"
    )
    parser.add_argument("--cards-per-municipality", type=int, default=30)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cold-samples", type=int, default=200)
    parser.add_argument("--directus-dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument(
        "--directus-version", default=DIRECTUS_VERSION, help="npm version spec (with --reinstall)"
    )
    parser.add_argument("--reinstall", action="store_true", help="wipe and reinstall Directus")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if not 4 <= args.municipalities <= 1000:
        parser.error("--municipalities must be between 4 and 1000")
    if not 1 <= args.cards_per_municipality <= 1000:
        parser.error("--cards-per-municipality must be between 20 and 1000")
    if args.cards_per_municipality < 20:
        parser.error("--cards-per-municipality must be at least 20 (a list of 20 cards)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for tool in ("wrk", "npm"):
        if shutil.which(tool) is None:
            print(f"{tool} is missing from PATH")
            return 2

    def interrupted(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    load_before = os.getloadavg()
    with ExitStack() as stack:
        try:
            peer = measure_directus(args, stack)
            stack.close()
            ours = measure_settle(args, stack)
        except KeyboardInterrupt:
            print("interrupted; cleaning up", file=sys.stderr)
            return 130
    load = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
    cards = args.municipalities * args.cards_per_municipality
    print()
    print(
        f"Directus {peer['version']} (SQLite) vs settle ({args.db}, 1 worker); {cards} cards × 8 "
        f"entries; wrk -t{args.threads} -c{args.connections} -d{args.duration}s; "
        f"{os.cpu_count()} CPUs; load average {load[0]} before, {load[1]} after"
    )
    loaded = peer["loaded"]
    print(f"Directus load: {loaded['cards']} cards in {loaded['seconds']} s (batches of {BATCH})")
    print()
    rows = table(peer, ours)
    print_table(rows)
    print()
    options = {"conn": args.connections, "slug": run.CARD_TARGET, "n": args.cold_samples}
    print(NOTES.format(**options))
    if args.json:
        payload = {
            "directus_version": peer["version"],
            "db": args.db,
            "municipalities": args.municipalities,
            "cards_per_municipality": args.cards_per_municipality,
            "duration": args.duration,
            "connections": args.connections,
            "threads": args.threads,
            "cold_samples": args.cold_samples,
            "cpus": os.cpu_count(),
            "load_average": load,
            "directus_loaded": loaded,
            "rows": [asdict(r) for r in rows],
        }
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
