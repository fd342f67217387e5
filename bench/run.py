"""Benchmark the public read path against `/healthz`, in one run, on one database.

Usage (from the project root):

    .venv/bin/python bench/run.py                      # SQLite, 1 worker, 300 municipalities
    .venv/bin/python bench/run.py --db postgresql --workers 2 --json bench.json
    .venv/bin/python bench/run.py --duration 3 --cold-samples 50 --endpoints municipalities.list

The script builds a throwaway database (a temporary SQLite file, or a fresh
PostgreSQL database `settle_bench_<random>` created through `--pg-admin-url`), runs
`settle migrate` and `settle seed`, starts `settle serve`, loads generated data through
the public API as the platform admin, measures, and removes everything again, also
on errors and Ctrl-C. It needs `wrk` on PATH.

Methodology. Absolute numbers depend on the machine and on whatever else it runs,
so every result is a ratio to `/healthz` measured in the same run by the same tool:

* warm and 304: `wrk --latency` for `--duration` seconds per endpoint; the ratio is
  req/s ÷ `/healthz` req/s. `/healthz` runs first and again last; the baseline is the
  mean of both runs (both are printed, so drift shows). Targets: warm ≥ 0.7, 304 ≥ 0.9.
* cold ("first read after a write"): one keep-alive connection does, `--cold-samples`
  times, a PATCH that changes the content and then the timed GET. p50/p99 are of the
  GETs only; the ratio is the GET p50 ÷ the p50 of as many sequential `/healthz`
  requests on that same connection (how many times slower than a trivial request).
  A GET answering with the ETag of the previous read is counted as stale.

The endpoint list (`ENDPOINTS`) and the data loaders (`load_*`) are meant to grow.
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
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
API = "/api/v1"
ADMIN_EMAIL = "bench@example.org"
TARGETS = {"warm": 0.7, "304": 0.9}


@dataclass(frozen=True)
class Endpoint:
    """One public GET. `cold_write` names the municipality PATCHed before each cold read."""

    name: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = True  # also measure If-None-Match → 304
    cold_write: str | None = None  # None: no cold measurement


BASELINE = Endpoint("healthz", "/healthz", conditional=False)
# Every municipality write bumps the global version the list depends on.
ENDPOINTS: list[Endpoint] = [
    Endpoint("municipalities.list", f"{API}/municipalities?lang=en", cold_write="kemijarvi"),
    Endpoint(
        "municipalities.detail", f"{API}/municipalities/kemijarvi?lang=en", cold_write="kemijarvi"
    ),
    # The landing page shows the municipality's hashtags, so the same PATCH makes it cold.
    Endpoint("landing", f"{API}/municipalities/kemijarvi/landing?lang=en", cold_write="kemijarvi"),
]


@dataclass
class Result:
    endpoint: str
    mode: str  # baseline / warm / 304 / cold / sequential
    rps: float | None
    p50_ms: float
    p99_ms: float
    ratio: float | None = None  # throughput ratio (warm, 304) or latency multiple (cold)
    target: float | None = None
    errors: int = 0
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.target is None or self.ratio is None:
            return ""
        return "PASS" if self.ratio >= self.target and not self.errors else "MISS"


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


def run_wrk(
    args: argparse.Namespace, url: str, headers: dict[str, str], name: str, mode: str
) -> Result:
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s"]
    for header, value in headers.items():
        command += ["-H", f"{header}: {value}"]
    done = subprocess.run([*command, "--latency", url], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    rps, p50, p99, errors = parse_wrk(done.stdout)
    return Result(name, mode, rps, p50, p99, errors=errors)


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
    name = f"settle_bench_{secrets.token_hex(4)}"
    asyncio.run(_pg_execute(args.pg_admin_url, f'CREATE DATABASE "{name}"'))
    try:
        parts = urlsplit(args.pg_admin_url)
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


# --- data ----------------------------------------------------------------------------------


def login(client: httpx.Client, email: str, password: str) -> dict[str, str]:
    response = client.post(f"{API}/auth/token", data={"username": email, "password": password})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def all_municipalities(client: httpx.Client) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params: dict[str, str] = {"limit": "100"}
    while True:
        page = client.get(f"{API}/municipalities", params=params).raise_for_status().json()
        items += page["items"]
        if not page["next_cursor"]:
            return items
        params["cursor"] = page["next_cursor"]


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


def load_municipalities(client: httpx.Client, auth: dict[str, str], total: int) -> int:
    """Add generated municipalities until there are `total`; returns how many were added."""
    existing = all_municipalities(client)
    used = {item["code"] for item in existing}
    codes = iter(code for code in (f"{n:03d}" for n in range(1, 1000)) if code not in used)
    missing = max(0, total - len(existing))
    for number in range(1, missing + 1):
        body = municipality_body(number, next(codes))
        client.post(f"{API}/municipalities", json=body, headers=auth).raise_for_status()
    return missing


def load_data(client: httpx.Client, auth: dict[str, str], args: argparse.Namespace) -> None:
    """Every generated data set, in dependency order; later kinds go below."""
    loads: list[tuple[str, Callable[[], int]]] = [
        ("municipalities", lambda: load_municipalities(client, auth, args.municipalities)),
    ]
    for kind, load in loads:
        started = time.perf_counter()
        added = load()
        print(f"loaded {added} {kind} in {time.perf_counter() - started:.1f} s", flush=True)


# --- measurements --------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def from_timings(name: str, mode: str, timings: list[float], note: str = "") -> Result:
    return Result(name, mode, None, percentile(timings, 50), percentile(timings, 99), note=note)


def warm_runs(args: argparse.Namespace, client: httpx.Client, endpoint: Endpoint) -> list[Result]:
    url = f"{client.base_url}{endpoint.path}"
    first = client.get(endpoint.path, headers=endpoint.headers)
    if first.status_code != 200:
        raise RuntimeError(f"{endpoint.name}: GET {endpoint.path} answered {first.status_code}")
    results = [run_wrk(args, url, endpoint.headers, endpoint.name, "warm")]
    if endpoint.conditional:
        headers = {**endpoint.headers, "If-None-Match": first.headers["etag"]}
        check = client.get(endpoint.path, headers=headers).status_code
        not_modified = run_wrk(args, url, headers, endpoint.name, "304")
        if check != 304:
            not_modified.note = f"If-None-Match answered {check}, not 304"
        results.append(not_modified)
    return results


def cold_run(client: httpx.Client, auth: dict[str, str], endpoint: Endpoint, n: int) -> Result:
    """PATCH (changing the content), then time the next GET; n times on one connection."""
    target = f"{API}/municipalities/{endpoint.cold_write}"
    current = client.get(target).raise_for_status()
    etag, hashtags = current.headers["etag"], current.json()["hashtags"]
    variants = [[*hashtags, "#benchcold_a"], [*hashtags, "#benchcold_b"]]
    previous = client.get(endpoint.path, headers=endpoint.headers).headers.get("etag")
    timings: list[float] = []
    stale = 0
    for i in range(n):
        patch = client.patch(
            target, json={"hashtags": variants[i % 2]}, headers={**auth, "If-Match": etag}
        )
        etag = patch.raise_for_status().headers["etag"]
        started = time.perf_counter()
        response = client.get(endpoint.path, headers=endpoint.headers)
        timings.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        stale += response.headers.get("etag") == previous
        previous = response.headers.get("etag")
    return from_timings(endpoint.name, "cold", timings, f"{stale} of {n} stale" if stale else "")


def sequential_healthz(client: httpx.Client, n: int) -> Result:
    timings: list[float] = []
    for _ in range(n):
        started = time.perf_counter()
        client.get(BASELINE.path).raise_for_status()
        timings.append((time.perf_counter() - started) * 1000)
    return from_timings(BASELINE.name, "sequential", timings)


# --- report --------------------------------------------------------------------------------


def print_table(results: list[Result]) -> None:
    width = max(len("endpoint"), *(len(r.endpoint) for r in results))
    line = f"{{:<{width}}}  {{:<16}} {{:>6}} {{:>7}} {{:>7}}  {{:<10}} {{:<7}} {{:<4}}  {{}}"
    print(
        line.format(
            "endpoint", "mode", "req/s", "p50 ms", "p99 ms", "× healthz", "target", "", ""
        ).rstrip()
    )
    print("-" * (width + 78))
    for r in results:
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}"
        ratio = f"lat ×{r.ratio:.1f}" if r.mode == "cold" and r.ratio else ratio
        note = "; ".join(filter(None, [r.note, f"{r.errors} errors" if r.errors else ""]))
        rps = "-" if r.rps is None else f"{r.rps:.0f}"
        target = "" if r.target is None else f"≥ {r.target:.2f}"
        cells = (r.endpoint, r.mode, rps, f"{r.p50_ms:.2f}", f"{r.p99_ms:.2f}", ratio, target)
        print(line.format(*cells, r.verdict, note).rstrip())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--municipalities", type=int, default=300)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cold-samples", type=int, default=200)
    known = ", ".join(e.name for e in ENDPOINTS)
    parser.add_argument("--endpoints", help=f"comma-separated subset of: {known}")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    args.selected = ENDPOINTS
    if args.endpoints:
        names = [name.strip() for name in args.endpoints.split(",") if name.strip()]
        unknown = set(names) - {e.name for e in ENDPOINTS}
        if unknown:
            parser.error(f"unknown endpoints {', '.join(sorted(unknown))}; known: {known}")
        args.selected = [e for e in ENDPOINTS if e.name in names]
    if not 0 < args.municipalities <= 1000:
        parser.error("--municipalities: codes are 3 digits, so between 1 and 1000")
    if min(args.workers, args.duration, args.threads, args.cold_samples) < 1:
        parser.error("--workers, --duration, --threads and --cold-samples must be positive")
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads")
    return args


def benchmark(args: argparse.Namespace, stack: ExitStack) -> list[Result]:
    database_url = stack.enter_context(database(args))
    password = secrets.token_urlsafe(15)[:20]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ENVIRONMENT": "production",
        "LOG_SQL": "false",
    }
    settle("migrate", env=env)
    settle("seed", env={**env, "FIRST_ADMIN_EMAIL": ADMIN_EMAIL, "FIRST_ADMIN_PASSWORD": password})
    base = stack.enter_context(server(env, args.workers, free_port()))
    client = stack.enter_context(httpx.Client(base_url=base, timeout=30))
    auth = login(client, ADMIN_EMAIL, password)
    load_data(client, auth, args)

    print("measuring (wrk) ...", flush=True)
    healthz = f"{base}{BASELINE.path}"
    first = run_wrk(args, healthz, {}, BASELINE.name, "baseline (first)")
    measured = [r for endpoint in args.selected for r in warm_runs(args, client, endpoint)]
    last = run_wrk(args, healthz, {}, BASELINE.name, "baseline (last)")
    baseline_rps = statistics.mean([first.rps or 0.0, last.rps or 0.0])
    for run in (first, last):
        run.ratio = (run.rps or 0.0) / baseline_rps
    for r in measured:
        r.ratio, r.target = (r.rps or 0.0) / baseline_rps, TARGETS[r.mode]
    print(f"/healthz: {first.rps:.0f} req/s first, {last.rps:.0f} last, mean {baseline_rps:.0f}")

    print(f"measuring cold reads ({args.cold_samples} samples each) ...", flush=True)
    cold = [cold_run(client, auth, e, args.cold_samples) for e in args.selected if e.cold_write]
    sequential = sequential_healthz(client, args.cold_samples)
    for r in cold:
        r.ratio = r.p50_ms / sequential.p50_ms
    return [first, *measured, last, sequential, *cold]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is missing: install it with `apt-get install -y wrk` (Debian/Ubuntu)")
        return 2

    def interrupted(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started in background
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    print(f"database:        {args.db}")
    print(f"workers:         {args.workers}")
    print(f"municipalities:  {args.municipalities}")
    print(f"wrk:             -t{args.threads} -c{args.connections} -d{args.duration}s --latency")
    print(f"cold samples:    {args.cold_samples} (one connection)")
    print(f"CPUs:            {cpus} (usable {usable})")
    with ExitStack() as stack:
        try:
            results = benchmark(args, stack)
        except KeyboardInterrupt:
            print("interrupted; cleaning up", file=sys.stderr)
            return 130
    print()
    print_table(results)
    print()
    print("× healthz: req/s ÷ mean /healthz req/s (warm, 304);")
    print("           cold 'lat ×': GET p50 ÷ sequential /healthz p50 on the same connection.")
    if args.json:
        options = ("db", "workers", "municipalities", "threads", "connections", "duration")
        payload = {name: getattr(args, name) for name in (*options, "cold_samples")}
        payload |= {"cpus": cpus, "results": [{**asdict(r), "verdict": r.verdict} for r in results]}
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
